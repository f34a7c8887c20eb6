// `cascade delete`, `cascade restore` and `cascade purge`: a preview first, then a confirmation
// (unless --yes), then the operation in one transaction, bound to the preview: if the rows
// changed in between, nothing is changed and the new preview is shown.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "cascade/database.h"

namespace cascade::cli {

// Exit codes shared by the three commands (and --help).
inline constexpr int kExitDone = 0;
inline constexpr int kExitError = 1;    // an error, or the confirmation was declined
inline constexpr int kExitUsage = 2;    // bad option, unknown model, bad filter
inline constexpr int kExitNothing = 3;  // nothing matched
inline constexpr int kExitBlocked =
    4;  // refused: PROTECT / RESTRICT / a restore check / the database
inline constexpr int kExitChanged = 5;  // the rows changed since the preview, or --expect differs

// A command line that cannot be run as given: exit code 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

struct OperationOptions {
  std::string command;  // delete | restore | purge
  std::string model;
  std::vector<std::string> filters;  // field__lookup=value
  bool all = false;                  // delete: every row of the model (no --filter)
  bool dry_run = false;
  bool yes = false;
  bool sql = false;                    // also print the statements the operation will run
  std::string format = "text";         // text | json
  std::string older_than;              // purge: 30d, 12h, 15m, 90s, 2w
  int max_items = 50;                  // objects listed in the preview
  std::optional<std::int64_t> expect;  // the number of rows the selection must match
  std::string reason;                  // kept in the audit log
};

// The progress line of a long delete: "[######........................] 3/9 delete blog.Post",
// rewritten in place on `err`, once `after` has passed since the call.
DeletionPlan::Progress progress_line(std::ostream& err, std::chrono::milliseconds after);

// Each returns the exit code. With --format json, `out` receives exactly one JSON document,
// errors included; the question goes to `err`.
int delete_command(Database& db, const OperationOptions& o, std::istream& in, std::ostream& out,
                   std::ostream& err);
int restore_command(Database& db, const OperationOptions& o, std::istream& in, std::ostream& out,
                    std::ostream& err);
int purge_command(Database& db, const OperationOptions& o, std::istream& in, std::ostream& out,
                  std::ostream& err);

// A model named on the command line: "app.Model" or "Model". Throws UsageError, with the closest
// names, for an unknown one.
const ModelMeta& find_model(const Registry& registry, const std::string& name);

// "status=draft" -> ("status", "draft"); values for __in / __range are comma-separated;
// __isnull takes true / false; a boolean field takes true / false / 1 / 0 (any case).
// Throws UsageError for a malformed filter.
Lookup parse_filter(const std::string& text, const ModelMeta* model = nullptr);
// "30d" -> seconds. Throws ValueError for a malformed duration, and for one that reaches back
// from `now` before the calendar's first day (0001-01-01).
std::int64_t parse_duration(const std::string& text, const DateTime& now);

}  // namespace cascade::cli
