// `cascade inspect`: the models, their fields, relations, delete policies and row counts;
// `cascade check`: the models against the database.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "cascade/db/connection.h"
#include "cascade/model/registry.h"

namespace cascade::cli {

// Prints every model (or only `only`, by label or name). Returns the exit code.
int inspect_command(db::Connection& connection, const Registry& registry,
                    const std::vector<std::string>& only, std::ostream& out);

// `cascade check`: the models against the database: missing tables, columns, constraints and
// ON DELETE rules that differ from the models (errors), and foreign-key columns without an
// index (warnings). Returns 0 when there is no error, else 1.
int check_command(db::Connection& connection, const Registry& registry, std::ostream& out);

// One line describing a field: "char(200), unique, default 'x'".
std::string describe_field(const Field& field);

}  // namespace cascade::cli
