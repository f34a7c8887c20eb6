// The SQLite backend, on the sqlite3 C library.
#pragma once

#include <memory>
#include <string_view>

#include "cascade/db/connection.h"

namespace cascade::db {

// Opens a sqlite:// URL (see Connection::open).
std::unique_ptr<Connection> open_sqlite(std::string_view url, std::string_view base_dir);

// The file path a sqlite:// URL names (":memory:" for the in-memory database), resolved
// against base_dir when relative. Throws ConfigError for a malformed URL.
std::string sqlite_path_from_url(std::string_view url, std::string_view base_dir);

}  // namespace cascade::db
