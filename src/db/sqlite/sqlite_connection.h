// The SQLite backend, on the sqlite3 C library.
#pragma once

#include <memory>
#include <string_view>

#include "cascade/db/connection.h"

namespace cascade::db {

// Opens a sqlite:// URL (see Connection::open).
std::unique_ptr<Connection> open_sqlite(std::string_view url, std::string_view base_dir,
                                        bool create_missing = true);

// What a sqlite:// URL says: the file (":memory:" for the in-memory database), resolved against
// base_dir when relative, and the options after '?':
//   max_variables=N  lower SQLite's limit on parameters per statement (as some builds have)
//   timeout=MS       how long to wait for a lock before failing (default 5000)
//   journal_mode=M   SQLite's journal mode for a file database (default wal; "keep" leaves the
//                    file's own mode, for measurements against other tools)
struct SqliteUrl {
  std::string path;
  std::string journal_mode = "wal";
  int max_variables = 0;  // 0: the library's limit
  int timeout_ms = 5000;
  std::string mode = "rwc";  // ro: read-only; rw: read-write, the file must exist; rwc: created
};
// Throws ConfigError for a malformed URL or an unknown option.
SqliteUrl parse_sqlite_url(std::string_view url, std::string_view base_dir);

}  // namespace cascade::db
