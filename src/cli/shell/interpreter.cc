#include "cli/shell/interpreter.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <iterator>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>

#include "cascade/db/transaction.h"
#include "cascade/deletion/soft_delete.h"
#include "cascade/error.h"
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

struct Object {
  enum class Type {
    Scalar,     // None, bool, int, float, str, date, datetime: `value`
    List,
    Tuple,
    Dict,       // keys + items
    Model,      // a model class
    Manager,    // Model.objects / all_objects / deleted_objects
    QuerySet,
    Instance,
    Related,    // a reverse foreign key or many-to-many manager of one instance
    QObj,
    Builtin,    // a function: `name`
    Method,     // `name` bound to `self`
    ExcClass,   // Model.DoesNotExist
    Module,     // `import datetime`: `name`
    TimeDelta,  // datetime.timedelta: `value` holds its microseconds
    Atomic,     // transaction.atomic(): a context manager for `with`
  };
  Type type = Type::Scalar;
  Value value;
  std::vector<ObjPtr> items;
  std::vector<ObjPtr> keys;
  const ModelMeta* model = nullptr;
  QuerySet::Visibility visibility = QuerySet::Visibility::Live;
  std::shared_ptr<QuerySet> qs;
  std::shared_ptr<Instance> instance;
  std::shared_ptr<Q> q;
  std::string name;
  ObjPtr self;
  const Field* field = nullptr;  // Related: the relation
  bool reverse = false;          // Related: reverse side
};

namespace {

ObjPtr scalar(Value v) {
  auto o = std::make_shared<Object>();
  o->value = std::move(v);
  return o;
}
ObjPtr none() { return scalar(Value()); }

// The containers made while an Interpreter runs, so that it can break their reference cycles
// (a = [1]; a[0] = a) when it goes away; shared_ptr alone would leak them.
thread_local std::vector<std::weak_ptr<Object>>* t_containers = nullptr;

ObjPtr make(Object::Type t) {
  auto o = std::make_shared<Object>();
  o->type = t;
  if (t_containers != nullptr &&
      (t == Object::Type::List || t == Object::Type::Tuple || t == Object::Type::Dict)) {
    auto& all = *t_containers;
    if (all.size() >= 1024 && all.size() == all.capacity()) {
      std::erase_if(all, [](const std::weak_ptr<Object>& w) { return w.expired(); });
    }
    all.push_back(o);
  }
  return o;
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

std::string type_name(const Object& o) {
  switch (o.type) {
    case Object::Type::Scalar:
      switch (o.value.kind()) {
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
    case Object::Type::List: return "list";
    case Object::Type::Tuple: return "tuple";
    case Object::Type::Dict: return "dict";
    case Object::Type::Model: return "type";
    case Object::Type::Manager: return "Manager";
    case Object::Type::QuerySet: return "QuerySet";
    case Object::Type::Instance: return o.instance->meta().object_name;
    case Object::Type::Related: return "RelatedManager";
    case Object::Type::QObj: return "Q";
    case Object::Type::Builtin: return "builtin_function_or_method";
    case Object::Type::Method: return "method";
    case Object::Type::ExcClass: return "type";
    case Object::Type::Module: return "module";
    case Object::Type::TimeDelta: return "datetime.timedelta";
    case Object::Type::Atomic: return "Atomic";
  }
  return "object";
}

// A number as a double: bools count as 0 and 1, as in Python.
double real_of(const Value& v) {
  return v.kind() == Value::Kind::Real ? v.as_real() : static_cast<double>(v.as_integer());
}

void check_interrupt() {
  if (interrupt_requested != 0) throw KeyboardInterrupt{};
}

const std::vector<std::string> kQuerySetMethods = {
    "all", "filter", "exclude", "get", "create", "get_or_create", "count", "exists", "first",
    "last", "order_by", "values", "values_list", "update", "delete", "restore",
    "hard_delete", "distinct", "in_bulk"};

// The modules (and classes) the shell provides, with their attributes: each names a builtin.
const std::map<std::string, std::vector<std::pair<std::string, std::string>>>& namespaces() {
  static const std::map<std::string, std::vector<std::pair<std::string, std::string>>> spaces = {
      {"datetime",
       {{"date", "datetime.date"}, {"datetime", "datetime.datetime"}, {"timedelta", "datetime.timedelta"}}},
      {"datetime.datetime",
       {{"now", "datetime.datetime.now"},
        {"utcnow", "datetime.datetime.utcnow"},
        {"today", "datetime.datetime.today"},
        {"fromisoformat", "datetime.datetime.fromisoformat"}}},
      {"datetime.date", {{"today", "datetime.date.today"}, {"fromisoformat", "datetime.date.fromisoformat"}}},
      {"django.utils.timezone", {{"now", "timezone.now"}}},
      {"django.db.transaction", {{"atomic", "transaction.atomic"}}},
  };
  return spaces;
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
  if (seconds != 0) s += (s.empty() ? "" : ", ") + std::string("seconds=") + std::to_string(seconds);
  if (micros != 0) s += (s.empty() ? "" : ", ") + std::string("microseconds=") + std::to_string(micros);
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
  auto o = std::make_shared<Object>();
  o->type = Object::Type::TimeDelta;
  o->value = Value(static_cast<std::int64_t>(rounded));
  return o;
}
ObjPtr delta(std::int64_t micros) { return delta(static_cast<long double>(micros)); }
std::int64_t micros_of(const Object& o) { return o.value.as_integer(); }

ObjPtr datetime_at(long double micros) {
  if (!(micros >= static_cast<long double>(kMinMicros) && micros <= static_cast<long double>(kMaxMicros))) {
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

bool truthy(const Object& o);

}  // namespace

struct Interpreter::Impl {
  Database& db;
  std::ostream& out;
  bool interactive;
  std::map<std::string, ObjPtr> globals;
  std::optional<int> exit_code;
  std::vector<std::weak_ptr<Object>> containers;  // see make()
  std::vector<const Object*> in_repr;             // containers whose repr is being built

  ~Impl() {
    for (auto& w : containers) {
      if (auto o = w.lock()) {
        o->items.clear();
        o->keys.clear();
      }
    }
  }

  Impl(Database& d, std::ostream& o, bool i) : db(d), out(o), interactive(i) {
    for (const ModelMeta* m : db.registry().models()) {
      if (m->auto_created) continue;
      auto cls = make(Object::Type::Model);
      cls->model = m;
      globals[m->object_name] = cls;
    }
    for (const char* f : {"print", "len", "list", "str", "repr", "int", "float", "bool", "Q", "exit", "quit",
                          "tuple", "dict", "sorted", "type", "isinstance", "range", "sum", "min", "max",
                          "abs", "format"}) {
      auto b = make(Object::Type::Builtin);
      b->name = f;
      globals[f] = b;
    }
  }

  // ---- reprs -----------------------------------------------------------------------------------

  std::string repr(const ObjPtr& o) {
    bool container = o->type == Object::Type::List || o->type == Object::Type::Tuple ||
                     o->type == Object::Type::Dict;
    if (container) {
      // A container inside itself prints as Python prints it: [[...]].
      if (std::find(in_repr.begin(), in_repr.end(), o.get()) != in_repr.end()) {
        return o->type == Object::Type::List ? "[...]" : o->type == Object::Type::Dict ? "{...}" : "(...)";
      }
      if (static_cast<int>(in_repr.size()) >= kMaxNesting) {
        raise("RecursionError", "maximum recursion depth exceeded while getting the repr of an object");
      }
      in_repr.push_back(o.get());
    }
    struct Pop {
      std::vector<const Object*>* stack;
      ~Pop() {
        if (stack) stack->pop_back();
      }
    } pop{container ? &in_repr : nullptr};
    switch (o->type) {
      case Object::Type::Scalar: return o->value.repr();
      case Object::Type::List: return "[" + join_reprs(o->items) + "]";
      case Object::Type::Tuple:
        return "(" + join_reprs(o->items) + (o->items.size() == 1 ? ",)" : ")");
      case Object::Type::Dict: {
        std::string s = "{";
        for (std::size_t i = 0; i < o->keys.size(); ++i) {
          s += (i ? ", " : "") + repr(o->keys[i]) + ": " + repr(o->items[i]);
        }
        return s + "}";
      }
      case Object::Type::Model: return "<class '" + module_of(*o->model) + "." + o->model->object_name + "'>";
      case Object::Type::Manager: return "<django.db.models.manager.Manager object>";
      case Object::Type::QuerySet: return queryset_repr(*o->qs);
      case Object::Type::Instance: return o->instance->repr();
      case Object::Type::Related:
        return "<django.db.models.fields.related_descriptors.RelatedManager object>";
      case Object::Type::QObj: return o->q->repr();
      case Object::Type::Builtin:
        if (o->name == "datetime.date" || o->name == "datetime.datetime" || o->name == "datetime.timedelta") {
          return "<class '" + o->name + "'>";
        }
        if (o->name == "timezone.now" || o->name == "transaction.atomic") {
          return "<function " + o->name.substr(o->name.find('.') + 1) + ">";
        }
        if (o->name.rfind("datetime.", 0) == 0) return "<built-in method " + o->name + ">";
        return "<built-in function " + o->name + ">";
      case Object::Type::Method: return "<bound method " + o->name + ">";
      case Object::Type::ExcClass:
        return "<class '" + module_of(*o->model) + "." + o->model->object_name + "." + o->name + "'>";
      case Object::Type::Module: return "<module '" + o->name + "'>";
      case Object::Type::TimeDelta: return delta_repr(micros_of(*o));
      case Object::Type::Atomic: return "<django.db.transaction.Atomic object>";
    }
    return "<object>";
  }

  static std::string module_of(const ModelMeta& m) { return m.app_label + ".models"; }

  std::string join_reprs(const std::vector<ObjPtr>& items) {
    std::string s;
    for (std::size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + repr(items[i]);
    return s;
  }

  std::string str(const ObjPtr& o) {
    if (o->type == Object::Type::Scalar) {
      return o->value.kind() == Value::Kind::Null ? "None" : o->value.to_string();
    }
    if (o->type == Object::Type::Instance) return o->instance->str();
    if (o->type == Object::Type::TimeDelta) return delta_str(micros_of(*o));
    if (o->type == Object::Type::QObj) {
      std::string r = o->q->repr();  // str(Q) is its repr without "<Q: ...>"
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
        auto t = make(Object::Type::Tuple);
        for (auto& v : row) t->items.push_back(scalar(v));
        out.push_back(t);
      } else {
        auto d = make(Object::Type::Dict);
        for (std::size_t i = 0; i < row.size(); ++i) {
          d->keys.push_back(scalar(Value(names[i])));
          d->items.push_back(scalar(row[i]));
        }
        out.push_back(d);
      }
    }
    return out;
  }

  ObjPtr wrap(Instance inst) {
    auto o = make(Object::Type::Instance);
    o->instance = std::make_shared<Instance>(std::move(inst));
    return o;
  }
  ObjPtr wrap(QuerySet qs) {
    auto o = make(Object::Type::QuerySet);
    o->qs = std::make_shared<QuerySet>(std::move(qs));
    return o;
  }
  ObjPtr wrap_result(const DeleteResult& r) {
    auto t = make(Object::Type::Tuple);
    t->items.push_back(scalar(Value(r.total)));
    auto d = make(Object::Type::Dict);
    for (const auto& [label, n] : r.per_model) {
      d->keys.push_back(scalar(Value(label)));
      d->items.push_back(scalar(Value(n)));
    }
    t->items.push_back(d);
    return t;
  }
  ObjPtr list_of(std::vector<ObjPtr> items) {
    auto l = make(Object::Type::List);
    l->items = std::move(items);
    return l;
  }

  // ---- conversions -------------------------------------------------------------------------------

  Value to_value(const ObjPtr& o) {
    if (o->type == Object::Type::Scalar) return o->value;
    if (o->type == Object::Type::Instance) return o->instance->pk();
    raise("TypeError", "cannot use a " + type_name(*o) + " object as a value");
  }

  Arg to_arg(const ObjPtr& o) {
    switch (o->type) {
      case Object::Type::Scalar: return Arg(o->value);
      case Object::Type::Instance: return Arg(o->instance->pk());
      case Object::Type::QuerySet: return Arg(*o->qs);
      case Object::Type::List:
      case Object::Type::Tuple: {
        std::vector<Value> values;
        for (const auto& i : o->items) values.push_back(to_value(i));
        return Arg(std::move(values));
      }
      case Object::Type::Related: return Arg(related_queryset(*o));
      default: raise("TypeError", "cannot use a " + type_name(*o) + " object in a lookup");
    }
  }

  Lookups lookups(const std::vector<std::pair<std::string, ObjPtr>>& kwargs) {
    Lookups out;
    for (const auto& [k, v] : kwargs) out.emplace_back(k, to_arg(v));
    return out;
  }

  Q q_of(const std::vector<ObjPtr>& args, const std::vector<std::pair<std::string, ObjPtr>>& kwargs) {
    Q q;
    for (const auto& a : args) {
      if (a->type != Object::Type::QObj) {
        raise("TypeError", "'" + type_name(*a) + "' object is not a Q object");
      }
      q = q & *a->q;
    }
    if (!kwargs.empty()) q = q & Q(lookups(kwargs));
    return q;
  }

  // ---- attribute access ----------------------------------------------------------------------

  ObjPtr method(const ObjPtr& self, const std::string& name) {
    auto m = make(Object::Type::Method);
    m->self = self;
    m->name = name;
    return m;
  }

  QuerySet related_queryset(const Object& r) {
    const Instance& owner = *r.self->instance;
    if (r.field->type == FieldType::ManyToMany) {
      const ModelMeta& other = r.reverse ? *r.field->model : *r.field->target;
      auto pks = db.objects(owner.meta()).many_to_many(owner, r.name).pks();
      return QuerySet(db, other).filter(Q("pk__in", Arg(pks)));
    }
    return QuerySet(db, *r.field->model).filter(Q(r.field->name, Arg(owner.pk())));
  }

  ObjPtr getattr(const ObjPtr& o, const std::string& name) {
    switch (o->type) {
      case Object::Type::Model: {
        const ModelMeta& m = *o->model;
        if (name == "objects" || (m.soft_deletable() && (name == "all_objects" || name == "deleted_objects"))) {
          auto mgr = make(Object::Type::Manager);
          mgr->model = &m;
          mgr->visibility = name == "objects" ? QuerySet::Visibility::Live
                            : name == "all_objects" ? QuerySet::Visibility::All
                                                    : QuerySet::Visibility::Deleted;
          return mgr;
        }
        if (name == "DoesNotExist" || name == "MultipleObjectsReturned") {
          auto e = make(Object::Type::ExcClass);
          e->model = &m;
          e->name = name;
          return e;
        }
        raise("AttributeError", "type object '" + m.object_name + "' has no attribute '" + name + "'");
      }
      case Object::Type::Manager:
      case Object::Type::QuerySet:
      case Object::Type::Related: {
        if (o->type == Object::Type::Related && o->field->type == FieldType::ManyToMany &&
            (name == "add" || name == "remove" || name == "clear" || name == "set")) {
          return method(o, name);
        }
        if (std::find(kQuerySetMethods.begin(), kQuerySetMethods.end(), name) != kQuerySetMethods.end()) {
          if (o->type == Object::Type::Manager && (name == "delete" || name == "restore" || name == "hard_delete")) {
            raise("AttributeError", "'Manager' object has no attribute '" + name + "'");
          }
          return method(o, name);
        }
        raise("AttributeError", "'" + std::string(o->type == Object::Type::QuerySet ? "QuerySet" : "Manager") +
                                    "' object has no attribute '" + name + "'" +
                                    naming::did_you_mean(name, kQuerySetMethods));
      }
      case Object::Type::Instance: return instance_attr(o, name);
      case Object::Type::Module:
      case Object::Type::Builtin: {
        auto space = namespaces().find(o->name);
        if (space != namespaces().end()) {
          for (const auto& [attr, builtin_name] : space->second) {
            if (attr == name) {
              auto b = make(Object::Type::Builtin);
              b->name = builtin_name;
              return b;
            }
          }
        }
        if (o->type == Object::Type::Module) {
          raise("AttributeError", "module '" + o->name + "' has no attribute '" + name + "'");
        }
        if (space != namespaces().end()) {
          raise("AttributeError", "type object '" + o->name + "' has no attribute '" + name + "'");
        }
        break;
      }
      case Object::Type::Scalar:
      case Object::Type::TimeDelta: {
        auto attrs = value_attributes(*o);
        if (std::find(attrs.begin(), attrs.end(), name) != attrs.end()) return value_attr(o, name);
        if (std::find(attrs.begin(), attrs.end(), name + "(") != attrs.end()) return method(o, name);
        break;
      }
      default: break;
    }
    raise("AttributeError", "'" + type_name(*o) + "' object has no attribute '" + name + "'");
  }

  // The attributes of a date, datetime or timedelta ("year", and "isoformat(" for methods).
  static std::vector<std::string> value_attributes(const Object& o) {
    if (o.type == Object::Type::TimeDelta) return {"days", "seconds", "microseconds", "total_seconds("};
    if (o.value.kind() == Value::Kind::Date) {
      return {"year", "month", "day", "isoformat(", "weekday(", "isoweekday(", "strftime("};
    }
    if (o.value.kind() == Value::Kind::DateTime) {
      return {"year", "month", "day", "hour", "minute", "second", "microsecond", "date(",
              "isoformat(", "weekday(", "isoweekday(", "strftime("};
    }
    return {};
  }

  static ObjPtr value_attr(const ObjPtr& o, const std::string& name) {
    if (o->type == Object::Type::TimeDelta) {
      auto [days, seconds, micros] = delta_parts(micros_of(*o));
      return scalar(Value(name == "days" ? days : name == "seconds" ? seconds : micros));
    }
    DateTime dt = o->value.as_datetime();
    Date d = dt.date();
    if (name == "year") return scalar(Value(d.year));
    if (name == "month") return scalar(Value(d.month));
    if (name == "day") return scalar(Value(d.day));
    if (name == "hour") return scalar(Value(dt.hour()));
    if (name == "minute") return scalar(Value(dt.minute()));
    if (name == "second") return scalar(Value(dt.second()));
    return scalar(Value(dt.microsecond()));
  }

  ObjPtr value_method(const ObjPtr& self, const std::string& name, const std::vector<ObjPtr>& args,
                      const std::vector<std::pair<std::string, ObjPtr>>& kwargs) {
    if (name == "strftime") {
      if (args.size() != 1 || !kwargs.empty() || args[0]->type != Object::Type::Scalar ||
          args[0]->value.kind() != Value::Kind::Text) {
        raise("TypeError", "strftime() takes exactly one argument, a format string");
      }
      return scalar(Value(strftime_of(self->value, args[0]->value.as_text())));
    }
    no_args(name, args, kwargs);
    if (name == "total_seconds") return scalar(Value(static_cast<double>(micros_of(*self)) / 1e6));
    const Value& v = self->value;
    if (name == "date") return scalar(Value(v.as_datetime().date()));
    if (name == "isoformat") {
      return scalar(Value(v.kind() == Value::Kind::Date ? v.as_date().iso() : v.as_datetime().iso('T')));
    }
    std::int64_t days = v.kind() == Value::Kind::Date ? v.as_date().days_since_epoch()
                                                      : v.as_datetime().date().days_since_epoch();
    std::int64_t weekday = ((days + 3) % 7 + 7) % 7;  // Monday is 0; 1970-01-01 was a Thursday
    return scalar(Value(name == "weekday" ? weekday : weekday + 1));
  }

  ObjPtr instance_attr(const ObjPtr& o, const std::string& name) {
    Instance& inst = *o->instance;
    const ModelMeta& m = inst.meta();
    if (name == "pk") return scalar(inst.pk());
    if (name == "save" || name == "delete" || name == "restore" || name == "hard_delete" ||
        name == "refresh_from_db") {
      return method(o, name);
    }
    if (const Field* f = m.find_field(name)) {
      if (f->type == FieldType::ManyToMany) {
        auto r = make(Object::Type::Related);
        r->self = o;
        r->field = f;
        r->name = name;
        return r;
      }
      if (f->is_foreign_key() && name == f->name) {
        const Value& key = inst.get(f->column);
        if (key.is_null()) return none();
        auto target = db.all_objects(f->target->label()).find(key);
        if (!target) raise(module_of(*f->target) + "." + f->target->object_name + ".DoesNotExist",
                           f->target->object_name + " matching query does not exist.");
        return wrap(std::move(*target));
      }
      return scalar(inst.get(name));
    }
    for (const auto& rel : m.related_objects) {
      if (rel.field->related_accessor_name() == name) {
        if (rel.field->type == FieldType::OneToOne) {
          auto found = QuerySet(db, *rel.field->model).filter(Q(rel.field->name, Arg(inst.pk()))).first();
          if (!found) raise(module_of(*rel.field->model) + "." + rel.field->model->object_name + ".DoesNotExist",
                            m.object_name + " has no " + name + ".");
          return wrap(std::move(*found));
        }
        auto r = make(Object::Type::Related);
        r->self = o;
        r->field = rel.field;
        r->reverse = true;
        r->name = name;
        return r;
      }
    }
    raise("AttributeError", "'" + m.object_name + "' object has no attribute '" + name + "'" +
                                naming::did_you_mean(name, m.field_names()));
  }

  void setattr(const ObjPtr& o, const std::string& name, const ObjPtr& value) {
    if (o->type != Object::Type::Instance) {
      raise("AttributeError", "'" + type_name(*o) + "' object attribute '" + name + "' is read-only");
    }
    Instance& inst = *o->instance;
    if (name == "pk") {
      inst.set_pk(inst.meta().pk().to_python(to_value(value)));
      return;
    }
    const Field* f = inst.meta().find_field(name);
    if (f == nullptr || !f->is_concrete()) {
      if (f != nullptr) {
        raise("TypeError", "Direct assignment to the forward side of a many-to-many set is prohibited. Use " +
                               name + ".set() instead.");
      }
      raise("AttributeError", "'" + inst.meta().object_name + "' object has no field '" + name + "'" +
                                  naming::did_you_mean(name, inst.meta().field_names()));
    }
    if (f->is_foreign_key() && name == f->name && value->type == Object::Type::Instance &&
        &value->instance->meta() != f->target) {
      raise("ValueError", "Cannot assign \"" + value->instance->repr() + "\": \"" +
                              inst.meta().object_name + "." + f->name + "\" must be a \"" +
                              f->target->object_name + "\" instance.");
    }
    inst.set(name, to_value(value));
  }

  // ---- calls ---------------------------------------------------------------------------------

  QuerySet base_queryset(const ObjPtr& self) {
    if (self->type == Object::Type::Manager) return QuerySet(db, *self->model, self->visibility);
    if (self->type == Object::Type::QuerySet) return *self->qs;
    return related_queryset(*self);
  }

  ObjPtr call(const ObjPtr& fn, const std::vector<ObjPtr>& args,
              const std::vector<std::pair<std::string, ObjPtr>>& kwargs) {
    switch (fn->type) {
      case Object::Type::Builtin: return builtin(fn->name, args, kwargs);
      case Object::Type::Model: {
        if (!args.empty()) raise("TypeError", fn->model->object_name + "() takes keyword arguments only");
        Instance inst(*fn->model);
        auto obj = make(Object::Type::Instance);
        obj->instance = std::make_shared<Instance>(std::move(inst));
        for (const auto& [k, v] : kwargs) setattr(obj, k, v);
        return obj;
      }
      case Object::Type::Method:
        if (fn->self->type == Object::Type::Instance) return instance_method(fn->self, fn->name, args, kwargs);
        if (fn->self->type == Object::Type::Scalar || fn->self->type == Object::Type::TimeDelta) {
          return value_method(fn->self, fn->name, args, kwargs);
        }
        return queryset_method(fn->self, fn->name, args, kwargs);
      default: raise("TypeError", "'" + type_name(*fn) + "' object is not callable");
    }
  }

  void no_args(const std::string& name, const std::vector<ObjPtr>& args,
               const std::vector<std::pair<std::string, ObjPtr>>& kwargs) {
    if (!args.empty() || !kwargs.empty()) raise("TypeError", name + "() takes no arguments");
  }

  std::vector<std::string> strings(const std::string& fn, const std::vector<ObjPtr>& args) {
    std::vector<std::string> out;
    for (const auto& a : args) {
      if (a->type != Object::Type::Scalar || a->value.kind() != Value::Kind::Text) {
        raise("TypeError", fn + "() arguments must be field names (strings)");
      }
      out.push_back(a->value.as_text());
    }
    return out;
  }

  ObjPtr instance_method(const ObjPtr& self, const std::string& name, const std::vector<ObjPtr>& args,
                         const std::vector<std::pair<std::string, ObjPtr>>& kwargs) {
    Instance& inst = *self->instance;
    Manager mgr = db.objects(inst.meta());
    if (name == "save") {
      mgr.save(inst);
      return none();
    }
    if (name == "delete") {
      no_args(name, args, kwargs);
      return wrap_result(mgr.remove(inst));
    }
    if (name == "hard_delete") return wrap_result(mgr.hard_remove(inst));
    if (name == "restore") return wrap_result(mgr.restore(inst));
    if (name == "refresh_from_db") {
      mgr.refresh(inst);
      return none();
    }
    raise("AttributeError", "'" + inst.meta().object_name + "' object has no attribute '" + name + "'");
  }

  ObjPtr queryset_method(const ObjPtr& self, const std::string& name, const std::vector<ObjPtr>& args,
                         const std::vector<std::pair<std::string, ObjPtr>>& kwargs) {
    if (self->type == Object::Type::Related && self->field->type == FieldType::ManyToMany) {
      const Instance& owner = *self->self->instance;
      auto m2m = db.objects(owner.meta()).many_to_many(owner, self->name);
      std::vector<Value> pks;
      auto one = [&](const ObjPtr& a) {
        // Django refuses an unsaved or deleted instance by name (its pk is None).
        if (name != "remove" && a->type == Object::Type::Instance && a->instance->pk().is_null()) {
          raise("ValueError", "Cannot add \"" + repr(a) + "\": the value for field \"" +
                                  m2m.target_field().name + "\" is None");
        }
        pks.push_back(to_value(a));
      };
      auto collect = [&](const ObjPtr& a) {
        if (a->type == Object::Type::List || a->type == Object::Type::Tuple) {
          for (const auto& i : a->items) one(i);
        } else {
          one(a);
        }
      };
      if (name == "add" || name == "remove" || name == "set") {
        for (const auto& a : args) collect(a);
        if (name == "add") m2m.add(pks);
        if (name == "remove") m2m.remove(pks);
        if (name == "set") m2m.set(pks);
        return none();
      }
      if (name == "clear") {
        m2m.clear();
        return none();
      }
    }
    QuerySet qs = base_queryset(self);
    if (name == "all") return wrap(qs.all());
    if (name == "filter") return wrap(qs.filter(q_of(args, kwargs)));
    if (name == "exclude") return wrap(qs.exclude(q_of(args, kwargs)));
    if (name == "get") return wrap(qs.get(q_of(args, kwargs)));
    if (name == "count") return scalar(Value(qs.count()));
    if (name == "exists") return scalar(Value(qs.exists()));
    if (name == "first" || name == "last") {
      auto found = name == "first" ? qs.first() : qs.last();
      return found ? wrap(std::move(*found)) : none();
    }
    if (name == "order_by") return wrap(qs.order_by(strings(name, args)));
    if (name == "distinct") return wrap(qs.distinct());
    if (name == "values") return wrap(qs.values(strings(name, args)));
    if (name == "values_list") {
      bool flat = false;
      for (const auto& [k, v] : kwargs) {
        if (k != "flat") raise("TypeError", "values_list() got an unexpected keyword argument '" + k + "'");
        flat = truthy(*v);
      }
      return wrap(qs.values_list(strings(name, args), flat));
    }
    if (name == "update") {
      std::vector<std::pair<std::string, Value>> values;
      for (const auto& [k, v] : kwargs) values.emplace_back(k, to_value(v));
      return scalar(Value(qs.update(values)));
    }
    if (name == "delete") return wrap_result(qs.remove());
    if (name == "hard_delete") return wrap_result(qs.hard_remove());
    if (name == "restore") return wrap_result(qs.restore());
    if (name == "create") {
      if (!args.empty()) raise("TypeError", "create() takes keyword arguments only");
      Instance inst(qs.model());
      auto obj = make(Object::Type::Instance);
      obj->instance = std::make_shared<Instance>(std::move(inst));
      if (self->type == Object::Type::Related) setattr(obj, self->field->name, self->self);
      for (const auto& [k, v] : kwargs) setattr(obj, k, v);
      db.objects(qs.model()).save(*obj->instance);
      return obj;
    }
    if (name == "get_or_create") {
      Lookups l;
      std::vector<std::pair<std::string, Value>> defaults;
      for (const auto& [k, v] : kwargs) {
        if (k == "defaults") {
          if (v->type != Object::Type::Dict) raise("TypeError", "defaults must be a dict");
          for (std::size_t i = 0; i < v->keys.size(); ++i) {
            defaults.emplace_back(str(v->keys[i]), to_value(v->items[i]));
          }
        } else {
          l.emplace_back(k, to_arg(v));
        }
      }
      auto [inst, created] = db.objects(qs.model()).get_or_create(l, defaults);
      auto t = make(Object::Type::Tuple);
      t->items = {wrap(std::move(inst)), scalar(Value(created))};
      return t;
    }
    if (name == "in_bulk") {
      std::optional<std::vector<Value>> keys;
      if (!args.empty()) {
        keys.emplace();
        for (const auto& i : args[0]->items) keys->push_back(to_value(i));
      }
      auto d = make(Object::Type::Dict);
      for (auto& [k, inst] : qs.in_bulk(keys)) {
        d->keys.push_back(scalar(k));
        d->items.push_back(wrap(inst));
      }
      return d;
    }
    raise("AttributeError", "'QuerySet' object has no attribute '" + name + "'");
  }

  std::vector<ObjPtr> iterate(const ObjPtr& o) {
    switch (o->type) {
      case Object::Type::List:
      case Object::Type::Tuple: return o->items;
      case Object::Type::Dict: return o->keys;
      case Object::Type::QuerySet: return materialize(*o->qs);
      case Object::Type::Related: return materialize(related_queryset(*o));
      case Object::Type::Scalar:
        if (o->value.kind() == Value::Kind::Text) {
          std::vector<ObjPtr> chars;
          for (char c : o->value.as_text()) chars.push_back(scalar(Value(std::string(1, c))));
          return chars;
        }
        break;
      case Object::Type::Manager:
        raise("TypeError", "'Manager' object is not iterable");
      default: break;
    }
    raise("TypeError", "'" + type_name(*o) + "' object is not iterable");
  }

  ObjPtr builtin(const std::string& name, const std::vector<ObjPtr>& args,
                 const std::vector<std::pair<std::string, ObjPtr>>& kwargs) {
    if (name == "print") {
      std::string sep = " ", end = "\n";
      for (const auto& [k, v] : kwargs) {
        if (k == "sep") sep = str(v);
        else if (k == "end") end = str(v);
        else raise("TypeError", "'" + k + "' is an invalid keyword argument for print()");
      }
      for (std::size_t i = 0; i < args.size(); ++i) out << (i ? sep : "") << str(args[i]);
      out << end;
      return none();
    }
    if (name == "exit" || name == "quit") {
      int code = args.empty() ? 0 : static_cast<int>(to_value(args[0]).as_integer());
      throw ExitRequest{code};
    }
    if (name == "datetime.date" || name == "datetime.datetime") {
      bool dt = name == "datetime.datetime";
      static const char* kNames[] = {"year", "month", "day", "hour", "minute", "second", "microsecond"};
      std::vector<std::int64_t> parts(7, 0);
      std::size_t count = dt ? 7 : 3;
      if (args.size() < 3 || args.size() > count) {
        raise("TypeError", name.substr(9) + "() needs year, month and day");
      }
      for (std::size_t i = 0; i < args.size(); ++i) parts[i] = to_value(args[i]).as_integer();
      for (const auto& [k, v] : kwargs) {
        auto it = std::find(std::begin(kNames), std::begin(kNames) + count, k);
        if (it == std::begin(kNames) + count) raise("TypeError", "'" + k + "' is an invalid keyword argument");
        parts[static_cast<std::size_t>(it - std::begin(kNames))] = to_value(v).as_integer();
      }
      // Python's checks, in its order and words.
      if (parts[0] < 1 || parts[0] > 9999) raise("ValueError", "year " + std::to_string(parts[0]) + " is out of range");
      if (parts[1] < 1 || parts[1] > 12) raise("ValueError", "month must be in 1..12");
      Date d{static_cast<int>(parts[0]), static_cast<int>(parts[1]), static_cast<int>(parts[2])};
      if (!d.valid()) raise("ValueError", "day is out of range for month");
      if (!dt) return scalar(Value(d));
      static const std::int64_t kLimits[] = {23, 59, 59, 999999};
      for (std::size_t i = 3; i < 7; ++i) {
        if (parts[i] < 0 || parts[i] > kLimits[i - 3]) {
          raise("ValueError", std::string(kNames[i]) + " must be in 0.." + std::to_string(kLimits[i - 3]));
        }
      }
      return scalar(Value(DateTime::from_parts(d, static_cast<int>(parts[3]), static_cast<int>(parts[4]),
                                               static_cast<int>(parts[5]), static_cast<int>(parts[6]))));
    }
    if (name == "datetime.timedelta") return timedelta(args, kwargs);
    if (name == "timezone.now" || name == "datetime.datetime.now" || name == "datetime.datetime.utcnow" ||
        name == "datetime.datetime.today") {
      // Cascade keeps naive UTC datetimes (Django's USE_TZ = False with TIME_ZONE = 'UTC'), so
      // every "now" is the current UTC time, naive.
      no_args(name.substr(name.rfind('.') + 1), args, kwargs);
      return scalar(Value(DateTime::now()));
    }
    if (name == "datetime.date.today") {
      no_args("today", args, kwargs);
      return scalar(Value(DateTime::now().date()));
    }
    if (name == "datetime.date.fromisoformat" || name == "datetime.datetime.fromisoformat") {
      bool dt = name == "datetime.datetime.fromisoformat";
      if (args.size() != 1 || !kwargs.empty() || args[0]->type != Object::Type::Scalar ||
          args[0]->value.kind() != Value::Kind::Text) {
        raise("TypeError", "fromisoformat: argument must be str");
      }
      const std::string& text = args[0]->value.as_text();
      if (dt) {
        if (auto parsed = DateTime::parse(text)) return scalar(Value(*parsed));
      } else if (text.size() == 10) {
        if (auto parsed = Date::parse(text)) return scalar(Value(*parsed));
      }
      raise("ValueError", "Invalid isoformat string: " + python_repr(text));
    }
    if (name == "transaction.atomic") {
      // One database: `using` names it; savepoint= and durable= are not provided.
      for (const auto& [k, v] : kwargs) {
        if (k == "savepoint" || k == "durable") {
          raise("TypeError", "atomic(" + k + "=...) is not supported by the cascade shell");
        }
        if (k != "using") raise("TypeError", "atomic() got an unexpected keyword argument '" + k + "'");
      }
      if (args.size() > 1) raise("TypeError", "atomic() takes at most 1 positional argument");
      return make(Object::Type::Atomic);
    }
    if (name == "format") {
      if (args.empty() || args.size() > 2 || !kwargs.empty()) {
        raise("TypeError", "format() takes 1 or 2 arguments");
      }
      return scalar(Value(format(args[0], args.size() == 2 ? str(args[1]) : "")));
    }
    if (name == "abs" && args.size() == 1 && args[0]->type == Object::Type::TimeDelta) {
      std::int64_t m = micros_of(*args[0]);
      return delta(m < 0 ? -static_cast<long double>(m) : static_cast<long double>(m));
    }
    if (name == "abs" && args.size() == 1) {
      Value x = to_value(args[0]);
      if (x.kind() == Value::Kind::Real) return scalar(Value(std::fabs(x.as_real())));
      if (x.kind() != Value::Kind::Integer && x.kind() != Value::Kind::Bool) {
        raise("TypeError", "bad operand type for abs(): '" + type_name(*args[0]) + "'");
      }
      std::int64_t v = x.as_integer();
      if (v == INT64_MIN) raise("OverflowError", kIntOverflow);
      return scalar(Value(v < 0 ? -v : v));
    }
    if (name == "Q") {
      auto q = make(Object::Type::QObj);
      q->q = std::make_shared<Q>(q_of(args, kwargs));
      return q;
    }
    if (name == "range") {
      if (args.empty() || args.size() > 3) raise("TypeError", "range expected 1 to 3 arguments");
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
    if (name == "sum" || name == "min" || name == "max") {
      std::vector<ObjPtr> items = args.size() == 1 ? iterate(args[0]) : args;
      if (name == "sum") {
        ObjPtr total = scalar(Value(0));
        for (const auto& i : items) total = binary("+", total, i);
        return total;
      }
      if (items.empty()) raise("ValueError", name + "() arg is an empty sequence");
      ObjPtr best = items[0];
      for (const auto& i : items) {
        if (truthy(*compare(name == "min" ? "<" : ">", i, best))) best = i;
      }
      return best;
    }
    if (args.size() != 1) {
      raise("TypeError", name + "() takes exactly one argument (" + std::to_string(args.size()) + " given)");
    }
    const ObjPtr& a = args.empty() ? none() : args[0];
    if (name == "len") {
      if (a->type == Object::Type::QuerySet) return scalar(Value(a->qs->count()));
      if (a->type == Object::Type::Scalar && a->value.kind() == Value::Kind::Text) {
        return scalar(Value(static_cast<std::int64_t>(a->value.as_text().size())));
      }
      return scalar(Value(static_cast<std::int64_t>(iterate(a).size())));
    }
    if (name == "list" || name == "sorted") return list_of(iterate(a));
    if (name == "tuple") {
      auto t = make(Object::Type::Tuple);
      t->items = iterate(a);
      return t;
    }
    if (name == "str") return scalar(Value(str(a)));
    if (name == "repr") return scalar(Value(repr(a)));
    if (name == "bool") return scalar(Value(truthy(*a)));
    if (name == "int") {
      Field f;
      f.name = "value";
      f.type = FieldType::BigInteger;
      return scalar(f.to_python(to_value(a)));
    }
    if (name == "float") {
      // float('nan'), float('inf'), float('1e3') as Python reads them.
      Field f;
      f.name = "value";
      f.type = FieldType::Float;
      return scalar(f.to_python(to_value(a)));
    }
    if (name == "type") return scalar(Value("<class '" + type_name(*a) + "'>"));
    raise("NameError", "name '" + name + "' is not defined");
  }

  // datetime.timedelta(days, seconds, microseconds, milliseconds, minutes, hours, weeks)
  ObjPtr timedelta(const std::vector<ObjPtr>& args, const std::vector<std::pair<std::string, ObjPtr>>& kwargs) {
    static const char* kNames[] = {"days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks"};
    static const long double kScale[] = {86400e6L, 1e6L, 1.0L, 1e3L, 60e6L, 3600e6L, 7 * 86400e6L};
    constexpr std::size_t kCount = std::size(kNames);
    if (args.size() > kCount) raise("TypeError", "timedelta() takes at most 7 arguments");
    std::vector<ObjPtr> given(kCount);
    for (std::size_t i = 0; i < args.size(); ++i) given[i] = args[i];
    for (const auto& [k, v] : kwargs) {
      auto it = std::find(std::begin(kNames), std::end(kNames), k);
      if (it == std::end(kNames)) raise("TypeError", "'" + k + "' is an invalid keyword argument for __new__()");
      auto index = static_cast<std::size_t>(it - std::begin(kNames));
      if (given[index]) raise("TypeError", "argument for __new__() given by name ('" + k + "') and position");
      given[index] = v;
    }
    long double total = 0;
    for (std::size_t i = 0; i < kCount; ++i) {
      if (!given[i]) continue;
      Value x = given[i]->type == Object::Type::Scalar ? given[i]->value : Value();
      if (x.kind() != Value::Kind::Integer && x.kind() != Value::Kind::Real && x.kind() != Value::Kind::Bool) {
        raise("TypeError", std::string("unsupported type for timedelta ") + kNames[i] + " component: " +
                               type_name(*given[i]));
      }
      long double part = x.kind() == Value::Kind::Real ? static_cast<long double>(x.as_real())
                                                        : static_cast<long double>(x.as_integer());
      if (!std::isfinite(part)) raise("ValueError", "cannot convert float NaN or infinity to integer");
      total += part * kScale[i];
    }
    return delta(total);
  }

  // format(value, spec): Python's format-spec mini-language for numbers and strings
  // ([[fill]align][sign][0][width][,|_][.precision][type]), strftime for dates.
  std::string format(const ObjPtr& o, const std::string& spec) {
    if (spec.empty()) return str(o);
    if (o->type == Object::Type::Scalar &&
        (o->value.kind() == Value::Kind::Date || o->value.kind() == Value::Kind::DateTime)) {
      return strftime_of(o->value, spec);
    }
    bool text = o->type == Object::Type::TimeDelta ||
                (o->type == Object::Type::Scalar && o->value.kind() == Value::Kind::Text);
    bool number = o->type == Object::Type::Scalar &&
                  (o->value.kind() == Value::Kind::Integer || o->value.kind() == Value::Kind::Real ||
                   o->value.kind() == Value::Kind::Bool);
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
        raise("ValueError", std::string("Unknown format code '") + type + "' for object of type 'str'");
      }
      if (sign != '-' || grouping != 0 || align == '=') raise("ValueError", "Invalid format specifier for a string");
      body = str(o);
      if (precision && static_cast<std::size_t>(*precision) < body.size()) body.resize(static_cast<std::size_t>(*precision));
      if (align == 0) align = '<';
    } else {
      const Value& v = o->value;
      bool integer = v.kind() != Value::Kind::Real;
      double real = integer ? static_cast<double>(v.as_integer()) : v.as_real();
      if (type == 's') raise("ValueError", "Unknown format code 's' for object of type '" + type_name(*o) + "'");
      if (integer && type == 0 && precision) raise("ValueError", "Precision not allowed in integer format specifier");
      bool negative = false;
      if (integer && (type == 0 || type == 'd' || type == 'x' || type == 'X' || type == 'o' || type == 'b' || type == 'n')) {
        std::int64_t n = v.as_integer();
        negative = n < 0;
        auto magnitude = negative ? 0 - static_cast<std::uint64_t>(n) : static_cast<std::uint64_t>(n);
        int base = type == 'x' || type == 'X' ? 16 : type == 'o' ? 8 : type == 'b' ? 2 : 10;
        do {
          int digit = static_cast<int>(magnitude % static_cast<std::uint64_t>(base));
          body.insert(body.begin(), static_cast<char>(digit < 10 ? '0' + digit : (type == 'X' ? 'A' : 'a') + digit - 10));
          magnitude /= static_cast<std::uint64_t>(base);
        } while (magnitude != 0);
      } else if (type == 0 && !precision) {
        negative = std::signbit(real);
        body = Value(std::fabs(real)).to_string();
      } else {
        if (type != 0 && std::strchr("eEfFgG%", type) == nullptr) {
          raise("ValueError", std::string("Unknown format code '") + type + "' for object of type '" +
                                  type_name(*o) + "'");
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
      if (negative) prefix = "-";
      else if (sign == '+') prefix = "+";
      else if (sign == ' ') prefix = " ";
      if (alternate && (type == 'x' || type == 'X' || type == 'o' || type == 'b')) {
        prefix += std::string("0") + type;
      }
      if (align == 0) align = '>';
    }
    std::size_t length = prefix.size() + body.size();
    if (length >= width) return prefix + body;
    std::size_t pad = width - length;
    if (align == '<') return prefix + body + std::string(pad, fill);
    if (align == '^') return std::string(pad / 2, fill) + prefix + body + std::string(pad - pad / 2, fill);
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
          raise("NameError", "name '" + e->text + "' is not defined" + naming::did_you_mean(e->text, names));
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
        auto o = make(e->kind == Expr::Kind::List ? Object::Type::List : Object::Type::Tuple);
        for (const auto& i : e->items) o->items.push_back(eval(i));
        return o;
      }
      case Expr::Kind::Dict: {
        auto o = make(Object::Type::Dict);
        for (std::size_t i = 0; i + 1 < e->items.size(); i += 2) {
          o->keys.push_back(eval(e->items[i]));
          o->items.push_back(eval(e->items[i + 1]));
        }
        return o;
      }
      case Expr::Kind::Attribute: return getattr(eval(e->object), e->text);
      case Expr::Kind::Call: {
        ObjPtr fn = eval(e->object);
        std::vector<ObjPtr> args;
        for (const auto& a : e->items) args.push_back(eval(a));
        std::vector<std::pair<std::string, ObjPtr>> kwargs;
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
        if (v->type == Object::Type::TimeDelta) {
          if (e->text == "~") raise("TypeError", "bad operand type for unary ~: 'datetime.timedelta'");
          return e->text == "-" ? delta(-static_cast<long double>(micros_of(*v))) : v;
        }
        if (e->text == "~") {
          if (v->type == Object::Type::QObj) {
            auto q = make(Object::Type::QObj);
            q->q = std::make_shared<Q>(~*v->q);
            return q;
          }
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
    bool dict = e.text == "dict";
    ObjPtr out = make(dict ? Object::Type::Dict : Object::Type::List);
    for (const auto& item : source) {
      check_interrupt();
      assign(e.items[0], item);
      bool keep = true;
      for (std::size_t i = 2; i < e.items.size() && keep; ++i) keep = truthy(*eval(e.items[i]));
      if (!keep) continue;
      if (!dict) {
        out->items.push_back(eval(e.object));
        continue;
      }
      set_item(out, eval(e.object->items[0]), eval(e.object->items[1]));
    }
    return out;
  }

  std::optional<std::int64_t> opt_int(const ExprPtr& e) {
    if (!e) return std::nullopt;
    ObjPtr v = eval(e);
    if (v->type == Object::Type::Scalar && v->value.is_null()) return std::nullopt;
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
      if (o->type == Object::Type::QuerySet || o->type == Object::Type::Related) {
        QuerySet qs = o->type == Object::Type::QuerySet ? *o->qs : related_queryset(*o);
        return wrap(qs.slice(start.value_or(0), stop));
      }
      std::vector<ObjPtr> items = iterate(o);
      auto n = static_cast<std::int64_t>(items.size());
      auto clamp = [&](std::int64_t i) { return std::max<std::int64_t>(0, std::min(n, i < 0 ? n + i : i)); };
      std::int64_t a = clamp(start.value_or(0)), b = clamp(stop.value_or(n));
      std::vector<ObjPtr> part;
      for (std::int64_t i = a; i < b; ++i) part.push_back(items[static_cast<std::size_t>(i)]);
      if (o->type == Object::Type::Tuple) {
        auto t = make(Object::Type::Tuple);
        t->items = part;
        return t;
      }
      return list_of(part);
    }
    return get_item(o, eval(index));
  }

  ObjPtr get_item(const ObjPtr& o, const ObjPtr& key) {
    if (o->type == Object::Type::Dict) {
      for (std::size_t i = 0; i < o->keys.size(); ++i) {
        if (equal(o->keys[i], key)) return o->items[i];
      }
      raise("KeyError", repr(key));
    }
    Value k = to_value(key);
    if (k.kind() != Value::Kind::Integer) {
      raise("TypeError", type_name(*o) + " indices must be integers or slices, not " + type_name(*key));
    }
    if (o->type == Object::Type::QuerySet) return wrap(o->qs->at(k.as_integer()));
    std::vector<ObjPtr> items = iterate(o);
    std::int64_t i = k.as_integer();
    auto n = static_cast<std::int64_t>(items.size());
    if (i < 0) i += n;
    if (i < 0 || i >= n) raise("IndexError", type_name(*o) + " index out of range");
    return items[static_cast<std::size_t>(i)];
  }

  bool equal(const ObjPtr& a, const ObjPtr& b, int depth = 0) {
    if (depth > kMaxNesting) raise("RecursionError", "maximum recursion depth exceeded in comparison");
    if (a->type == Object::Type::Instance && b->type == Object::Type::Instance) {
      return &a->instance->meta() == &b->instance->meta() && a->instance->pk() == b->instance->pk() &&
             !a->instance->pk().is_null();
    }
    if (a->type == Object::Type::Scalar && b->type == Object::Type::Scalar) {
      const Value &x = a->value, &y = b->value;
      bool xn = x.kind() == Value::Kind::Integer || x.kind() == Value::Kind::Real || x.kind() == Value::Kind::Bool;
      bool yn = y.kind() == Value::Kind::Integer || y.kind() == Value::Kind::Real || y.kind() == Value::Kind::Bool;
      if (xn && yn) return real_of(x) == real_of(y);
      return x == y;
    }
    if (a->type == Object::Type::TimeDelta || b->type == Object::Type::TimeDelta) {
      return a->type == b->type && micros_of(*a) == micros_of(*b);
    }
    if ((a->type == Object::Type::List || a->type == Object::Type::Tuple) && a->type == b->type) {
      if (a->items.size() != b->items.size()) return false;
      for (std::size_t i = 0; i < a->items.size(); ++i) {
        // Python compares items by identity first, so a list equals itself even when it holds
        // itself.
        if (a->items[i] != b->items[i] && !equal(a->items[i], b->items[i], depth + 1)) return false;
      }
      return true;
    }
    return a == b;
  }

  ObjPtr compare(const std::string& op, const ObjPtr& a, const ObjPtr& b) {
    if (op == "==") return scalar(Value(equal(a, b)));
    if (op == "!=") return scalar(Value(!equal(a, b)));
    if (op == "is") return scalar(Value(a == b || (a->type == Object::Type::Scalar && b->type == Object::Type::Scalar &&
                                                   a->value.is_null() && b->value.is_null())));
    if (op == "is not") return scalar(Value(!(a == b || (a->type == Object::Type::Scalar && b->type == Object::Type::Scalar &&
                                                         a->value.is_null() && b->value.is_null()))));
    if (op == "in" || op == "not in") {
      bool found = false;
      if (b->type == Object::Type::Scalar && b->value.kind() == Value::Kind::Text) {
        found = b->value.as_text().find(str(a)) != std::string::npos;
      } else {
        for (const auto& i : iterate(b)) found = found || equal(a, i);
      }
      return scalar(Value(op == "in" ? found : !found));
    }
    bool r = false;
    if (a->type == Object::Type::TimeDelta && b->type == Object::Type::TimeDelta) {
      std::int64_t p = micros_of(*a), q = micros_of(*b);
      r = op == "<" ? p < q : op == ">" ? p > q : op == "<=" ? p <= q : p >= q;
      return scalar(Value(r));
    }
    if (a->type == Object::Type::TimeDelta || b->type == Object::Type::TimeDelta) {
      raise("TypeError", "'" + op + "' not supported between instances of '" + type_name(*a) +
                             "' and '" + type_name(*b) + "'");
    }
    Value x = to_value(a), y = to_value(b);
    auto is_date = [](const Value& v) { return v.kind() == Value::Kind::Date || v.kind() == Value::Kind::DateTime; };
    if (is_date(x) && is_date(y) && x.kind() != y.kind()) {
      raise("TypeError", "can't compare " + type_name(*a) + " to " + type_name(*b));
    }
    auto is_number = [](const Value& v) {
      return v.kind() == Value::Kind::Integer || v.kind() == Value::Kind::Real || v.kind() == Value::Kind::Bool;
    };
    bool numeric = is_number(x) && is_number(y);
    if (!numeric && x.kind() != y.kind()) {
      raise("TypeError", "'" + op + "' not supported between instances of '" + type_name(*a) +
                             "' and '" + type_name(*b) + "'");
    }
    int c = numeric ? (real_of(x) < real_of(y) ? -1 : real_of(x) > real_of(y) ? 1 : 0)
                    : (x < y ? -1 : y < x ? 1 : 0);
    r = op == "<" ? c < 0 : op == ">" ? c > 0 : op == "<=" ? c <= 0 : c >= 0;
    return scalar(Value(r));
  }

  ObjPtr binary(const std::string& op, const ObjPtr& a, const ObjPtr& b) {
    if ((op == "&" || op == "|") && a->type == Object::Type::QObj && b->type == Object::Type::QObj) {
      auto q = make(Object::Type::QObj);
      q->q = std::make_shared<Q>(op == "&" ? (*a->q & *b->q) : (*a->q | *b->q));
      return q;
    }
    if ((op == "&" || op == "|") && a->type == Object::Type::QuerySet && b->type == Object::Type::QuerySet) {
      raise("TypeError", "combining QuerySets with & and | is not supported by the cascade shell; use Q objects");
    }
    if (op == "+" && a->type == Object::Type::List && b->type == Object::Type::List) {
      auto l = list_of(a->items);
      l->items.insert(l->items.end(), b->items.begin(), b->items.end());
      return l;
    }
    if (ObjPtr r = date_arithmetic(op, a, b)) return r;
    if (op == "*" && (a->type == Object::Type::List || b->type == Object::Type::List ||
                      (a->type == Object::Type::Scalar && a->value.kind() == Value::Kind::Text) ||
                      (b->type == Object::Type::Scalar && b->value.kind() == Value::Kind::Text))) {
      return repeat(a, b);
    }
    Value x = to_value(a), y = to_value(b);
    if (op == "+" && x.kind() == Value::Kind::Text && y.kind() == Value::Kind::Text) {
      return scalar(Value(x.as_text() + y.as_text()));
    }
    auto is_num = [](const Value& v) {
      return v.kind() == Value::Kind::Integer || v.kind() == Value::Kind::Real || v.kind() == Value::Kind::Bool;
    };
    if (!is_num(x) || !is_num(y)) {
      raise("TypeError", "unsupported operand type(s) for " + op + ": '" + type_name(*a) + "' and '" +
                             type_name(*b) + "'");
    }
    bool ints = x.kind() != Value::Kind::Real && y.kind() != Value::Kind::Real;
    if (ints && op != "/" && op != "**") {
      std::int64_t p = x.as_integer(), q = y.as_integer(), r = 0;
      if ((op == "//" || op == "%") && q == 0) raise("ZeroDivisionError", "integer division or modulo by zero");
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
    bool seq_first = a->type == Object::Type::List || (a->type == Object::Type::Scalar && a->value.kind() == Value::Kind::Text);
    const ObjPtr& seq = seq_first ? a : b;
    const ObjPtr& count = seq_first ? b : a;
    if (count->type != Object::Type::Scalar ||
        (count->value.kind() != Value::Kind::Integer && count->value.kind() != Value::Kind::Bool)) {
      raise("TypeError", "can't multiply sequence by non-int of type '" + type_name(*count) + "'");
    }
    std::int64_t n = std::max<std::int64_t>(0, count->value.as_integer());
    std::size_t unit = seq->type == Object::Type::List ? seq->items.size() : seq->value.as_text().size();
    if (unit != 0 && static_cast<std::uint64_t>(n) > 10'000'000 / unit) {
      raise("MemoryError", "sequence too large for the cascade shell");
    }
    if (seq->type == Object::Type::List) {
      std::vector<ObjPtr> items;
      for (std::int64_t i = 0; i < n; ++i) items.insert(items.end(), seq->items.begin(), seq->items.end());
      return list_of(std::move(items));
    }
    std::string text;
    for (std::int64_t i = 0; i < n; ++i) text += seq->value.as_text();
    return scalar(Value(text));
  }

  // datetime and date with timedelta, and timedelta with numbers, as Python's datetime module
  // computes them; null when neither side is a date or a timedelta.
  ObjPtr date_arithmetic(const std::string& op, const ObjPtr& a, const ObjPtr& b) {
    auto kind = [](const ObjPtr& o) {
      return o->type == Object::Type::Scalar ? o->value.kind() : Value::Kind::Null;
    };
    bool ta = a->type == Object::Type::TimeDelta, tb = b->type == Object::Type::TimeDelta;
    bool da = kind(a) == Value::Kind::Date || kind(a) == Value::Kind::DateTime;
    bool db_ = kind(b) == Value::Kind::Date || kind(b) == Value::Kind::DateTime;
    if (!ta && !tb && !(da && db_ && op == "-" && kind(a) == kind(b))) return nullptr;
    auto number = [&](const ObjPtr& o) {
      return o->type == Object::Type::Scalar && (kind(o) == Value::Kind::Integer || kind(o) == Value::Kind::Bool ||
                                                 kind(o) == Value::Kind::Real);
    };
    auto ld = [](const ObjPtr& o) {
      return o->type == Object::Type::TimeDelta ? static_cast<long double>(micros_of(*o))
             : o->value.kind() == Value::Kind::Real ? static_cast<long double>(o->value.as_real())
                                                    : static_cast<long double>(o->value.as_integer());
    };
    if (da && db_) {
      if (kind(a) == Value::Kind::Date) {
        return delta(static_cast<long double>(a->value.as_date().days_since_epoch() -
                                              b->value.as_date().days_since_epoch()) * kMicrosPerDay);
      }
      return delta(static_cast<long double>(a->value.as_datetime().micros) -
                   static_cast<long double>(b->value.as_datetime().micros));
    }
    if ((op == "+" || op == "-") && ta && tb) return delta(op == "+" ? ld(a) + ld(b) : ld(a) - ld(b));
    if ((op == "+" && (da || db_)) || (op == "-" && da && tb)) {
      const ObjPtr& when = da ? a : b;
      std::int64_t micros = micros_of(da ? *b : *a);
      if (kind(when) == Value::Kind::Date) {
        // date ± timedelta uses the timedelta's days only, as Python's date does.
        std::int64_t days = delta_parts(micros).days;
        return date_at(when->value.as_date().days_since_epoch() + (op == "-" ? -days : days));
      }
      long double shift = op == "-" ? -static_cast<long double>(micros) : static_cast<long double>(micros);
      return datetime_at(static_cast<long double>(when->value.as_datetime().micros) + shift);
    }
    if (op == "*" && ((ta && number(b)) || (tb && number(a)))) return delta(ld(a) * ld(b));
    if ((op == "/" || op == "//") && ta && (number(b) || tb)) {
      long double divisor = ld(b);
      if (divisor == 0) raise("ZeroDivisionError", tb ? "integer division or modulo by zero" : "division by zero");
      if (op == "/" && tb) return scalar(Value(static_cast<double>(ld(a) / divisor)));
      if (op == "/") return delta(ld(a) / divisor);
      if (tb) return scalar(Value(floor_div(micros_of(*a), micros_of(*b))));
      if (kind(b) == Value::Kind::Real) {
        raise("TypeError", "unsupported operand type(s) for //: 'datetime.timedelta' and 'float'");
      }
      return delta(floor_div(micros_of(*a), b->value.as_integer()));
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
    if (container->type == Object::Type::List) {
      Value k = to_value(key);
      if (k.kind() != Value::Kind::Integer) {
        raise("TypeError", "list indices must be integers or slices, not " + type_name(*key));
      }
      std::int64_t i = k.as_integer();
      auto n = static_cast<std::int64_t>(container->items.size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) raise("IndexError", "list assignment index out of range");
      container->items[static_cast<std::size_t>(i)] = value;
      return;
    }
    if (container->type == Object::Type::Dict) {
      for (std::size_t i = 0; i < container->keys.size(); ++i) {
        if (equal(container->keys[i], key)) {
          container->items[i] = value;
          return;
        }
      }
      container->keys.push_back(key);
      container->items.push_back(value);
      return;
    }
    raise("TypeError", "'" + type_name(*container) + "' object does not support item assignment");
  }

  // n += 1: lists grow in place, as Python's do; everything else is rebound.
  ObjPtr in_place(const std::string& op, const ObjPtr& a, const ObjPtr& b) {
    if (op == "+" && a->type == Object::Type::List) {
      std::vector<ObjPtr> more = iterate(b);
      a->items.insert(a->items.end(), more.begin(), more.end());
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
                                  ? "too many values to unpack (expected " + std::to_string(target->items.size()) + ")"
                                  : "not enough values to unpack (expected " + std::to_string(target->items.size()) +
                                        ", got " + std::to_string(items.size()) + ")");
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
        if (manager->type != Object::Type::Atomic) {
          raise("TypeError", "'" + type_name(*manager) + "' object does not support the context manager protocol");
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
        if (interactive && !(v->type == Object::Type::Scalar && v->value.is_null())) out << repr(v) << "\n";
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
      switch (o->type) {
        case Object::Type::Model:
        case Object::Type::Module:
        case Object::Type::Builtin:
        case Object::Type::Scalar:
        case Object::Type::TimeDelta: return getattr(o, name);
        case Object::Type::Instance: {
          const ModelMeta& m = o->instance->meta();
          const ModelMeta* other = nullptr;
          const Field* f = m.find_field(name);
          if (f != nullptr && f->is_foreign_key() && name == f->name) other = f->target;
          for (const auto& rel : m.related_objects) {
            if (rel.field->type == FieldType::OneToOne && rel.field->related_accessor_name() == name) {
              other = rel.field->model;
            }
          }
          if (other != nullptr) {
            auto placeholder = make(Object::Type::Instance);
            placeholder->instance = std::make_shared<Instance>(*other);
            return placeholder;
          }
          return instance_attr(o, name);
        }
        default: return nullptr;
      }
    } catch (const PyError&) {
      return nullptr;
    } catch (const Error&) {
      return nullptr;
    }
  }

  // Attribute names for completion; methods and other callables end with "(".
  std::vector<std::string> attributes(const ObjPtr& o) {
    std::vector<std::string> out;
    auto queryset_methods = [&](const ModelMeta& m, bool manager) {
      for (const auto& name : kQuerySetMethods) {
        if (manager && (name == "delete" || name == "restore" || name == "hard_delete")) continue;
        if (!m.soft_deletable() && (name == "restore" || name == "hard_delete")) continue;
        out.push_back(name + "(");
      }
    };
    switch (o->type) {
      case Object::Type::Model:
        out = {"objects", "DoesNotExist(", "MultipleObjectsReturned("};
        if (o->model->soft_deletable()) {
          out.push_back("all_objects");
          out.push_back("deleted_objects");
        }
        break;
      case Object::Type::Manager: queryset_methods(*o->model, true); break;
      case Object::Type::QuerySet: queryset_methods(o->qs->model(), false); break;
      case Object::Type::Related: {
        const ModelMeta& m = o->reverse ? *o->field->model
                                        : (o->field->type == FieldType::ManyToMany ? *o->field->target : *o->field->model);
        queryset_methods(m, false);
        if (o->field->type == FieldType::ManyToMany) {
          for (const char* name : {"add(", "remove(", "clear(", "set("}) out.emplace_back(name);
        }
        break;
      }
      case Object::Type::Instance: {
        const ModelMeta& m = o->instance->meta();
        out = {"pk", "save(", "delete(", "refresh_from_db("};
        if (m.soft_deletable()) {
          out.emplace_back("restore(");
          out.emplace_back("hard_delete(");
        }
        for (const auto& name : m.field_names()) out.push_back(name);
        for (const auto& rel : m.related_objects) out.push_back(rel.field->related_accessor_name());
        break;
      }
      case Object::Type::Module:
      case Object::Type::Builtin: {
        auto space = namespaces().find(o->name);
        if (space != namespaces().end()) {
          for (const auto& [attr, builtin_name] : space->second) out.push_back(attr + "(");
        }
        break;
      }
      case Object::Type::Scalar:
      case Object::Type::TimeDelta: out = value_attributes(*o); break;
      default: break;
    }
    return out;
  }

  std::vector<std::string> completions(const std::string& text) {
    std::vector<std::string> out;
    auto dot = text.rfind('.');
    if (dot == std::string::npos) {
      for (const char* word : {"and", "as", "break", "continue", "elif", "else", "False", "for", "from",
                               "if", "import", "in", "is", "None", "not", "or", "pass", "True", "while",
                               "with"}) {
        std::string w = word;
        if (w.compare(0, text.size(), text) != 0) continue;
        bool bare = w == "False" || w == "None" || w == "True" || w == "break" || w == "continue" ||
                    w == "pass" || w == "else";
        out.push_back(bare ? w : w + " ");
      }
      for (const auto& [name, value] : globals) {
        if (name.compare(0, text.size(), text) != 0) continue;
        bool callable = value->type == Object::Type::Builtin || value->type == Object::Type::Model ||
                        value->type == Object::Type::Method || value->type == Object::Type::ExcClass;
        out.push_back(callable ? name + "(" : name);
      }
    } else {
      std::string head = text.substr(0, dot), prefix = text.substr(dot + 1);
      ObjPtr o;
      std::size_t start = 0;
      while (start <= head.size()) {
        std::size_t end = head.find('.', start);
        std::string part = head.substr(start, end == std::string::npos ? std::string::npos : end - start);
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

  void import(const Stmt& s) {
    if (s.names.empty() && s.module == "datetime") {
      auto m = make(Object::Type::Module);
      m->name = "datetime";
      globals["datetime"] = m;
      return;
    }
    // from django.utils import timezone; from django.db import transaction
    if (s.module == "django.utils" || s.module == "django.db") {
      std::string provided = s.module == "django.utils" ? "timezone" : "transaction";
      for (const auto& [name, alias] : s.names) {
        if (name != provided) {
          raise("ImportError", "the cascade shell provides only '" + provided + "' from '" + s.module + "'");
        }
        auto m = make(Object::Type::Module);
        m->name = s.module + "." + name;
        globals[alias] = m;
      }
      return;
    }
    auto space = namespaces().find(s.module == "django.utils.timezone" || s.module == "django.db.transaction" ||
                                           s.module == "datetime"
                                       ? s.module
                                       : std::string());
    if (space != namespaces().end() && !s.names.empty()) {
      for (const auto& imported : s.names) {
        const std::string& name = imported.first;
        const std::string& alias = imported.second;
        auto it = std::find_if(space->second.begin(), space->second.end(),
                               [&](const auto& attr) { return attr.first == name; });
        if (it == space->second.end()) {
          raise("ImportError", "cannot import name '" + name + "' from '" + s.module + "'" +
                                   (s.module == "datetime" ? "" : " (the cascade shell provides only some names)"));
        }
        auto b = make(Object::Type::Builtin);
        b->name = it->second;
        globals[alias] = b;
      }
      return;
    }
    if (s.names.empty()) {
      raise("ModuleNotFoundError", "the cascade shell supports 'from <app>.models import <Model>' imports only");
    }
    if (s.module == "django.db.models") {
      for (const auto& [name, alias] : s.names) {
        if (name != "Q") raise("ImportError", "cannot import name '" + name + "' from 'django.db.models'");
        globals[alias] = globals.at("Q");
      }
      return;
    }
    auto dot = s.module.find(".models");
    std::string app = s.module.substr(0, dot);
    if (dot == std::string::npos || s.module != app + ".models") {
      raise("ModuleNotFoundError", "No module named '" + s.module + "'");
    }
    bool app_known = false;
    for (const ModelMeta* m : db.registry().models()) app_known = app_known || m->app_label == app;
    if (!app_known) raise("ModuleNotFoundError", "No module named '" + app + "'");
    for (const auto& [name, alias] : s.names) {
      if (name == "*") {
        for (const ModelMeta* m : db.registry().models()) {
          if (m->app_label == app && !m->auto_created) globals[m->object_name] = globals.at(m->object_name);
        }
        continue;
      }
      const ModelMeta* m = db.registry().find(app + "." + name);
      if (m == nullptr || m->object_name != name || m->auto_created) {
        raise("ImportError", "cannot import name '" + name + "' from '" + s.module + "'");
      }
      auto cls = make(Object::Type::Model);
      cls->model = m;
      globals[alias] = cls;
    }
  }
};

namespace {
bool truthy(const Object& o) {
  switch (o.type) {
    case Object::Type::Scalar:
      switch (o.value.kind()) {
        case Value::Kind::Null: return false;
        case Value::Kind::Bool: return o.value.as_bool();
        case Value::Kind::Integer: return o.value.as_integer() != 0;
        case Value::Kind::Real: return o.value.as_real() != 0;
        case Value::Kind::Text: return !o.value.as_text().empty();
        default: return true;
      }
    case Object::Type::List:
    case Object::Type::Tuple: return !o.items.empty();
    case Object::Type::Dict: return !o.keys.empty();
    case Object::Type::QuerySet: return o.qs->exists();
    case Object::Type::TimeDelta: return o.value.as_integer() != 0;
    default: return true;
  }
}
}  // namespace


Interpreter::Interpreter(Database& db, std::ostream& out, bool interactive)
    : impl_(std::make_unique<Impl>(db, out, interactive)) {}
Interpreter::~Interpreter() = default;

std::optional<int> Interpreter::exit_requested() const { return impl_->exit_code; }

bool Interpreter::run(const std::string& source, std::ostream& err) {
  struct Containers {
    std::vector<std::weak_ptr<Object>>* saved = t_containers;
    explicit Containers(std::vector<std::weak_ptr<Object>>* mine) { t_containers = mine; }
    ~Containers() { t_containers = saved; }
  } containers(&impl_->containers);
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
    err << "  File \"<string>\", line " << e.where.line << "\n    " << line.substr(indent) << "\n    "
        << std::string(static_cast<std::size_t>(std::max<int>(0, e.where.column - 1 - static_cast<int>(indent))), ' ')
        << "^\n" << e.type << ": " << e.message << "\n";
    return false;
  }
  // Ctrl-C that came while a statement ran but after its last step: Python would raise it at
  // the next one, so it is reported all the same.
  // At the prompt the terminal has echoed ^C: the message goes on the next line.
  const char* keyboard_interrupt = impl_->interactive ? "\nKeyboardInterrupt\n" : "KeyboardInterrupt\n";
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
      err << e.python_name() << ": (" << python_repr(e.what()) << ", {" << impl_->join_reprs(objs) << "})\n";
      return false;
    } catch (const RestrictedError& e) {
      if (interrupted()) return false;
      std::vector<ObjPtr> objs;
      for (const auto& o : e.restricted_objects()) objs.push_back(impl_->wrap(o));
      err << e.python_name() << ": (" << python_repr(e.what()) << ", {" << impl_->join_reprs(objs) << "})\n";
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
