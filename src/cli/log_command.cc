#include "cli/log_command.h"

#include <nlohmann/json.hpp>
#include <ostream>

#include "cascade/deletion/audit.h"

namespace cascade::cli {
namespace {

using Json = nlohmann::json;

std::string counts_text(const DeleteResult& counts) {
  std::string out;
  for (const auto& [label, n] : counts.per_model) {
    out += (out.empty() ? "" : ", ") + label + ": " + std::to_string(n);
  }
  return out.empty() ? "nothing" : out;
}

std::string who(const AuditEntry& e) {
  return (e.user.empty() ? "" : e.user + " via ") + e.tool + ", OS user " + e.os_user;
}

std::string roots_text(const AuditEntry& e) {
  if (e.action == kAuditPurge) return e.root_model;
  std::string keys;
  for (const auto& k : e.root_keys) keys += (keys.empty() ? "" : ", ") + k;
  if (e.root_count > static_cast<std::int64_t>(e.root_keys.size())) {
    keys += ", ... (" + std::to_string(e.root_count) + " in all)";
  }
  return e.root_model + " [" + keys + "]";
}

Json to_json(const AuditEntry& e) {
  Json counts = Json::object();
  Json order = Json::array();
  for (const auto& [label, n] : e.counts.per_model) {
    counts[label] = n;
    order.push_back(label);
  }
  return Json{{"id", e.id},
              {"operation", e.operation},
              {"action", e.action},
              {"at", e.at.iso('T') + "Z"},
              {"user", e.user},
              {"tool", e.tool},
              {"os_user", e.os_user},
              {"reason", e.reason},
              {"root_model", e.root_model},
              {"root_keys", e.root_keys},
              {"root_count", e.root_count},
              {"counts", counts},
              {"models", order},
              {"total", e.counts.total},
              {"refers_to", e.refers_to},
              {"rows_recorded", e.rows_recorded}};
}

}  // namespace

int log_command(Database& db, const LogOptions& o, std::ostream& out, std::ostream& err) {
  AuditLog log(db);
  const bool json = o.format == "json";
  if (!log.exists()) {
    if (json) {
      out << Json{{"entries", Json::array()}, {"count", 0}}.dump(2) << "\n";
    } else {
      out << "The audit log is empty: nothing has been recorded in this database yet.\n";
    }
    if (!o.operation.empty()) {
      err << "no operation " << o.operation << " in the audit log\n";
      return 1;
    }
    return 0;
  }
  if (!o.operation.empty()) {
    auto e = log.find(o.operation);
    if (!e) {
      if (json)
        out << Json{{"error", "no such operation"}, {"operation", o.operation}}.dump(2) << "\n";
      err << "no operation " << o.operation << " in the audit log\n";
      return 1;
    }
    if (json) {
      Json doc = to_json(*e);
      if (o.rows) {
        doc["rows"] = Json::array();
        log.for_each_row(e->operation, [&](const std::string& m, const std::string& pk) {
          doc["rows"].push_back({m, pk});
        });
      }
      out << doc.dump(2) << "\n";
      return 0;
    }
    out << "Operation " << e->operation << " (#" << e->id << ")\n"
        << "  action:  " << e->action << "\n"
        << "  at:      " << e->at.iso(' ') << " UTC\n"
        << "  who:     " << who(*e) << "\n"
        << "  reason:  " << (e->reason.empty() ? "(none given)" : e->reason) << "\n"
        << "  roots:   " << roots_text(*e) << "\n"
        << "  rows:    " << e->counts.total << " (" << counts_text(e->counts) << ")\n";
    if (!e->refers_to.empty()) {
      out << "  undoes:";
      for (const auto& id : e->refers_to) out << " " << id;
      out << "\n";
    }
    if (o.rows) {
      if (!e->rows_recorded) {
        out << "  The rows' keys were not recorded ([audit] record_rows = false).\n";
      } else {
        log.for_each_row(e->operation, [&](const std::string& m, const std::string& pk) {
          out << "    " << m << " " << pk << "\n";
        });
      }
    }
    return 0;
  }
  AuditFilter f{.action = o.action, .model = o.model, .user = o.user};
  auto entries = log.entries(f, o.limit, o.offset);
  std::int64_t total = log.count(f);
  if (json) {
    Json list = Json::array();
    for (const auto& e : entries) list.push_back(to_json(e));
    out << Json{{"entries", list}, {"count", total}}.dump(2) << "\n";
    return 0;
  }
  if (entries.empty()) {
    out << "No entries" << (total > 0 ? " on this page" : "") << ".\n";
    return 0;
  }
  for (const auto& e : entries) {
    out << "#" << e.id << "  " << e.at.iso(' ').substr(0, 19) << "  " << e.action << "  "
        << roots_text(e) << "\n"
        << "    " << e.counts.total << " rows: " << counts_text(e.counts) << "\n"
        << "    by " << who(e) << (e.reason.empty() ? "" : "; reason: " + e.reason) << "\n"
        << "    operation " << e.operation << "\n";
  }
  std::int64_t shown_to = o.offset + static_cast<std::int64_t>(entries.size());
  out << "Entries " << o.offset + 1 << " to " << shown_to << " of " << total << " (newest first"
      << (shown_to < total ? "; --offset " + std::to_string(shown_to) + " for more" : "") << ").\n";
  return 0;
}

}  // namespace cascade::cli
