// What queries and deletes need of a database: its models, its connection, the receivers of its
// signals, and its settings. Database (cascade/database.h) is a Context plus the conveniences an
// application uses (managers by label, typed save / get / remove...); the query and deletion
// layers see only this, so they never depend on the facade built on top of them.
#pragma once

#include <cstdint>
#include <memory>

#include "cascade/db/connection.h"
#include "cascade/error.h"
#include "cascade/model/registry.h"
#include "cascade/signals/signals.h"

namespace cascade {

class Database;

class Context {
 public:
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const Registry& registry() const noexcept { return *registry_; }
  db::Connection& connection() noexcept { return *connection_; }
  // The receivers of this database's saves and deletes.
  Signals& signals() noexcept { return *signals_; }

  // How many keys one statement of a delete handles (default 100000): set-based steps run in
  // chunks so that what the database holds in memory for a statement (the rows a DELETE
  // collects, the keys an IN (subquery) materialises) stays bounded whatever the size of the
  // cascade. REQUIRES: size > 0.
  std::int64_t delete_chunk_size() const noexcept { return delete_chunk_size_; }
  void set_delete_chunk_size(std::int64_t size) {
    if (size <= 0) throw ValueError("the delete chunk size must be positive");
    delete_chunk_size_ = size;
  }

  // The Database this is (every Context is one): what signal receivers are handed.
  Database& database() noexcept;

 protected:
  // REQUIRES: registry.finalized().
  Context(const Registry& registry, std::unique_ptr<db::Connection> connection);
  Context(Context&&) noexcept;
  Context& operator=(Context&&) noexcept;
  ~Context();

 private:
  const Registry* registry_;
  std::unique_ptr<db::Connection> connection_;
  std::unique_ptr<Signals> signals_;
  std::int64_t delete_chunk_size_ = 100000;
};

}  // namespace cascade
