// `cascade delete`, `cascade restore` and `cascade purge`: previews first, then confirmation
// (unless --yes), then the operation in one transaction.
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>
#include <vector>

#include "cascade/database.h"

namespace cascade::cli {

// Exit codes shared by the three commands.
inline constexpr int kExitDone = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitNothing = 3;  // nothing matched
inline constexpr int kExitBlocked = 4;  // refused by PROTECT / RESTRICT / a restore check

struct OperationOptions {
  std::string model;
  std::vector<std::string> filters;  // field__lookup=value
  bool dry_run = false;
  bool yes = false;
  std::string format = "text";  // text | json
  std::string older_than;       // purge: 30d, 12h, 15m, 90s, 2w
  int max_items = 50;           // objects listed in the preview
};

// The progress line of a long delete: "[######........................] 3/9 delete blog.Post",
// rewritten in place on `err`, once `after` has passed since the call.
DeletionPlan::Progress progress_line(std::ostream& err, std::chrono::milliseconds after);

int delete_command(Database& db, const OperationOptions& o, std::istream& in, std::ostream& out,
                   std::ostream& err);
int restore_command(Database& db, const OperationOptions& o, std::istream& in, std::ostream& out,
                    std::ostream& err);
int purge_command(Database& db, const OperationOptions& o, std::istream& in, std::ostream& out,
                  std::ostream& err);

// "status=draft" -> ("status", "draft"); values for __in / __range are comma-separated;
// __isnull takes true / false. Throws ValueError for a malformed filter.
Lookup parse_filter(const std::string& text);
// "30d" -> seconds. Throws ValueError for a malformed duration, and for one that reaches back
// from `now` before the calendar's first day (0001-01-01).
std::int64_t parse_duration(const std::string& text, const DateTime& now);

}  // namespace cascade::cli
