#include "db/sqlite/sqlite_connection.h"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cctype>
#include <filesystem>
#include <unordered_map>
#include <unordered_set>

#include "cascade/error.h"
#include "cascade/model/field.h"
#include "cascade/model/model_meta.h"

namespace cascade::db {
namespace {

constexpr std::size_t kStatementCacheSize = 128;

[[noreturn]] void throw_sqlite(sqlite3* db, int rc, std::string_view context = {}) {
  int extended = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (!context.empty()) message = std::string(context) + ": " + message;
  if ((rc & 0xff) == SQLITE_READONLY && db != nullptr) {
    // SQLite's message names no file.
    const char* file = sqlite3_db_filename(db, "main");
    if (file != nullptr && *file != '\0') message += " (" + std::string(file) + ")";
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: throw IntegrityError(message, extended);
    case SQLITE_BUSY:
    case SQLITE_LOCKED: throw LockError(message, extended);
    case SQLITE_MISUSE:
    case SQLITE_RANGE: throw ProgrammingError(message, extended);
    default: throw OperationalError(message, extended);
  }
}

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

void bind_value(sqlite3* db, sqlite3_stmt* stmt, int index, const Value& v) {
  int rc = SQLITE_OK;
  switch (v.kind()) {
    case Value::Kind::Null: rc = sqlite3_bind_null(stmt, index); break;
    case Value::Kind::Integer: rc = sqlite3_bind_int64(stmt, index, v.as_integer()); break;
    case Value::Kind::Real:
      // SQLite turns a NaN into NULL: the value would be lost when stored and would match
      // nothing in a comparison. Refused rather than changed.
      if (std::isnan(v.as_real())) {
        throw ValueError("SQLite cannot store or compare a float NaN (parameter " +
                         std::to_string(index) + "); it would become NULL");
      }
      rc = sqlite3_bind_double(stmt, index, v.as_real());
      break;
    case Value::Kind::Bool: rc = sqlite3_bind_int(stmt, index, v.as_bool() ? 1 : 0); break;
    case Value::Kind::Text: {
      const std::string& s = v.as_text();
      rc = sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      break;
    }
    case Value::Kind::Blob: {
      const Blob& b = v.as_blob();
      // A zero-length blob must still be a blob, not NULL: pass a non-null pointer.
      static const std::uint8_t kEmpty = 0;
      rc = sqlite3_bind_blob64(stmt, index, b.empty() ? &kEmpty : b.data(), b.size(),
                               SQLITE_TRANSIENT);
      break;
    }
    case Value::Kind::Date: {
      std::string s = v.as_date().iso();
      rc = sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      break;
    }
    case Value::Kind::DateTime: {
      std::string s = v.as_datetime().iso();
      rc = sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      break;
    }
  }
  if (rc != SQLITE_OK) throw_sqlite(db, rc, "binding parameter " + std::to_string(index));
}

Value column_value(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER: return Value(static_cast<std::int64_t>(sqlite3_column_int64(stmt, i)));
    case SQLITE_FLOAT: return Value(sqlite3_column_double(stmt, i));
    case SQLITE_TEXT: {
      auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
      return Value(std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, i))));
    }
    case SQLITE_BLOB: {
      auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt, i));
      return Value(Blob(p, p + sqlite3_column_bytes(stmt, i)));
    }
    default: return Value();
  }
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

class SqliteConnection;

// A statement checked out of the connection's cache (or a one-off one when the cached copy is
// busy, as when the same query is nested). Returned to the cache, reset, when done.
class Lease {
 public:
  Lease(SqliteConnection& conn, sqlite3_stmt* stmt, bool cached) noexcept
      : conn_(&conn), stmt_(stmt), cached_(cached) {}
  Lease(Lease&& o) noexcept : conn_(o.conn_), stmt_(o.stmt_), cached_(o.cached_) {
    o.stmt_ = nullptr;
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  Lease& operator=(Lease&&) = delete;
  ~Lease();
  sqlite3_stmt* get() const noexcept { return stmt_; }

 private:
  SqliteConnection* conn_;
  sqlite3_stmt* stmt_;
  bool cached_;
};

class SqliteRows final : public Rows {
 public:
  SqliteRows(sqlite3* db, Lease lease) : db_(db), lease_(std::move(lease)) {}
  bool next() override {
    if (done_) return false;
    int rc = sqlite3_step(lease_.get());
    if (rc == SQLITE_ROW) return true;
    done_ = true;
    if (rc != SQLITE_DONE) throw_sqlite(db_, rc);
    return false;
  }
  int column_count() const override { return sqlite3_column_count(lease_.get()); }
  Value get(int column) const override { return column_value(lease_.get(), column); }

 private:
  sqlite3* db_;
  Lease lease_;
  bool done_ = false;
};

class SqliteConnection final : public Connection {
 public:
  SqliteConnection(const SqliteUrl& target, std::string url)
      : path_(target.path), url_(std::move(url)) {
    sqlite3* db = nullptr;
    int flags = SQLITE_OPEN_NOMUTEX;
    if (target.mode == "ro") {
      flags |= SQLITE_OPEN_READONLY;
    } else {
      flags |= SQLITE_OPEN_READWRITE;
      if (target.mode == "rwc") flags |= SQLITE_OPEN_CREATE;
    }
    int rc = sqlite3_open_v2(path_.c_str(), &db, flags, nullptr);
    db_ = db;
    if (rc != SQLITE_OK) {
      std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
      sqlite3_close_v2(db);
      db_ = nullptr;
      if ((rc & 0xff) == SQLITE_CANTOPEN && target.mode != "rwc" && path_ != ":memory:" &&
          !std::filesystem::exists(path_)) {
        throw OperationalError("SQLite database " + python_repr(path_) +
                                   " does not exist (it is not created unless the command "
                                   "writes; `cascade migrate` creates it)",
                               rc);
      }
      throw OperationalError("cannot open SQLite database " + python_repr(path_) + ": " + message,
                             rc);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, target.timeout_ms);
    if (target.max_variables > 0) {
      sqlite3_limit(db_, SQLITE_LIMIT_VARIABLE_NUMBER, target.max_variables);
    }
    try {
      execute("PRAGMA foreign_keys = ON");
      if (path_ != ":memory:" && target.journal_mode != "keep" && target.mode != "ro") {
        // WAL (the default) lets readers and one writer work at the same time.
        auto rows = query("PRAGMA journal_mode = " + target.journal_mode);
        while (rows->next()) {
        }
      }
    } catch (...) {
      release_statements();
      sqlite3_close_v2(db_);
      throw;
    }
    features_.vendor = "sqlite";
    features_.max_query_params = sqlite3_limit(db_, SQLITE_LIMIT_VARIABLE_NUMBER, -1);
    features_.can_return_columns_from_insert = sqlite3_libversion_number() >= 3035000;
    features_.can_defer_constraint_checks = true;
    features_.foreign_keys_inline = true;
  }

  ~SqliteConnection() override {
    if (db_ != nullptr) {
      if (sqlite3_get_autocommit(db_) == 0)
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      release_statements();
      sqlite3_close_v2(db_);
    }
  }

  const Features& features() const noexcept override { return features_; }
  std::string describe() const override { return url_; }
  // SQLite's own Ctrl-C (its shell calls it from a signal handler); a statement started after
  // the running ones have ended is not affected.
  void interrupt() noexcept override { sqlite3_interrupt(db_); }
  std::string placeholder(int) const override { return "?"; }
  std::string begin_sql(bool immediate) const override {
    return immediate ? "BEGIN IMMEDIATE" : "BEGIN";
  }

  std::string value_column_type(const Field& f) const override {
    switch (f.type) {
      case FieldType::Auto: return "integer";
      case FieldType::Char: return "varchar(" + std::to_string(f.max_length) + ")";
      case FieldType::Text: return "text";
      case FieldType::Integer: return "integer";
      case FieldType::BigInteger: return "bigint";
      case FieldType::Float: return "real";
      case FieldType::Boolean: return "bool";
      case FieldType::Date: return "date";
      case FieldType::DateTime: return "datetime";
      case FieldType::ForeignKey:
      case FieldType::OneToOne:
      case FieldType::ManyToMany:
      case FieldType::GenericForeignKey:
      case FieldType::GenericRelation: break;  // Connection::column_type handles these
    }
    throw ProgrammingError("no column type for field '" + f.name + "'");
  }
  std::string auto_increment_clause() const override { return "AUTOINCREMENT"; }

  std::int64_t do_execute(std::string_view sql, std::span<const Value> params) override {
    Lease lease = prepare(sql, params);
    int rc;
    while ((rc = sqlite3_step(lease.get())) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) throw_sqlite(db_, rc);
    return sqlite3_changes64(db_);
  }

  std::unique_ptr<Rows> do_query(std::string_view sql, std::span<const Value> params) override {
    return std::make_unique<SqliteRows>(db_, prepare(sql, params));
  }

  std::vector<std::string> table_names() override {
    std::vector<std::string> out;
    auto rows = query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
        "ESCAPE '\\' ORDER BY name");
    while (rows->next()) out.push_back(rows->get(0).as_text());
    return out;
  }

  std::vector<ColumnInfo> columns(std::string_view table) override {
    std::vector<ColumnInfo> out;
    auto rows = query("PRAGMA table_info(" + quote_name(table) + ")");
    while (rows->next()) {
      ColumnInfo c;
      c.name = rows->get(1).as_text();
      c.type = lower(rows->get(2).as_text());
      c.not_null = rows->get(3).as_integer() != 0;
      c.primary_key = rows->get(5).as_integer() != 0;
      out.push_back(std::move(c));
    }
    return out;
  }

  std::vector<ForeignKeyInfo> foreign_keys(std::string_view table) override {
    std::vector<ForeignKeyInfo> out;
    auto rows = query("PRAGMA foreign_key_list(" + quote_name(table) + ")");
    while (rows->next()) {
      ForeignKeyInfo fk;
      fk.target_table = rows->get(2).as_text();
      fk.column = rows->get(3).as_text();
      fk.target_column = rows->get(4).is_null() ? "" : rows->get(4).as_text();
      fk.on_delete = rows->get(6).as_text();
      out.push_back(std::move(fk));
    }
    return out;
  }

  std::vector<IndexInfo> indexes(std::string_view table) override {
    std::vector<IndexInfo> out;
    {
      auto rows = query("PRAGMA index_list(" + quote_name(table) + ")");
      while (rows->next()) {
        IndexInfo idx;
        idx.name = rows->get(1).as_text();
        idx.unique = rows->get(2).as_integer() != 0;
        idx.partial = rows->get(4).as_integer() != 0;
        out.push_back(std::move(idx));
      }
    }
    for (auto& idx : out) {
      auto rows = query("PRAGMA index_info(" + quote_name(idx.name) + ")");
      while (rows->next()) {
        if (!rows->get(2).is_null()) idx.columns.push_back(rows->get(2).as_text());
      }
    }
    return out;
  }

  // Returns a finished statement to the cache.
  void give_back(sqlite3_stmt* stmt) noexcept {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    busy_.erase(stmt);
  }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  std::string url_;
  Features features_;
  std::unordered_map<std::string, StmtPtr> cache_;
  std::unordered_set<sqlite3_stmt*> busy_;

  void release_statements() noexcept {
    busy_.clear();
    cache_.clear();
  }

  Lease prepare(std::string_view sql, std::span<const Value> params) {
    sqlite3_stmt* stmt = nullptr;
    bool cached = false;
    auto it = cache_.find(std::string(sql));
    if (it != cache_.end() && busy_.count(it->second.get()) == 0) {
      stmt = it->second.get();
      cached = true;
    } else {
      const char* tail = nullptr;
      int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                  SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
      if (rc != SQLITE_OK) throw_sqlite(db_, rc);
      if (stmt == nullptr) throw ProgrammingError("empty SQL statement");
      if (tail != nullptr && tail != sql.data() + sql.size()) {
        std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
        if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
          sqlite3_finalize(stmt);
          throw ProgrammingError("You can only execute one statement at a time.");
        }
      }
      if (it == cache_.end()) {
        if (cache_.size() >= kStatementCacheSize) evict_idle();
        cache_.emplace(std::string(sql), StmtPtr(stmt));
        cached = true;
      }
    }
    if (cached) busy_.insert(stmt);
    Lease lease(*this, stmt, cached);
    int expected = sqlite3_bind_parameter_count(stmt);
    if (static_cast<std::size_t>(expected) != params.size()) {
      throw ProgrammingError("Incorrect number of bindings supplied. The current statement uses " +
                             std::to_string(expected) + ", and there are " +
                             std::to_string(params.size()) + " supplied.");
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      bind_value(db_, stmt, static_cast<int>(i + 1), params[i]);
    }
    return lease;
  }

  void evict_idle() noexcept {
    for (auto it = cache_.begin(); it != cache_.end();) {
      if (busy_.count(it->second.get()) == 0) {
        it = cache_.erase(it);
      } else {
        ++it;
      }
    }
  }
};

Lease::~Lease() {
  if (stmt_ == nullptr) return;
  if (cached_) {
    conn_->give_back(stmt_);
  } else {
    sqlite3_finalize(stmt_);
  }
}

}  // namespace

SqliteUrl parse_sqlite_url(std::string_view url, std::string_view base_dir) {
  SqliteUrl out;
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    throw ConfigError("database URL " + python_repr(url) + " has no scheme (scheme://...)");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    auto eq = item.find('=');
    std::string_view key = item.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
    int n = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    bool number = !value.empty() && ec == std::errc() && ptr == value.data() + value.size();
    if (key == "max_variables" && number && n > 0) {
      out.max_variables = n;
    } else if (key == "timeout" && number && n >= 0) {
      out.timeout_ms = n;
    } else if (key == "mode" && (value == "ro" || value == "rw" || value == "rwc")) {
      out.mode = std::string(value);
    } else if (key == "journal_mode" &&
               (value == "wal" || value == "delete" || value == "truncate" || value == "persist" ||
                value == "memory" || value == "off" || value == "keep")) {
      out.journal_mode = std::string(value);
    } else {
      throw ConfigError("SQLite URL option " + python_repr(item) +
                        " is not understood; options: mode=ro|rw|rwc, max_variables=N (N > 0), "
                        "timeout=MS, journal_mode=wal|delete|truncate|persist|memory|off|keep");
    }
  }
  if (rest == ":memory:" || rest == "/:memory:") {
    out.path = ":memory:";
    return out;
  }
  if (rest.empty() || rest.front() != '/') {
    throw ConfigError("SQLite URL " + python_repr(url) +
                      " has a host part; use sqlite:///relative.db, sqlite:////absolute.db or "
                      "sqlite://:memory:");
  }
  rest.remove_prefix(1);  // the empty host's slash
  if (rest.empty()) throw ConfigError("SQLite URL " + python_repr(url) + " names no file");
  if (rest.find('\0') != std::string_view::npos) {
    throw ConfigError("SQLite URL contains a NUL byte");
  }
  std::filesystem::path path(rest);
  if (path.is_relative() && !base_dir.empty()) path = std::filesystem::path(base_dir) / path;
  out.path = path.lexically_normal().string();
  return out;
}

std::unique_ptr<Connection> open_sqlite(std::string_view url, std::string_view base_dir,
                                        bool create_missing) {
  SqliteUrl target = parse_sqlite_url(url, base_dir);
  // A URL's own mode wins; else a command that only reads opens without creating.
  if (!create_missing && target.mode == "rwc" && url.find("mode=rwc") == std::string_view::npos) {
    target.mode = "rw";
  }
  return std::make_unique<SqliteConnection>(target, std::string(url));
}

}  // namespace cascade::db
