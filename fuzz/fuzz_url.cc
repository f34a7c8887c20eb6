// Fuzzes database URL parsing: parse_sqlite_url (src/db/sqlite/sqlite_connection.cc) and
// parse_postgres_url (src/db/postgres/postgres_connection.cc). Never opens a connection.
//
// Input: a URL. As Connection::open does, the scheme before "://" picks the parser (sqlite,
// sqlite3, postgresql, postgres); URLs without one of those schemes are skipped, since
// Connection::open refuses them before any parser sees them.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cascade/error.h"
#include "db/postgres/postgres_connection.h"
#include "db/sqlite/sqlite_connection.h"
#include "broken.h"

namespace {

constexpr std::size_t kMaxInput = 1024;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kMaxInput) return -1;
  std::string_view url(reinterpret_cast<const char*>(data), size);
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return -1;
  std::string_view scheme = url.substr(0, scheme_end);
  if (scheme == "sqlite" || scheme == "sqlite3") {
    for (std::string_view base_dir : {"", "/srv/project", "relative/dir"}) {
      try {
        auto u = cascade::db::parse_sqlite_url(url, base_dir);
        if (u.path.empty()) broken("parse_sqlite_url gave an empty path");
        if (u.timeout_ms < 0 || u.max_variables < 0)
          broken("parse_sqlite_url gave a negative option");
      } catch (const cascade::ConfigError&) {
      }
    }
  } else if (scheme == "postgresql" || scheme == "postgres") {
    try {
      auto u = cascade::db::parse_postgres_url(url);
      (void)u.describe();
      if (u.max_variables < 1 || u.max_variables > 65535) broken("max_variables out of range");
    } catch (const cascade::ConfigError&) {
    }
  } else {
    return -1;
  }
  return 0;
}
