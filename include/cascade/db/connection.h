// Connection: one open database connection and what Cascade needs to know about its backend
// (Django's DatabaseWrapper). Backends differ only through Features (declarative flags and limits)
// and the virtual operations below; nothing above this layer names a vendor.
//
// A Connection is not thread-safe: use one per thread. Transactions are managed with Atomic
// (cascade/db/transaction.h), which nests through savepoints.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cascade/value.h"

namespace cascade {
struct Field;
}

namespace cascade::db {

struct Features {
  std::string vendor;  // "sqlite": for messages only; code tests the flags below
  // Most parameters one statement may bind (SQLite's SQLITE_LIMIT_VARIABLE_NUMBER).
  int max_query_params = 999;
  // INSERT ... RETURNING gives the new primary key.
  bool can_return_columns_from_insert = true;
  // Foreign keys can be checked at commit (DEFERRABLE INITIALLY DEFERRED).
  bool can_defer_constraint_checks = true;
  // Foreign keys must be declared inside CREATE TABLE (no ALTER TABLE ADD CONSTRAINT).
  bool foreign_keys_inline = true;
  // CREATE INDEX ... WHERE (partial indexes).
  bool supports_partial_indexes = true;
  // Database-level ON DELETE actions (Django's supports_on_delete_db_*).
  bool supports_on_delete_db_cascade = true;
  bool supports_on_delete_db_null = true;
  bool supports_on_delete_db_default = true;
  // SELECT ... FOR UPDATE locks rows (a delete locks the parents it removes before it reads
  // their children, so that a concurrent insert cannot slip a child in between). Without it the
  // database has one writer at a time and Atomic::Mode::Immediate serializes deletes.
  bool supports_select_for_update = false;
};

// One column of an existing table, as introspection reports it.
struct ColumnInfo {
  std::string name;
  std::string type;  // the declared type, lowercase: "varchar(200)", "integer"
  bool not_null = false;
  bool primary_key = false;
};

struct ForeignKeyInfo {
  std::string column;
  std::string target_table;
  std::string target_column;
  std::string on_delete;  // "NO ACTION", "CASCADE", "SET NULL", ...
};

struct IndexInfo {
  std::string name;
  std::vector<std::string> columns;
  bool unique = false;
  bool partial = false;
};

// A result set being read. Values come back in the database's own kinds (integers for SQLite
// booleans, text for SQLite dates); Field::to_python converts them.
class Rows {
 public:
  virtual ~Rows() = default;
  // Advances to the next row; false at the end.
  virtual bool next() = 0;
  virtual int column_count() const = 0;
  // REQUIRES: next() returned true; 0 <= column < column_count().
  virtual Value get(int column) const = 0;
};

class Connection {
 public:
  virtual ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Opens a connection for a database URL:
  //   sqlite:///relative.db   (relative to base_dir, or the working directory when empty)
  //   sqlite:////absolute.db  sqlite://:memory:
  // SQLite URL options: mode=ro (read-only), mode=rw (the file must exist), mode=rwc (the
  // default: created if missing), timeout=MS, max_variables=N, journal_mode=...
  // `create_missing` false: a missing SQLite file is an error, not a new empty database (for
  // commands that only read); a URL's explicit mode=rwc still creates it.
  // Throws ConfigError for a URL Cascade cannot use, OperationalError when it cannot connect.
  static std::unique_ptr<Connection> open(std::string_view url, std::string_view base_dir = {},
                                          bool create_missing = true);

  virtual const Features& features() const noexcept = 0;
  // The URL with any password removed, for messages.
  virtual std::string describe() const = 0;
  // Asks the statement running on this connection, if any, to stop early: it fails with
  // OperationalError (Ctrl-C in `cascade shell`). Async-signal-safe, and may be called from
  // another thread; without a running statement it does nothing.
  virtual void interrupt() noexcept {}

  // ---- SQL dialect ---------------------------------------------------------------------------
  // Quotes an identifier ("name", with embedded quotes doubled).
  virtual std::string quote_name(std::string_view name) const;
  // The placeholder for the n-th parameter (1-based): "?" or "$n".
  virtual std::string placeholder(int n) const = 0;
  // The column type for a field in CREATE TABLE: "varchar(200)", "integer", ... A foreign key
  // takes its target key's type (the 64-bit integer type for an auto key).
  std::string column_type(const Field& field) const;
  // What follows "PRIMARY KEY" for an auto-incrementing key ("AUTOINCREMENT").
  virtual std::string auto_increment_clause() const = 0;
  // The condition for a pattern lookup (iexact, contains, icontains, startswith, istartswith,
  // endswith, iendswith) comparing `lhs` with `rhs`, a placeholder whose value is already a
  // LIKE pattern escaped with '\'. The default is SQLite's, as Django writes it.
  virtual std::string pattern_sql(std::string_view lookup, const std::string& lhs,
                                  const std::string& rhs) const;
  // " LIMIT n OFFSET m" (or "" when neither applies).
  virtual std::string limit_offset_sql(std::optional<std::int64_t> limit,
                                       std::int64_t offset) const;
  virtual std::string random_function() const { return "RANDOM()"; }
  // CREATE TEMP TABLE statements for tables that live until the transaction ends.
  virtual std::string create_temp_table_sql(const std::string& name,
                                            const std::string& columns) const {
    return "CREATE TEMP TABLE " + quote_name(name) + " (" + columns + ")";
  }

  // The statement that refreshes the planner's statistics of a table just filled (its quoted
  // name), or "" where the backend needs none.
  virtual std::string refresh_statistics_sql(const std::string& quoted_table) const {
    (void)quoted_table;
    return "";
  }

  // The statement that opens a transaction; `immediate` asks for the write lock at once
  // (see Atomic::Mode).
  virtual std::string begin_sql(bool immediate) const {
    (void)immediate;
    return "BEGIN";
  }

  // ---- statements ----------------------------------------------------------------------------
  // Runs one statement with bound parameters; returns the number of rows changed.
  // Throws IntegrityError, OperationalError or ProgrammingError with the database's message.
  std::int64_t execute(std::string_view sql, std::span<const Value> params = {}) {
    ++statements_;
    if (observer_) observer_(sql, params);
    return do_execute(sql, params);
  }
  // Runs a query; rows are read one at a time from the returned cursor, which must be
  // destroyed before the connection.
  std::unique_ptr<Rows> query(std::string_view sql, std::span<const Value> params = {}) {
    ++statements_;
    if (observer_) observer_(sql, params);
    return do_query(sql, params);
  }
  // Number of statements executed so far (for tests and benchmarks).
  std::int64_t statement_count() const noexcept { return statements_; }
  // Called with each statement before it runs (Django's CaptureQueriesContext); empty: none.
  // Returns the previous observer.
  using StatementObserver =
      std::function<void(std::string_view sql, std::span<const Value> params)>;
  StatementObserver observe_statements(StatementObserver observer) {
    std::swap(observer, observer_);
    return observer;
  }

  // ---- introspection -------------------------------------------------------------------------
  virtual std::vector<std::string> table_names() = 0;
  virtual std::vector<ColumnInfo> columns(std::string_view table) = 0;
  virtual std::vector<ForeignKeyInfo> foreign_keys(std::string_view table) = 0;
  virtual std::vector<IndexInfo> indexes(std::string_view table) = 0;

  // ---- transactions (see Atomic) -------------------------------------------------------------
  // Depth of nested Atomic blocks: 0 outside any.
  int atomic_depth() const noexcept { return atomic_depth_; }
  bool in_atomic_block() const noexcept { return atomic_depth_ > 0; }
  // Runs `fn` after the outermost transaction commits (immediately outside any Atomic block);
  // dropped when the block (or savepoint) it was registered in rolls back.
  void on_commit(std::function<void()> fn);

 protected:
  Connection() = default;
  virtual std::int64_t do_execute(std::string_view sql, std::span<const Value> params) = 0;
  virtual std::unique_ptr<Rows> do_query(std::string_view sql, std::span<const Value> params) = 0;
  // The vendor's type for a field that is not a relation.
  virtual std::string value_column_type(const Field& field) const = 0;

 private:
  friend class Atomic;
  struct PendingCallback {
    int depth;
    std::function<void()> fn;
  };
  int atomic_depth_ = 0;
  int savepoint_counter_ = 0;
  std::int64_t statements_ = 0;
  StatementObserver observer_;
  std::vector<PendingCallback> on_commit_;
};

}  // namespace cascade::db
