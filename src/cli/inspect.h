// `cascade inspect`: the models, their fields and relations, and row counts.
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

// One line describing a field: "char(200), unique, default 'x'".
std::string describe_field(const Field& field);

}  // namespace cascade::cli
