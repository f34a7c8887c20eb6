#include "cli/shell/interpreter.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>

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
  }
  return "object";
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
                          "tuple", "dict", "sorted", "type", "isinstance", "range", "sum", "min",
                          "max"}) {
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
      case Object::Type::Builtin: return "<built-in function " + o->name + ">";
      case Object::Type::Method: return "<bound method " + o->name + ">";
      case Object::Type::ExcClass:
        return "<class '" + module_of(*o->model) + "." + o->model->object_name + "." + o->name + "'>";
      case Object::Type::Module: return "<module '" + o->name + "'>";
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
      for (const Instance& inst : qs) out.push_back(wrap(inst));
      return out;
    }
    const auto& names = qs.value_names();
    for (auto& row : qs.rows()) {
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
    static const std::vector<std::string> kQuerySetMethods = {
        "all", "filter", "exclude", "get", "create", "get_or_create", "count", "exists", "first",
        "last", "order_by", "values", "values_list", "update", "delete", "restore",
        "hard_delete", "distinct", "in_bulk"};
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
        if (o->name == "datetime" && (name == "date" || name == "datetime")) {
          auto b = make(Object::Type::Builtin);
          b->name = "datetime." + name;
          return b;
        }
        raise("AttributeError", "module '" + o->name + "' has no attribute '" + name + "'");
      default: break;
    }
    raise("AttributeError", "'" + type_name(*o) + "' object has no attribute '" + name + "'");
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
      Date d{static_cast<int>(parts[0]), static_cast<int>(parts[1]), static_cast<int>(parts[2])};
      if (!d.valid()) raise("ValueError", "day is out of range for month");
      if (!dt) return scalar(Value(d));
      if (parts[3] < 0 || parts[3] > 23 || parts[4] < 0 || parts[4] > 59 || parts[5] < 0 || parts[5] > 59 ||
          parts[6] < 0 || parts[6] > 999999) {
        raise("ValueError", "time component out of range");
      }
      return scalar(Value(DateTime::from_parts(d, static_cast<int>(parts[3]), static_cast<int>(parts[4]),
                                               static_cast<int>(parts[5]), static_cast<int>(parts[6]))));
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

  // ---- evaluation ----------------------------------------------------------------------------

  ObjPtr eval(const ExprPtr& e) {
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
      case Expr::Kind::Slice: raise("SyntaxError", "invalid syntax");
    }
    raise("SyntaxError", "invalid syntax");
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
    ObjPtr key = eval(index);
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
      if (xn && yn) return x.as_real() == y.as_real();
      return x == y;
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
    Value x = to_value(a), y = to_value(b);
    bool numeric = (x.kind() == Value::Kind::Integer || x.kind() == Value::Kind::Real) &&
                   (y.kind() == Value::Kind::Integer || y.kind() == Value::Kind::Real);
    if (!numeric && x.kind() != y.kind()) {
      raise("TypeError", "'" + op + "' not supported between instances of '" + type_name(*a) +
                             "' and '" + type_name(*b) + "'");
    }
    int c = numeric ? (x.as_real() < y.as_real() ? -1 : x.as_real() > y.as_real() ? 1 : 0)
                    : (x < y ? -1 : y < x ? 1 : 0);
    bool r = op == "<" ? c < 0 : op == ">" ? c > 0 : op == "<=" ? c <= 0 : c >= 0;
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
    double p = x.as_real(), q = y.as_real();
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

  void assign(const ExprPtr& target, const ObjPtr& value) {
    switch (target->kind) {
      case Expr::Kind::Name: globals[target->text] = value; return;
      case Expr::Kind::Attribute: setattr(eval(target->object), target->text, value); return;
      case Expr::Kind::Tuple: {
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
        if (container->type == Object::Type::List) {
          std::int64_t i = to_value(eval(target->items[0])).as_integer();
          auto n = static_cast<std::int64_t>(container->items.size());
          if (i < 0) i += n;
          if (i < 0 || i >= n) raise("IndexError", "list assignment index out of range");
          container->items[static_cast<std::size_t>(i)] = value;
          return;
        }
        if (container->type == Object::Type::Dict) {
          ObjPtr key = eval(target->items[0]);
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
      default: raise("SyntaxError", "cannot assign to expression");
    }
  }

  void execute(const Stmt& s) {
    switch (s.kind) {
      case Stmt::Kind::Pass: return;
      case Stmt::Kind::Import: import(s); return;
      case Stmt::Kind::Assign: {
        ObjPtr value = eval(s.value);
        for (const auto& t : s.targets) assign(t, value);
        return;
      }
      case Stmt::Kind::For: {
        for (const auto& item : iterate(eval(s.value))) {
          assign(s.targets[0], item);
          execute(*s.body);
        }
        return;
      }
      case Stmt::Kind::Expr: {
        ObjPtr v = eval(s.value);
        if (interactive && !(v->type == Object::Type::Scalar && v->value.is_null())) out << repr(v) << "\n";
        return;
      }
    }
  }

  void import(const Stmt& s) {
    if (s.names.empty() && s.module == "datetime") {
      auto m = make(Object::Type::Module);
      m->name = "datetime";
      globals["datetime"] = m;
      return;
    }
    if (s.module == "datetime") {
      for (const auto& [name, alias] : s.names) {
        if (name != "date" && name != "datetime") {
          raise("ImportError", "cannot import name '" + name + "' from 'datetime'");
        }
        auto b = make(Object::Type::Builtin);
        b->name = "datetime." + name;
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
        << "^\nSyntaxError: " << e.message << "\n";
    return false;
  }
  for (const auto& s : statements) {
    try {
      // Autocommit, as Django's shell: each ORM call that writes commits on its own (a delete
      // in its own transaction), so an error raised at its commit comes out of the call itself,
      // and what earlier calls wrote stays written when a later one fails.
      impl_->execute(*s);
    } catch (const ExitRequest& e) {
      impl_->exit_code = e.code;
      return true;
    } catch (const PyError& e) {
      err << e.type << ": " << e.message << "\n";
      return false;
    } catch (const ProtectedError& e) {
      std::vector<ObjPtr> objs;
      for (const auto& o : e.protected_objects()) objs.push_back(impl_->wrap(o));
      err << e.python_name() << ": (" << python_repr(e.what()) << ", {" << impl_->join_reprs(objs) << "})\n";
      return false;
    } catch (const RestrictedError& e) {
      std::vector<ObjPtr> objs;
      for (const auto& o : e.restricted_objects()) objs.push_back(impl_->wrap(o));
      err << e.python_name() << ": (" << python_repr(e.what()) << ", {" << impl_->join_reprs(objs) << "})\n";
      return false;
    } catch (const Error& e) {
      err << e.python_name() << ": " << e.what() << "\n";
      return false;
    }
  }
  return true;
}

}  // namespace cascade::shell
