// The shell's objects: one type for each kind of Python object the shell knows, held in a
// std::variant. Objects are shared, as Python's references are: a list bound to two names is
// one list, and an instance changed through one name is changed for the other.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "cascade/database.h"

namespace cascade::shell {

struct Object;
using ObjPtr = std::shared_ptr<Object>;
using Args = std::vector<ObjPtr>;                            // a call's positional arguments
using Kwargs = std::vector<std::pair<std::string, ObjPtr>>;  // and its keyword arguments

// A method table and one of its entries (interpreter.cc): what an object's attributes are.
struct Member;
struct MemberTable;

// None, bool, int, float, str, bytes, date and datetime are plain `Value`s.
struct List {
  std::vector<ObjPtr> items;
};
struct Tuple {
  std::vector<ObjPtr> items;
};
struct Dict {
  std::vector<ObjPtr> keys;  // in insertion order, as Python's
  std::vector<ObjPtr> values;
};
// Post: a model class.
struct ModelClass {
  const ModelMeta* model;
};
// Post.DoesNotExist, Post.MultipleObjectsReturned.
struct ExceptionClass {
  const ModelMeta* model;
  std::string name;
};
// Post.objects, and all_objects / deleted_objects on soft-deletable models.
struct ManagerObject {
  const ModelMeta* model;
  QuerySet::Visibility visibility;
};
struct QuerySetObject {
  QuerySet qs;
};
struct InstanceObject {
  Instance instance;
};
// author.posts, post.tags: the reverse side of a foreign key, or either side of a many-to-many,
// for one instance.
struct RelatedManager {
  ObjPtr owner;        // the instance
  const Field* field;  // the relation
  bool reverse;        // owner is the relation's target
  std::string name;    // the accessor
};
struct QObject {
  Q q;
};
// datetime.timedelta, in microseconds.
struct TimeDelta {
  std::int64_t micros;
};
// `import datetime`, `from django.utils import timezone`: the module's functions.
struct Module {
  const MemberTable* table;
};
// A function of a module (the builtins are one): print, datetime.date, timezone.now.
struct Function {
  const MemberTable* module;
  const Member* member;
};
// qs.filter, post.save, d.isoformat: a method with its object.
struct BoundMethod {
  ObjPtr self;
  const MemberTable* table;
  const Member* member;
};
// transaction.atomic(): a context manager for `with`.
struct AtomicBlock {};

struct Object {
  std::variant<Value, List, Tuple, Dict, ModelClass, ExceptionClass, ManagerObject, QuerySetObject,
               InstanceObject, RelatedManager, QObject, TimeDelta, Module, Function, BoundMethod,
               AtomicBlock>
      v;

  template <class T>
  bool is() const {
    return std::holds_alternative<T>(v);
  }
  // The object as a T, or null.
  template <class T>
  T* as() {
    return std::get_if<T>(&v);
  }
  template <class T>
  const T* as() const {
    return std::get_if<T>(&v);
  }
};

}  // namespace cascade::shell
