// What queries and deletes need of a database: its models, its connection, the receivers of its
// signals, and its settings. Database (cascade/database.h) is a Context plus the conveniences an
// application uses (managers by label, typed save / get / remove...); the query and deletion
// layers see only this, so they never depend on the facade built on top of them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "cascade/db/connection.h"
#include "cascade/error.h"
#include "cascade/model/registry.h"
#include "cascade/signals/signals.h"

namespace cascade {

class Database;
namespace detail {
class AuditOperation;
}

// The audit log (cascade/deletion/audit.h): whether deletes, restores and purges through this
// database are recorded in it, and who is doing them and why. Off by default for the C++ API;
// the command-line tool and the admin turn it on. What goes into an entry: docs/audit.md.
struct AuditSettings {
  bool enabled = false;
  // Also record the primary key of every row an operation deletes, marks or restores (one row
  // each in cascade_audit_row, written by INSERT ... SELECT: memory does not grow with them).
  bool record_rows = false;
  std::string user{};    // the application's user ("alice"); empty: none
  std::string tool{};    // what ran the operation: "api", "cascade delete", "admin"...
  std::string reason{};  // why; empty: none given
};

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

  // The audit log's settings for the operations that follow (see AuditScope in
  // cascade/deletion/audit.h for a scoped change). Turning it on does not create the log's
  // tables: AuditLog::migrate() does (the tool and the admin call it).
  AuditSettings& audit() noexcept { return audit_; }
  const AuditSettings& audit() const noexcept { return audit_; }

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
  AuditSettings audit_;
  // The operation being recorded, if any: a delete run inside a purge joins the purge's entry.
  friend class detail::AuditOperation;
  detail::AuditOperation* audit_operation_ = nullptr;
};

}  // namespace cascade
