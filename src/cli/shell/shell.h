// `cascade shell`: the Django-syntax shell, interactive (line editing and history through
// libedit) or running code from -c or standard input, like `manage.py shell`.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "cascade/database.h"

namespace cascade::shell {

// Returns the exit code: 0, or 1 after the first error when running code non-interactively.
int shell_command(Database& db, const std::optional<std::string>& code, std::ostream& out,
                  std::ostream& err);

}  // namespace cascade::shell
