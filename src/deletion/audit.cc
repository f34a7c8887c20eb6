// The audit log: its tables, recording an operation from inside its transaction, and reading
// entries back.
#include "cascade/deletion/audit.h"

#include <pwd.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <nlohmann/json.hpp>

#include "cascade/db/schema.h"
#include "cascade/error.h"
#include "cascade/model/registry.h"
#include "cascade/query/manager.h"
#include "cascade/query/queryset.h"
#include "deletion/audit_operation.h"
#include "model/own_fields.h"
#include "sql/rows.h"
#include "sql/statements.h"

namespace cascade {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kEntryTable = "cascade_audit_log";
constexpr std::string_view kRowTable = "cascade_audit_row";

using own_fields::field;

// Text that may be empty.
Field text(std::string name, int max_length) {
  Field f = own_fields::text(std::move(name), max_length);
  f.blank = true;
  return f;
}

const ModelMeta& entry_model() { return AuditLog::registry().get("cascade_audit.LogEntry"); }
const ModelMeta& row_model() { return AuditLog::registry().get("cascade_audit.LogRow"); }

// The operating-system user of this process: its password entry's name, else $USER, else the
// numeric id.
std::string os_user() {
  uid_t uid = geteuid();
  std::vector<char> buffer(4096);
  passwd entry{};
  passwd* found = nullptr;
  if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr &&
      found->pw_name != nullptr) {
    return found->pw_name;
  }
  if (const char* user = std::getenv("USER"); user != nullptr && *user != '\0') return user;
  return "uid " + std::to_string(uid);
}

std::vector<std::string> strings(const Json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

Json parse(const Value& v) {
  if (v.is_null()) return Json();
  return Json::parse(v.as_text(), nullptr, false);
}

std::string text_of(const Value& v) { return v.is_null() ? std::string() : v.as_text(); }

AuditEntry entry_of(const Instance& row) {
  AuditEntry e;
  e.id = row.pk().as_integer();
  e.operation = text_of(row.get("operation"));
  e.action = text_of(row.get("action"));
  e.at = row.get("at").as_datetime();
  e.user = text_of(row.get("user"));
  e.tool = text_of(row.get("tool"));
  e.os_user = text_of(row.get("os_user"));
  e.reason = text_of(row.get("reason"));
  e.root_model = text_of(row.get("root_model"));
  e.root_keys = strings(parse(row.get("root_keys")));
  e.root_count = row.get("root_count").as_integer();
  Json counts = parse(row.get("counts"));
  if (counts.is_array()) {
    for (const auto& pair : counts) {
      if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() ||
          !pair[1].is_number_integer()) {
        continue;
      }
      e.counts.per_model.emplace_back(pair[0].get<std::string>(), pair[1].get<std::int64_t>());
      e.counts.total += pair[1].get<std::int64_t>();
    }
  }
  e.refers_to = strings(parse(row.get("refers_to")));
  e.rows_recorded = row.get("rows_recorded").as_bool();
  return e;
}

QuerySet filtered(Context& db, const AuditLog::Filter& f) {
  QuerySet qs(db, entry_model());
  if (!f.action.empty()) qs = qs.filter(Q("action", Arg(Value(f.action))));
  if (!f.user.empty()) qs = qs.filter(Q("user", Arg(Value(f.user))));
  if (!f.operation.empty()) qs = qs.filter(Q("operation", Arg(Value(f.operation))));
  // counts holds [["blog.Post", 3], ...]: the label, quoted, is in it exactly when the model is.
  if (!f.model.empty()) qs = qs.filter(Q("counts__contains", Arg(Value(Json(f.model).dump()))));
  if (f.since) qs = qs.filter(Q("at__gte", Arg(Value(*f.since))));
  return qs;
}

}  // namespace

// ---- the log's tables -----------------------------------------------------------------------

const Registry& AuditLog::registry() {
  static const Registry* registry = [] {
    auto* r = new Registry();
    ModelMeta entry("cascade_audit", "LogEntry");
    entry.db_table = std::string(kEntryTable);
    Field operation = text("operation", 36);
    operation.unique = true;
    Field at = field("at", FieldType::DateTime);
    at.db_index = true;
    Field rows = field("rows_recorded", FieldType::Boolean);
    rows.default_value = Value(false);
    Field root_count = field("root_count", FieldType::BigInteger);
    root_count.default_value = Value(std::int64_t{0});
    Field total = field("total", FieldType::BigInteger);
    total.default_value = Value(std::int64_t{0});
    auto long_text = [](std::string name) {
      Field f = field(std::move(name), FieldType::Text);
      f.blank = true;
      return f;
    };
    entry.fields = {operation,
                    text("action", 20),
                    at,
                    text("user", 150),
                    text("tool", 100),
                    text("os_user", 150),
                    long_text("reason"),
                    long_text("root_model"),
                    long_text("root_keys"),
                    root_count,
                    long_text("counts"),
                    total,
                    long_text("refers_to"),
                    rows};
    entry.ordering = {"-id"};
    r->add(std::move(entry));

    ModelMeta row("cascade_audit", "LogRow");
    row.db_table = std::string(kRowTable);
    Field row_operation = text("operation", 36);
    row_operation.db_index = true;
    row.fields = {row_operation, text("model", 200), text("key", 255)};
    r->add(std::move(row));
    r->finalize();
    return r;
  }();
  return *registry;
}

void AuditLog::migrate() { db::migrate(db_.connection(), registry()); }

bool AuditLog::exists() {
  auto names = db_.connection().table_names();
  return std::find(names.begin(), names.end(), kEntryTable) != names.end();
}

std::vector<AuditEntry> AuditLog::entries(const Filter& filter, std::int64_t limit,
                                          std::int64_t offset) {
  std::vector<AuditEntry> out;
  QuerySet qs = filtered(db_, filter).order_by({"-id"}).slice(offset, offset + limit);
  for (const Instance& row : qs) out.push_back(entry_of(row));
  return out;
}

std::int64_t AuditLog::count(const Filter& filter) { return filtered(db_, filter).count(); }

std::optional<AuditEntry> AuditLog::find(const std::string& operation) {
  Filter f;
  f.operation = operation;
  auto found = entries(f, 1);
  if (found.empty()) return std::nullopt;
  return found.front();
}

void AuditLog::for_each_row(const std::string& operation,
                            const std::function<void(const std::string&, const std::string&)>& fn) {
  // Batches after the last row seen, by the row table's own key: memory stays bounded.
  std::optional<Value> last;
  while (true) {
    QuerySet qs = QuerySet(db_, row_model()).filter(Q("operation", Arg(Value(operation))));
    if (last) qs = qs.filter(Q("id__gt", Arg(*last)));
    std::int64_t seen = 0;
    for (const Instance& row : qs.order_by({"id"}).slice(0, 1000)) {
      fn(text_of(row.get("model")), text_of(row.get("key")));
      last = row.pk();
      ++seen;
    }
    if (seen < 1000) return;
  }
}

// ---- recording ---------------------------------------------------------------------------------

namespace detail {

// A version 4 UUID from the operating system's random source (128 bits, 122 random): the id of
// a soft-delete operation, which restore selects rows by, so two processes must never draw the
// same one.
std::string random_uuid() {
  unsigned char b[16];
  std::size_t got = 0;
  while (got < sizeof b) {
    ssize_t n = getrandom(b + got, sizeof b - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw OperationalError(std::string("cannot read random bytes for an operation id: ") +
                             std::strerror(errno));
    }
    got += static_cast<std::size_t>(n);
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

AuditOperation::AuditOperation(Context& db, std::string_view action, std::string id)
    : db_(db), on_(db.audit().enabled), action_(action), id_(std::move(id)) {
  if (!on_) return;
  outer_ = db.audit_operation_;
  if (outer_ == nullptr) db.audit_operation_ = this;
}

AuditOperation::~AuditOperation() {
  if (on_ && outer_ == nullptr) db_.audit_operation_ = nullptr;
}

void AuditOperation::set_roots(const ModelMeta& m, const sql::Fragment& where) {
  if (!writes_entry()) return;
  sql::Statements s(db_.connection());
  std::vector<std::string> keys;
  {
    auto rows = sql::query(db_.connection(), s.select({.columns = s.pk(m),
                                                       .from = s.table(m.db_table),
                                                       .where = where,
                                                       .order_by = s.pk(m),
                                                       .limit = kRootKeysKept + 1}));
    while (rows->next()) keys.push_back(m.pk().to_python(rows->get(0)).to_string());
  }
  auto count = static_cast<std::int64_t>(keys.size());
  if (count > kRootKeysKept) {
    keys.pop_back();
    auto rows = sql::query(db_.connection(), s.count(m.db_table, where));
    rows->next();
    count = rows->get(0).as_integer();
  }
  set_roots(m.label(), std::move(keys), count);
}

void AuditOperation::set_roots(std::string model_label, std::vector<std::string> keys,
                               std::int64_t count) {
  if (!writes_entry()) return;
  root_model_ = std::move(model_label);
  if (static_cast<std::int64_t>(keys.size()) > kRootKeysKept) keys.resize(kRootKeysKept);
  root_keys_ = std::move(keys);
  root_count_ = count;
}

void AuditOperation::record_rows(const ModelMeta& m, const sql::Fragment& where) {
  if (!on_ || !db_.audit().record_rows || where.empty) return;
  sql::Statements s(db_.connection());
  sql::execute(db_.connection(), s.insert_keys_as_text(kRowTable, {"operation", "model", "key"},
                                                       {Value(id()), Value(m.label())}, m, where));
}

void AuditOperation::finish(const DeleteResult& counts) {
  if (!writes_entry()) return;
  const AuditSettings& a = db_.audit();
  Json per_model = Json::array();
  for (const auto& [label, n] : counts.per_model) per_model.push_back(Json::array({label, n}));
  Instance row(entry_model());
  row.set("operation", Value(id_));
  row.set("action", Value(action_));
  row.set("at", Value(DateTime::now()));
  row.set("user", Value(a.user));
  row.set("tool", Value(a.tool.empty() ? std::string("api") : a.tool));
  row.set("os_user", Value(os_user()));
  row.set("reason", Value(a.reason));
  row.set("root_model", Value(root_model_));
  row.set("root_keys", Value(Json(root_keys_).dump()));
  row.set("root_count", Value(root_count_));
  row.set("counts", Value(per_model.dump()));
  row.set("total", Value(counts.total));
  row.set("refers_to", Value(Json(refers_to_).dump()));
  row.set("rows_recorded", Value(a.record_rows));
  Manager(db_, entry_model()).save(row);
}

}  // namespace detail
}  // namespace cascade
