// TypedQuerySet<T>: the QuerySet of a mapped struct (cascade/model/mapping.h), a thin layer
// over the dynamic QuerySet that yields T instead of Instance.
//
//   for (const Post& p : db.objects<Post>().filter({{"status", "draft"}}).order_by({"-id"})) ...
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "cascade/model/mapping.h"
#include "cascade/query/queryset.h"

namespace cascade {

template <typename T>
class TypedQuerySet {
 public:
  TypedQuerySet(const Registry& registry, QuerySet qs) : registry_(&registry), qs_(std::move(qs)) {}

  // The dynamic QuerySet underneath (values(), rows(), sql()...).
  const QuerySet& dynamic() const noexcept { return qs_; }

  TypedQuerySet all() const { return *this; }
  TypedQuerySet filter(std::initializer_list<Lookup> l) const { return wrap(qs_.filter(l)); }
  TypedQuerySet filter(const Q& q) const { return wrap(qs_.filter(q)); }
  TypedQuerySet exclude(std::initializer_list<Lookup> l) const { return wrap(qs_.exclude(l)); }
  TypedQuerySet exclude(const Q& q) const { return wrap(qs_.exclude(q)); }
  TypedQuerySet order_by(std::vector<std::string> f) const {
    return wrap(qs_.order_by(std::move(f)));
  }
  TypedQuerySet distinct() const { return wrap(qs_.distinct()); }
  TypedQuerySet slice(std::int64_t start, std::optional<std::int64_t> stop) const {
    return wrap(qs_.slice(start, stop));
  }

  std::vector<T> fetch() const {
    std::vector<T> out;
    for (const Instance& inst : qs_) out.push_back(from_instance<T>(*registry_, inst));
    return out;
  }
  T get(std::initializer_list<Lookup> l = {}) const {
    return from_instance<T>(*registry_, qs_.get(l));
  }
  T get(const Q& q) const { return from_instance<T>(*registry_, qs_.get(q)); }
  std::optional<T> first() const { return convert(qs_.first()); }
  std::optional<T> last() const { return convert(qs_.last()); }
  T at(std::int64_t index) const { return from_instance<T>(*registry_, qs_.at(index)); }
  std::int64_t count() const { return qs_.count(); }
  bool exists() const { return qs_.exists(); }
  std::int64_t update(std::initializer_list<std::pair<std::string_view, Value>> v) const {
    return qs_.update(v);
  }
  DeleteResult remove() const { return qs_.remove(); }
  Preview preview_remove(std::int64_t max_items = 1000) const {
    return qs_.preview_remove(max_items);
  }

  // Range-for yields T, streamed one row at a time.
  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(const Registry* r, QuerySet::iterator it) : registry_(r), it_(std::move(it)) {
      load();
    }
    const T& operator*() const { return *current_; }
    const T* operator->() const { return &*current_; }
    iterator& operator++() {
      ++it_;
      load();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) { return a.it_ == b.it_; }

   private:
    const Registry* registry_ = nullptr;
    QuerySet::iterator it_;
    std::optional<T> current_;
    void load() {
      if (it_ != QuerySet::iterator()) current_ = from_instance<T>(*registry_, *it_);
    }
  };
  iterator begin() const { return iterator(registry_, qs_.begin()); }
  iterator end() const { return iterator(); }

 private:
  const Registry* registry_;
  QuerySet qs_;

  TypedQuerySet wrap(QuerySet qs) const { return TypedQuerySet(*registry_, std::move(qs)); }
  std::optional<T> convert(const std::optional<Instance>& inst) const {
    if (!inst) return std::nullopt;
    return from_instance<T>(*registry_, *inst);
  }
};

}  // namespace cascade
