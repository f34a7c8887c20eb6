// Sessions, stored server-side in the database (table cascade_session, as Django's
// django_session), and the messages framework on top of them.
//
// A request's session is loaded on first use from the `sessionid` cookie; a session that was
// changed is saved when the view returns, with a new expiry (two weeks, Django's
// SESSION_COOKIE_AGE), and the cookie is set (HttpOnly, SameSite=Lax, Secure under [web] https).
// Expired rows are removed when the server starts and then once an hour.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cascade {
class Context;
class ModelMeta;
class Registry;
}  // namespace cascade

namespace cascade::web {

struct Request;

inline constexpr std::chrono::seconds kSessionAge{1209600};

class Session {
 public:
  // The session whose key `cookie_key` names, if it exists and has not expired; else a new
  // empty one (saved only once something is stored in it).
  Session(Context& db, const std::string& cookie_key);

  std::optional<std::string> get(const std::string& key) const;
  void set(const std::string& key, std::string value);
  void erase(const std::string& key);
  bool empty() const noexcept { return data_.empty(); }

  // A new key for the same data (at login: the old key stops working), as Django's cycle_key().
  void cycle_key();
  // A new key and no data (at logout), as Django's flush().
  void flush();

  const std::string& key() const noexcept { return key_; }
  bool modified() const noexcept { return modified_; }
  // Writes the session if it was changed; removes the old row after cycle_key() / flush().
  // Returns the key the cookie must carry ("" when the session is empty and was never saved).
  std::string save();

 private:
  Context& db_;
  std::string key_;
  std::string old_key_;  // a key replaced by cycle_key() / flush(): its row is deleted
  bool stored_ = false;  // a row with key_ exists
  bool modified_ = false;
  std::map<std::string, std::string> data_;
};

// The model of the sessions table, in a registry of its own (migrated by the server).
const Registry& session_registry();
const ModelMeta& session_model();
// Deletes the expired sessions; returns how many.
std::int64_t clear_expired_sessions(Context& db);

// ---- messages
// ------------------------------------------------------------------------------------

// A message shown once, on the next page the session renders (Django's messages framework).
// An action is a button posting to `action_url` (Restore, after a soft delete).
struct Message {
  std::string level = "success";  // "success", "info", "warning", "error"
  std::string text = {};
  std::string action_url = {};
  std::string action_label = {};
};

void add_message(Request& request, Message message);
// The messages stored so far, removed from the session.
std::vector<Message> take_messages(Request& request);

}  // namespace cascade::web
