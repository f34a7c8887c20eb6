#include "cli/delete_commands.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <functional>
#include <istream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cascade/db/transaction.h"
#include "cascade/deletion/soft_delete.h"
#include "cascade/error.h"
#include "model/naming.h"

namespace cascade::cli {
namespace {

using nlohmann::json;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
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

// The field a lookup's path ends on ("author__active" -> Author.active), if it is a forward path.
const Field* final_field(const ModelMeta* model, const std::string& key) {
  const Field* field = nullptr;
  std::size_t start = 0;
  while (model != nullptr && start <= key.size()) {
    auto sep = key.find("__", start);
    std::string part =
        key.substr(start, sep == std::string::npos ? std::string::npos : sep - start);
    const Field* f = part == "pk" ? &model->pk() : model->find_field(part);
    if (f == nullptr) return field;  // a lookup name (or an error the query reports)
    field = f;
    model = f->is_foreign_key() ? f->target : nullptr;
    if (sep == std::string::npos) break;
    start = sep + 2;
  }
  return field;
}

std::string cutoff_text(const DateTime& t) { return t.iso() + " UTC"; }

json value_json(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Null: return nullptr;
    case Value::Kind::Integer: return v.as_integer();
    case Value::Kind::Real: return v.as_real();
    case Value::Kind::Bool: return v.as_bool();
    case Value::Kind::Text: return v.as_text();
    case Value::Kind::DateTime: return v.as_datetime().iso('T') + "Z";
    default: return v.to_string();
  }
}

json counts_json(const DeleteResult& r) {
  json per = json::object();
  for (const auto& [label, n] : r.per_model) per[label] = n;
  return json{{"total", r.total}, {"per_model", per}};
}

json object_json(const Preview::Node& n) {
  return json{{"model", n.label}, {"pk", value_json(n.pk)}, {"object", n.text}};
}

json tree_json(const std::vector<Preview::Node>& nodes) {
  json out = json::array();
  for (const auto& n : nodes) {
    json item = object_json(n);
    item["marked"] = n.marked;
    if (!n.children.empty()) item["children"] = tree_json(n.children);
    out.push_back(item);
  }
  return out;
}

json preview_json(const Preview& p) {
  json out = counts_json(p.counts);
  out["roots"] = p.roots;
  out["objects"] = tree_json(p.tree);
  out["omitted"] = p.omitted;
  json updates = json::array();
  for (const auto& u : p.updates) {
    updates.push_back(
        {{"model", u.label}, {"field", u.field}, {"value", u.value}, {"rows", u.count}});
  }
  out["updates"] = updates;
  json effects = json::array();
  for (const auto& e : p.database_effects) {
    effects.push_back(
        {{"model", e.label}, {"field", e.field}, {"action", e.action}, {"rows", e.count}});
  }
  out["database_effects"] = effects;
  json blocked = nullptr;
  if (p.blocked()) {
    json objects = json::array();
    for (const auto& b : p.blocking) objects.push_back(object_json(b));
    blocked = {{"error", std::string(refusal_name(p.blocked_by))},
               {"message", p.blocked_message},
               {"objects", objects}};
  }
  out["blocked"] = blocked;
  return out;
}

// The progress line, only when standard error is a terminal.
DeletionPlan::Progress progress_display(std::ostream& err) {
  if (isatty(STDERR_FILENO) == 0) return {};
  return progress_line(err, std::chrono::seconds(1));
}
void clear_progress(std::ostream& err) {
  if (isatty(STDERR_FILENO) != 0) err << "\r\x1b[K" << std::flush;
}

std::string objects(std::int64_t n) { return std::to_string(n) + " object" + (n == 1 ? "" : "s"); }

// "Delete this object?" / "Delete these 3 objects?"
std::string question(const std::string& verb, std::int64_t n, const std::string& tail = "") {
  return verb + (n == 1 ? " this object" : " these " + std::to_string(n) + " objects") + tail + "?";
}

// One run of a command: text goes out as it comes; JSON is gathered into one document that is
// printed once, whatever happens (errors included).
class Report {
 public:
  Report(const OperationOptions& o, std::ostream& out, std::ostream& err)
      : o_(o), out_(out), err_(err) {
    doc_["command"] = o.command;
    doc_["model"] = o.model.empty() ? json(nullptr) : json(o.model);
    doc_["filters"] = o.filters;
    doc_["dry_run"] = o.dry_run;
  }

  bool json_mode() const { return o_.format == "json"; }
  json& doc() { return doc_; }
  std::ostream& text() { return json_mode() ? null_ : out_; }

  // Ends the run: sets the status, prints `message` (to stderr for failures), returns `code`.
  int finish(int code, const std::string& status, const std::string& message = {}) {
    doc_["status"] = status;
    if (!message.empty()) {
      doc_["message"] = message;
      if (code == kExitDone || code == kExitNothing) {
        text() << message << "\n";
      } else {
        err_ << "cascade " << o_.command << ": " << message << "\n";
      }
    }
    doc_["exit_code"] = code;
    if (json_mode()) out_ << doc_.dump(2) << "\n";
    return code;
  }

  // Runs the command, turning errors into the exit codes --help lists.
  int run(const std::function<int()>& body) {
    try {
      return body();
    } catch (const UsageError& e) {
      return error(kExitUsage, "UsageError", e.what());
    } catch (const FieldError& e) {
      return error(kExitUsage, e.python_name(), e.what());
    } catch (const LookupError& e) {
      return error(kExitUsage, e.python_name(), e.what());
    } catch (const PreviewChanged& e) {
      return error(kExitChanged, e.python_name(), e.what());
    } catch (const ProtectedError& e) {
      return error(kExitBlocked, e.python_name(), std::string("nothing changed: ") + e.what());
    } catch (const RestrictedError& e) {
      return error(kExitBlocked, e.python_name(), std::string("nothing changed: ") + e.what());
    } catch (const RestoreError& e) {
      return error(kExitBlocked, e.python_name(), std::string("nothing restored: ") + e.what());
    } catch (const IntegrityError& e) {
      return error(kExitBlocked, e.python_name(),
                   std::string("the database refused, so nothing changed: ") + e.what());
    } catch (const Error& e) {
      return error(kExitError, e.python_name(), e.what());
    }
  }

  int error(int code, const std::string& type, const std::string& message) {
    doc_["error"] = {{"type", type}, {"message", message}};
    return finish(code,
                  code == kExitChanged   ? "changed"
                  : code == kExitBlocked ? "refused"
                                         : "error",
                  message);
  }

  // Asks on standard input (the question on standard error); anything but y / yes declines.
  bool confirm(std::istream& in, const std::string& q) {
    if (o_.yes) return true;
    err_ << q << " [y/N] " << std::flush;
    std::string answer;
    if (!std::getline(in, answer)) {
      err_ << "\n";
      return false;
    }
    answer = lower(answer);
    return answer == "y" || answer == "yes";
  }

  void statements(const std::vector<std::string>& sql) {
    if (json_mode()) {
      doc_["sql"] = sql;
      return;
    }
    out_ << "SQL, in one transaction:\n";
    for (const auto& s : sql) out_ << "  " << s << ";\n";
  }

 private:
  const OperationOptions& o_;
  std::ostream& out_;
  std::ostream& err_;
  json doc_ = json::object();
  struct NullBuffer : std::streambuf {
    int overflow(int c) override { return c; }
  } null_buffer_;
  std::ostream null_{&null_buffer_};
};

QuerySet selection(Database& db, const OperationOptions& o, QuerySet::Visibility visibility) {
  const ModelMeta& meta = find_model(db.registry(), o.model);
  QuerySet qs(db, meta, visibility);
  Lookups lookups;
  for (const auto& f : o.filters) lookups.push_back(parse_filter(f, &meta));
  if (!lookups.empty()) qs = qs.filter(Q(lookups));
  // A filter naming no field, or a value its field cannot take, is a command-line error: found
  // here, before any preview.
  try {
    (void)qs.exists();
  } catch (const ValueError& e) {
    throw UsageError("--filter: " + std::string(e.what()));
  } catch (const TypeError& e) {
    throw UsageError("--filter: " + std::string(e.what()));
  }
  return qs;
}

void print_done(Report& rep, const std::string& verb, const DeleteResult& r) {
  rep.doc()["result"] = counts_json(r);
  rep.text() << verb << " " << objects(r.total) << ": " << r.repr() << "\n";
}

// --expect N: the selection must match N rows.
bool expected(Report& rep, const OperationOptions& o, std::int64_t matched,
              const std::string& what) {
  if (!o.expect || *o.expect == matched) return true;
  rep.error(kExitChanged, "ExpectError",
            "--expect " + std::to_string(*o.expect) + " but " + std::to_string(matched) + " " +
                what + (matched == 1 ? " matches" : "s match") + ": nothing changed");
  return false;
}

}  // namespace

const ModelMeta& find_model(const Registry& registry, const std::string& name) {
  try {
    return registry.get(name);
  } catch (const LookupError& e) {
    std::vector<std::string> names;
    for (const ModelMeta* m : registry.models()) {
      if (m->auto_created) continue;
      names.push_back(m->label());
      names.push_back(m->object_name);
    }
    std::string hint = naming::did_you_mean(name, names);
    if (hint.empty()) hint = naming::did_you_mean(lower(name), names);
    throw UsageError("unknown model '" + name + "'" + hint + ": " + e.what());
  }
}

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

Lookup parse_filter(const std::string& text, const ModelMeta* model) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw UsageError("--filter " + python_repr(text) +
                     " must look like field__lookup=value (e.g. status=draft)");
  }
  std::string key = text.substr(0, eq);
  std::string value = text.substr(eq + 1);
  if (ends_with(key, "__in") || ends_with(key, "__range")) return {key, Arg(split_list(value))};
  auto boolean = [&](const char* what) -> Arg {
    std::string v = lower(value);
    if (v == "true" || v == "1" || v == "yes") return Arg(true);
    if (v == "false" || v == "0" || v == "no") return Arg(false);
    throw UsageError("--filter " + python_repr(text) + ": " + what + " takes true or false");
  };
  if (ends_with(key, "__isnull")) return {key, boolean("__isnull")};
  if (value == "None") return {key, Arg(nullptr)};
  const Field* field = final_field(model, key);
  bool exact = field != nullptr && (key == field->name || ends_with(key, "__" + field->name) ||
                                    ends_with(key, "__exact"));
  if (field != nullptr && field->type == FieldType::Boolean && exact) {
    return {key, boolean(("the boolean field '" + field->name + "'").c_str())};
  }
  return {key, Arg(Value(value))};
}

// Checked arithmetic: a duration that overflowed used to wrap around and select rows
// soft-deleted seconds ago. <chrono> gives the units and the calendar's first day; the
// multiplication is checked by hand (chrono's durations wrap around silently).
std::int64_t parse_duration(const std::string& text, const DateTime& now) {
  using namespace std::chrono;
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  std::string unit(p, text.data() + text.size());
  std::int64_t scale = unit == "s"   ? seconds(1).count()
                       : unit == "m" ? duration_cast<seconds>(minutes(1)).count()
                       : unit == "h" ? duration_cast<seconds>(hours(1)).count()
                       : unit == "d" ? duration_cast<seconds>(days(1)).count()
                       : unit == "w" ? duration_cast<seconds>(weeks(1)).count()
                                     : 0;
  bool too_large = ec == std::errc::result_out_of_range;  // refused below, not as a typo
  if ((ec != std::errc() && !too_large) || n < 0 || scale == 0 || p == text.data()) {
    throw ValueError("duration " + python_repr(text) +
                     " must be a number and a unit: s, m, h, d or w (e.g. 30d)");
  }
  std::int64_t total = 0;
  bool overflow = too_large || __builtin_mul_overflow(n, scale, &total);
  // Seconds from the calendar's first day (0001-01-01) to now.
  const std::int64_t before_epoch =
      -duration_cast<seconds>(sys_days(year(1) / January / 1).time_since_epoch()).count();
  std::int64_t limit = now.micros / 1'000'000 + before_epoch;
  if (overflow || total > limit) {
    throw ValueError("duration " + python_repr(text) + " reaches back before the year 1: at most " +
                     std::to_string(limit / 86400) + "d from now");
  }
  return total;
}

int delete_command(Database& db, const OperationOptions& o, std::istream& in, std::ostream& out,
                   std::ostream& err) {
  Report rep(o, out, err);
  return rep.run([&] {
    if (o.filters.empty() && !o.all) {
      throw UsageError("no --filter: to delete every " + o.model +
                       " row (and what their on_delete rules reach), pass --all");
    }
    if (!o.filters.empty() && o.all) throw UsageError("--all and --filter exclude each other");
    QuerySet qs = selection(db, o, QuerySet::Visibility::Live);
    rep.doc()["model"] = qs.model().label();
    bool soft = qs.model().delete_policy == DeletePolicy::Soft ||
                qs.model().delete_policy == DeletePolicy::SoftCascade;
    DeletionPlan plan = Collector(db).collect(qs);
    Preview preview = plan.preview(o.max_items);
    rep.doc()["preview"] = preview_json(preview);
    rep.text() << preview.text();
    if (preview.blocked()) {
      return rep.finish(kExitBlocked, "refused", "nothing deleted: " + preview.blocked_message);
    }
    if (!expected(rep, o, preview.roots, qs.model().label() + " row")) return kExitChanged;
    if (preview.counts.total == 0 && preview.updates.empty()) {
      return rep.finish(kExitNothing, "nothing", "Nothing matches: nothing to delete.");
    }
    if (o.sql) rep.statements(plan.statements(&preview));
    if (o.dry_run) return rep.finish(kExitDone, "dry_run", "Dry run: nothing was changed.");
    std::string verb = soft ? "Soft-delete" : "Delete";
    if (!rep.confirm(in, question(verb, preview.counts.total))) {
      return rep.finish(kExitError, "cancelled", "Cancelled: nothing was changed.");
    }
    DeleteResult r;
    try {
      r = plan.execute(preview, progress_display(err));
      clear_progress(err);
    } catch (const PreviewChanged& e) {
      clear_progress(err);
      Preview now = plan.preview(o.max_items);
      rep.doc()["new_preview"] = preview_json(now);
      rep.text() << "The preview now:\n" << now.text();
      throw;
    }
    print_done(rep, soft ? "Soft-deleted" : "Deleted", r);
    if (soft) {
      rep.text() << "They can be restored: cascade restore " << qs.model().label()
                 << " --filter ...\n";
    }
    return rep.finish(kExitDone, "done");
  });
}

int restore_command(Database& db, const OperationOptions& o, std::istream& in, std::ostream& out,
                    std::ostream& err) {
  Report rep(o, out, err);
  return rep.run([&] {
    const ModelMeta& meta = find_model(db.registry(), o.model);
    if (!meta.soft_deletable()) {
      throw UsageError(meta.label() + " is not soft-deletable (its delete_policy is " +
                       std::string(delete_policy_name(meta.delete_policy)) +
                       "): there is nothing to restore");
    }
    QuerySet qs = selection(db, o, QuerySet::Visibility::Deleted);
    rep.doc()["model"] = meta.label();
    RestorePreview preview = restore_preview(qs);
    json p = counts_json(preview.counts);
    json ops = json::array();
    for (const auto& id : preview.operations) ops.push_back(value_json(id));
    p["operations"] = ops;
    rep.doc()["preview"] = p;
    rep.text() << "Will restore " << objects(preview.counts.total) << " (every row their "
               << preview.operations.size() << " delete operation"
               << (preview.operations.size() == 1 ? "" : "s") << " marked):\n";
    for (const auto& [label, n] : preview.counts.per_model)
      rep.text() << "  " << label << ": " << n << "\n";
    std::int64_t matched = qs.count();
    if (!expected(rep, o, matched, "soft-deleted " + meta.label() + " row")) return kExitChanged;
    if (preview.counts.total == 0) {
      return rep.finish(kExitNothing, "nothing", "Nothing matches: nothing to restore.");
    }
    if (o.dry_run) return rep.finish(kExitDone, "dry_run", "Dry run: nothing was changed.");
    if (!rep.confirm(in, question("Restore", preview.counts.total))) {
      return rep.finish(kExitError, "cancelled", "Cancelled: nothing was changed.");
    }
    print_done(rep, "Restored", restore_soft_deleted(qs, preview));
    return rep.finish(kExitDone, "done");
  });
}

int purge_command(Database& db, const OperationOptions& o, std::istream& in, std::ostream& out,
                  std::ostream& err) {
  Report rep(o, out, err);
  return rep.run([&] {
    DateTime cutoff = DateTime::now();
    try {
      cutoff.micros -= parse_duration(o.older_than, cutoff) * 1'000'000;
    } catch (const ValueError& e) {
      throw UsageError("--older-than: " + std::string(e.what()));
    }
    std::vector<const ModelMeta*> models;
    if (!o.model.empty()) {
      const ModelMeta& meta = find_model(db.registry(), o.model);
      if (!meta.soft_deletable()) {
        throw UsageError(meta.label() + " is not soft-deletable (its delete_policy is " +
                         std::string(delete_policy_name(meta.delete_policy)) +
                         "): there is nothing to purge");
      }
      models.push_back(&meta);
    } else {
      for (const ModelMeta* m : db.registry().models()) {
        if (m->soft_deletable() && !m->proxy) models.push_back(m);
      }
    }
    json labels = json::array();
    for (const ModelMeta* m : models) labels.push_back(m->label());
    rep.doc()["models"] = labels;
    rep.doc()["older_than"] = o.older_than;
    rep.doc()["cutoff"] = cutoff.iso('T') + "Z";
    if (models.empty()) {
      return rep.finish(kExitNothing, "nothing", "No model is soft-deletable: nothing to purge.");
    }
    PurgePlan plan(db, models, cutoff);
    Preview preview = plan.preview(o.max_items);
    rep.doc()["preview"] = preview_json(preview);
    rep.text() << "Rows soft-deleted before " << cutoff_text(cutoff) << ":\n" << preview.text();
    if (preview.blocked()) {
      return rep.finish(kExitBlocked, "refused", "nothing purged: " + preview.blocked_message);
    }
    if (!expected(rep, o, preview.roots, "soft-deleted row")) return kExitChanged;
    if (preview.counts.total == 0 && preview.updates.empty()) {
      return rep.finish(kExitNothing, "nothing",
                        "Nothing was soft-deleted before " + cutoff_text(cutoff) + ".");
    }
    if (o.dry_run) return rep.finish(kExitDone, "dry_run", "Dry run: nothing was changed.");
    if (!rep.confirm(in, question("Delete", preview.counts.total, " for good"))) {
      return rep.finish(kExitError, "cancelled", "Cancelled: nothing was changed.");
    }
    DeleteResult r;
    try {
      r = plan.execute(preview);
    } catch (const PreviewChanged&) {
      Preview now = plan.preview(o.max_items);
      rep.doc()["new_preview"] = preview_json(now);
      rep.text() << "The preview now:\n" << now.text();
      throw;
    }
    print_done(rep, "Purged", r);
    return rep.finish(kExitDone, "done");
  });
}

}  // namespace cascade::cli
