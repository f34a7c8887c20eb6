// `cascade inspectdb`: describes an existing database as a cascade.toml (tables, columns,
// foreign keys, unique constraints), as Django's inspectdb writes models.py, so an existing
// database can be explored and cleaned with Cascade without writing models by hand.
#pragma once

#include <string>
#include <vector>

#include "cascade/db/connection.h"

namespace cascade::cli {

// The settings file text for the tables (all when empty) of the connected database; models go
// in app `app`, keep their table names (db_table) and, for foreign keys, the database's ON
// DELETE action (DB_CASCADE, DB_SET_NULL) or else DO_NOTHING, as Django's inspectdb.
std::string inspect_database(db::Connection& c, const std::string& url, const std::string& app,
                             const std::vector<std::string>& tables);

}  // namespace cascade::cli
