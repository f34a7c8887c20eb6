// Manager: the per-model entry point for reading and writing rows by model name (Django's
// Model.objects), and ManyToManyManager for one instance's many-to-many relation (Django's
// post.tags). These are the dynamic forms; Database's templates give the typed ones.
//
// A Manager refers to a Database and a ModelMeta, both of which must outlive it. Not
// thread-safe (it uses the Database's connection).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cascade/model/instance.h"
#include "cascade/results.h"
#include "cascade/query/queryset.h"

namespace cascade {

class Context;

class ManyToManyManager {
 public:
  // `field` is a ManyToMany field; `reverse` is true when managing it from its target's side
  // (tag.posts for Post.tags).
  ManyToManyManager(Context& db, const Field& field, bool reverse, Value owner_pk);
  // The through model's key to the other side (Django's target_field).
  const Field& target_field() const noexcept { return *target_; }

  // The model on the other side.
  const ModelMeta& model() const noexcept;

  // Adds links to the given primary keys; links that exist already are left alone (Django's
  // add()). Throws IntegrityError at commit when a key does not exist.
  void add(std::span<const Value> pks);
  void add(std::initializer_list<Value> pks) {
    add(std::span<const Value>(pks.begin(), pks.size()));
  }
  void remove(std::span<const Value> pks);
  void remove(std::initializer_list<Value> pks) {
    remove(std::span<const Value>(pks.begin(), pks.size()));
  }
  void clear();
  // Makes the links exactly `pks`: removes the others, adds the missing ones.
  void set(std::span<const Value> pks);
  void set(std::initializer_list<Value> pks) {
    set(std::span<const Value>(pks.begin(), pks.size()));
  }

  // The linked primary keys, in ascending order.
  std::vector<Value> pks() const;
  // The linked instances, in primary key order.
  std::vector<Instance> all() const;

 private:
  Context& db_;
  const ModelMeta& through_;
  const Field* source_;  // through FK pointing at the owner's side
  const Field* target_;  // through FK pointing at the other side
  Value owner_pk_;
  bool symmetrical_ = false;  // links are stored in both directions
};

class Manager {
 public:
  Manager(Context& db, const ModelMeta& meta,
          QuerySet::Visibility visibility = QuerySet::Visibility::Live) noexcept
      : db_(db), meta_(meta), visibility_(visibility) {}

  const ModelMeta& meta() const noexcept { return meta_; }

  // Every row, as a QuerySet to refine (Django's Model.objects.all()).
  QuerySet all() const { return QuerySet(db_, meta_, visibility_); }
  QuerySet filter(std::initializer_list<Lookup> lookups) const { return all().filter(lookups); }
  QuerySet filter(const Q& q) const { return all().filter(q); }
  QuerySet exclude(std::initializer_list<Lookup> lookups) const { return all().exclude(lookups); }
  QuerySet exclude(const Q& q) const { return all().exclude(q); }
  QuerySet order_by(std::vector<std::string> fields) const {
    return all().order_by(std::move(fields));
  }
  // The one instance matching `q`; DoesNotExist / MultipleObjectsReturned as Django.
  Instance get(const Q& q) const { return all().get(q); }
  // Django's get_or_create(): the instance matching `lookups`, or a new one created from the
  // lookups plus `defaults`. Returns the instance and whether it was created.
  std::pair<Instance, bool> get_or_create(
      const Lookups& lookups, const std::vector<std::pair<std::string, Value>>& defaults = {});

  // Creates and saves an instance: objects.create(title="Hello").
  Instance create(std::initializer_list<std::pair<std::string_view, Value>> values);
  // The row with this primary key; throws DoesNotExist ("Post matching query does not exist.").
  Instance get(const Value& pk);
  // The row with this primary key, or nullopt.
  std::optional<Instance> find(const Value& pk);
  // Inserts the instance when its primary key is unset (and sets it), else updates the row
  // with that key, inserting it when there is none (Django's save()).
  void save(Instance& instance);
  // Deletes the instance's row and everything its on_delete rules reach (Django's
  // instance.delete()); the instance's primary key is unset afterwards.
  // keep_parents: a multi-table child's parent rows stay (Django's keep_parents=True).
  DeleteResult remove(Instance& instance, bool keep_parents = false);
  // Deletes for real, whatever the model's delete policy.
  DeleteResult hard_remove(Instance& instance, bool keep_parents = false);
  // Brings back every row the delete that marked this instance marked (see soft_delete.h).
  DeleteResult restore(Instance& instance);
  // Hard-deletes this model's rows soft-deleted more than `older_than` ago.
  DeleteResult purge(std::chrono::seconds older_than);
  // Reloads every field from the database; throws DoesNotExist when the row is gone.
  void refresh(Instance& instance);
  std::int64_t count() const { return all().count(); }

  // The many-to-many manager of `instance` for `name`: a ManyToMany field of this model, or the
  // reverse accessor of one on another model (tag.posts / tag.post_set).
  ManyToManyManager many_to_many(const Instance& instance, std::string_view name);

 private:
  Context& db_;
  const ModelMeta& meta_;
  QuerySet::Visibility visibility_;

  bool save_row(Instance& instance);  // true when inserted
  // Updates, or inserts, the row of `table` (the model's or a multi-table ancestor's) holding
  // `fields` of the instance, whose first is that table's primary key `pk`; a new automatic
  // key is given to `set_key`. True when inserted.
  bool save_part(Instance& instance, const std::string& table,
                 const std::vector<std::size_t>& fields, const Field& pk,
                 const std::function<void(const Value&)>& set_key);
};

}  // namespace cascade
