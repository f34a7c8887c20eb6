// The PostgreSQL backend, on libpq.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cascade/db/connection.h"

namespace cascade::db {

// What a postgresql:// (or postgres://) URL says:
//   postgresql://user:password@host:port/dbname?schema=name&connect_timeout=10&sslmode=prefer
// User, password, host and database name may be percent-encoded. `schema` sets the search path
// (the schema must exist); `max_variables` lowers the parameters per statement Cascade uses;
// `lock_timeout` (milliseconds) bounds the wait for a row lock;
// connect_timeout, sslmode and application_name go to libpq.
struct PostgresUrl {
  std::string user, password, host = "localhost", port = "5432", dbname;
  std::string schema;
  int max_variables = 65535;  // lower it to test batching
  // How long a statement waits for a row lock before LockError (SET lock_timeout); unset: the
  // server's setting (by default, for ever; deadlocks are detected regardless).
  std::optional<int> lock_timeout_ms;
  std::map<std::string, std::string> options;  // passed to libpq
  // The URL without the password, for messages.
  std::string describe() const;
};
// Throws ConfigError for a malformed URL or an unknown option.
PostgresUrl parse_postgres_url(std::string_view url);

// Opens a connection; throws OperationalError naming host and port (never the password).
std::unique_ptr<Connection> open_postgres(std::string_view url);

}  // namespace cascade::db
