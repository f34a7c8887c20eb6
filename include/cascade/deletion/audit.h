// The audit log: one entry per delete, soft delete, restore and purge, written in the
// operation's own transaction (a delete that rolls back leaves no entry), whatever ran it: the
// C++ API, the command-line tool, the shell, a view or the admin.
//
// Recording is set per database (Context::audit(): on or off, who, why). An entry holds the
// operation id (for a soft delete, the deletion_id its rows carry), the time, who (the
// application's user, the tool, the operating-system user), the root model and the first
// kRootKeysKept root keys with their exact number, the counts per model, and the reason.
// With AuditSettings::record_rows, the primary key of every row the operation wrote is kept
// too, copied by the database from the rows themselves (INSERT ... SELECT) so that memory does
// not grow with the cascade.
//
// Tables: cascade_audit_log (entries) and cascade_audit_row (recorded rows), created by
// AuditLog::migrate().
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cascade/query/context.h"
#include "cascade/results.h"
#include "cascade/value.h"

namespace cascade {

class Registry;

// What an entry records, in the log's `action` column.
inline constexpr std::string_view kAuditDelete = "delete";
inline constexpr std::string_view kAuditSoftDelete = "soft_delete";
inline constexpr std::string_view kAuditRestore = "restore";
inline constexpr std::string_view kAuditPurge = "purge";

struct AuditEntry {
  std::int64_t id = 0;    // the log's own key, given when the entry is written
  std::string operation;  // a UUID; a soft delete's deletion_id
  std::string action;     // kAuditDelete, kAuditSoftDelete, kAuditRestore or kAuditPurge
  DateTime at;            // when the operation ran (UTC)
  std::string user;       // the application's user; empty: none
  std::string tool;       // "api", "cascade delete", "cascade shell", "admin"...
  std::string os_user;    // the operating-system user of the process
  std::string reason;
  std::string root_model;              // "blog.Post"; a purge: the models it covered
  std::vector<std::string> root_keys;  // the first kRootKeysKept, as text
  std::int64_t root_count = 0;         // how many roots in all
  DeleteResult counts;                 // rows deleted / marked / restored, per model
  std::vector<std::string> refers_to;  // a restore: the operations it undid
  bool rows_recorded = false;          // cascade_audit_row holds every row's key
};

inline constexpr std::int64_t kRootKeysKept = 100;

// Which entries AuditLog lists; every field empty: all of them.
struct AuditFilter {
  std::string action{};     // empty: any
  std::string model{};      // entries whose counts include this model label; empty: any
  std::string user{};       // empty: any
  std::string operation{};  // one operation; empty: any
  std::optional<DateTime> since{};
};

// Reading the log, and creating its tables.
class AuditLog {
 public:
  explicit AuditLog(Context& db) : db_(db) {}

  // The log's models (cascade_audit.LogEntry, cascade_audit.LogRow).
  static const Registry& registry();
  // Creates the log's tables where missing.
  void migrate();
  // Whether the tables exist.
  bool exists();

  using Filter = AuditFilter;
  // Newest first.
  std::vector<AuditEntry> entries(const Filter& filter = {}, std::int64_t limit = 100,
                                  std::int64_t offset = 0);
  std::int64_t count(const Filter& filter = {});
  std::optional<AuditEntry> find(const std::string& operation);
  // The recorded rows of an operation, `fn(model label, primary key as text)`, streamed in
  // batches (model, then key order).
  void for_each_row(const std::string& operation,
                    const std::function<void(const std::string&, const std::string&)>& fn);

 private:
  Context& db_;
};

// Changes a database's audit settings for a scope, and puts the old ones back at its end.
class AuditScope {
 public:
  AuditScope(Context& db, AuditSettings settings) : db_(db), saved_(db.audit()) {
    db.audit() = std::move(settings);
  }
  ~AuditScope() { db_.audit() = std::move(saved_); }
  AuditScope(const AuditScope&) = delete;
  AuditScope& operator=(const AuditScope&) = delete;

 private:
  Context& db_;
  AuditSettings saved_;
};

}  // namespace cascade
