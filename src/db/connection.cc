#include "cascade/db/connection.h"

#include "cascade/error.h"
#include "cascade/model/field.h"
#include "cascade/model/model_meta.h"
#include "cascade/version.h"
#if CASCADE_WITH_POSTGRESQL
#include "db/postgres/postgres_connection.h"
#endif
#include "db/sqlite/sqlite_connection.h"

namespace cascade::db {

Connection::~Connection() = default;

std::string Connection::quote_name(std::string_view name) const {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Connection::pattern_sql(std::string_view, const std::string& lhs,
                                    const std::string& rhs) const {
  // SQLite's LIKE ignores ASCII case, so Django uses it for the case-sensitive lookups too.
  return lhs + " LIKE " + rhs + " ESCAPE '\\'";
}

std::string Connection::limit_offset_sql(std::optional<std::int64_t> limit,
                                         std::int64_t offset) const {
  if (!limit && offset == 0) return {};
  std::string out = " LIMIT " + std::to_string(limit ? *limit : -1);
  if (offset > 0) out += " OFFSET " + std::to_string(offset);
  return out;
}

std::string Connection::column_type(const Field& f) const {
  if (f.is_foreign_key()) {
    const Field& key = *f.target_field;
    if (key.type == FieldType::Auto) {
      Field big;
      big.type = FieldType::BigInteger;
      return value_column_type(big);
    }
    return column_type(key);
  }
  if (!f.is_concrete()) {
    throw ProgrammingError(std::string(field_type_name(f.type)) + " field '" + f.name +
                           "' has no column");
  }
  return value_column_type(f);
}

void Connection::on_commit(std::function<void()> fn) {
  if (atomic_depth_ == 0) {
    fn();
    return;
  }
  on_commit_.push_back({atomic_depth_, std::move(fn)});
}

std::unique_ptr<Connection> Connection::open(std::string_view url, std::string_view base_dir,
                                             bool create_missing) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    throw ConfigError("database URL " + python_repr(url) +
                      " has no scheme; expected sqlite:///path.db or sqlite://:memory:");
  }
  std::string_view scheme = url.substr(0, scheme_end);
  if (scheme == "sqlite" || scheme == "sqlite3") {
    return open_sqlite(url, base_dir, create_missing);
  }
  if (scheme == "postgresql" || scheme == "postgres") {
#if CASCADE_WITH_POSTGRESQL
    return open_postgres(url);
#else
    throw ConfigError(
        "this build of Cascade has no PostgreSQL support (configured with "
        "CASCADE_WITH_POSTGRESQL=OFF)");
#endif
  }
  throw ConfigError("unsupported database URL scheme '" + std::string(scheme) +
                    "'; supported: sqlite, postgresql");
}

}  // namespace cascade::db
