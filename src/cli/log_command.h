// `cascade log`: the audit log (cascade/deletion/audit.h), newest first, or one operation in
// full with the rows it recorded.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "cascade/database.h"

namespace cascade::cli {

struct LogOptions {
  std::string operation;  // one operation in full; empty: the list
  std::string action;
  std::string model;
  std::string user;
  std::int64_t limit = 20;
  std::int64_t offset = 0;
  bool rows = false;  // with an operation: also every recorded row
  std::string format = "text";
};

// Exit code 0; 1 when the operation is unknown.
int log_command(Database& db, const LogOptions& o, std::ostream& out, std::ostream& err);

}  // namespace cascade::cli
