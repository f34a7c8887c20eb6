#include "cli/shell/interpreter.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iterator>
#include <memory>
#include <numeric>
#include <ostream>
#include <sstream>
#include <string_view>

#include "cascade/db/transaction.h"
#include "cascade/query/content_types.h"
#include "cascade/deletion/soft_delete.h"
#include "cascade/error.h"
#include "cli/shell/object.h"
#include "model/naming.h"

namespace cascade::shell {

// A Python exception raised by the shell itself: its class name and message.
struct PyError {
  std::string type;
  std::string message;
};

// exit() / quit(): Python's SystemExit.
struct ExitRequest {
  int code;
};

// Ctrl-C: Python's KeyboardInterrupt.
struct KeyboardInterrupt {};

// break / continue, on their way to the loop.
struct BreakLoop {};
struct ContinueLoop {};

namespace {

// std::visit with one lambda per type.
template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

template <class T>
ObjPtr make_object(T value) {
  return std::make_shared<Object>(Object{std::move(value)});
}
ObjPtr scalar(Value v) { return make_object(std::move(v)); }
ObjPtr none() { return scalar(Value()); }

bool is_kind(const Object& o, Value::Kind kind) {
  const Value* v = o.as<Value>();
  return v != nullptr && v->kind() == kind;
}
bool is_none(const Object& o) { return is_kind(o, Value::Kind::Null); }
bool is_text(const Object& o) { return is_kind(o, Value::Kind::Text); }
bool is_number(const Value& v) {
  return v.kind() == Value::Kind::Integer || v.kind() == Value::Kind::Real ||
         v.kind() == Value::Kind::Bool;
}
bool is_number(const Object& o) { return o.is<Value>() && is_number(*o.as<Value>()); }

// The items of a list or a tuple, or null.
const std::vector<ObjPtr>* sequence_items(const Object& o) {
  if (const auto* l = o.as<List>()) return &l->items;
  if (const auto* t = o.as<Tuple>()) return &t->items;
  return nullptr;
}

// Containers nest at most this deep in a repr or a comparison (Python's recursion limit).
constexpr int kMaxNesting = 1000;

[[noreturn]] void raise(const std::string& type, const std::string& message) {
  throw PyError{type, message};
}

// The shell's integers are the database's: 64 bits. Python's would grow; here the result is
// refused rather than wrapped.
constexpr const char* kIntOverflow = "int too large to convert to a 64-bit integer";

std::int64_t int_literal(const std::string& digits) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec == std::errc::result_out_of_range) raise("OverflowError", kIntOverflow);
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    raise("ValueError", "invalid literal for int() with base 10: " + python_repr(digits));
  }
  return v;
}

std::string module_of(const ModelMeta& m) { return m.app_label + ".models"; }

std::string type_name(const Object& o) {
  return std::visit(
      Overloaded{
          [](const Value& v) -> std::string {
            switch (v.kind()) {
              case Value::Kind::Null: return "NoneType";
              case Value::Kind::Bool: return "bool";
              case Value::Kind::Integer: return "int";
              case Value::Kind::Real: return "float";
              case Value::Kind::Text: return "str";
              case Value::Kind::Blob: return "bytes";
              case Value::Kind::Date: return "datetime.date";
              case Value::Kind::DateTime: return "datetime.datetime";
            }
            return "object";
          },
          [](const List&) -> std::string { return "list"; },
          [](const Tuple&) -> std::string { return "tuple"; },
          [](const Dict&) -> std::string { return "dict"; },
          [](const ModelClass&) -> std::string { return "type"; },
          [](const ExceptionClass&) -> std::string { return "type"; },
          [](const ManagerObject&) -> std::string { return "Manager"; },
          [](const QuerySetObject&) -> std::string { return "QuerySet"; },
          [](const InstanceObject& i) -> std::string { return i.instance.meta().object_name; },
          [](const RelatedManager&) -> std::string { return "RelatedManager"; },
          [](const QObject&) -> std::string { return "Q"; },
          [](const TimeDelta&) -> std::string { return "datetime.timedelta"; },
          [](const Module&) -> std::string { return "module"; },
          [](const Function&) -> std::string { return "builtin_function_or_method"; },
          [](const BoundMethod&) -> std::string { return "method"; },
          [](const AtomicBlock&) -> std::string { return "Atomic"; },
      },
      o.v);
}

// A number as a double: bools count as 0 and 1, as in Python.
double real_of(const Value& v) {
  return v.kind() == Value::Kind::Real ? v.as_real() : static_cast<double>(v.as_integer());
}

void check_interrupt() {
  if (interrupt_requested != 0) throw KeyboardInterrupt{};
}

// ---- dates and durations ----------------------------------------------------------------------

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0))) --q;
  return q;
}

// A timedelta's normalized parts, as Python keeps them: 0 <= seconds < 86400,
// 0 <= microseconds < 1000000, days carrying the sign.
struct DeltaParts {
  std::int64_t days, seconds, micros;
};
DeltaParts delta_parts(std::int64_t total) {
  std::int64_t days = floor_div(total, kMicrosPerDay);
  std::int64_t rest = total - days * kMicrosPerDay;
  return {days, rest / kMicrosPerSecond, rest % kMicrosPerSecond};
}

std::string delta_repr(std::int64_t total) {
  auto [days, seconds, micros] = delta_parts(total);
  std::string s;
  if (days != 0) s += "days=" + std::to_string(days);
  if (seconds != 0)
    s += (s.empty() ? "" : ", ") + std::string("seconds=") + std::to_string(seconds);
  if (micros != 0)
    s += (s.empty() ? "" : ", ") + std::string("microseconds=") + std::to_string(micros);
  return "datetime.timedelta(" + (s.empty() ? "0" : s) + ")";
}

std::string two(std::int64_t n) { return (n < 10 ? "0" : "") + std::to_string(n); }

std::string delta_str(std::int64_t total) {
  auto [days, seconds, micros] = delta_parts(total);
  std::string s;
  if (days != 0) s = std::to_string(days) + (days == 1 || days == -1 ? " day, " : " days, ");
  s += std::to_string(seconds / 3600) + ":" + two(seconds / 60 % 60) + ":" + two(seconds % 60);
  if (micros != 0) {
    std::string digits = std::to_string(micros);
    s += "." + std::string(6 - digits.size(), '0') + digits;
  }
  return s;
}

// The datetimes Python can represent: years 1 to 9999.
const std::int64_t kMinMicros = DateTime::from_parts(Date{1, 1, 1}).micros;
const std::int64_t kMaxMicros = DateTime::from_parts(Date{9999, 12, 31}, 23, 59, 59, 999999).micros;

// A timedelta as the shell keeps it: microseconds in 64 bits, about 292000 years either way.
constexpr std::int64_t kMaxDeltaDays = INT64_MAX / kMicrosPerDay;

ObjPtr delta(long double micros) {
  long double rounded = std::nearbyint(micros);  // half to even, as Python rounds
  if (!(rounded >= -static_cast<long double>(kMaxDeltaDays) * kMicrosPerDay &&
        rounded <= static_cast<long double>(kMaxDeltaDays) * kMicrosPerDay)) {
    raise("OverflowError", "timedelta out of range for the cascade shell (at most " +
                               std::to_string(kMaxDeltaDays) + " days)");
  }
  return make_object(TimeDelta{static_cast<std::int64_t>(rounded)});
}
ObjPtr delta(std::int64_t micros) { return delta(static_cast<long double>(micros)); }
std::int64_t micros_of(const Object& o) { return o.as<TimeDelta>()->micros; }

ObjPtr datetime_at(long double micros) {
  if (!(micros >= static_cast<long double>(kMinMicros) &&
        micros <= static_cast<long double>(kMaxMicros))) {
    raise("OverflowError", "date value out of range");
  }
  return scalar(Value(DateTime{static_cast<std::int64_t>(micros)}));
}
ObjPtr date_at(std::int64_t days) {
  if (days < kMinMicros / kMicrosPerDay || days > kMaxMicros / kMicrosPerDay) {
    raise("OverflowError", "date value out of range");
  }
  return scalar(Value(Date::from_days_since_epoch(days)));
}

// strftime, with Python's %f (microseconds).
std::string strftime_of(const Value& v, const std::string& format) {
  DateTime dt = v.kind() == Value::Kind::Date ? DateTime::from_parts(v.as_date()) : v.as_datetime();
  Date d = dt.date();
  std::tm tm{};
  tm.tm_year = d.year - 1900;
  tm.tm_mon = d.month - 1;
  tm.tm_mday = d.day;
  tm.tm_hour = dt.hour();
  tm.tm_min = dt.minute();
  tm.tm_sec = dt.second();
  std::int64_t days = d.days_since_epoch();
  tm.tm_wday = static_cast<int>(((days + 4) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
  tm.tm_yday = static_cast<int>(days - Date{d.year, 1, 1}.days_since_epoch());
  std::string out;
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%' || i + 1 >= format.size()) {
      out += format[i];
      continue;
    }
    char c = format[++i];
    if (c == 'f') {
      std::string digits = std::to_string(dt.microsecond());
      out += std::string(6 - digits.size(), '0') + digits;
      continue;
    }
    if (c == 'z' || c == 'Z') continue;  // naive: empty, as Python's
    if (std::strchr("aAbBcdHIjmMpSUwWxXyY%", c) == nullptr) {
      raise("ValueError", "the cascade shell's strftime does not support %" + std::string(1, c));
    }
    char buf[128];
    std::string one = std::string("%") + c;
    std::size_t n = std::strftime(buf, sizeof buf, one.c_str(), &tm);
    out.append(buf, n);
  }
  return out;
}

bool truthy(const Object& o) {
  return std::visit(Overloaded{
                        [](const Value& v) {
                          switch (v.kind()) {
                            case Value::Kind::Null: return false;
                            case Value::Kind::Bool: return v.as_bool();
                            case Value::Kind::Integer: return v.as_integer() != 0;
                            case Value::Kind::Real: return v.as_real() != 0;
                            case Value::Kind::Text: return !v.as_text().empty();
                            default: return true;
                          }
                        },
                        [](const List& l) { return !l.items.empty(); },
                        [](const Tuple& t) { return !t.items.empty(); },
                        [](const Dict& d) { return !d.keys.empty(); },
                        [](const QuerySetObject& q) { return q.qs.exists(); },
                        [](const TimeDelta& t) { return t.micros != 0; },
                        [](const auto&) { return true; },
                    },
                    o.v);
}

}  // namespace

// ---- method tables ----------------------------------------------------------------------------
//
// What each kind of object has: one table per receiver (model classes, managers, QuerySets,
// related managers, instances, dates, datetimes, timedeltas, the modules and their classes, the
// builtins). Attribute lookup, calls, tab completion and "did you mean" all read them.

class Evaluator;

// A method's implementation: the object it is bound to (null for a module's function) and the
// call's arguments, already checked against the entry's arity.
using MethodFn = ObjPtr (Evaluator::*)(const ObjPtr& self, const Args& args, const Kwargs& kwargs);
// An attribute's value, read without calling anything.
using AttributeFn = ObjPtr (Evaluator::*)(const ObjPtr& self);

constexpr int kAnyNumber = -1;

// The flags of a table entry.
enum MemberFlag : unsigned {
  kKeywords = 1,  // a method that takes keyword arguments
  kWrites = 2,    // calling it can write to the database: a read-only shell refuses the call
  kSoftDelete =
      4,       // soft deletion's: listed (completion, suggestions) on soft-deletable models only
  kClass = 8,  // an attribute that is a class (Post.DoesNotExist): it completes with "("
};

struct MemberTable;

struct Member {
  std::string_view name;
  // A method: how many positional arguments it takes (kAnyNumber: no limit), and what it does.
  int min_args = 0;
  int max_args = 0;
  MethodFn call = nullptr;
  // Otherwise an attribute, and its value.
  AttributeFn get = nullptr;
  unsigned flags = 0;
  // A class (datetime.date, int, Q): whether an object is one of its instances (isinstance()),
  // and the class's own attributes (datetime.date.today), if any.
  bool (*instance_of)(const Object&) = nullptr;
  const MemberTable& (*attributes)() = nullptr;

  bool keywords() const { return (flags & kKeywords) != 0; }
  bool writes() const { return (flags & kWrites) != 0; }
  bool soft_delete() const { return (flags & kSoftDelete) != 0; }
  // It completes with "(": a method, or a class.
  bool callable() const { return call != nullptr || (flags & kClass) != 0; }
};

constexpr Member method(std::string_view name, int min_args, int max_args, MethodFn call,
                        unsigned flags = 0) {
  return Member{name, min_args, max_args, call, nullptr, flags};
}
constexpr Member attribute(std::string_view name, AttributeFn get, unsigned flags = 0) {
  return Member{name, 0, 0, nullptr, get, flags};
}
// A class: callable, with isinstance() and its own attributes.
constexpr Member class_member(std::string_view name, int min_args, int max_args, MethodFn call,
                              unsigned flags, bool (*instance_of)(const Object&),
                              const MemberTable& (*attributes)() = nullptr) {
  return Member{name, min_args, max_args, call, nullptr, flags, instance_of, attributes};
}

struct MemberTable {
  // The type ("QuerySet", "datetime.date") or module ("django.utils.timezone").
  std::string owner;
  // A module's functions are named alone in messages ("now() takes..."), a type's methods with
  // their type ("QuerySet.count() takes...", "date.isoformat() takes...").
  bool module = false;
  // Its methods are Python functions (Django's), whose messages about arguments count `self`,
  // rather than builtins written in C ("len() takes exactly one argument").
  bool python = false;
  std::vector<Member> members;

  const Member* find(std::string_view name) const {
    for (const auto& m : members) {
      if (m.name == name) return &m;
    }
    return nullptr;
  }
};

namespace {

// The tables, defined after the Evaluator, whose methods they name.
const MemberTable& builtins_table();
const MemberTable& model_class_table();
const MemberTable& manager_table();
const MemberTable& content_type_manager_table();
const MemberTable& queryset_table();
const MemberTable& many_to_many_table();
const MemberTable& instance_table();
const MemberTable& date_table();
const MemberTable& datetime_table();
const MemberTable& timedelta_table();
const MemberTable& datetime_module();
const MemberTable& timezone_module();
const MemberTable& transaction_module();

// The table of an object's attributes, or null (lists, dicts, str and Q have no methods in the
// shell). An instance has its fields and relations besides.
const MemberTable* table_of(const Object& o) {
  return std::visit(
      Overloaded{
          [](const Value& v) -> const MemberTable* {
            if (v.kind() == Value::Kind::Date) return &date_table();
            if (v.kind() == Value::Kind::DateTime) return &datetime_table();
            return nullptr;
          },
          [](const ModelClass&) -> const MemberTable* { return &model_class_table(); },
          [](const ManagerObject& m) -> const MemberTable* {
            return m.model->label() == kContentTypeLabel ? &content_type_manager_table()
                                                         : &manager_table();
          },
          [](const QuerySetObject&) -> const MemberTable* { return &queryset_table(); },
          [](const RelatedManager& r) -> const MemberTable* {
            return r.field->type == FieldType::ManyToMany ? &many_to_many_table()
                                                          : &queryset_table();
          },
          [](const InstanceObject&) -> const MemberTable* { return &instance_table(); },
          [](const TimeDelta&) -> const MemberTable* { return &timedelta_table(); },
          [](const Module& m) -> const MemberTable* { return m.table; },
          [](const Function& f) -> const MemberTable* {
            return f.member->attributes != nullptr ? &f.member->attributes() : nullptr;
          },
          [](const auto&) -> const MemberTable* { return nullptr; },
      },
      o.v);
}

// The model an object is about, or null: its soft-deletion members are listed when it is
// soft-deletable.
const ModelMeta* model_of(const Object& o) {
  if (const auto* c = o.as<ModelClass>()) return c->model;
  if (const auto* m = o.as<ManagerObject>()) return m->model;
  if (const auto* q = o.as<QuerySetObject>()) return &q->qs.model();
  if (const auto* i = o.as<InstanceObject>()) return &i->instance.meta();
  if (const auto* r = o.as<RelatedManager>()) {
    if (r->field->type == FieldType::GenericRelation) return r->field->target;
    return r->reverse || r->field->type != FieldType::ManyToMany ? r->field->model
                                                                 : r->field->target;
  }
  return nullptr;
}

// The names a table lists for an object (completion, suggestions); methods and classes end with
// "(" when `parens`.
std::vector<std::string> member_names(const Object& o, bool parens) {
  std::vector<std::string> out;
  const MemberTable* table = table_of(o);
  if (table == nullptr) return out;
  const ModelMeta* model = model_of(o);
  for (const auto& m : table->members) {
    if (m.soft_delete() && (model == nullptr || !model->soft_deletable())) continue;
    out.push_back(std::string(m.name) + (parens && m.callable() ? "(" : ""));
  }
  return out;
}

// Refuses a call whose arguments the entry does not take, in Python's words.
// How messages name a method: "QuerySet.delete", or a module's function alone ("now").
std::string qualified_name(const MemberTable& table, const Member& m) {
  return table.module ? std::string(m.name)
                      : table.owner.substr(table.owner.rfind('.') + 1) + "." + std::string(m.name);
}

void check_arguments(const MemberTable& table, const Member& m, bool bound, const Args& args,
                     const Kwargs& kwargs) {
  std::string qualified = qualified_name(table, m);
  if (!m.keywords() && !kwargs.empty()) {
    raise("TypeError", table.python ? qualified + "() got an unexpected keyword argument '" +
                                          kwargs[0].first + "'"
                                    : qualified + "() takes no keyword arguments");
  }
  auto given = static_cast<int>(args.size());
  bool too_few = given < m.min_args;
  bool too_many = m.max_args != kAnyNumber && given > m.max_args;
  if (!too_few && !too_many) return;
  auto plural = [](int n, const std::string& word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
  };
  if (table.python) {
    // Python counts `self`.
    int self = bound ? 1 : 0;
    if (too_few) {
      raise("TypeError",
            qualified + "() missing " + plural(m.min_args - given, "required positional argument"));
    }
    std::string takes = m.min_args == m.max_args
                            ? plural(m.max_args + self, "positional argument")
                            : "from " + std::to_string(m.min_args + self) + " to " +
                                  std::to_string(m.max_args + self) + " positional arguments";
    raise("TypeError", qualified + "() takes " + takes + " but " + std::to_string(given + self) +
                           (given + self == 1 ? " was" : " were") + " given");
  }
  if (m.max_args == 0) {
    raise("TypeError", qualified + "() takes no arguments (" + std::to_string(given) + " given)");
  }
  if (m.min_args == 1 && m.max_args == 1) {
    raise("TypeError",
          qualified + "() takes exactly one argument (" + std::to_string(given) + " given)");
  }
  std::string bound_word = m.min_args == m.max_args ? "" : too_few ? "at least " : "at most ";
  raise("TypeError", qualified + " expected " + bound_word +
                         plural(too_few ? m.min_args : m.max_args, "argument") + ", got " +
                         std::to_string(given));
}

// The classes isinstance() knows besides the models.
namespace is {
bool integer(const Object& o) {
  return is_kind(o, Value::Kind::Integer) || is_kind(o, Value::Kind::Bool);
}
bool real(const Object& o) { return is_kind(o, Value::Kind::Real); }
bool text(const Object& o) { return is_kind(o, Value::Kind::Text); }
bool boolean(const Object& o) { return is_kind(o, Value::Kind::Bool); }
bool list(const Object& o) { return o.is<List>(); }
bool tuple(const Object& o) { return o.is<Tuple>(); }
bool dict(const Object& o) { return o.is<Dict>(); }
bool q(const Object& o) { return o.is<QObject>(); }
// A datetime is a date, as in Python.
bool date(const Object& o) {
  return is_kind(o, Value::Kind::Date) || is_kind(o, Value::Kind::DateTime);
}
bool datetime(const Object& o) { return is_kind(o, Value::Kind::DateTime); }
bool timedelta(const Object& o) { return o.is<TimeDelta>(); }
bool type(const Object& o) {
  const auto* f = o.as<Function>();
  return o.is<ModelClass>() || o.is<ExceptionClass>() ||
         (f != nullptr && f->member->instance_of != nullptr);
}
}  // namespace is

}  // namespace

// ---- the evaluator -----------------------------------------------------------------------------

class Evaluator {
 public:
  Database& db;
  std::ostream& out;
  bool interactive;
  bool read_only = false;  // calls that write (kWrites) are refused
  std::map<std::string, ObjPtr> globals;
  std::optional<int> exit_code;
  // The containers made while the interpreter lives, so that it can break their reference
  // cycles (a = [1]; a[0] = a) when it goes away; shared_ptr alone would leak them.
  std::vector<std::weak_ptr<Object>> containers;
  std::vector<const Object*> in_repr;  // containers whose repr is being built

  Evaluator(Database& d, std::ostream& o, bool i) : db(d), out(o), interactive(i) {
    for (const ModelMeta* m : db.registry().models()) {
      if (m->auto_created) continue;
      globals[m->object_name] = make_object(ModelClass{m});
    }
    for (const auto& f : builtins_table().members) {
      globals[std::string(f.name)] = make_object(Function{&builtins_table(), &f});
    }
  }

  ~Evaluator() {
    for (auto& w : containers) {
      if (auto o = w.lock()) {
        if (auto* l = o->as<List>()) l->items.clear();
        if (auto* t = o->as<Tuple>()) t->items.clear();
        if (auto* d = o->as<Dict>()) {
          d->keys.clear();
          d->values.clear();
        }
      }
    }
  }

  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  // ---- containers ------------------------------------------------------------------------------

  template <class T>
  ObjPtr container(T value) {
    ObjPtr o = make_object(std::move(value));
    if (containers.size() >= 1024 && containers.size() == containers.capacity()) {
      std::erase_if(containers, [](const std::weak_ptr<Object>& w) { return w.expired(); });
    }
    containers.push_back(o);
    return o;
  }
  ObjPtr list_of(std::vector<ObjPtr> items) { return container(List{std::move(items)}); }
  ObjPtr tuple_of(std::vector<ObjPtr> items) { return container(Tuple{std::move(items)}); }
  ObjPtr new_dict() { return container(Dict{}); }

  // ---- reprs -----------------------------------------------------------------------------------

  std::string repr(const ObjPtr& o) {
    bool is_container = o->is<List>() || o->is<Tuple>() || o->is<Dict>();
    if (is_container) {
      // A container inside itself prints as Python prints it: [[...]].
      if (std::find(in_repr.begin(), in_repr.end(), o.get()) != in_repr.end()) {
        return o->is<List>() ? "[...]" : o->is<Dict>() ? "{...}" : "(...)";
      }
      if (static_cast<int>(in_repr.size()) >= kMaxNesting) {
        raise("RecursionError",
              "maximum recursion depth exceeded while getting the repr of an object");
      }
      in_repr.push_back(o.get());
    }
    struct Pop {
      std::vector<const Object*>* stack;
      ~Pop() {
        if (stack) stack->pop_back();
      }
    } pop{is_container ? &in_repr : nullptr};
    return std::visit(
        Overloaded{
            [](const Value& v) -> std::string { return v.repr(); },
            [&](const List& l) -> std::string { return "[" + join_reprs(l.items) + "]"; },
            [&](const Tuple& t) -> std::string {
              return "(" + join_reprs(t.items) + (t.items.size() == 1 ? ",)" : ")");
            },
            [&](const Dict& d) -> std::string {
              std::string s = "{";
              for (std::size_t i = 0; i < d.keys.size(); ++i) {
                s += (i ? ", " : "") + repr(d.keys[i]) + ": " + repr(d.values[i]);
              }
              return s + "}";
            },
            [](const ModelClass& c) -> std::string {
              return "<class '" + module_of(*c.model) + "." + c.model->object_name + "'>";
            },
            [](const ExceptionClass& e) -> std::string {
              return "<class '" + module_of(*e.model) + "." + e.model->object_name + "." + e.name +
                     "'>";
            },
            [](const ManagerObject&) -> std::string {
              return "<django.db.models.manager.Manager object>";
            },
            [&](const QuerySetObject& q) -> std::string { return queryset_repr(q.qs); },
            [](const InstanceObject& i) -> std::string { return i.instance.repr(); },
            [](const RelatedManager&) -> std::string {
              return "<django.db.models.fields.related_descriptors.RelatedManager object>";
            },
            [](const QObject& q) -> std::string { return q.q.repr(); },
            [](const TimeDelta& t) -> std::string { return delta_repr(t.micros); },
            [](const Module& m) -> std::string { return "<module '" + m.table->owner + "'>"; },
            [](const Function& f) -> std::string {
              std::string name(f.member->name);
              if (f.module == &builtins_table()) return "<built-in function " + name + ">";
              if (f.member->instance_of != nullptr)
                return "<class '" + f.module->owner + "." + name + "'>";
              if (f.module->python) return "<function " + name + ">";
              return "<built-in method " + f.module->owner + "." + name + ">";
            },
            [](const BoundMethod& m) -> std::string {
              return "<bound method " + std::string(m.member->name) + ">";
            },
            [](const AtomicBlock&) -> std::string {
              return "<django.db.transaction.Atomic object>";
            },
        },
        o->v);
  }

  std::string join_reprs(const std::vector<ObjPtr>& items) {
    std::string s;
    for (std::size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + repr(items[i]);
    return s;
  }

  std::string str(const ObjPtr& o) {
    if (const auto* v = o->as<Value>())
      return v->kind() == Value::Kind::Null ? "None" : v->to_string();
    if (const auto* i = o->as<InstanceObject>()) return i->instance.str();
    if (const auto* t = o->as<TimeDelta>()) return delta_str(t->micros);
    if (const auto* q = o->as<QObject>()) {
      std::string r = q->q.repr();  // str(Q) is its repr without "<Q: ...>"
      return r.substr(4, r.size() - 5);
    }
    return repr(o);
  }

  // Django's QuerySet repr: at most 20 items, then "...(remaining elements truncated)...".
  std::string queryset_repr(const QuerySet& qs) {
    std::vector<ObjPtr> items = materialize(qs.slice(0, 21));  // Django reads 21 to know
    std::string s;
    bool truncated = items.size() > 20;
    if (truncated) items.resize(20);
    s = join_reprs(items);
    if (truncated) s += ", '...(remaining elements truncated)...'";
    return "<QuerySet [" + s + "]>";
  }

  // Every element of a QuerySet as shell objects (instances, dicts, tuples or values).
  std::vector<ObjPtr> materialize(const QuerySet& qs) {
    std::vector<ObjPtr> out;
    if (qs.result_kind() == QuerySet::ResultKind::Instances) {
      for (const Instance& inst : qs) {
        check_interrupt();
        out.push_back(wrap(inst));
      }
      return out;
    }
    const auto& names = qs.value_names();
    for (auto& row : qs.rows()) {
      check_interrupt();
      if (qs.result_kind() == QuerySet::ResultKind::Flat) {
        out.push_back(scalar(row.at(0)));
      } else if (qs.result_kind() == QuerySet::ResultKind::Tuples) {
        std::vector<ObjPtr> items;
        for (auto& v : row) items.push_back(scalar(v));
        out.push_back(tuple_of(std::move(items)));
      } else {
        Dict d;
        for (std::size_t i = 0; i < row.size(); ++i) {
          d.keys.push_back(scalar(Value(names[i])));
          d.values.push_back(scalar(row[i]));
        }
        out.push_back(container(std::move(d)));
      }
    }
    return out;
  }

  ObjPtr wrap(Instance inst) { return make_object(InstanceObject{std::move(inst)}); }
  ObjPtr wrap(QuerySet qs) { return make_object(QuerySetObject{std::move(qs)}); }
  ObjPtr wrap_result(const DeleteResult& r) {
    Dict d;
    for (const auto& [label, n] : r.per_model) {
      d.keys.push_back(scalar(Value(label)));
      d.values.push_back(scalar(Value(n)));
    }
    return tuple_of({scalar(Value(r.total)), container(std::move(d))});
  }

  // ---- conversions
  // -------------------------------------------------------------------------------

  Value to_value(const ObjPtr& o) {
    if (const auto* v = o->as<Value>()) return *v;
    if (const auto* i = o->as<InstanceObject>()) return i->instance.pk();
    raise("TypeError", "cannot use a " + type_name(*o) + " object as a value");
  }

  Arg to_arg(const ObjPtr& o) {
    if (const auto* v = o->as<Value>()) return Arg(*v);
    // An instance stands for its primary key, or for a to_field's value (resolved by the query).
    if (const auto* i = o->as<InstanceObject>()) return Arg(i->instance);
    if (const auto* q = o->as<QuerySetObject>()) return Arg(q->qs);
    if (const auto* items = sequence_items(*o)) {
      if (!items->empty() && std::all_of(items->begin(), items->end(),
                                         [](const ObjPtr& i) { return i->is<InstanceObject>(); })) {
        std::vector<Instance> instances;
        for (const auto& i : *items) instances.push_back(i->as<InstanceObject>()->instance);
        return Arg(std::move(instances));
      }
      std::vector<Value> values;
      for (const auto& i : *items) values.push_back(to_value(i));
      return Arg(std::move(values));
    }
    if (const auto* r = o->as<RelatedManager>()) return Arg(related_queryset(*r));
    raise("TypeError", "cannot use a " + type_name(*o) + " object in a lookup");
  }

  Lookups lookups(const Kwargs& kwargs) {
    Lookups out;
    for (const auto& [k, v] : kwargs) out.emplace_back(k, to_arg(v));
    return out;
  }

  Q q_of(const Args& args, const Kwargs& kwargs) {
    Q q;
    for (const auto& a : args) {
      const auto* qa = a->as<QObject>();
      if (qa == nullptr) raise("TypeError", "'" + type_name(*a) + "' object is not a Q object");
      q = q & qa->q;
    }
    if (!kwargs.empty()) q = q & Q(lookups(kwargs));
    return q;
  }

  std::vector<std::string> strings(const std::string& fn, const Args& args) {
    std::vector<std::string> out;
    for (const auto& a : args) {
      if (!is_text(*a)) raise("TypeError", fn + "() arguments must be field names (strings)");
      out.push_back(a->as<Value>()->as_text());
    }
    return out;
  }

  // ---- attributes ----------------------------------------------------------------------------

  // The content type of an object's model, as Django's get_for_model: created when missing
  // (a read-only shell only reads it; without a row, nothing refers to the model).
  Value content_type_of(const ModelMeta& m) {
    if (read_only) {
      auto id = find_content_type(db, m);
      return id ? Value(*id) : Value();
    }
    return Value(content_type_for(db, m));
  }

  // The generic foreign key on a GenericRelation's target that the relation goes through.
  static const Field& generic_key_of(const Field& gr) {
    for (const auto& f : gr.target->concrete_model().private_fields) {
      if (f.type == FieldType::GenericForeignKey && f.ct_field == gr.ct_field &&
          f.fk_field == gr.fk_field) {
        return f;
      }
    }
    throw Error("no generic foreign key for " + gr.name);  // the Registry checked there is one
  }

  QuerySet related_queryset(const RelatedManager& r) {
    const Instance& owner = r.owner->as<InstanceObject>()->instance;
    if (r.field->type == FieldType::GenericRelation) {
      const Field& gr = *r.field;
      Value id = owner.pk();
      if (gr.generic_id->type == FieldType::Char || gr.generic_id->type == FieldType::Text) {
        id = Value(id.to_string());
      }
      return QuerySet(db, *gr.target)
          .filter(Q(gr.generic_ct->column, Arg(content_type_of(owner.meta()))) &
                  Q(gr.generic_id->name, Arg(id)));
    }
    if (r.field->type == FieldType::ManyToMany) {
      const ModelMeta& other = r.reverse ? *r.field->model : *r.field->target;
      auto pks = db.objects(owner.meta()).many_to_many(owner, r.name).pks();
      return QuerySet(db, other).filter(Q("pk__in", Arg(pks)));
    }
    return QuerySet(db, *r.field->model).filter(Q(r.field->name, Arg(owner)));
  }

  ObjPtr getattr(const ObjPtr& o, const std::string& name) {
    if (const MemberTable* table = table_of(*o)) {
      if (const Member* m = table->find(name)) {
        if (m->get != nullptr) return (this->*m->get)(o);
        if (o->is<Module>() || o->is<Function>()) return make_object(Function{table, m});
        return make_object(BoundMethod{o, table, m});
      }
    }
    if (o->is<InstanceObject>()) {
      if (ObjPtr field = field_attr(o, name)) return field;
    }
    raise("AttributeError", no_attribute(*o, name));
  }

  // "'QuerySet' object has no attribute 'fliter' (did you mean 'filter'?)"
  std::string no_attribute(const Object& o, const std::string& name) {
    std::vector<std::string> names = member_names(o, false);
    std::string owner = "'" + type_name(o) + "' object";
    if (const auto* c = o.as<ModelClass>()) owner = "type object '" + c->model->object_name + "'";
    if (o.is<RelatedManager>()) owner = "'Manager' object";
    if (const auto* m = o.as<Module>()) owner = "module '" + m->table->owner + "'";
    if (const auto* f = o.as<Function>(); f != nullptr && f->member->attributes != nullptr) {
      owner = "type object '" + f->module->owner + "." + std::string(f->member->name) + "'";
    }
    if (const auto* i = o.as<InstanceObject>()) {
      owner = "'" + i->instance.meta().object_name + "' object";
      for (auto& field : i->instance.meta().field_names()) names.push_back(std::move(field));
    }
    return owner + " has no attribute '" + name + "'" + naming::did_you_mean(name, names);
  }

  // An instance's field or relation, or null.
  ObjPtr field_attr(const ObjPtr& o, const std::string& name) {
    Instance& inst = o->as<InstanceObject>()->instance;
    const ModelMeta& m = inst.meta();
    // A multi-table child's many-to-many relations from its parents.
    for (const ModelMeta* p = m.find_field(name) ? nullptr : m.parent(); p != nullptr;
         p = p->parent()) {
      for (const auto& f : p->many_to_many) {
        if (f.name == name) return make_object(RelatedManager{o, &f, false, name});
      }
    }
    if (const Field* f = m.find_private(name)) {
      if (f->type == FieldType::GenericRelation) {
        return make_object(RelatedManager{o, f, false, name});
      }
      // A generic foreign key: the object its content type and object id name, or None (also
      // when that object does not exist, as Django 3.2).
      const Value& type = inst.get(f->generic_ct->column);
      const Value& id = inst.get(f->generic_id->name);
      if (type.is_null() || id.is_null()) return none();
      const ModelMeta* target = model_for_content_type(db, type);
      if (target == nullptr) return none();
      Value key;
      try {
        key = target->pk().to_python(id);
      } catch (const ValueError&) {
        return none();
      }
      auto found = db.all_objects(target->label()).find(key);
      if (!found) return none();
      return wrap(std::move(*found));
    }
    if (const Field* f = m.find_field(name)) {
      if (f->type == FieldType::ManyToMany) return make_object(RelatedManager{o, f, false, name});
      if (f->is_foreign_key() && name == f->name) {
        const Value& key = inst.get(f->column);
        if (key.is_null()) return none();
        auto target = f->target_field->primary_key
                          ? db.all_objects(f->target->label()).find(key)
                          : QuerySet(db, *f->target, QuerySet::Visibility::All)
                                .filter(Q(f->target_field->name, Arg(key)))
                                .first();
        if (!target)
          raise(module_of(*f->target) + "." + f->target->object_name + ".DoesNotExist",
                f->target->object_name + " matching query does not exist.");
        return wrap(std::move(*target));
      }
      return scalar(inst.get(name));
    }
    for (const auto& rel : m.related_objects) {
      if (rel.field->related_accessor_name() == name) {
        if (rel.field->type == FieldType::OneToOne) {
          auto found =
              QuerySet(db, *rel.field->model).filter(Q(rel.field->name, Arg(inst))).first();
          if (!found)
            raise(module_of(*rel.field->model) + "." + rel.field->model->object_name +
                      ".DoesNotExist",
                  m.object_name + " has no " + name + ".");
          return wrap(std::move(*found));
        }
        return make_object(RelatedManager{o, rel.field, true, name});
      }
    }
    return nullptr;
  }

  void setattr(const ObjPtr& o, const std::string& name, const ObjPtr& value) {
    auto* target = o->as<InstanceObject>();
    if (target == nullptr) {
      raise("AttributeError",
            "'" + type_name(*o) + "' object attribute '" + name + "' is read-only");
    }
    Instance& inst = target->instance;
    if (name == "pk") {
      inst.set_pk(inst.meta().pk().to_python(to_value(value)));
      return;
    }
    if (const Field* g = inst.meta().find_private(name)) {
      if (g->type == FieldType::GenericRelation) {
        raise("TypeError", "Direct assignment to the reverse side of a related set is "
                           "prohibited. Use " + name + ".set() instead.");
      }
      // A generic foreign key: the object's content type (created if missing) and key.
      if (is_none(*value)) {
        inst.set(g->generic_ct->column, Value());
        inst.set(g->generic_id->name, Value());
        return;
      }
      const auto* other = value->as<InstanceObject>();
      if (other == nullptr) {
        raise("AttributeError", "'" + type_name(*value) + "' object has no attribute '_meta'");
      }
      inst.set(g->generic_ct->column, content_type_of(other->instance.meta()));
      inst.set(g->generic_id->name, other->instance.pk());
      return;
    }
    const Field* f = inst.meta().find_field(name);
    if (f == nullptr || !f->is_concrete()) {
      if (f != nullptr) {
        raise("TypeError",
              "Direct assignment to the forward side of a many-to-many set is prohibited. Use " +
                  name + ".set() instead.");
      }
      raise("AttributeError", "'" + inst.meta().object_name + "' object has no field '" + name +
                                  "'" + naming::did_you_mean(name, inst.meta().field_names()));
    }
    const auto* other = value->as<InstanceObject>();
    if (f->is_foreign_key() && name == f->name && other != nullptr &&
        !other->instance.meta().is_a(*f->target)) {
      raise("ValueError", "Cannot assign \"" + other->instance.repr() + "\": \"" +
                              inst.meta().object_name + "." + f->name + "\" must be a \"" +
                              f->target->object_name + "\" instance.");
    }
    // A foreign key holds the target's key: its primary key, or the to_field's value.
    if (f->is_foreign_key() && other != nullptr && !f->target_field->primary_key) {
      inst.set(name, other->instance.get(f->target_field->name));
      return;
    }
    inst.set(name, to_value(value));
  }

  // ---- calls ---------------------------------------------------------------------------------

  // A read-only shell refuses, before anything runs, every call its method table marks as one
  // that writes.
  void check_writes(const MemberTable& table, const Member& m, const Object* self) const {
    if (!read_only || !m.writes()) return;
    std::string name = qualified_name(table, m);
    // An instance's method is named after its model: "Post.delete()".
    if (const auto* i = self != nullptr ? self->as<InstanceObject>() : nullptr) {
      name = i->instance.meta().object_name + "." + std::string(m.name);
    }
    raise("PermissionError",
          name + "() writes to the database, and this shell is read-only (--read-only)");
  }

  ObjPtr call(const ObjPtr& fn, const Args& args, const Kwargs& kwargs) {
    if (const auto* f = fn->as<Function>()) {
      check_arguments(*f->module, *f->member, false, args, kwargs);
      check_writes(*f->module, *f->member, nullptr);
      return (this->*f->member->call)(nullptr, args, kwargs);
    }
    if (const auto* m = fn->as<BoundMethod>()) {
      check_arguments(*m->table, *m->member, true, args, kwargs);
      check_writes(*m->table, *m->member, m->self.get());
      return (this->*m->member->call)(m->self, args, kwargs);
    }
    if (const auto* c = fn->as<ModelClass>()) {
      if (!args.empty())
        raise("TypeError", c->model->object_name + "() takes keyword arguments only");
      ObjPtr obj = wrap(Instance(*c->model));
      for (const auto& [k, v] : kwargs) setattr(obj, k, v);
      return obj;
    }
    raise("TypeError", "'" + type_name(*fn) + "' object is not callable");
  }

  std::vector<ObjPtr> iterate(const ObjPtr& o) {
    if (const auto* items = sequence_items(*o)) return *items;
    if (const auto* d = o->as<Dict>()) return d->keys;
    if (const auto* q = o->as<QuerySetObject>()) return materialize(q->qs);
    if (const auto* r = o->as<RelatedManager>()) return materialize(related_queryset(*r));
    if (is_text(*o)) {
      std::vector<ObjPtr> chars;
      for (char c : o->as<Value>()->as_text()) chars.push_back(scalar(Value(std::string(1, c))));
      return chars;
    }
    raise("TypeError", "'" + type_name(*o) + "' object is not iterable");
  }

  bool iterable(const Object& o) {
    return o.is<List>() || o.is<Tuple>() || o.is<Dict>() || o.is<QuerySetObject>() ||
           o.is<RelatedManager>() || is_text(o);
  }

  // ---- model classes
  // -----------------------------------------------------------------------------

  ObjPtr manager(const ObjPtr& self, QuerySet::Visibility visibility, const char* name) {
    const ModelMeta* m = self->as<ModelClass>()->model;
    if (visibility != QuerySet::Visibility::Live && !m->soft_deletable()) {
      raise("AttributeError",
            "type object '" + m->object_name + "' has no attribute '" + name + "'");
    }
    return make_object(ManagerObject{m, visibility});
  }
  ObjPtr objects(const ObjPtr& self) {
    return manager(self, QuerySet::Visibility::Live, "objects");
  }
  ObjPtr all_objects(const ObjPtr& self) {
    return manager(self, QuerySet::Visibility::All, "all_objects");
  }
  ObjPtr deleted_objects(const ObjPtr& self) {
    return manager(self, QuerySet::Visibility::Deleted, "deleted_objects");
  }
  ObjPtr does_not_exist(const ObjPtr& self) {
    return make_object(ExceptionClass{self->as<ModelClass>()->model, "DoesNotExist"});
  }
  ObjPtr multiple_objects_returned(const ObjPtr& self) {
    return make_object(ExceptionClass{self->as<ModelClass>()->model, "MultipleObjectsReturned"});
  }

  // ---- managers and QuerySets ------------------------------------------------------------------

  QuerySet base_queryset(const ObjPtr& self) {
    if (const auto* m = self->as<ManagerObject>()) return QuerySet(db, *m->model, m->visibility);
    if (const auto* q = self->as<QuerySetObject>()) return q->qs;
    return related_queryset(*self->as<RelatedManager>());
  }

  ObjPtr qs_all(const ObjPtr& self, const Args&, const Kwargs&) {
    return wrap(base_queryset(self).all());
  }
  ObjPtr qs_filter(const ObjPtr& self, const Args& args, const Kwargs& kwargs) {
    return wrap(base_queryset(self).filter(q_of(args, kwargs)));
  }
  ObjPtr qs_exclude(const ObjPtr& self, const Args& args, const Kwargs& kwargs) {
    return wrap(base_queryset(self).exclude(q_of(args, kwargs)));
  }
  ObjPtr qs_get(const ObjPtr& self, const Args& args, const Kwargs& kwargs) {
    return wrap(base_queryset(self).get(q_of(args, kwargs)));
  }
  ObjPtr qs_count(const ObjPtr& self, const Args&, const Kwargs&) {
    return scalar(Value(base_queryset(self).count()));
  }
  ObjPtr qs_exists(const ObjPtr& self, const Args&, const Kwargs&) {
    return scalar(Value(base_queryset(self).exists()));
  }
  ObjPtr qs_first(const ObjPtr& self, const Args&, const Kwargs&) {
    auto found = base_queryset(self).first();
    return found ? wrap(std::move(*found)) : none();
  }
  ObjPtr qs_last(const ObjPtr& self, const Args&, const Kwargs&) {
    auto found = base_queryset(self).last();
    return found ? wrap(std::move(*found)) : none();
  }
  ObjPtr qs_order_by(const ObjPtr& self, const Args& args, const Kwargs&) {
    return wrap(base_queryset(self).order_by(strings("order_by", args)));
  }
  ObjPtr qs_distinct(const ObjPtr& self, const Args&, const Kwargs&) {
    return wrap(base_queryset(self).distinct());
  }
  ObjPtr qs_values(const ObjPtr& self, const Args& args, const Kwargs&) {
    return wrap(base_queryset(self).values(strings("values", args)));
  }
  ObjPtr qs_values_list(const ObjPtr& self, const Args& args, const Kwargs& kwargs) {
    bool flat = false;
    for (const auto& [k, v] : kwargs) {
      if (k != "flat")
        raise("TypeError", "values_list() got an unexpected keyword argument '" + k + "'");
      flat = truthy(*v);
    }
    return wrap(base_queryset(self).values_list(strings("values_list", args), flat));
  }
  ObjPtr qs_update(const ObjPtr& self, const Args&, const Kwargs& kwargs) {
    std::vector<std::pair<std::string, Value>> values;
    for (const auto& [k, v] : kwargs) values.emplace_back(k, to_value(v));
    return scalar(Value(base_queryset(self).update(values)));
  }
  ObjPtr qs_delete(const ObjPtr& self, const Args&, const Kwargs&) {
    return wrap_result(base_queryset(self).remove());
  }
  ObjPtr qs_hard_delete(const ObjPtr& self, const Args&, const Kwargs&) {
    return wrap_result(base_queryset(self).hard_remove());
  }
  ObjPtr qs_restore(const ObjPtr& self, const Args&, const Kwargs&) {
    return wrap_result(base_queryset(self).restore());
  }
  // ContentType.objects.get_for_model(model or instance, for_concrete_model=True)
  ObjPtr get_for_model(const ObjPtr&, const Args& args, const Kwargs& kwargs) {
    for (const auto& [k, v] : kwargs) {
      if (k != "for_concrete_model") {
        raise("TypeError", "get_for_model() got an unexpected keyword argument '" + k + "'");
      }
      if (!truthy(*v)) {
        raise("NotImplementedError",
              "for_concrete_model=False is not supported: a proxy shares its model's content "
              "type");
      }
    }
    const ModelMeta* m = nullptr;
    if (const auto* c = args[0]->as<ModelClass>()) m = c->model;
    if (const auto* i = args[0]->as<InstanceObject>()) m = &i->instance.meta();
    if (m == nullptr) {
      raise("AttributeError", "'" + type_name(*args[0]) + "' object has no attribute '_meta'");
    }
    const ModelMeta& ct = db.registry().get(kContentTypeLabel);
    return wrap(db.objects(ct).get(Value(content_type_for(db, *m))));
  }
  ObjPtr qs_create(const ObjPtr& self, const Args&, const Kwargs& kwargs) {
    QuerySet qs = base_queryset(self);
    ObjPtr obj = wrap(Instance(qs.model()));
    if (const auto* r = self->as<RelatedManager>()) {
      setattr(obj,
              r->field->type == FieldType::GenericRelation ? generic_key_of(*r->field).name
                                                           : r->field->name,
              r->owner);
    }
    for (const auto& [k, v] : kwargs) setattr(obj, k, v);
    db.objects(qs.model()).save(obj->as<InstanceObject>()->instance);
    return obj;
  }
  // get_or_create(defaults=None, **lookups)
  ObjPtr qs_get_or_create(const ObjPtr& self, const Args& args, const Kwargs& kwargs) {
    QuerySet qs = base_queryset(self);
    Lookups l;
    std::vector<std::pair<std::string, Value>> defaults;
    auto take_defaults = [&](const ObjPtr& v) {
      const auto* d = v->as<Dict>();
      if (d == nullptr) raise("TypeError", "defaults must be a dict");
      for (std::size_t i = 0; i < d->keys.size(); ++i)
        defaults.emplace_back(str(d->keys[i]), to_value(d->values[i]));
    };
    if (!args.empty() && !is_none(*args[0])) take_defaults(args[0]);
    for (const auto& [k, v] : kwargs) {
      if (k == "defaults") {
        take_defaults(v);
      } else {
        l.emplace_back(k, to_arg(v));
      }
    }
    auto [inst, created] = db.objects(qs.model()).get_or_create(l, defaults);
    return tuple_of({wrap(std::move(inst)), scalar(Value(created))});
  }
  ObjPtr qs_in_bulk(const ObjPtr& self, const Args& args, const Kwargs&) {
    std::optional<std::vector<Value>> keys;
    if (!args.empty()) {
      keys.emplace();
      for (const auto& i : iterate(args[0])) keys->push_back(to_value(i));
    }
    Dict d;
    for (auto& [k, inst] : base_queryset(self).in_bulk(keys)) {
      d.keys.push_back(scalar(k));
      d.values.push_back(wrap(inst));
    }
    return container(std::move(d));
  }

  // A many-to-many's add, remove and set: the instances (or lists of them) given.
  std::vector<Value> m2m_pks(const ManyToManyManager& m2m, const Args& args, bool check_saved) {
    std::vector<Value> pks;
    auto one = [&](const ObjPtr& a) {
      // Django refuses an unsaved or deleted instance by name (its pk is None).
      const auto* i = a->as<InstanceObject>();
      if (check_saved && i != nullptr && i->instance.pk().is_null()) {
        raise("ValueError", "Cannot add \"" + repr(a) + "\": the value for field \"" +
                                m2m.target_field().name + "\" is None");
      }
      pks.push_back(to_value(a));
    };
    for (const auto& a : args) {
      if (const auto* items = sequence_items(*a)) {
        for (const auto& i : *items) one(i);
      } else {
        one(a);
      }
    }
    return pks;
  }
  ManyToManyManager many_to_many(const ObjPtr& self) {
    const auto& r = *self->as<RelatedManager>();
    const Instance& owner = r.owner->as<InstanceObject>()->instance;
    return db.objects(owner.meta()).many_to_many(owner, r.name);
  }
  ObjPtr m2m_add(const ObjPtr& self, const Args& args, const Kwargs&) {
    auto m2m = many_to_many(self);
    m2m.add(m2m_pks(m2m, args, true));
    return none();
  }
  ObjPtr m2m_remove(const ObjPtr& self, const Args& args, const Kwargs&) {
    auto m2m = many_to_many(self);
    m2m.remove(m2m_pks(m2m, args, false));
    return none();
  }
  ObjPtr m2m_set(const ObjPtr& self, const Args& args, const Kwargs&) {
    auto m2m = many_to_many(self);
    m2m.set(m2m_pks(m2m, args, true));
    return none();
  }
  ObjPtr m2m_clear(const ObjPtr& self, const Args&, const Kwargs&) {
    many_to_many(self).clear();
    return none();
  }

  // ---- instances -------------------------------------------------------------------------------

  Instance& instance_of(const ObjPtr& self) { return self->as<InstanceObject>()->instance; }
  ObjPtr pk(const ObjPtr& self) { return scalar(instance_of(self).pk()); }
  ObjPtr save(const ObjPtr& self, const Args&, const Kwargs&) {
    Instance& inst = instance_of(self);
    db.objects(inst.meta()).save(inst);
    return none();
  }
  // Model.delete(keep_parents=False), as Django's (`using` names one database: none here).
  static bool keep_parents(const Kwargs& kwargs) {
    bool keep = false;
    for (const auto& [k, v] : kwargs) {
      if (k != "keep_parents")
        raise("TypeError", "delete() got an unexpected keyword argument '" + k + "'");
      keep = truthy(*v);
    }
    return keep;
  }
  ObjPtr instance_delete(const ObjPtr& self, const Args&, const Kwargs& kwargs) {
    Instance& inst = instance_of(self);
    return wrap_result(db.objects(inst.meta()).remove(inst, keep_parents(kwargs)));
  }
  ObjPtr instance_hard_delete(const ObjPtr& self, const Args&, const Kwargs& kwargs) {
    Instance& inst = instance_of(self);
    return wrap_result(db.objects(inst.meta()).hard_remove(inst, keep_parents(kwargs)));
  }
  ObjPtr instance_restore(const ObjPtr& self, const Args&, const Kwargs&) {
    Instance& inst = instance_of(self);
    return wrap_result(db.objects(inst.meta()).restore(inst));
  }
  ObjPtr refresh_from_db(const ObjPtr& self, const Args&, const Kwargs&) {
    Instance& inst = instance_of(self);
    db.objects(inst.meta()).refresh(inst);
    return none();
  }

  // ---- dates, datetimes and timedeltas
  // -----------------------------------------------------------

  static DateTime datetime_of(const ObjPtr& o) { return o->as<Value>()->as_datetime(); }
  ObjPtr year(const ObjPtr& o) { return scalar(Value(datetime_of(o).date().year)); }
  ObjPtr month(const ObjPtr& o) { return scalar(Value(datetime_of(o).date().month)); }
  ObjPtr day(const ObjPtr& o) { return scalar(Value(datetime_of(o).date().day)); }
  ObjPtr hour(const ObjPtr& o) { return scalar(Value(datetime_of(o).hour())); }
  ObjPtr minute(const ObjPtr& o) { return scalar(Value(datetime_of(o).minute())); }
  ObjPtr second(const ObjPtr& o) { return scalar(Value(datetime_of(o).second())); }
  ObjPtr microsecond(const ObjPtr& o) { return scalar(Value(datetime_of(o).microsecond())); }
  ObjPtr date_of(const ObjPtr& self, const Args&, const Kwargs&) {
    return scalar(Value(datetime_of(self).date()));
  }
  ObjPtr isoformat(const ObjPtr& self, const Args&, const Kwargs&) {
    const Value& v = *self->as<Value>();
    return scalar(
        Value(v.kind() == Value::Kind::Date ? v.as_date().iso() : v.as_datetime().iso('T')));
  }
  std::int64_t weekday_of(const ObjPtr& self) {
    const Value& v = *self->as<Value>();
    std::int64_t days = v.kind() == Value::Kind::Date ? v.as_date().days_since_epoch()
                                                      : v.as_datetime().date().days_since_epoch();
    return ((days + 3) % 7 + 7) % 7;  // Monday is 0; 1970-01-01 was a Thursday
  }
  ObjPtr weekday(const ObjPtr& self, const Args&, const Kwargs&) {
    return scalar(Value(weekday_of(self)));
  }
  ObjPtr isoweekday(const ObjPtr& self, const Args&, const Kwargs&) {
    return scalar(Value(weekday_of(self) + 1));
  }
  ObjPtr strftime(const ObjPtr& self, const Args& args, const Kwargs&) {
    if (!is_text(*args[0]))
      raise("TypeError", "strftime() takes exactly one argument, a format string");
    return scalar(Value(strftime_of(*self->as<Value>(), args[0]->as<Value>()->as_text())));
  }
  ObjPtr days(const ObjPtr& o) { return scalar(Value(delta_parts(micros_of(*o)).days)); }
  ObjPtr seconds(const ObjPtr& o) { return scalar(Value(delta_parts(micros_of(*o)).seconds)); }
  ObjPtr microseconds(const ObjPtr& o) { return scalar(Value(delta_parts(micros_of(*o)).micros)); }
  ObjPtr total_seconds(const ObjPtr& self, const Args&, const Kwargs&) {
    return scalar(Value(static_cast<double>(micros_of(*self)) / 1e6));
  }

  // ---- builtins
  // ----------------------------------------------------------------------------------

  ObjPtr print(const ObjPtr&, const Args& args, const Kwargs& kwargs) {
    std::string sep = " ", end = "\n";
    for (const auto& [k, v] : kwargs) {
      if (k == "sep")
        sep = str(v);
      else if (k == "end")
        end = str(v);
      else
        raise("TypeError", "'" + k + "' is an invalid keyword argument for print()");
    }
    for (std::size_t i = 0; i < args.size(); ++i) out << (i ? sep : "") << str(args[i]);
    out << end;
    return none();
  }
  ObjPtr exit(const ObjPtr&, const Args& args, const Kwargs&) {
    int code = args.empty() ? 0 : static_cast<int>(to_value(args[0]).as_integer());
    throw ExitRequest{code};
  }
  ObjPtr len(const ObjPtr&, const Args& args, const Kwargs&) {
    const ObjPtr& a = args[0];
    if (const auto* q = a->as<QuerySetObject>()) return scalar(Value(q->qs.count()));
    if (is_text(*a))
      return scalar(Value(static_cast<std::int64_t>(a->as<Value>()->as_text().size())));
    return scalar(Value(static_cast<std::int64_t>(iterate(a).size())));
  }
  ObjPtr list(const ObjPtr&, const Args& args, const Kwargs&) { return list_of(iterate(args[0])); }
  ObjPtr tuple(const ObjPtr&, const Args& args, const Kwargs&) {
    return tuple_of(iterate(args[0]));
  }
  // dict(), dict(mapping), dict(pairs), dict(**kwargs)
  ObjPtr dict(const ObjPtr&, const Args& args, const Kwargs& kwargs) {
    ObjPtr d = new_dict();
    if (!args.empty()) {
      if (const auto* source = args[0]->as<Dict>()) {
        for (std::size_t i = 0; i < source->keys.size(); ++i)
          set_item(d, source->keys[i], source->values[i]);
      } else {
        std::vector<ObjPtr> elements = iterate(args[0]);
        for (std::size_t i = 0; i < elements.size(); ++i) {
          std::string element = "dictionary update sequence element #" + std::to_string(i);
          if (!iterable(*elements[i]))
            raise("TypeError", "cannot convert " + element + " to a sequence");
          std::vector<ObjPtr> pair = iterate(elements[i]);
          if (pair.size() != 2) {
            raise("ValueError",
                  element + " has length " + std::to_string(pair.size()) + "; 2 is required");
          }
          set_item(d, pair[0], pair[1]);
        }
      }
    }
    for (const auto& [k, v] : kwargs) set_item(d, scalar(Value(k)), v);
    return d;
  }
  // sorted(iterable, key=None, reverse=False): stable, comparing with <, as Python's.
  ObjPtr sorted(const ObjPtr&, const Args& args, const Kwargs& kwargs) {
    ObjPtr key;
    bool reverse = false;
    for (const auto& [k, v] : kwargs) {
      if (k == "key")
        key = is_none(*v) ? nullptr : v;
      else if (k == "reverse")
        reverse = truthy(*v);
      else
        raise("TypeError", "'" + k + "' is an invalid keyword argument for sort()");
    }
    std::vector<ObjPtr> items = iterate(args[0]);
    std::vector<ObjPtr> keys;
    for (const auto& i : items) keys.push_back(key ? call(key, {i}, {}) : i);
    std::vector<std::size_t> order(items.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    auto less = [&](std::size_t a, std::size_t b) {
      check_interrupt();
      return truthy(*compare("<", keys[a], keys[b]));
    };
    // Reversed, the comparisons are, and equal items keep their order (Python's reverse=True).
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return reverse ? less(b, a) : less(a, b);
    });
    std::vector<ObjPtr> result;
    for (std::size_t i : order) result.push_back(items[i]);
    return list_of(std::move(result));
  }
  ObjPtr str(const ObjPtr&, const Args& args, const Kwargs&) { return scalar(Value(str(args[0]))); }
  ObjPtr repr(const ObjPtr&, const Args& args, const Kwargs&) {
    return scalar(Value(repr(args[0])));
  }
  ObjPtr boolean(const ObjPtr&, const Args& args, const Kwargs&) {
    return scalar(Value(truthy(*args[0])));
  }
  ObjPtr integer(const ObjPtr&, const Args& args, const Kwargs&) {
    Field f;
    f.name = "value";
    f.type = FieldType::BigInteger;
    return scalar(f.to_python(to_value(args[0])));
  }
  ObjPtr real(const ObjPtr&, const Args& args, const Kwargs&) {
    // float('nan'), float('inf'), float('1e3') as Python reads them.
    Field f;
    f.name = "value";
    f.type = FieldType::Float;
    return scalar(f.to_python(to_value(args[0])));
  }
  ObjPtr type(const ObjPtr&, const Args& args, const Kwargs&) {
    return scalar(Value("<class '" + type_name(*args[0]) + "'>"));
  }
  // isinstance(object, class or tuple of classes)
  bool isinstance(const Object& o, const ObjPtr& cls) {
    if (const auto* t = cls->as<Tuple>()) {
      return std::any_of(t->items.begin(), t->items.end(),
                         [&](const ObjPtr& c) { return isinstance(o, c); });
    }
    if (const auto* c = cls->as<ModelClass>()) {
      const auto* i = o.as<InstanceObject>();
      return i != nullptr && &i->instance.meta() == c->model;
    }
    if (cls->is<ExceptionClass>()) return false;  // the shell's objects are never exceptions
    if (const auto* f = cls->as<Function>(); f != nullptr && f->member->instance_of != nullptr) {
      return f->member->instance_of(o);
    }
    raise("TypeError", "isinstance() arg 2 must be a type, a tuple of types, or a union");
  }
  ObjPtr isinstance(const ObjPtr&, const Args& args, const Kwargs&) {
    return scalar(Value(isinstance(*args[0], args[1])));
  }
  ObjPtr range(const ObjPtr&, const Args& args, const Kwargs&) {
    std::vector<std::int64_t> n;
    for (const auto& a : args) {
      Value v = to_value(a);
      if (v.kind() != Value::Kind::Integer) {
        raise("TypeError", "'" + type_name(*a) + "' object cannot be interpreted as an integer");
      }
      n.push_back(v.as_integer());
    }
    std::int64_t start = n.size() == 1 ? 0 : n[0], stop = n.size() == 1 ? n[0] : n[1];
    std::int64_t step = n.size() == 3 ? n[2] : 1;
    if (step == 0) raise("ValueError", "range() arg 3 must not be zero");
    std::vector<ObjPtr> items;
    for (std::int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
      if (items.size() >= 10'000'000) raise("MemoryError", "range too large for the cascade shell");
      items.push_back(scalar(Value(i)));
    }
    return list_of(items);
  }
  // sum(), min() and max() of an iterable, or of their arguments.
  std::vector<ObjPtr> operands(const Args& args) {
    return args.size() == 1 ? iterate(args[0]) : args;
  }
  ObjPtr sum(const ObjPtr&, const Args& args, const Kwargs&) {
    ObjPtr total = scalar(Value(0));
    for (const auto& i : operands(args)) total = binary("+", total, i);
    return total;
  }
  ObjPtr extreme(const std::string& name, const Args& args) {
    std::vector<ObjPtr> items = operands(args);
    if (items.empty()) raise("ValueError", name + "() arg is an empty sequence");
    ObjPtr best = items[0];
    for (const auto& i : items) {
      if (truthy(*compare(name == "min" ? "<" : ">", i, best))) best = i;
    }
    return best;
  }
  ObjPtr min(const ObjPtr&, const Args& args, const Kwargs&) { return extreme("min", args); }
  ObjPtr max(const ObjPtr&, const Args& args, const Kwargs&) { return extreme("max", args); }
  ObjPtr abs(const ObjPtr&, const Args& args, const Kwargs&) {
    if (args[0]->is<TimeDelta>()) {
      std::int64_t m = micros_of(*args[0]);
      return delta(m < 0 ? -static_cast<long double>(m) : static_cast<long double>(m));
    }
    Value x = to_value(args[0]);
    if (x.kind() == Value::Kind::Real) return scalar(Value(std::fabs(x.as_real())));
    if (x.kind() != Value::Kind::Integer && x.kind() != Value::Kind::Bool) {
      raise("TypeError", "bad operand type for abs(): '" + type_name(*args[0]) + "'");
    }
    std::int64_t v = x.as_integer();
    if (v == INT64_MIN) raise("OverflowError", kIntOverflow);
    return scalar(Value(v < 0 ? -v : v));
  }
  ObjPtr format(const ObjPtr&, const Args& args, const Kwargs&) {
    return scalar(Value(format(args[0], args.size() == 2 ? str(args[1]) : "")));
  }
  ObjPtr q(const ObjPtr&, const Args& args, const Kwargs& kwargs) {
    return make_object(QObject{q_of(args, kwargs)});
  }

  // ---- the datetime module, timezone, transaction
  // -------------------------------------------------

  // date(year, month, day), datetime(year, month, day[, hour, minute, second, microsecond])
  ObjPtr make_date(bool with_time, const Args& args, const Kwargs& kwargs) {
    static const char* kNames[] = {"year",   "month",  "day",        "hour",
                                   "minute", "second", "microsecond"};
    std::size_t count = with_time ? 7 : 3;
    std::vector<std::int64_t> parts(7, 0);
    std::vector<bool> given(7, false);
    for (std::size_t i = 0; i < args.size(); ++i) {
      parts[i] = to_value(args[i]).as_integer();
      given[i] = true;
    }
    for (const auto& [k, v] : kwargs) {
      auto it = std::find(std::begin(kNames), std::begin(kNames) + count, k);
      if (it == std::begin(kNames) + count)
        raise("TypeError", "'" + k + "' is an invalid keyword argument");
      auto index = static_cast<std::size_t>(it - std::begin(kNames));
      parts[index] = to_value(v).as_integer();
      given[index] = true;
    }
    if (!given[0] || !given[1] || !given[2]) {
      raise("TypeError",
            std::string(with_time ? "datetime" : "date") + "() needs year, month and day");
    }
    // Python's checks, in its order and words.
    if (parts[0] < 1 || parts[0] > 9999)
      raise("ValueError", "year " + std::to_string(parts[0]) + " is out of range");
    if (parts[1] < 1 || parts[1] > 12) raise("ValueError", "month must be in 1..12");
    Date d{static_cast<int>(parts[0]), static_cast<int>(parts[1]), static_cast<int>(parts[2])};
    if (!d.valid()) raise("ValueError", "day is out of range for month");
    if (!with_time) return scalar(Value(d));
    static const std::int64_t kLimits[] = {23, 59, 59, 999999};
    for (std::size_t i = 3; i < 7; ++i) {
      if (parts[i] < 0 || parts[i] > kLimits[i - 3]) {
        raise("ValueError",
              std::string(kNames[i]) + " must be in 0.." + std::to_string(kLimits[i - 3]));
      }
    }
    return scalar(
        Value(DateTime::from_parts(d, static_cast<int>(parts[3]), static_cast<int>(parts[4]),
                                   static_cast<int>(parts[5]), static_cast<int>(parts[6]))));
  }
  ObjPtr date(const ObjPtr&, const Args& args, const Kwargs& kwargs) {
    return make_date(false, args, kwargs);
  }
  ObjPtr datetime(const ObjPtr&, const Args& args, const Kwargs& kwargs) {
    return make_date(true, args, kwargs);
  }

  // timedelta(days, seconds, microseconds, milliseconds, minutes, hours, weeks)
  ObjPtr timedelta(const ObjPtr&, const Args& args, const Kwargs& kwargs) {
    static const char* kNames[] = {"days",    "seconds", "microseconds", "milliseconds",
                                   "minutes", "hours",   "weeks"};
    static const long double kScale[] = {86400e6L, 1e6L, 1.0L, 1e3L, 60e6L, 3600e6L, 7 * 86400e6L};
    constexpr std::size_t kCount = std::size(kNames);
    std::vector<ObjPtr> given(kCount);
    for (std::size_t i = 0; i < args.size(); ++i) given[i] = args[i];
    for (const auto& [k, v] : kwargs) {
      auto it = std::find(std::begin(kNames), std::end(kNames), k);
      if (it == std::end(kNames))
        raise("TypeError", "'" + k + "' is an invalid keyword argument for __new__()");
      auto index = static_cast<std::size_t>(it - std::begin(kNames));
      if (given[index])
        raise("TypeError", "argument for __new__() given by name ('" + k + "') and position");
      given[index] = v;
    }
    long double total = 0;
    for (std::size_t i = 0; i < kCount; ++i) {
      if (!given[i]) continue;
      if (!is_number(*given[i])) {
        raise("TypeError", std::string("unsupported type for timedelta ") + kNames[i] +
                               " component: " + type_name(*given[i]));
      }
      const Value& x = *given[i]->as<Value>();
      long double part = x.kind() == Value::Kind::Real ? static_cast<long double>(x.as_real())
                                                       : static_cast<long double>(x.as_integer());
      if (!std::isfinite(part))
        raise("ValueError", "cannot convert float NaN or infinity to integer");
      total += part * kScale[i];
    }
    return delta(total);
  }

  // timezone.now(), datetime.now(), datetime.utcnow(), datetime.today(). Cascade keeps naive UTC
  // datetimes (Django's USE_TZ = False with TIME_ZONE = 'UTC'), so every "now" is the current
  // UTC time, naive.
  ObjPtr now(const ObjPtr&, const Args&, const Kwargs&) { return scalar(Value(DateTime::now())); }
  ObjPtr today(const ObjPtr&, const Args&, const Kwargs&) {
    return scalar(Value(DateTime::now().date()));
  }
  ObjPtr fromisoformat(bool with_time, const ObjPtr& arg) {
    if (!is_text(*arg)) raise("TypeError", "fromisoformat: argument must be str");
    const std::string& text = arg->as<Value>()->as_text();
    if (with_time) {
      if (auto parsed = DateTime::parse(text)) return scalar(Value(*parsed));
    } else if (text.size() == 10) {
      if (auto parsed = Date::parse(text)) return scalar(Value(*parsed));
    }
    raise("ValueError", "Invalid isoformat string: " + python_repr(text));
  }
  ObjPtr date_fromisoformat(const ObjPtr&, const Args& args, const Kwargs&) {
    return fromisoformat(false, args[0]);
  }
  ObjPtr datetime_fromisoformat(const ObjPtr&, const Args& args, const Kwargs&) {
    return fromisoformat(true, args[0]);
  }

  ObjPtr atomic(const ObjPtr&, const Args&, const Kwargs& kwargs) {
    // One database: `using` names it; savepoint= and durable= are not provided.
    for (const auto& [k, v] : kwargs) {
      if (k == "savepoint" || k == "durable") {
        raise("TypeError", "atomic(" + k + "=...) is not supported by the cascade shell");
      }
      if (k != "using")
        raise("TypeError", "atomic() got an unexpected keyword argument '" + k + "'");
    }
    return make_object(AtomicBlock{});
  }

  // format(value, spec): Python's format-spec mini-language for numbers and strings
  // ([[fill]align][sign][0][width][,|_][.precision][type]), strftime for dates.
  std::string format(const ObjPtr& o, const std::string& spec) {
    if (spec.empty()) return str(o);
    if (is_kind(*o, Value::Kind::Date) || is_kind(*o, Value::Kind::DateTime)) {
      return strftime_of(*o->as<Value>(), spec);
    }
    bool text = o->is<TimeDelta>() || is_text(*o);
    bool number = is_number(*o);
    if (!text && !number) {
      raise("TypeError", "unsupported format string passed to " + type_name(*o) + ".__format__");
    }
    std::size_t i = 0;
    char fill = ' ', align = 0, sign = '-', grouping = 0, type = 0;
    auto is_align = [](char c) { return c == '<' || c == '>' || c == '=' || c == '^'; };
    if (spec.size() >= 2 && is_align(spec[1])) {
      fill = spec[0];
      align = spec[1];
      i = 2;
    } else if (is_align(spec[0])) {
      align = spec[0];
      i = 1;
    }
    if (i < spec.size() && (spec[i] == '+' || spec[i] == '-' || spec[i] == ' ')) sign = spec[i++];
    bool alternate = i < spec.size() && spec[i] == '#';
    if (alternate) ++i;
    if (i < spec.size() && spec[i] == '0') {
      if (align == 0) {
        fill = '0';
        align = '=';
      }
      ++i;
    }
    std::size_t width = 0;
    while (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i])) && width < 1000) {
      width = width * 10 + static_cast<std::size_t>(spec[i++] - '0');
    }
    if (i < spec.size() && (spec[i] == ',' || spec[i] == '_')) grouping = spec[i++];
    std::optional<int> precision;
    if (i < spec.size() && spec[i] == '.') {
      ++i;
      int p = 0;
      bool digits = false;
      while (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i])) && p < 1000) {
        p = p * 10 + (spec[i++] - '0');
        digits = true;
      }
      if (!digits) raise("ValueError", "Format specifier missing precision");
      precision = p;
    }
    if (i < spec.size()) type = spec[i++];
    if (i != spec.size() || width >= 1000) raise("ValueError", "Invalid format specifier");
    std::string body;
    std::string prefix;  // the sign, before any '=' padding
    if (text) {
      if (type != 0 && type != 's') {
        raise("ValueError",
              std::string("Unknown format code '") + type + "' for object of type 'str'");
      }
      if (sign != '-' || grouping != 0 || align == '=')
        raise("ValueError", "Invalid format specifier for a string");
      body = str(o);
      if (precision && static_cast<std::size_t>(*precision) < body.size())
        body.resize(static_cast<std::size_t>(*precision));
      if (align == 0) align = '<';
    } else {
      const Value& v = *o->as<Value>();
      bool integer = v.kind() != Value::Kind::Real;
      double real = integer ? static_cast<double>(v.as_integer()) : v.as_real();
      if (type == 's')
        raise("ValueError", "Unknown format code 's' for object of type '" + type_name(*o) + "'");
      if (integer && type == 0 && precision)
        raise("ValueError", "Precision not allowed in integer format specifier");
      bool negative = false;
      if (integer && (type == 0 || type == 'd' || type == 'x' || type == 'X' || type == 'o' ||
                      type == 'b' || type == 'n')) {
        std::int64_t n = v.as_integer();
        negative = n < 0;
        auto magnitude =
            negative ? 0 - static_cast<std::uint64_t>(n) : static_cast<std::uint64_t>(n);
        int base = type == 'x' || type == 'X' ? 16 : type == 'o' ? 8 : type == 'b' ? 2 : 10;
        do {
          int digit = static_cast<int>(magnitude % static_cast<std::uint64_t>(base));
          body.insert(
              body.begin(),
              static_cast<char>(digit < 10 ? '0' + digit : (type == 'X' ? 'A' : 'a') + digit - 10));
          magnitude /= static_cast<std::uint64_t>(base);
        } while (magnitude != 0);
      } else if (type == 0 && !precision) {
        negative = std::signbit(real);
        body = Value(std::fabs(real)).to_string();
      } else {
        if (type != 0 && std::strchr("eEfFgG%", type) == nullptr) {
          raise("ValueError", std::string("Unknown format code '") + type +
                                  "' for object of type '" + type_name(*o) + "'");
        }
        negative = std::signbit(real);
        double magnitude = std::fabs(real) * (type == '%' ? 100 : 1);
        char conversion = type == 0 ? 'g' : type == '%' ? 'f' : type;
        std::string format_string = "%." + std::to_string(precision.value_or(6)) + conversion;
        char buf[1200];
        std::snprintf(buf, sizeof buf, format_string.c_str(), magnitude);
        body = buf;
        if (type == '%') body += '%';
      }
      if (grouping != 0) {
        std::size_t end = body.find_first_not_of("0123456789");
        if (end == std::string::npos) end = body.size();
        for (std::size_t k = end; k > 3; k -= 3) body.insert(k - 3, 1, grouping);
      }
      if (negative)
        prefix = "-";
      else if (sign == '+')
        prefix = "+";
      else if (sign == ' ')
        prefix = " ";
      if (alternate && (type == 'x' || type == 'X' || type == 'o' || type == 'b')) {
        prefix += std::string("0") + type;
      }
      if (align == 0) align = '>';
    }
    std::size_t length = prefix.size() + body.size();
    if (length >= width) return prefix + body;
    std::size_t pad = width - length;
    if (align == '<') return prefix + body + std::string(pad, fill);
    if (align == '^')
      return std::string(pad / 2, fill) + prefix + body + std::string(pad - pad / 2, fill);
    if (align == '=') return prefix + std::string(pad, fill) + body;
    return std::string(pad, fill) + prefix + body;
  }

  // ---- evaluation ----------------------------------------------------------------------------

  ObjPtr eval(const ExprPtr& e) {
    check_interrupt();
    switch (e->kind) {
      case Expr::Kind::Name: {
        auto it = globals.find(e->text);
        if (it == globals.end()) {
          std::vector<std::string> names;
          for (const auto& [k, v] : globals) names.push_back(k);
          raise("NameError",
                "name '" + e->text + "' is not defined" + naming::did_you_mean(e->text, names));
        }
        return it->second;
      }
      case Expr::Kind::Int: return scalar(Value(int_literal(e->text)));
      case Expr::Kind::Float: return scalar(Value(std::strtod(e->text.c_str(), nullptr)));
      case Expr::Kind::Str: return scalar(Value(e->text));
      case Expr::Kind::Const:
        if (e->text == "None") return none();
        return scalar(Value(e->text == "True"));
      case Expr::Kind::List:
      case Expr::Kind::Tuple: {
        std::vector<ObjPtr> items;
        for (const auto& i : e->items) items.push_back(eval(i));
        return e->kind == Expr::Kind::List ? list_of(std::move(items)) : tuple_of(std::move(items));
      }
      case Expr::Kind::Dict: {
        ObjPtr o = new_dict();
        auto& d = *o->as<Dict>();
        for (std::size_t i = 0; i + 1 < e->items.size(); i += 2) {
          d.keys.push_back(eval(e->items[i]));
          d.values.push_back(eval(e->items[i + 1]));
        }
        return o;
      }
      case Expr::Kind::Attribute: return getattr(eval(e->object), e->text);
      case Expr::Kind::Call: {
        ObjPtr fn = eval(e->object);
        Args args;
        for (const auto& a : e->items) args.push_back(eval(a));
        Kwargs kwargs;
        for (const auto& [k, v] : e->keywords) kwargs.emplace_back(k, eval(v));
        return call(fn, args, kwargs);
      }
      case Expr::Kind::Subscript: return subscript(eval(e->object), e->items[0]);
      case Expr::Kind::Unary: {
        // -9223372036854775808 is a negated literal whose digits alone do not fit.
        if (e->text == "-" && e->items[0]->kind == Expr::Kind::Int) {
          return scalar(Value(int_literal("-" + e->items[0]->text)));
        }
        ObjPtr v = eval(e->items[0]);
        if (e->text == "not") return scalar(Value(!truthy(*v)));
        if (v->is<TimeDelta>()) {
          if (e->text == "~")
            raise("TypeError", "bad operand type for unary ~: 'datetime.timedelta'");
          return e->text == "-" ? delta(-static_cast<long double>(micros_of(*v))) : v;
        }
        if (e->text == "~") {
          if (const auto* q = v->as<QObject>()) return make_object(QObject{~q->q});
          return scalar(Value(~to_value(v).as_integer()));
        }
        Value x = to_value(v);
        if (e->text == "-") {
          if (x.kind() == Value::Kind::Real) return scalar(Value(-x.as_real()));
          std::int64_t negated = 0;
          if (__builtin_sub_overflow(std::int64_t{0}, x.as_integer(), &negated)) {
            raise("OverflowError", kIntOverflow);
          }
          return scalar(Value(negated));
        }
        return scalar(x);
      }
      case Expr::Kind::Binary: return binary(e->text, eval(e->items[0]), eval(e->items[1]));
      case Expr::Kind::Compare: return compare(e->text, eval(e->items[0]), eval(e->items[1]));
      case Expr::Kind::BoolOp: {
        ObjPtr left = eval(e->items[0]);
        bool t = truthy(*left);
        if ((e->text == "and") != t) return left;
        return eval(e->items[1]);
      }
      case Expr::Kind::IfExp: return eval(truthy(*eval(e->items[0])) ? e->items[1] : e->items[2]);
      case Expr::Kind::Comprehension: return comprehension(*e);
      case Expr::Kind::FString: {
        std::string text;
        for (const auto& part : e->items) {
          if (part->kind == Expr::Kind::Str) {
            text += part->text;
            continue;
          }
          ObjPtr value = eval(part->object);
          auto colon = part->text.find(':');
          std::string conversion = part->text.substr(0, colon);
          if (conversion == "r" || conversion == "a") value = scalar(Value(repr(value)));
          if (conversion == "s") value = scalar(Value(str(value)));
          text += format(value, part->text.substr(colon + 1));
        }
        return scalar(Value(text));
      }
      case Expr::Kind::FormatValue: return eval(e->object);
      case Expr::Kind::Slice: raise("SyntaxError", "invalid syntax");
    }
    raise("SyntaxError", "invalid syntax");
  }

  // A comprehension's variables are its own, as in Python 3: bound while it runs, then the
  // names they hid come back.
  void collect_names(const ExprPtr& target, std::vector<std::string>& names) {
    if (target->kind == Expr::Kind::Name) names.push_back(target->text);
    if (target->kind == Expr::Kind::Tuple || target->kind == Expr::Kind::List) {
      for (const auto& i : target->items) collect_names(i, names);
    }
  }

  ObjPtr comprehension(const Expr& e) {
    std::vector<ObjPtr> source = iterate(eval(e.items[1]));
    std::vector<std::string> names;
    collect_names(e.items[0], names);
    std::vector<std::pair<std::string, ObjPtr>> hidden;
    for (const auto& n : names) {
      auto it = globals.find(n);
      hidden.emplace_back(n, it == globals.end() ? nullptr : it->second);
    }
    struct Restore {
      std::map<std::string, ObjPtr>& globals;
      std::vector<std::pair<std::string, ObjPtr>>& hidden;
      ~Restore() {
        for (auto it = hidden.rbegin(); it != hidden.rend(); ++it) {
          if (it->second) {
            globals[it->first] = it->second;
          } else {
            globals.erase(it->first);
          }
        }
      }
    } restore{globals, hidden};
    bool to_dict = e.text == "dict";
    ObjPtr result = to_dict ? new_dict() : list_of({});
    for (const auto& item : source) {
      check_interrupt();
      assign(e.items[0], item);
      bool keep = true;
      for (std::size_t i = 2; i < e.items.size() && keep; ++i) keep = truthy(*eval(e.items[i]));
      if (!keep) continue;
      if (!to_dict) {
        ObjPtr value = eval(e.object);
        result->as<List>()->items.push_back(value);
        continue;
      }
      set_item(result, eval(e.object->items[0]), eval(e.object->items[1]));
    }
    return result;
  }

  std::optional<std::int64_t> opt_int(const ExprPtr& e) {
    if (!e) return std::nullopt;
    ObjPtr v = eval(e);
    if (is_none(*v)) return std::nullopt;
    Value x = to_value(v);
    if (x.kind() != Value::Kind::Integer) {
      raise("TypeError", "slice indices must be integers or None or have an __index__ method");
    }
    return x.as_integer();
  }

  ObjPtr subscript(const ObjPtr& o, const ExprPtr& index) {
    if (index->kind == Expr::Kind::Slice) {
      auto start = opt_int(index->items[0]);
      auto stop = opt_int(index->items[1]);
      if (index->items[2]) raise("ValueError", "the cascade shell does not support slice steps");
      if (const auto* q = o->as<QuerySetObject>())
        return wrap(q->qs.slice(start.value_or(0), stop));
      if (const auto* r = o->as<RelatedManager>())
        return wrap(related_queryset(*r).slice(start.value_or(0), stop));
      std::vector<ObjPtr> items = iterate(o);
      auto n = static_cast<std::int64_t>(items.size());
      auto clamp = [&](std::int64_t i) {
        return std::max<std::int64_t>(0, std::min(n, i < 0 ? n + i : i));
      };
      std::int64_t a = clamp(start.value_or(0)), b = clamp(stop.value_or(n));
      std::vector<ObjPtr> part;
      for (std::int64_t i = a; i < b; ++i) part.push_back(items[static_cast<std::size_t>(i)]);
      return o->is<Tuple>() ? tuple_of(std::move(part)) : list_of(std::move(part));
    }
    return get_item(o, eval(index));
  }

  ObjPtr get_item(const ObjPtr& o, const ObjPtr& key) {
    if (const auto* d = o->as<Dict>()) {
      for (std::size_t i = 0; i < d->keys.size(); ++i) {
        if (equal(d->keys[i], key)) return d->values[i];
      }
      raise("KeyError", repr(key));
    }
    Value k = to_value(key);
    if (k.kind() != Value::Kind::Integer) {
      raise("TypeError",
            type_name(*o) + " indices must be integers or slices, not " + type_name(*key));
    }
    if (const auto* q = o->as<QuerySetObject>()) return wrap(q->qs.at(k.as_integer()));
    std::vector<ObjPtr> items = iterate(o);
    std::int64_t i = k.as_integer();
    auto n = static_cast<std::int64_t>(items.size());
    if (i < 0) i += n;
    if (i < 0 || i >= n) raise("IndexError", type_name(*o) + " index out of range");
    return items[static_cast<std::size_t>(i)];
  }

  bool equal(const ObjPtr& a, const ObjPtr& b, int depth = 0) {
    if (depth > kMaxNesting)
      raise("RecursionError", "maximum recursion depth exceeded in comparison");
    const auto* ia = a->as<InstanceObject>();
    const auto* ib = b->as<InstanceObject>();
    if (ia != nullptr && ib != nullptr) {
      return &ia->instance.meta() == &ib->instance.meta() &&
             ia->instance.pk() == ib->instance.pk() && !ia->instance.pk().is_null();
    }
    const auto* x = a->as<Value>();
    const auto* y = b->as<Value>();
    if (x != nullptr && y != nullptr) {
      if (is_number(*x) && is_number(*y)) return real_of(*x) == real_of(*y);
      return *x == *y;
    }
    if (a->is<TimeDelta>() || b->is<TimeDelta>()) {
      return a->is<TimeDelta>() && b->is<TimeDelta>() && micros_of(*a) == micros_of(*b);
    }
    const auto* sa = sequence_items(*a);
    const auto* sb = sequence_items(*b);
    if (sa != nullptr && sb != nullptr && a->v.index() == b->v.index()) {
      if (sa->size() != sb->size()) return false;
      for (std::size_t i = 0; i < sa->size(); ++i) {
        // Python compares items by identity first, so a list equals itself even when it holds
        // itself.
        if ((*sa)[i] != (*sb)[i] && !equal((*sa)[i], (*sb)[i], depth + 1)) return false;
      }
      return true;
    }
    return a == b;
  }

  static bool identical(const ObjPtr& a, const ObjPtr& b) {
    return a == b || (is_none(*a) && is_none(*b));
  }

  ObjPtr compare(const std::string& op, const ObjPtr& a, const ObjPtr& b, int depth = 0) {
    if (op == "==") return scalar(Value(equal(a, b)));
    if (op == "!=") return scalar(Value(!equal(a, b)));
    if (op == "is") return scalar(Value(identical(a, b)));
    if (op == "is not") return scalar(Value(!identical(a, b)));
    if (op == "in" || op == "not in") {
      bool found = false;
      if (is_text(*b)) {
        found = b->as<Value>()->as_text().find(str(a)) != std::string::npos;
      } else {
        for (const auto& i : iterate(b)) found = found || equal(a, i);
      }
      return scalar(Value(op == "in" ? found : !found));
    }
    bool r = false;
    const auto* sa = sequence_items(*a);
    const auto* sb = sequence_items(*b);
    if (sa != nullptr || sb != nullptr) {
      // Lists with lists and tuples with tuples: by their first items that differ, else by
      // their lengths, as in Python.
      if (sa == nullptr || sb == nullptr || a->v.index() != b->v.index()) {
        raise("TypeError", "'" + op + "' not supported between instances of '" + type_name(*a) +
                               "' and '" + type_name(*b) + "'");
      }
      if (depth > kMaxNesting)
        raise("RecursionError", "maximum recursion depth exceeded in comparison");
      for (std::size_t i = 0; i < sa->size() && i < sb->size(); ++i) {
        if ((*sa)[i] != (*sb)[i] && !equal((*sa)[i], (*sb)[i], depth + 1)) {
          return compare(op, (*sa)[i], (*sb)[i], depth + 1);
        }
      }
      std::size_t p = sa->size(), q = sb->size();
      r = op == "<" ? p < q : op == ">" ? p > q : op == "<=" ? p <= q : p >= q;
      return scalar(Value(r));
    }
    if (a->is<TimeDelta>() && b->is<TimeDelta>()) {
      std::int64_t p = micros_of(*a), q = micros_of(*b);
      r = op == "<" ? p < q : op == ">" ? p > q : op == "<=" ? p <= q : p >= q;
      return scalar(Value(r));
    }
    if (a->is<TimeDelta>() || b->is<TimeDelta>()) {
      raise("TypeError", "'" + op + "' not supported between instances of '" + type_name(*a) +
                             "' and '" + type_name(*b) + "'");
    }
    Value x = to_value(a), y = to_value(b);
    auto is_date = [](const Value& v) {
      return v.kind() == Value::Kind::Date || v.kind() == Value::Kind::DateTime;
    };
    if (is_date(x) && is_date(y) && x.kind() != y.kind()) {
      raise("TypeError", "can't compare " + type_name(*a) + " to " + type_name(*b));
    }
    bool numeric = is_number(x) && is_number(y);
    if (!numeric && x.kind() != y.kind()) {
      raise("TypeError", "'" + op + "' not supported between instances of '" + type_name(*a) +
                             "' and '" + type_name(*b) + "'");
    }
    int c = numeric ? (real_of(x) < real_of(y)   ? -1
                       : real_of(x) > real_of(y) ? 1
                                                 : 0)
                    : (x < y   ? -1
                       : y < x ? 1
                               : 0);
    r = op == "<" ? c < 0 : op == ">" ? c > 0 : op == "<=" ? c <= 0 : c >= 0;
    return scalar(Value(r));
  }

  ObjPtr binary(const std::string& op, const ObjPtr& a, const ObjPtr& b) {
    const auto* qa = a->as<QObject>();
    const auto* qb = b->as<QObject>();
    if ((op == "&" || op == "|") && qa != nullptr && qb != nullptr) {
      return make_object(QObject{op == "&" ? (qa->q & qb->q) : (qa->q | qb->q)});
    }
    if ((op == "&" || op == "|") && a->is<QuerySetObject>() && b->is<QuerySetObject>()) {
      raise(
          "TypeError",
          "combining QuerySets with & and | is not supported by the cascade shell; use Q objects");
    }
    if (op == "+" && a->is<List>() && b->is<List>()) {
      std::vector<ObjPtr> items = a->as<List>()->items;
      const auto& more = b->as<List>()->items;
      items.insert(items.end(), more.begin(), more.end());
      return list_of(std::move(items));
    }
    if (ObjPtr r = date_arithmetic(op, a, b)) return r;
    if (op == "*" && (a->is<List>() || b->is<List>() || is_text(*a) || is_text(*b)))
      return repeat(a, b);
    Value x = to_value(a), y = to_value(b);
    if (op == "+" && x.kind() == Value::Kind::Text && y.kind() == Value::Kind::Text) {
      return scalar(Value(x.as_text() + y.as_text()));
    }
    if (!is_number(x) || !is_number(y)) {
      raise("TypeError", "unsupported operand type(s) for " + op + ": '" + type_name(*a) +
                             "' and '" + type_name(*b) + "'");
    }
    bool ints = x.kind() != Value::Kind::Real && y.kind() != Value::Kind::Real;
    if (ints && op != "/" && op != "**") {
      std::int64_t p = x.as_integer(), q = y.as_integer(), r = 0;
      if ((op == "//" || op == "%") && q == 0)
        raise("ZeroDivisionError", "integer division or modulo by zero");
      bool overflow = false;
      if (op == "+") overflow = __builtin_add_overflow(p, q, &r);
      if (op == "-") overflow = __builtin_sub_overflow(p, q, &r);
      if (op == "*") overflow = __builtin_mul_overflow(p, q, &r);
      if (op == "//" || op == "%") {
        if (q == -1) {
          // p // -1 is -p (which overflows for the smallest integer); p % -1 is 0.
          overflow = op == "//" && __builtin_sub_overflow(std::int64_t{0}, p, &r);
        } else {
          std::int64_t quotient = p / q, rest = p % q;
          if (rest != 0 && ((rest < 0) != (q < 0))) {
            --quotient;
            rest += q;
          }
          r = op == "//" ? quotient : rest;
        }
      }
      if (overflow) raise("OverflowError", kIntOverflow);
      if (op == "+" || op == "-" || op == "*" || op == "//" || op == "%") return scalar(Value(r));
      if (op == "&") return scalar(Value(p & q));
      if (op == "|") return scalar(Value(p | q));
      if (op == "^") return scalar(Value(p ^ q));
    }
    double p = real_of(x), q = real_of(y);
    if (op == "+") return scalar(Value(p + q));
    if (op == "-") return scalar(Value(p - q));
    if (op == "*") return scalar(Value(p * q));
    if (op == "**") {
      double r = std::pow(p, q);
      if (ints && q >= 0) {
        // Exact while the result fits in 53 bits; beyond 2^63 it cannot be an integer here.
        if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0)) {
          raise("OverflowError", kIntOverflow);
        }
        return scalar(Value(static_cast<std::int64_t>(r)));
      }
      return scalar(Value(r));
    }
    if (q == 0) raise("ZeroDivisionError", "division by zero");
    if (op == "/") return scalar(Value(p / q));
    if (op == "//") return scalar(Value(std::floor(p / q)));
    if (op == "%") return scalar(Value(p - std::floor(p / q) * q));
    raise("TypeError", "unsupported operand type(s) for " + op);
  }

  // [1] * 3, 'ab' * 2
  ObjPtr repeat(const ObjPtr& a, const ObjPtr& b) {
    bool seq_first = a->is<List>() || is_text(*a);
    const ObjPtr& seq = seq_first ? a : b;
    const ObjPtr& count = seq_first ? b : a;
    if (!is_kind(*count, Value::Kind::Integer) && !is_kind(*count, Value::Kind::Bool)) {
      raise("TypeError", "can't multiply sequence by non-int of type '" + type_name(*count) + "'");
    }
    std::int64_t n = std::max<std::int64_t>(0, count->as<Value>()->as_integer());
    const auto* list = seq->as<List>();
    std::size_t unit = list != nullptr ? list->items.size() : seq->as<Value>()->as_text().size();
    if (unit != 0 && static_cast<std::uint64_t>(n) > 10'000'000 / unit) {
      raise("MemoryError", "sequence too large for the cascade shell");
    }
    if (list != nullptr) {
      std::vector<ObjPtr> items;
      for (std::int64_t i = 0; i < n; ++i)
        items.insert(items.end(), list->items.begin(), list->items.end());
      return list_of(std::move(items));
    }
    std::string text;
    for (std::int64_t i = 0; i < n; ++i) text += seq->as<Value>()->as_text();
    return scalar(Value(text));
  }

  // datetime and date with timedelta, and timedelta with numbers, as Python's datetime module
  // computes them; null when neither side is a date or a timedelta.
  ObjPtr date_arithmetic(const std::string& op, const ObjPtr& a, const ObjPtr& b) {
    auto kind = [](const ObjPtr& o) {
      const Value* v = o->as<Value>();
      return v != nullptr ? v->kind() : Value::Kind::Null;
    };
    bool ta = a->is<TimeDelta>(), tb = b->is<TimeDelta>();
    bool da = kind(a) == Value::Kind::Date || kind(a) == Value::Kind::DateTime;
    bool db_ = kind(b) == Value::Kind::Date || kind(b) == Value::Kind::DateTime;
    if (!ta && !tb && !(da && db_ && op == "-" && kind(a) == kind(b))) return nullptr;
    auto number = [&](const ObjPtr& o) { return is_number(*o); };
    auto ld = [](const ObjPtr& o) {
      if (o->is<TimeDelta>()) return static_cast<long double>(micros_of(*o));
      const Value& v = *o->as<Value>();
      return v.kind() == Value::Kind::Real ? static_cast<long double>(v.as_real())
                                           : static_cast<long double>(v.as_integer());
    };
    if (da && db_) {
      const Value &x = *a->as<Value>(), &y = *b->as<Value>();
      if (kind(a) == Value::Kind::Date) {
        return delta(static_cast<long double>(x.as_date().days_since_epoch() -
                                              y.as_date().days_since_epoch()) *
                     kMicrosPerDay);
      }
      return delta(static_cast<long double>(x.as_datetime().micros) -
                   static_cast<long double>(y.as_datetime().micros));
    }
    if ((op == "+" || op == "-") && ta && tb)
      return delta(op == "+" ? ld(a) + ld(b) : ld(a) - ld(b));
    if ((op == "+" && (da || db_)) || (op == "-" && da && tb)) {
      const Value& when = *(da ? a : b)->as<Value>();
      std::int64_t micros = micros_of(da ? *b : *a);
      if (when.kind() == Value::Kind::Date) {
        // date ± timedelta uses the timedelta's days only, as Python's date does.
        std::int64_t whole_days = delta_parts(micros).days;
        return date_at(when.as_date().days_since_epoch() + (op == "-" ? -whole_days : whole_days));
      }
      long double shift =
          op == "-" ? -static_cast<long double>(micros) : static_cast<long double>(micros);
      return datetime_at(static_cast<long double>(when.as_datetime().micros) + shift);
    }
    if (op == "*" && ((ta && number(b)) || (tb && number(a)))) return delta(ld(a) * ld(b));
    if ((op == "/" || op == "//") && ta && (number(b) || tb)) {
      long double divisor = ld(b);
      if (divisor == 0)
        raise("ZeroDivisionError", tb ? "integer division or modulo by zero" : "division by zero");
      if (op == "/" && tb) return scalar(Value(static_cast<double>(ld(a) / divisor)));
      if (op == "/") return delta(ld(a) / divisor);
      if (tb) return scalar(Value(floor_div(micros_of(*a), micros_of(*b))));
      if (kind(b) == Value::Kind::Real) {
        raise("TypeError", "unsupported operand type(s) for //: 'datetime.timedelta' and 'float'");
      }
      return delta(floor_div(micros_of(*a), b->as<Value>()->as_integer()));
    }
    if (op == "%" && ta && tb) {
      if (micros_of(*b) == 0) raise("ZeroDivisionError", "integer division or modulo by zero");
      std::int64_t p = micros_of(*a), q = micros_of(*b);
      return delta(p - floor_div(p, q) * q);
    }
    raise("TypeError", "unsupported operand type(s) for " + op + ": '" + type_name(*a) + "' and '" +
                           type_name(*b) + "'");
  }

  // d[k] = value, l[i] = value
  void set_item(const ObjPtr& container, const ObjPtr& key, const ObjPtr& value) {
    if (auto* l = container->as<List>()) {
      Value k = to_value(key);
      if (k.kind() != Value::Kind::Integer) {
        raise("TypeError", "list indices must be integers or slices, not " + type_name(*key));
      }
      std::int64_t i = k.as_integer();
      auto n = static_cast<std::int64_t>(l->items.size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) raise("IndexError", "list assignment index out of range");
      l->items[static_cast<std::size_t>(i)] = value;
      return;
    }
    if (auto* d = container->as<Dict>()) {
      for (std::size_t i = 0; i < d->keys.size(); ++i) {
        if (equal(d->keys[i], key)) {
          d->values[i] = value;
          return;
        }
      }
      d->keys.push_back(key);
      d->values.push_back(value);
      return;
    }
    raise("TypeError", "'" + type_name(*container) + "' object does not support item assignment");
  }

  // n += 1: lists grow in place, as Python's do; everything else is rebound.
  ObjPtr in_place(const std::string& op, const ObjPtr& a, const ObjPtr& b) {
    if (auto* l = a->as<List>(); l != nullptr && op == "+") {
      std::vector<ObjPtr> more = iterate(b);
      l->items.insert(l->items.end(), more.begin(), more.end());
      return a;
    }
    try {
      return binary(op, a, b);
    } catch (PyError& e) {
      // Python names the augmented operator: "unsupported operand type(s) for +=".
      std::string plain = "unsupported operand type(s) for " + op + ":";
      if (e.message.rfind(plain, 0) == 0) e.message.insert(plain.size() - 1, "=");
      throw;
    }
  }

  void augmented(const Stmt& s) {
    const ExprPtr& target = s.targets[0];
    if (target->kind == Expr::Kind::Name) {
      ObjPtr old = eval(target);
      globals[target->text] = in_place(s.op, old, eval(s.value));
      return;
    }
    if (target->kind == Expr::Kind::Attribute) {
      ObjPtr owner = eval(target->object);
      ObjPtr old = getattr(owner, target->text);
      setattr(owner, target->text, in_place(s.op, old, eval(s.value)));
      return;
    }
    ObjPtr container = eval(target->object);
    if (target->items[0]->kind == Expr::Kind::Slice) {
      raise("TypeError", "augmented assignment to a slice is not supported by the cascade shell");
    }
    ObjPtr key = eval(target->items[0]);
    ObjPtr old = get_item(container, key);
    set_item(container, key, in_place(s.op, old, eval(s.value)));
  }

  void assign(const ExprPtr& target, const ObjPtr& value) {
    switch (target->kind) {
      case Expr::Kind::Name: globals[target->text] = value; return;
      case Expr::Kind::Attribute: setattr(eval(target->object), target->text, value); return;
      case Expr::Kind::Tuple:
      case Expr::Kind::List: {
        std::vector<ObjPtr> items = iterate(value);
        if (items.size() != target->items.size()) {
          raise("ValueError", items.size() > target->items.size()
                                  ? "too many values to unpack (expected " +
                                        std::to_string(target->items.size()) + ")"
                                  : "not enough values to unpack (expected " +
                                        std::to_string(target->items.size()) + ", got " +
                                        std::to_string(items.size()) + ")");
        }
        for (std::size_t i = 0; i < items.size(); ++i) assign(target->items[i], items[i]);
        return;
      }
      case Expr::Kind::Subscript: {
        ObjPtr container = eval(target->object);
        if (target->items[0]->kind == Expr::Kind::Slice) {
          raise("TypeError", "assignment to a slice is not supported by the cascade shell");
        }
        set_item(container, eval(target->items[0]), value);
        return;
      }
      default: raise("SyntaxError", "cannot assign to expression");
    }
  }

  // Runs a loop's body; false when it ran `break`.
  bool loop_body(const Stmt& s) {
    try {
      execute(*s.body);
    } catch (const BreakLoop&) {
      return false;
    } catch (const ContinueLoop&) {
    }
    return true;
  }

  void execute(const Stmt& s) {
    check_interrupt();
    switch (s.kind) {
      case Stmt::Kind::Pass: return;
      case Stmt::Kind::Break: throw BreakLoop{};
      case Stmt::Kind::Continue: throw ContinueLoop{};
      case Stmt::Kind::Import: import(s); return;
      case Stmt::Kind::Assign: {
        ObjPtr value = eval(s.value);
        for (const auto& t : s.targets) assign(t, value);
        return;
      }
      case Stmt::Kind::AugAssign: augmented(s); return;
      case Stmt::Kind::Block:
        for (const auto& statement : s.statements) execute(*statement);
        return;
      case Stmt::Kind::If:
        if (truthy(*eval(s.value))) {
          execute(*s.body);
        } else if (s.orelse) {
          execute(*s.orelse);
        }
        return;
      case Stmt::Kind::For: {
        for (const auto& item : iterate(eval(s.value))) {
          check_interrupt();
          assign(s.targets[0], item);
          if (!loop_body(s)) return;
        }
        if (s.orelse) execute(*s.orelse);
        return;
      }
      case Stmt::Kind::While: {
        while (truthy(*eval(s.value))) {
          if (!loop_body(s)) return;
        }
        if (s.orelse) execute(*s.orelse);
        return;
      }
      case Stmt::Kind::With: {
        ObjPtr manager = eval(s.value);
        if (!manager->is<AtomicBlock>()) {
          raise("TypeError", "'" + type_name(*manager) +
                                 "' object does not support the context manager protocol");
        }
        if (!s.targets.empty()) assign(s.targets[0], manager);
        // Django's transaction.atomic(): the block commits at its end, and is rolled back when
        // it raises (an error, Ctrl-C, exit()). On SQLite it takes the write lock when it
        // begins, so that its writes wait for other writers instead of failing.
        db::Atomic block(db.connection(), db::Atomic::Mode::Immediate);
        try {
          execute(*s.body);
        } catch (const BreakLoop&) {
          block.commit();
          throw;
        } catch (const ContinueLoop&) {
          block.commit();
          throw;
        }
        block.commit();
        return;
      }
      case Stmt::Kind::Expr: {
        ObjPtr v = eval(s.value);
        if (interactive && !is_none(*v)) out << repr(v) << "\n";
        return;
      }
    }
  }

  // ---- completion ----------------------------------------------------------------------------

  // An attribute that can be looked up without calling anything or querying the database, or
  // null. A foreign key stands for an unsaved instance of its model (only its attribute names
  // are wanted).
  ObjPtr static_attr(const ObjPtr& o, const std::string& name) {
    try {
      if (const auto* i = o->as<InstanceObject>()) {
        const ModelMeta& m = i->instance.meta();
        const ModelMeta* other = nullptr;
        const Field* f = m.find_field(name);
        if (f != nullptr && f->is_foreign_key() && name == f->name) other = f->target;
        for (const auto& rel : m.related_objects) {
          if (rel.field->type == FieldType::OneToOne &&
              rel.field->related_accessor_name() == name) {
            other = rel.field->model;
          }
        }
        if (other != nullptr) return wrap(Instance(*other));
        return getattr(o, name);
      }
      if (o->is<ModelClass>() || o->is<Module>() || o->is<Function>() || o->is<Value>() ||
          o->is<TimeDelta>()) {
        return getattr(o, name);
      }
      return nullptr;
    } catch (const PyError&) {
      return nullptr;
    } catch (const Error&) {
      return nullptr;
    }
  }

  // Attribute names for completion; methods and classes end with "(".
  std::vector<std::string> attributes(const ObjPtr& o) {
    std::vector<std::string> out = member_names(*o, true);
    if (const auto* i = o->as<InstanceObject>()) {
      const ModelMeta& m = i->instance.meta();
      for (const auto& name : m.field_names()) out.push_back(name);
      for (const auto& rel : m.related_objects) {
        // A hidden relation (related_name '+', an auto-created through model) has no accessor.
        std::string accessor = rel.field->related_accessor_name();
        if (!accessor.empty()) out.push_back(std::move(accessor));
      }
    }
    return out;
  }

  std::vector<std::string> completions(const std::string& text) {
    std::vector<std::string> out;
    auto dot = text.rfind('.');
    if (dot == std::string::npos) {
      for (const char* word : {"and", "as",   "break", "continue", "elif",  "else", "False",
                               "for", "from", "if",    "import",   "in",    "is",   "None",
                               "not", "or",   "pass",  "True",     "while", "with"}) {
        std::string w = word;
        if (w.compare(0, text.size(), text) != 0) continue;
        bool bare = w == "False" || w == "None" || w == "True" || w == "break" || w == "continue" ||
                    w == "pass" || w == "else";
        out.push_back(bare ? w : w + " ");
      }
      for (const auto& [name, value] : globals) {
        if (name.compare(0, text.size(), text) != 0) continue;
        bool callable = value->is<Function>() || value->is<ModelClass>() ||
                        value->is<BoundMethod>() || value->is<ExceptionClass>();
        out.push_back(callable ? name + "(" : name);
      }
    } else {
      std::string head = text.substr(0, dot), prefix = text.substr(dot + 1);
      ObjPtr o;
      std::size_t start = 0;
      while (start <= head.size()) {
        std::size_t end = head.find('.', start);
        std::string part =
            head.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (!o) {
          auto it = globals.find(part);
          if (it == globals.end()) return {};
          o = it->second;
        } else {
          o = static_attr(o, part);
          if (!o) return {};
        }
        if (end == std::string::npos) break;
        start = end + 1;
      }
      if (!o) return {};
      for (const auto& name : attributes(o)) {
        if (name.compare(0, prefix.size(), prefix) == 0) out.push_back(head + "." + name);
      }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  // ---- imports ---------------------------------------------------------------------------------

  // The modules the shell provides, by name.
  static const MemberTable* module_named(const std::string& name) {
    for (const MemberTable* m : {&datetime_module(), &timezone_module(), &transaction_module()}) {
      if (m->owner == name) return m;
    }
    return nullptr;
  }

  void import(const Stmt& s) {
    if (s.names.empty() && s.module == "datetime") {
      globals["datetime"] = make_object(Module{&datetime_module()});
      return;
    }
    // from django.utils import timezone; from django.db import transaction
    if (s.module == "django.utils" || s.module == "django.db") {
      std::string provided = s.module == "django.utils" ? "timezone" : "transaction";
      for (const auto& [name, alias] : s.names) {
        if (name != provided) {
          raise("ImportError",
                "the cascade shell provides only '" + provided + "' from '" + s.module + "'");
        }
        globals[alias] = make_object(Module{module_named(s.module + "." + name)});
      }
      return;
    }
    if (const MemberTable* module = module_named(s.module); module != nullptr && !s.names.empty()) {
      for (const auto& [name, alias] : s.names) {
        const Member* m = module->find(name);
        if (m == nullptr) {
          raise(
              "ImportError",
              "cannot import name '" + name + "' from '" + s.module + "'" +
                  (s.module == "datetime" ? "" : " (the cascade shell provides only some names)"));
        }
        globals[alias] = make_object(Function{module, m});
      }
      return;
    }
    if (s.names.empty()) {
      raise("ModuleNotFoundError",
            "the cascade shell supports 'from <app>.models import <Model>' imports only");
    }
    if (s.module == "django.db.models") {
      for (const auto& [name, alias] : s.names) {
        if (name != "Q")
          raise("ImportError", "cannot import name '" + name + "' from 'django.db.models'");
        globals[alias] = make_object(Function{&builtins_table(), builtins_table().find("Q")});
      }
      return;
    }
    // Django's own content types app: its model is registered under the label "contenttypes".
    std::string module = s.module == "django.contrib.contenttypes.models" &&
                                 db.registry().find(kContentTypeLabel) != nullptr
                             ? std::string("contenttypes.models")
                             : s.module;
    auto dot = module.find(".models");
    std::string app = module.substr(0, dot);
    if (dot == std::string::npos || module != app + ".models") {
      raise("ModuleNotFoundError", "No module named '" + s.module + "'");
    }
    bool app_known = false;
    for (const ModelMeta* m : db.registry().models()) app_known = app_known || m->app_label == app;
    if (!app_known) raise("ModuleNotFoundError", "No module named '" + app + "'");
    for (const auto& [name, alias] : s.names) {
      if (name == "*") {
        for (const ModelMeta* m : db.registry().models()) {
          if (m->app_label == app && !m->auto_created)
            globals[m->object_name] = make_object(ModelClass{m});
        }
        continue;
      }
      const ModelMeta* m = db.registry().find(app + "." + name);
      if (m == nullptr || m->object_name != name || m->auto_created) {
        raise("ImportError", "cannot import name '" + name + "' from '" + s.module + "'");
      }
      globals[alias] = make_object(ModelClass{m});
    }
  }
};

// ---- the tables ---------------------------------------------------------------------------------
//
// Each entry: name, positional arguments (least, most), what it does, and its flags: kKeywords
// (takes keyword arguments), kWrites (calling it can write to the database), kSoftDelete
// (listed on soft-deletable models only). Arities and keywords are Django's and Python's.

namespace {

using E = Evaluator;
constexpr int kAny = kAnyNumber;

const MemberTable& builtins_table() {
  static const MemberTable table{.owner = "builtins",
                                 .module = true,
                                 .members = {
                                     method("print", 0, kAny, &E::print, kKeywords),
                                     method("exit", 0, 1, &E::exit),
                                     method("quit", 0, 1, &E::exit),
                                     method("len", 1, 1, &E::len),
                                     class_member("list", 1, 1, &E::list, 0, is::list),
                                     class_member("tuple", 1, 1, &E::tuple, 0, is::tuple),
                                     class_member("dict", 0, 1, &E::dict, kKeywords, is::dict),
                                     method("sorted", 1, 1, &E::sorted, kKeywords),
                                     class_member("str", 1, 1, &E::str, 0, is::text),
                                     method("repr", 1, 1, &E::repr),
                                     class_member("int", 1, 1, &E::integer, 0, is::integer),
                                     class_member("float", 1, 1, &E::real, 0, is::real),
                                     class_member("bool", 1, 1, &E::boolean, 0, is::boolean),
                                     class_member("type", 1, 1, &E::type, 0, is::type),
                                     method("isinstance", 2, 2, &E::isinstance),
                                     method("range", 1, 3, &E::range),
                                     method("sum", 1, kAny, &E::sum),
                                     method("min", 1, kAny, &E::min),
                                     method("max", 1, kAny, &E::max),
                                     method("abs", 1, 1, &E::abs),
                                     method("format", 1, 2, &E::format),
                                     class_member("Q", 0, kAny, &E::q, kKeywords, is::q),
                                 }};
  return table;
}

const MemberTable& model_class_table() {
  static const MemberTable table{
      .owner = "type",
      .python = true,
      .members = {
          attribute("objects", &E::objects),
          attribute("all_objects", &E::all_objects, kSoftDelete),
          attribute("deleted_objects", &E::deleted_objects, kSoftDelete),
          attribute("DoesNotExist", &E::does_not_exist, kClass),
          attribute("MultipleObjectsReturned", &E::multiple_objects_returned, kClass),
      }};
  return table;
}

// A manager's methods: a QuerySet's, but for deleting and restoring (Post.objects.delete() is
// Django's AttributeError).
std::vector<Member> manager_methods() {
  return {
      method("all", 0, 0, &E::qs_all),
      method("filter", 0, kAny, &E::qs_filter, kKeywords),
      method("exclude", 0, kAny, &E::qs_exclude, kKeywords),
      method("get", 0, kAny, &E::qs_get, kKeywords),
      method("create", 0, 0, &E::qs_create, kKeywords | kWrites),
      method("get_or_create", 0, 1, &E::qs_get_or_create, kKeywords | kWrites),
      method("count", 0, 0, &E::qs_count),
      method("exists", 0, 0, &E::qs_exists),
      method("first", 0, 0, &E::qs_first),
      method("last", 0, 0, &E::qs_last),
      method("order_by", 0, kAny, &E::qs_order_by),
      method("values", 0, kAny, &E::qs_values, kKeywords),
      method("values_list", 0, kAny, &E::qs_values_list, kKeywords),
      method("distinct", 0, kAny, &E::qs_distinct),
      method("in_bulk", 0, 1, &E::qs_in_bulk, kKeywords),
      method("update", 0, 0, &E::qs_update, kKeywords | kWrites),
  };
}

std::vector<Member> queryset_methods() {
  std::vector<Member> methods = manager_methods();
  methods.push_back(method("delete", 0, 0, &E::qs_delete, kWrites));
  // Callable on any QuerySet (on a model that is not soft-deletable, the call says why it
  // cannot); listed where they apply.
  methods.push_back(method("restore", 0, 0, &E::qs_restore, kWrites | kSoftDelete));
  methods.push_back(method("hard_delete", 0, 0, &E::qs_hard_delete, kWrites | kSoftDelete));
  return methods;
}

const MemberTable& manager_table() {
  static const MemberTable table{.owner = "QuerySet", .python = true, .members = manager_methods()};
  return table;
}

// ContentType.objects: a manager with Django's get_for_model().
const MemberTable& content_type_manager_table() {
  static const MemberTable table = [] {
    MemberTable t{.owner = "ContentTypeManager", .python = true, .members = manager_methods()};
    t.members.push_back(method("get_for_model", 1, 1, &E::get_for_model, kKeywords | kWrites));
    return t;
  }();
  return table;
}

// QuerySets, and the reverse side of a foreign key (author.posts).
const MemberTable& queryset_table() {
  static const MemberTable table{
      .owner = "QuerySet", .python = true, .members = queryset_methods()};
  return table;
}

const MemberTable& many_to_many_table() {
  static const MemberTable table = [] {
    MemberTable t{.owner = "ManyRelatedManager", .python = true, .members = queryset_methods()};
    t.members.push_back(method("add", 0, kAny, &E::m2m_add, kKeywords | kWrites));
    t.members.push_back(method("remove", 0, kAny, &E::m2m_remove, kWrites));
    t.members.push_back(method("clear", 0, 0, &E::m2m_clear, kWrites));
    t.members.push_back(method("set", 1, 1, &E::m2m_set, kKeywords | kWrites));
    return t;
  }();
  return table;
}

// An instance's own members; its fields and relations come from its model.
const MemberTable& instance_table() {
  static const MemberTable table{
      .owner = "Model",
      .python = true,
      .members = {
          attribute("pk", &E::pk),
          method("save", 0, 4, &E::save, kKeywords | kWrites),
          method("delete", 0, 0, &E::instance_delete, kKeywords | kWrites),
          method("restore", 0, 0, &E::instance_restore, kWrites | kSoftDelete),
          method("hard_delete", 0, 0, &E::instance_hard_delete, kKeywords | kWrites | kSoftDelete),
          method("refresh_from_db", 0, 2, &E::refresh_from_db, kKeywords),
      }};
  return table;
}

const MemberTable& date_table() {
  static const MemberTable table{.owner = "date",
                                 .members = {
                                     attribute("year", &E::year),
                                     attribute("month", &E::month),
                                     attribute("day", &E::day),
                                     method("isoformat", 0, 0, &E::isoformat),
                                     method("weekday", 0, 0, &E::weekday),
                                     method("isoweekday", 0, 0, &E::isoweekday),
                                     method("strftime", 1, 1, &E::strftime),
                                 }};
  return table;
}

const MemberTable& datetime_table() {
  static const MemberTable table{.owner = "datetime",
                                 .members = {
                                     attribute("year", &E::year),
                                     attribute("month", &E::month),
                                     attribute("day", &E::day),
                                     attribute("hour", &E::hour),
                                     attribute("minute", &E::minute),
                                     attribute("second", &E::second),
                                     attribute("microsecond", &E::microsecond),
                                     method("date", 0, 0, &E::date_of),
                                     method("isoformat", 0, 0, &E::isoformat),
                                     method("weekday", 0, 0, &E::weekday),
                                     method("isoweekday", 0, 0, &E::isoweekday),
                                     method("strftime", 1, 1, &E::strftime),
                                 }};
  return table;
}

const MemberTable& timedelta_table() {
  static const MemberTable table{.owner = "timedelta",
                                 .members = {
                                     attribute("days", &E::days),
                                     attribute("seconds", &E::seconds),
                                     attribute("microseconds", &E::microseconds),
                                     method("total_seconds", 0, 0, &E::total_seconds),
                                 }};
  return table;
}

// The classes datetime.date and datetime.datetime: their class methods.
const MemberTable& date_class_table() {
  static const MemberTable table{.owner = "datetime.date",
                                 .members = {
                                     method("today", 0, 0, &E::today),
                                     method("fromisoformat", 1, 1, &E::date_fromisoformat),
                                 }};
  return table;
}

const MemberTable& datetime_class_table() {
  static const MemberTable table{.owner = "datetime.datetime",
                                 .members = {
                                     method("now", 0, 0, &E::now),
                                     method("utcnow", 0, 0, &E::now),
                                     method("today", 0, 0, &E::now),
                                     method("fromisoformat", 1, 1, &E::datetime_fromisoformat),
                                 }};
  return table;
}

const MemberTable& datetime_module() {
  static const MemberTable table{
      .owner = "datetime",
      .module = true,
      .members = {
          class_member("date", 0, 3, &E::date, kKeywords, is::date, date_class_table),
          class_member("datetime", 0, 7, &E::datetime, kKeywords, is::datetime,
                       datetime_class_table),
          class_member("timedelta", 0, 7, &E::timedelta, kKeywords, is::timedelta),
      }};
  return table;
}

const MemberTable& timezone_module() {
  static const MemberTable table{.owner = "django.utils.timezone",
                                 .module = true,
                                 .python = true,
                                 .members = {method("now", 0, 0, &E::now)}};
  return table;
}

const MemberTable& transaction_module() {
  static const MemberTable table{.owner = "django.db.transaction",
                                 .module = true,
                                 .python = true,
                                 .members = {method("atomic", 0, 1, &E::atomic, kKeywords)}};
  return table;
}

}  // namespace

// ---- the interpreter ----------------------------------------------------------------------------

struct Interpreter::Impl : Evaluator {
  using Evaluator::Evaluator;
};

Interpreter::Interpreter(Database& db, std::ostream& out, bool interactive)
    : impl_(std::make_unique<Impl>(db, out, interactive)) {}
Interpreter::~Interpreter() = default;

std::optional<int> Interpreter::exit_requested() const { return impl_->exit_code; }

void Interpreter::set_read_only(bool read_only) { impl_->read_only = read_only; }

bool Interpreter::run(const std::string& source, std::ostream& err) {
  std::vector<StmtPtr> statements;
  try {
    statements = parse(source);
  } catch (const SyntaxError& e) {
    // Python's layout: the line, a caret under the column, then the message.
    std::istringstream lines(source);
    std::string line;
    for (int i = 0; i < e.where.line && std::getline(lines, line); ++i) {
    }
    std::size_t indent = line.find_first_not_of(" \t");
    if (indent == std::string::npos) indent = 0;
    err << "  File \"<string>\", line " << e.where.line << "\n    " << line.substr(indent)
        << "\n    "
        << std::string(static_cast<std::size_t>(
                           std::max<int>(0, e.where.column - 1 - static_cast<int>(indent))),
                       ' ')
        << "^\n"
        << e.type << ": " << e.message << "\n";
    return false;
  }
  // Ctrl-C that came while a statement ran but after its last step: Python would raise it at
  // the next one, so it is reported all the same.
  // At the prompt the terminal has echoed ^C: the message goes on the next line.
  const char* keyboard_interrupt =
      impl_->interactive ? "\nKeyboardInterrupt\n" : "KeyboardInterrupt\n";
  auto interrupted = [&] {
    if (interrupt_requested == 0) return false;
    err << keyboard_interrupt;
    return true;
  };
  for (const auto& s : statements) {
    try {
      // Autocommit, as Django's shell: each ORM call that writes commits on its own (a delete
      // in its own transaction), so an error raised at its commit comes out of the call itself,
      // and what earlier calls wrote stays written when a later one fails.
      impl_->execute(*s);
    } catch (const ExitRequest& e) {
      impl_->exit_code = e.code;
      return true;
    } catch (const KeyboardInterrupt&) {
      err << keyboard_interrupt;
      return false;
    } catch (const PyError& e) {
      // An error that Ctrl-C caused (a statement interrupted by the database) is reported as
      // the interruption.
      if (!interrupted()) err << e.type << ": " << e.message << "\n";
      return false;
    } catch (const ProtectedError& e) {
      if (interrupted()) return false;
      std::vector<ObjPtr> objs;
      for (const auto& o : e.protected_objects()) objs.push_back(impl_->wrap(o));
      err << e.python_name() << ": (" << python_repr(e.what()) << ", {" << impl_->join_reprs(objs)
          << "})\n";
      return false;
    } catch (const RestrictedError& e) {
      if (interrupted()) return false;
      std::vector<ObjPtr> objs;
      for (const auto& o : e.restricted_objects()) objs.push_back(impl_->wrap(o));
      err << e.python_name() << ": (" << python_repr(e.what()) << ", {" << impl_->join_reprs(objs)
          << "})\n";
      return false;
    } catch (const Error& e) {
      if (!interrupted()) err << e.python_name() << ": " << e.what() << "\n";
      return false;
    }
  }
  return !interrupted();
}

std::vector<std::string> Interpreter::completions(const std::string& text) const {
  return impl_->completions(text);
}

}  // namespace cascade::shell
