#include "cascade/web/session.h"

#include "cascade/deletion/audit.h"

#include <nlohmann/json.hpp>

#include "cascade/error.h"
#include "cascade/model/registry.h"
#include "cascade/query/context.h"
#include "cascade/query/manager.h"
#include "cascade/query/queryset.h"
#include "cascade/web/http.h"
#include "web/crypto.h"
#include "web/state.h"

namespace cascade::web {
namespace {

constexpr std::size_t kKeyLength = 32;
constexpr const char* kMessagesKey = "_messages";

DateTime expiry() {
  DateTime t = DateTime::now();
  t.micros += std::chrono::duration_cast<std::chrono::microseconds>(kSessionAge).count();
  return t;
}

bool well_formed_key(const std::string& key) {
  return key.size() == kKeyLength && std::all_of(key.begin(), key.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
         });
}

}  // namespace

const Registry& session_registry() {
  static const Registry* registry = [] {
    auto* r = new Registry();
    ModelMeta m("cascade_web", "Session");
    m.db_table = "cascade_session";
    Field key;
    key.name = "session_key";
    key.type = FieldType::Char;
    key.max_length = 40;
    key.primary_key = true;
    Field data;
    data.name = "session_data";
    data.type = FieldType::Text;
    Field expires;
    expires.name = "expire_date";
    expires.type = FieldType::DateTime;
    expires.db_index = true;
    m.fields = {key, data, expires};
    r->add(std::move(m));
    r->finalize();
    return r;
  }();
  return *registry;
}

const ModelMeta& session_model() { return session_registry().get("cascade_web.Session"); }

std::int64_t clear_expired_sessions(Context& db) {
  AuditScope housekeeping(db, AuditSettings{});  // Cascade's own rows: not in the audit log
  return QuerySet(db, session_model())
      .filter(Q("expire_date__lt", DateTime::now()))
      .hard_remove()
      .total;
}

Session::Session(Context& db, const std::string& cookie_key) : db_(db) {
  if (well_formed_key(cookie_key)) {
    auto row = QuerySet(db_, session_model())
                   .filter({{"session_key", cookie_key}, {"expire_date__gt", DateTime::now()}})
                   .fetch();
    if (!row.empty()) {
      key_ = cookie_key;
      stored_ = true;
      auto parsed = nlohmann::json::parse(row.front().get("session_data").as_text(), nullptr,
                                          /*allow_exceptions=*/false);
      if (parsed.is_object()) {
        for (auto& [k, v] : parsed.items()) {
          if (v.is_string()) data_[k] = v.get<std::string>();
        }
      }
    }
  }
  if (key_.empty()) key_ = crypto::random_string(kKeyLength, /*lower=*/true);
}

std::optional<std::string> Session::get(const std::string& key) const {
  auto it = data_.find(key);
  if (it == data_.end()) return std::nullopt;
  return it->second;
}

void Session::set(const std::string& key, std::string value) {
  data_[key] = std::move(value);
  modified_ = true;
}

void Session::erase(const std::string& key) {
  if (data_.erase(key) > 0) modified_ = true;
}

void Session::cycle_key() {
  if (stored_ && old_key_.empty()) old_key_ = key_;
  key_ = crypto::random_string(kKeyLength, true);
  stored_ = false;
  modified_ = true;
}

void Session::flush() {
  data_.clear();
  cycle_key();
}

std::string Session::save() {
  AuditScope housekeeping(db_, AuditSettings{});  // Cascade's own rows: not in the audit log
  Manager sessions(db_, session_model());
  if (!old_key_.empty()) {
    QuerySet(db_, session_model()).filter({{"session_key", old_key_}}).hard_remove();
    old_key_.clear();
  }
  if (!modified_) return stored_ ? key_ : std::string();
  modified_ = false;
  if (data_.empty()) {
    if (stored_) QuerySet(db_, session_model()).filter({{"session_key", key_}}).hard_remove();
    stored_ = false;
    return {};
  }
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : data_) j[k] = v;
  Instance row(session_model());
  row.set("session_key", Value(key_));
  row.set("session_data", Value(j.dump()));
  row.set("expire_date", Value(expiry()));
  sessions.save(row);
  stored_ = true;
  return key_;
}

// ---- messages
// -------------------------------------------------------------------------------------

void add_message(Request& request, Message message) {
  Session& s = request.session();
  auto list = nlohmann::json::parse(s.get(kMessagesKey).value_or("[]"), nullptr, false);
  if (!list.is_array()) list = nlohmann::json::array();
  list.push_back({{"level", message.level},
                  {"text", message.text},
                  {"action_url", message.action_url},
                  {"action_label", message.action_label}});
  s.set(kMessagesKey, list.dump());
}

std::vector<Message> take_messages(Request& request) {
  std::vector<Message> out;
  Session& s = request.session();
  auto stored = s.get(kMessagesKey);
  if (!stored) return out;
  s.erase(kMessagesKey);
  auto list = nlohmann::json::parse(*stored, nullptr, false);
  if (!list.is_array()) return out;
  for (const auto& m : list) {
    if (!m.is_object()) continue;
    out.push_back({m.value("level", "info"), m.value("text", ""), m.value("action_url", ""),
                   m.value("action_label", "")});
  }
  return out;
}

}  // namespace cascade::web
