// Filter arguments and Q objects: the condition language of QuerySet.filter() / exclude(),
// with Django's lookup syntax ("author__name__startswith").
//
//   qs.filter({{"status", "draft"}, {"author__name__istartswith", "a"}})
//   qs.filter(Q("title__contains", "x") | ~Q("editor", nullptr))
//   qs.filter({{"id__in", Arg::list({1, 2, 3})}, {"author__in", other_queryset}})
//
// Values are always bound as parameters; lookup paths are resolved against the models, so
// nothing a user types reaches SQL text. Q objects are immutable values.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "cascade/model/instance.h"
#include "cascade/value.h"

namespace cascade {

class QuerySet;
namespace detail {
struct QueryState;
}  // namespace detail

// The right-hand side of a lookup: a value, a list (for __in and __range), an instance (its
// primary key), or a QuerySet (a subquery, for __in).
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
  Arg(const Instance& instance) : data_(instance.pk()) {}
  Arg(const QuerySet& subquery);
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
  // Python's repr of the argument, for messages.
  std::string repr() const;

 private:
  std::variant<Value, std::vector<Value>, std::shared_ptr<const detail::QueryState>> data_;
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

 private:
  Kind kind_ = Kind::And;
  bool negated_ = false;
  std::vector<Child> children_;

  static Q combine(const Q& a, const Q& b, Kind kind);
};

}  // namespace cascade
