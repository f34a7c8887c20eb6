#include "cascade/query/q.h"

#include <algorithm>

#include "cascade/query/queryset.h"

#include "sql/query.h"

namespace cascade {

// The QuerySet's state, shared: it is immutable once built.
Arg::Arg(const QuerySet& subquery) : data_(subquery.state_ptr()) {}

std::string Arg::repr() const {
  if (is_value()) return value().repr();
  if (is_subquery()) return "<QuerySet of " + subquery().model->object_name + ">";
  if (is_mapped()) {
    std::string one = "<" + std::string(mapped().type.name()) + " object>";
    return mapped().list ? "[" + std::to_string(mapped().objects.size()) + " x " + one + "]" : one;
  }
  std::string out = "[";
  for (std::size_t i = 0; i < values().size(); ++i) out += (i ? ", " : "") + values()[i].repr();
  return out + "]";
}

Q::Q(std::string lookup, Arg value) {
  children_.emplace_back(Lookup{std::move(lookup), std::move(value)});
}

Q::Q(std::initializer_list<Lookup> lookups) : Q(Lookups(lookups)) {}

Q::Q(Lookups lookups) {
  // Keyword arguments are sorted by name, as Django's Q(**kwargs) does.
  std::stable_sort(lookups.begin(), lookups.end(),
                   [](const Lookup& a, const Lookup& b) { return a.first < b.first; });
  for (auto& l : lookups) children_.emplace_back(std::move(l));
}

Q Q::combine(const Q& a, const Q& b, Kind kind) {
  // Combining with an empty Q gives the other one (Django's _combine).
  if (b.empty()) return a;
  if (a.empty()) return b;
  Q out;
  out.kind_ = kind;
  for (const Q* part : {&a, &b}) {
    // A part with the same connector (or a single child) is squashed into the new node.
    if (!part->negated_ && (part->kind_ == kind || part->children_.size() == 1)) {
      out.children_.insert(out.children_.end(), part->children_.begin(), part->children_.end());
    } else {
      out.children_.emplace_back(*part);
    }
  }
  return out;
}

bool Q::has_mapped() const {
  for (const auto& child : children_) {
    if (const auto* l = std::get_if<Lookup>(&child)) {
      if (l->second.is_mapped()) return true;
    } else if (std::get<Q>(child).has_mapped()) {
      return true;
    }
  }
  return false;
}

Q operator~(const Q& q) {
  Q out = q;
  out.negated_ = !q.negated_;
  return out;
}

std::string Q::repr() const {
  std::string body;
  for (const auto& child : children_) {
    body += body.empty() ? "" : ", ";
    if (const auto* l = std::get_if<Lookup>(&child)) {
      body += "(" + python_repr(l->first) + ", " + l->second.repr() + ")";
    } else {
      std::string inner = std::get<Q>(child).repr();
      body += inner.substr(4, inner.size() - 5);  // strip "<Q: " and ">"
    }
  }
  std::string node = std::string(kind_ == Kind::And ? "AND" : "OR") + ": " + body;
  return "<Q: " + (negated_ ? "(NOT (" + node + "))" : "(" + node + ")") + ">";
}

}  // namespace cascade
