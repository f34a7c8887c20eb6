// Database: a Registry of models bound to an open Connection; the object applications work
// with. It hands out Managers (dynamic, by model name) and offers the typed operations on mapped
// structs (cascade/model/mapping.h).
//
//   cascade::Database db = cascade::Database::open(registry, "sqlite:///blog.db");
//   db.migrate();
//   Author a{.name = "Ann"};
//   db.save(a);                          // a.id is set
//   Post p = db.get<Post>(1);            // throws DoesNotExist when there is no such row
//   db.objects("blog.Post").count();     // dynamic: any model by name
//
// The Registry must be finalized and outlive the Database. Not thread-safe: one Database (one
// connection) per thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "cascade/db/connection.h"
#include "cascade/db/schema.h"
#include "cascade/deletion/collector.h"
#include "cascade/query/context.h"
#include "cascade/model/mapping.h"
#include "cascade/model/registry.h"
#include "cascade/query/manager.h"
#include "cascade/query/typed_queryset.h"
#include "cascade/signals/signals.h"

namespace cascade {

class Database : public Context {
 public:
  // REQUIRES: registry.finalized().
  Database(const Registry& registry, std::unique_ptr<db::Connection> connection);
  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept;
  ~Database();
  // Opens `url` (see db::Connection::open). Finalizes nothing: pass a finalized registry.
  static Database open(const Registry& registry, std::string_view url,
                       std::string_view base_dir = {});

  // Creates missing tables (see db::migrate).
  db::MigrationPlan migrate() { return db::migrate(connection(), registry()); }

  // The default manager: soft-deleted rows are hidden (Django's Model.objects).
  Manager objects(std::string_view label) { return Manager(*this, registry().get(label)); }
  Manager objects(const ModelMeta& meta) { return Manager(*this, meta); }
  // Every row, soft-deleted ones included; and soft-deleted rows only.
  Manager all_objects(std::string_view label) {
    return Manager(*this, registry().get(label), QuerySet::Visibility::All);
  }
  Manager deleted_objects(std::string_view label) {
    return Manager(*this, registry().get(label), QuerySet::Visibility::Deleted);
  }
  // Hard-deletes the rows of every soft-deletable model soft-deleted more than `older_than` ago.
  DeleteResult purge(std::chrono::seconds older_than);

  // ---- typed operations on mapped structs ----------------------------------------------------
  // Every row of T's model, as a QuerySet yielding T (Django's Post.objects.all()).
  template <typename T>
  TypedQuerySet<T> objects() {
    return TypedQuerySet<T>(registry(), QuerySet(*this, meta_of<T>(registry())));
  }
  template <typename T>
  TypedQuerySet<T> all_objects() {
    return TypedQuerySet<T>(registry(),
                            QuerySet(*this, meta_of<T>(registry()), QuerySet::Visibility::All));
  }
  template <typename T>
  TypedQuerySet<T> deleted_objects() {
    return TypedQuerySet<T>(registry(),
                            QuerySet(*this, meta_of<T>(registry()), QuerySet::Visibility::Deleted));
  }
  template <typename T>
  DeleteResult hard_remove(T& obj) {
    return through_instance(obj,
                            [&](Instance& inst) { return objects(inst.meta()).hard_remove(inst); });
  }
  template <typename T>
  DeleteResult restore(T& obj) {
    return through_instance(obj,
                            [&](Instance& inst) { return objects(inst.meta()).restore(inst); });
  }
  template <typename T>
  T get(const Value& pk) {
    return from_instance<T>(registry(), objects(meta_of<T>(registry())).get(pk));
  }
  template <typename T>
  std::optional<T> find(const Value& pk) {
    auto inst = objects(meta_of<T>(registry())).find(pk);
    if (!inst) return std::nullopt;
    return from_instance<T>(registry(), *inst);
  }
  // Inserts or updates; sets obj's primary key after an insert.
  template <typename T>
  void save(T& obj) {
    through_instance(obj, [&](Instance& inst) { objects(inst.meta()).save(inst); });
  }
  template <typename T>
  T create(T obj) {
    save(obj);
    return obj;
  }
  template <typename T>
  void refresh(T& obj) {
    through_instance(obj, [&](Instance& inst) { objects(inst.meta()).refresh(inst); });
  }
  // Deletes the object's row and everything its on_delete rules reach (Django's obj.delete());
  // afterwards the object's primary key is unset.
  template <typename T>
  DeleteResult remove(T& obj) {
    return through_instance(obj, [&](Instance& inst) { return objects(inst.meta()).remove(inst); });
  }
  // What remove(obj) would do, without doing it.
  template <typename T>
  Preview preview_remove(const T& obj, std::int64_t max_items = 1000) {
    Instance inst = to_instance(registry(), obj);
    return Collector(*this).collect({&inst}).preview(max_items);
  }

  // A typed receiver: called with the struct for every row of T's model the signal concerns.
  //   db.connect<Post>(cascade::Signal::PreDelete, [](const Post& p) { ... });
  template <typename T>
  Signals::Id connect(Signal signal, std::function<void(const T&)> receiver) {
    const Registry* models = &registry();
    return signals().connect(
        signal,
        [models, receiver = std::move(receiver)](const SignalEvent& e) {
          receiver(from_instance<T>(*models, e.instance));
        },
        &meta_of<T>(registry()));
  }

  template <typename T>
  ManyToManyManager many_to_many(const T& obj, std::string_view name) {
    Instance inst = to_instance(registry(), obj);
    return objects(inst.meta()).many_to_many(inst, name);
  }
  template <typename T>
  std::int64_t count() {
    return objects(meta_of<T>(registry())).count();
  }

 private:
  // Runs `fn` on the struct as an Instance, then copies the Instance back (keys set by an
  // insert, unset by a delete, marks of a soft delete).
  template <typename T, typename F>
  auto through_instance(T& obj, F&& fn) {
    Instance inst = to_instance(registry(), obj);
    if constexpr (std::is_void_v<decltype(fn(inst))>) {
      fn(inst);
      assign(registry(), inst, obj);
    } else {
      auto result = fn(inst);
      assign(registry(), inst, obj);
      return result;
    }
  }
};

}  // namespace cascade
