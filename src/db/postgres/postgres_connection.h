// The PostgreSQL backend, on libpq.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cascade/db/connection.h"

namespace cascade::db {

// What a postgresql:// (or postgres://) URL says: libpq's connection URI
//   postgresql://user:password@host:port/dbname?sslmode=require&target_session_attrs=any
// with every parameter libpq knows (several hosts "h1:5432,h2:5433", IPv6 "[::1]:5433",
// sslrootcert, passfile, service, ...), plus Cascade's own options, taken out before libpq sees
// the URI: `schema` sets the search path (the schema must exist); `max_variables` lowers the
// parameters per statement Cascade uses; `lock_timeout` (milliseconds) bounds the wait for a
// row lock. connect_timeout defaults to 10 seconds.
struct PostgresUrl {
  std::string user, password, host, port = "5432", dbname;
  std::string schema;
  int max_variables = 65535;  // lower it to test batching
  // How long a statement waits for a row lock before LockError (SET lock_timeout); unset: the
  // server's setting (by default, for ever; deadlocks are detected regardless).
  std::optional<int> lock_timeout_ms;
  std::map<std::string, std::string> options;  // libpq's other parameters, as parsed
  // host:port for messages ("localhost:5432", "[::1]:5433", "a:1,b:2").
  std::string where() const;
  // The URL without the password, for messages.
  std::string describe() const;
};
// Throws ConfigError for a malformed URL, a parameter libpq does not know, or a bad port.
PostgresUrl parse_postgres_url(std::string_view url);

// Opens a connection; throws OperationalError naming host and port (never the password).
std::unique_ptr<Connection> open_postgres(std::string_view url);

}  // namespace cascade::db
