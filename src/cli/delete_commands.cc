#include "cli/delete_commands.h"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <istream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cascade/db/transaction.h"
#include "cascade/deletion/soft_delete.h"
#include "cascade/error.h"

namespace cascade::cli {
namespace {

using nlohmann::json;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<Value> split_list(const std::string& text) {
  std::vector<Value> out;
  std::size_t start = 0;
  while (true) {
    auto comma = text.find(',', start);
    out.emplace_back(text.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

QuerySet selection(Database& db, const OperationOptions& o, QuerySet::Visibility visibility) {
  const ModelMeta& meta = db.registry().get(o.model);
  QuerySet qs(db, meta, visibility);
  Lookups lookups;
  for (const auto& f : o.filters) lookups.push_back(parse_filter(f));
  if (!lookups.empty()) qs = qs.filter(Q(lookups));
  return qs;
}

json counts_json(const DeleteResult& r) {
  json per = json::object();
  for (const auto& [label, n] : r.per_model) per[label] = n;
  return json{{"total", r.total}, {"per_model", per}};
}

json tree_json(const std::vector<Preview::Node>& nodes) {
  json out = json::array();
  for (const auto& n : nodes) {
    json item{{"model", n.label}, {"object", n.text}, {"marked", n.marked}};
    if (!n.children.empty()) item["children"] = tree_json(n.children);
    out.push_back(item);
  }
  return out;
}

json preview_json(const Preview& p) {
  json out = counts_json(p.counts);
  out["objects"] = tree_json(p.tree);
  out["omitted"] = p.omitted;
  json updates = json::array();
  for (const auto& u : p.updates) {
    updates.push_back({{"model", u.label}, {"field", u.field}, {"value", u.value}, {"rows", u.count}});
  }
  out["updates"] = updates;
  if (!p.blocked_by.empty()) {
    out["blocked"] = {{"error", p.blocked_by}, {"message", p.blocked_message}, {"objects", p.blocking}};
  }
  return out;
}

// The progress line, only when standard error is a terminal.
DeletionPlan::Progress progress_display(std::ostream& err) {
  if (isatty(STDERR_FILENO) == 0) return {};
  return progress_line(err, std::chrono::seconds(1));
}

// Asks on standard input; anything but y / yes declines.
bool confirm(std::istream& in, std::ostream& out, const std::string& question) {
  out << question << " [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(in, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes" || answer == "YES";
}

void print_result(const OperationOptions& o, std::ostream& out, const std::string& verb,
                  const DeleteResult& r) {
  if (o.format == "json") {
    out << json{{"done", verb}, {"result", counts_json(r)}}.dump(2) << "\n";
  } else {
    out << verb << " " << r.total << " object" << (r.total == 1 ? "" : "s") << ": " << r.repr()
        << "\n";
  }
}

}  // namespace

DeletionPlan::Progress progress_line(std::ostream& err, std::chrono::milliseconds after) {
  auto start = std::chrono::steady_clock::now();
  return [&err, start, after](int step, int steps, const std::string& what) {
    if (std::chrono::steady_clock::now() - start < after) return;
    int width = 30;
    int filled = steps > 0 ? width * (step - 1) / steps : 0;
    err << "\r[" << std::string(static_cast<std::size_t>(filled), '#')
        << std::string(static_cast<std::size_t>(width - filled), '.') << "] " << step << "/"
        << steps << " " << what << "\x1b[K" << std::flush;
  };
}

Lookup parse_filter(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ValueError("filter " + python_repr(text) + " must look like field__lookup=value");
  }
  std::string key = text.substr(0, eq);
  std::string value = text.substr(eq + 1);
  if (ends_with(key, "__in") || ends_with(key, "__range")) return {key, Arg(split_list(value))};
  if (ends_with(key, "__isnull")) {
    if (value == "true" || value == "True" || value == "1") return {key, Arg(true)};
    if (value == "false" || value == "False" || value == "0") return {key, Arg(false)};
    throw ValueError("filter " + python_repr(text) + ": __isnull takes true or false");
  }
  if (value == "None") return {key, Arg(nullptr)};
  return {key, Arg(Value(value))};
}

// Seconds from 0001-01-01T00:00:00 (the calendar's first day) to the Unix epoch.
constexpr std::int64_t kSecondsBeforeEpoch = 62135596800;

// Checked arithmetic: a duration that overflowed used to wrap around and select rows
// soft-deleted seconds ago.
std::int64_t parse_duration(const std::string& text, const DateTime& now) {
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  std::string unit(p, text.data() + text.size());
  std::int64_t scale = unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400
                       : unit == "w" ? 604800 : 0;
  bool too_large = ec == std::errc::result_out_of_range;  // refused below, not as a typo
  if ((ec != std::errc() && !too_large) || n < 0 || scale == 0 || p == text.data()) {
    throw ValueError("duration " + python_repr(text) +
                     " must be a number and a unit: s, m, h, d or w (e.g. 30d)");
  }
  std::int64_t seconds = 0;
  bool overflow = too_large || __builtin_mul_overflow(n, scale, &seconds);
  std::int64_t limit = now.micros / 1'000'000 + kSecondsBeforeEpoch;
  if (overflow || seconds > limit) {
    throw ValueError("duration " + python_repr(text) +
                     " reaches back before the year 1: at most " + std::to_string(limit / 86400) +
                     "d from now");
  }
  return seconds;
}

int delete_command(Database& db, const OperationOptions& o, std::istream& in, std::ostream& out,
                   std::ostream& err) {
  QuerySet qs = selection(db, o, QuerySet::Visibility::Live);
  DeletionPlan plan = Collector(db).collect(qs);
  Preview preview = plan.preview(o.max_items);
  if (o.format == "json") {
    out << json{{"preview", preview_json(preview)}, {"dry_run", o.dry_run}}.dump(2) << "\n";
  } else {
    out << preview.text();
  }
  if (!preview.blocked_by.empty()) {
    err << "cascade: nothing deleted: " << preview.blocked_message << "\n";
    return kExitBlocked;
  }
  if (preview.counts.total == 0 && preview.updates.empty()) {
    if (o.format != "json") out << "Nothing matches: nothing to delete.\n";
    return kExitNothing;
  }
  if (o.dry_run) {
    if (o.format != "json") out << "Dry run: nothing was changed.\n";
    return kExitDone;
  }
  if (!o.yes && !confirm(in, out, "Delete these " + std::to_string(preview.counts.total) + " objects?")) {
    out << "Cancelled: nothing was changed.\n";
    return kExitError;
  }
  try {
    DeleteResult r = plan.execute(progress_display(err));
    if (isatty(STDERR_FILENO) != 0) err << "\r\x1b[K" << std::flush;  // clear the progress line
    print_result(o, out, "Deleted", r);
  } catch (const ProtectedError& e) {
    err << "cascade: nothing deleted: " << e.what() << "\n";
    return kExitBlocked;
  } catch (const RestrictedError& e) {
    err << "cascade: nothing deleted: " << e.what() << "\n";
    return kExitBlocked;
  }
  return kExitDone;
}

int restore_command(Database& db, const OperationOptions& o, std::istream& in, std::ostream& out,
                    std::ostream& err) {
  QuerySet qs = selection(db, o, QuerySet::Visibility::Deleted);
  if (!qs.model().soft_deletable()) {
    err << "cascade: " << qs.model().label() << " is not soft-deletable: nothing to restore\n";
    return kExitError;
  }
  DeleteResult preview = restore_preview(qs);
  if (o.format == "json") {
    out << json{{"preview", counts_json(preview)}, {"dry_run", o.dry_run}}.dump(2) << "\n";
  } else {
    out << "Will restore " << preview.total << " object" << (preview.total == 1 ? "" : "s")
        << " (every row their delete operations marked):\n";
    for (const auto& [label, n] : preview.per_model) out << "  " << label << ": " << n << "\n";
  }
  if (preview.total == 0) {
    if (o.format != "json") out << "Nothing matches: nothing to restore.\n";
    return kExitNothing;
  }
  if (o.dry_run) {
    if (o.format != "json") out << "Dry run: nothing was changed.\n";
    return kExitDone;
  }
  if (!o.yes && !confirm(in, out, "Restore these " + std::to_string(preview.total) + " objects?")) {
    out << "Cancelled: nothing was changed.\n";
    return kExitError;
  }
  try {
    print_result(o, out, "Restored", qs.restore());
  } catch (const RestoreError& e) {
    err << "cascade: nothing restored: " << e.what() << "\n";
    return kExitBlocked;
  }
  return kExitDone;
}

int purge_command(Database& db, const OperationOptions& o, std::istream& in, std::ostream& out,
                  std::ostream& err) {
  DateTime cutoff = DateTime::now();
  cutoff.micros -= parse_duration(o.older_than, cutoff) * 1'000'000;
  std::vector<const ModelMeta*> models;
  if (!o.model.empty()) {
    models.push_back(&db.registry().get(o.model));
  } else {
    for (const ModelMeta* m : db.registry().models()) {
      if (m->soft_deletable()) models.push_back(m);
    }
  }
  std::vector<QuerySet> selections;
  std::int64_t total = 0;
  json previews = json::array();
  for (const ModelMeta* m : models) {
    QuerySet qs = QuerySet(db, *m, QuerySet::Visibility::Deleted)
                      .filter(Q(std::string(kDeletedAtField) + "__lt", Arg(cutoff)));
    Preview p = Collector(db).collect(qs, Collector::Mode::Hard).preview(o.max_items);
    if (!p.blocked_by.empty()) {
      err << "cascade: nothing purged: " << p.blocked_message << "\n";
      return kExitBlocked;
    }
    if (p.counts.total == 0) continue;
    total += p.counts.total;
    if (o.format == "json") {
      previews.push_back(preview_json(p));
    } else {
      out << p.text();
    }
    selections.push_back(qs);
  }
  if (o.format == "json") out << json{{"preview", previews}, {"dry_run", o.dry_run}}.dump(2) << "\n";
  if (total == 0) {
    if (o.format != "json") out << "Nothing was soft-deleted before " << cutoff.iso() << ".\n";
    return kExitNothing;
  }
  if (o.dry_run) {
    if (o.format != "json") out << "Dry run: nothing was changed.\n";
    return kExitDone;
  }
  if (!o.yes && !confirm(in, out, "Delete these " + std::to_string(total) + " objects for good?")) {
    out << "Cancelled: nothing was changed.\n";
    return kExitError;
  }
  DeleteResult all;
  db::atomic(db.connection(), db::Atomic::Mode::Immediate, [&] {
    for (const auto& qs : selections) {
      DeleteResult r = qs.hard_remove();
      all.total += r.total;
      all.per_model.insert(all.per_model.end(), r.per_model.begin(), r.per_model.end());
    }
  });
  print_result(o, out, "Purged", all);
  return kExitDone;
}

}  // namespace cascade::cli
