// `cascade shell`: the Django-syntax shell, interactive (line editing and history through
// libedit) or running code from -c or standard input, like `manage.py shell`.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "cascade/database.h"

namespace cascade::shell {

// Returns the exit code: 0, or 1 after the first error when running code non-interactively.
// `read_only`: calls that write are refused (Interpreter::set_read_only).
int shell_command(Database& db, const std::optional<std::string>& code, bool read_only,
                  std::ostream& out, std::ostream& err);

}  // namespace cascade::shell
