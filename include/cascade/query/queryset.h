// QuerySet: a lazy, chainable, immutable query over one model (Django's QuerySet). Every
// chaining call returns a new QuerySet; nothing runs until the QuerySet is evaluated (fetch,
// iteration, count, exists, get, first, last, rows, in_bulk, update).
//
//   auto drafts = db.objects("blog.Post").filter({{"status", "draft"}}).order_by({"-id"});
//   for (const cascade::Instance& post : drafts) { ... }   // streamed from the database
//   std::int64_t n = drafts.count();
//
// Lookups are validated when filter() / exclude() / order_by() is called (FieldError with
// Django's messages), as Django does. A QuerySet refers to its Database, which must outlive it.
// Not thread-safe: evaluate a QuerySet on the thread that owns its Database.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cascade/model/instance.h"
#include "cascade/results.h"
#include "cascade/sql/q.h"
#include "cascade/sql/query_kinds.h"

namespace cascade {

class Context;
namespace db {
class Rows;
}
namespace detail {
struct QueryState;
}
class Registry;

// `q`, a filter on `model`, with each model object among its arguments (Q("author", author): an
// Instance, or a mapped struct read through the registry's binding of its type) replaced by
// its primary key, or by the to_field's value when the lookup ends at a foreign key with a
// to_field. A struct whose type is not mapped there is a TypeError. filter(), exclude() and
// get_or_create() call it.
Q resolve_mapped(const Q& q, const Registry& registry, const ModelMeta& model);

class QuerySet {
 public:
  // What evaluating the QuerySet yields: instances, or (after values() / values_list()) rows.
  using ResultKind = cascade::ResultKind;
  // Which rows of a soft-deletable model a QuerySet sees (cascade/sql/query_kinds.h).
  using Visibility = cascade::Visibility;

  QuerySet(Context& db, const ModelMeta& model, Visibility visibility = Visibility::Live);

  const ModelMeta& model() const noexcept;
  Context& database() const noexcept;
  ResultKind result_kind() const noexcept;
  // The names of the columns rows() returns (values() / values_list()).
  const std::vector<std::string>& value_names() const noexcept;

  // ---- chaining (each returns a new QuerySet) ------------------------------------------------
  QuerySet all() const;
  QuerySet filter(std::initializer_list<Lookup> lookups) const { return filter(Q(lookups)); }
  QuerySet filter(const Lookups& lookups) const { return filter(Q(lookups)); }
  QuerySet filter(const Q& q) const;
  QuerySet exclude(std::initializer_list<Lookup> lookups) const { return exclude(Q(lookups)); }
  QuerySet exclude(const Lookups& lookups) const { return exclude(Q(lookups)); }
  QuerySet exclude(const Q& q) const;
  // Replaces the ordering: "title", "-published", "author__name", "?" (random). An empty list
  // removes every ordering, the model's default included.
  QuerySet order_by(std::vector<std::string> fields) const;
  QuerySet distinct() const;
  // qs[start:stop] in Python. Negative indices are refused (ValueError), as Django does.
  QuerySet slice(std::int64_t start, std::optional<std::int64_t> stop) const;
  // Rows as dicts of these fields (all concrete fields, by column name, when empty).
  QuerySet values(std::vector<std::string> fields = {}) const;
  // Rows as tuples; `flat` for a single field gives the values themselves.
  QuerySet values_list(std::vector<std::string> fields = {}, bool flat = false) const;

  // ---- evaluation ----------------------------------------------------------------------------
  // Every matching instance (REQUIRES: no values() / values_list()).
  std::vector<Instance> fetch() const;
  // Every matching row as values, in value_names() order (works for instances too: all
  // concrete fields).
  std::vector<std::vector<Value>> rows() const;
  // The one matching instance: DoesNotExist / MultipleObjectsReturned with Django's messages.
  Instance get(std::initializer_list<Lookup> lookups = {}) const { return get(Q(lookups)); }
  Instance get(const Q& q) const;
  std::optional<Instance> first() const;
  std::optional<Instance> last() const;
  // qs[i]: throws IndexError-like cascade::Error ("list index out of range") when missing.
  Instance at(std::int64_t index) const;
  std::int64_t count() const;
  bool exists() const;
  // {key: instance} for these keys (every row when `keys` is nullopt), keyed by `field`,
  // which must be unique (Django's in_bulk).
  std::map<Value, Instance> in_bulk(const std::optional<std::vector<Value>>& keys = std::nullopt,
                                    std::string_view field = "pk") const;
  // UPDATE of every matching row; returns the number of rows changed.
  std::int64_t update(std::initializer_list<std::pair<std::string_view, Value>> values) const;
  std::int64_t update(const std::vector<std::pair<std::string, Value>>& values) const;

  // Deletes every matching row and what their on_delete rules reach (Django's
  // QuerySet.delete()). Throws TypeError for a sliced QuerySet or after values().
  DeleteResult remove() const;
  // What remove() would do, without doing it (at most max_items objects listed).
  Preview preview_remove(std::int64_t max_items = 1000) const;
  // Deletes for real whatever the model's delete policy (Django's delete()).
  DeleteResult hard_remove() const;
  // Brings back every row that the delete operations which marked these rows marked, and
  // nothing else (see cascade/deletion/soft_delete.h).
  DeleteResult restore() const;
  Visibility visibility() const noexcept;

  // Streams matching instances from the database, one row at a time: memory does not grow with
  // the result. Do not write to the same tables while iterating.
  class Cursor {
   public:
    explicit Cursor(const QuerySet& qs);
    ~Cursor();
    Cursor(Cursor&&) noexcept;
    Cursor& operator=(Cursor&&) noexcept;
    // The next instance, or nullopt at the end.
    std::optional<Instance> next();
    // The next row of values (values() / values_list() QuerySets, or all concrete fields).
    std::optional<std::vector<Value>> next_row();

   private:
    const ModelMeta* model_;
    std::unique_ptr<db::Rows> rows_;
    int columns_ = 0;
  };
  Cursor cursor() const { return Cursor(*this); }

  // Range-for over instances, streamed through a Cursor.
  class iterator {
   public:
    using value_type = Instance;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(std::shared_ptr<Cursor> cursor);
    const Instance& operator*() const { return *current_; }
    const Instance* operator->() const { return &*current_; }
    iterator& operator++();
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.current_.has_value() == b.current_.has_value();
    }

   private:
    std::shared_ptr<Cursor> cursor_;
    std::optional<Instance> current_;
  };
  iterator begin() const;
  iterator end() const { return iterator(); }

  // The SELECT this QuerySet runs, with placeholders, and its parameters (for tests, debugging
  // and the tool's previews). Throws like evaluation would for an invalid query.
  std::pair<std::string, std::vector<Value>> sql() const;
  // True when the query provably matches nothing (e.g. pk__in=[]): it runs no SQL.
  bool is_empty() const;

  const detail::QueryState& state() const noexcept { return *state_; }
  const std::shared_ptr<const detail::QueryState>& state_ptr() const noexcept { return state_; }

 private:
  std::shared_ptr<const detail::QueryState> state_;

  explicit QuerySet(std::shared_ptr<const detail::QueryState> state);
  QuerySet with(const std::function<void(detail::QueryState&)>& change) const;
};

}  // namespace cascade
