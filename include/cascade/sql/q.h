// Filter arguments and Q objects: the condition language of QuerySet.filter() / exclude(),
// with Django's lookup syntax ("author__name__startswith").
//
//   qs.filter({{"status", "draft"}, {"author__name__istartswith", "a"}})
//   qs.filter(Q("title__contains", "x") | ~Q("editor", nullptr))
//   qs.filter({{"id__in", Arg::list({1, 2, 3})}, {"author__in", other_queryset}})
//   qs.filter(Q("author", author))  // a mapped struct (cascade/model/mapping.h): its primary key
//
// Values are always bound as parameters; lookup paths are resolved against the models, so
// nothing a user types reaches SQL text. Q objects are immutable values.
#pragma once

#include <concepts>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeindex>
#include <utility>
#include <variant>
#include <vector>

#include "cascade/model/instance.h"
#include "cascade/value.h"

namespace cascade {

class QuerySet;
namespace detail {
struct QueryState;

// Model objects given as lookup values (one, or a list for __in): copies of them, and their
// type (cascade::Instance, or a mapped struct whose binding in the registry reads it). When the
// Q reaches a QuerySet each stands for its primary key, or for the field a foreign key's
// to_field names when the lookup ends at such a key.
struct MappedArg {
  std::type_index type;
  std::vector<std::shared_ptr<const void>> objects;
  bool list = false;
};

// A struct that may stand for a mapped model object: a class type that is none of the other
// kinds of argument.
template <typename T>
concept MappedCandidate =
    std::is_class_v<T> && !std::convertible_to<const T&, Value> &&
    !std::convertible_to<const T&, std::string_view> && !std::derived_from<T, Instance> &&
    !std::derived_from<T, QuerySet> && !std::same_as<T, std::vector<Value>> &&
    !std::same_as<T, std::vector<Instance>>;
}  // namespace detail

// The right-hand side of a lookup: a value, a list (for __in and __range), an instance (its
// primary key), a mapped struct or a list of them (their primary keys, once the Q reaches a
// QuerySet: a struct whose type is not mapped is then a TypeError), or a QuerySet (a subquery,
// for __in).
class Arg {
 public:
  Arg(Value v) : data_(std::move(v)) {}
  Arg(std::nullptr_t) : data_(Value()) {}
  Arg(std::int64_t v) : data_(Value(v)) {}
  Arg(int v) : data_(Value(v)) {}
  Arg(double v) : data_(Value(v)) {}
  Arg(bool v) : data_(Value(v)) {}
  Arg(const char* v) : data_(Value(v)) {}
  Arg(std::string v) : data_(Value(std::move(v))) {}
  Arg(std::string_view v) : data_(Value(v)) {}
  Arg(Date v) : data_(Value(v)) {}
  Arg(DateTime v) : data_(Value(v)) {}
  Arg(std::vector<Value> list) : data_(std::move(list)) {}
  Arg(const Instance& instance)
      : data_(detail::MappedArg{
            typeid(Instance), {std::make_shared<const Instance>(instance)}, false}) {}
  Arg(const std::vector<Instance>& instances)
      : data_(detail::MappedArg{typeid(Instance), {}, true}) {
    auto& mapped = std::get<detail::MappedArg>(data_);
    for (const Instance& i : instances)
      mapped.objects.push_back(std::make_shared<const Instance>(i));
  }
  Arg(const QuerySet& subquery);
  template <detail::MappedCandidate T>
  Arg(const T& object)
      : data_(detail::MappedArg{typeid(T), {std::make_shared<const T>(object)}, false}) {}
  template <detail::MappedCandidate T>
  Arg(const std::vector<T>& objects) : data_(detail::MappedArg{typeid(T), {}, true}) {
    auto& mapped = std::get<detail::MappedArg>(data_);
    for (const T& o : objects) mapped.objects.push_back(std::make_shared<const T>(o));
  }
  static Arg list(std::initializer_list<Value> values) { return Arg(std::vector<Value>(values)); }

  bool is_value() const noexcept { return std::holds_alternative<Value>(data_); }
  bool is_list() const noexcept { return std::holds_alternative<std::vector<Value>>(data_); }
  bool is_subquery() const noexcept {
    return std::holds_alternative<std::shared_ptr<const detail::QueryState>>(data_);
  }
  const Value& value() const { return std::get<Value>(data_); }
  const std::vector<Value>& values() const { return std::get<std::vector<Value>>(data_); }
  // The subquery's representation (what the SQL compiler reads of the QuerySet).
  const detail::QueryState& subquery() const {
    return *std::get<std::shared_ptr<const detail::QueryState>>(data_);
  }
  bool is_mapped() const noexcept { return std::holds_alternative<detail::MappedArg>(data_); }
  const detail::MappedArg& mapped() const { return std::get<detail::MappedArg>(data_); }
  // Python's repr of the argument, for messages.
  std::string repr() const;

 private:
  std::variant<Value, std::vector<Value>, std::shared_ptr<const detail::QueryState>,
               detail::MappedArg>
      data_;
};

using Lookup = std::pair<std::string, Arg>;
using Lookups = std::vector<Lookup>;

// A condition tree: leaves are lookups; nodes combine with & (AND), | (OR) and ~ (NOT).
class Q {
 public:
  enum class Kind { And, Or };

  Q() = default;  // matches everything
  Q(std::string lookup, Arg value);
  Q(std::initializer_list<Lookup> lookups);  // ANDed, as keyword arguments are
  explicit Q(Lookups lookups);

  friend Q operator&(const Q& a, const Q& b) { return combine(a, b, Kind::And); }
  friend Q operator|(const Q& a, const Q& b) { return combine(a, b, Kind::Or); }
  friend Q operator~(const Q& q);

  Kind kind() const noexcept { return kind_; }
  bool negated() const noexcept { return negated_; }
  bool empty() const noexcept { return children_.empty(); }
  // Each child is a lookup or a nested Q.
  using Child = std::variant<Lookup, Q>;
  const std::vector<Child>& children() const noexcept { return children_; }

  // Django's repr: <Q: (AND: ('title', 'x'))>.
  std::string repr() const;

  // The same tree, each lookup's argument replaced by map(lookup name, argument).
  template <typename F>
  Q with_args(const F& map) const {
    Q out = *this;
    for (auto& child : out.children_) {
      if (auto* l = std::get_if<Lookup>(&child)) {
        l->second = map(l->first, l->second);
      } else {
        child = std::get<Q>(child).with_args(map);
      }
    }
    return out;
  }
  // Whether any lookup's argument is a mapped struct.
  bool has_mapped() const;

 private:
  Kind kind_ = Kind::And;
  bool negated_ = false;
  std::vector<Child> children_;

  static Q combine(const Q& a, const Q& b, Kind kind);
};

}  // namespace cascade
