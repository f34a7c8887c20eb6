// The admin site, as Django's django.contrib.admin for deleting: login, an index of the models
// the user may see, change lists (search, filters, sorting) with "Delete selected", and a
// confirmation page that scales; the trash of soft-delete operations (restore, delete for good)
// at /admin/trash-bin/, and the audit log at /admin/audit-log/ (the hyphen keeps them apart from
// any app's URLs: app labels are identifiers).
//
//   web::AdminSite admin(registry, templates);   // under /admin/
//   admin.register_all();                        // or register_model(meta, {...})
//   admin.add_routes(router);
//
// Every page needs a logged-in, active staff user (others go to the login page). Permissions are
// Django's codenames: a change list needs view or delete permission on its model; a delete needs
// delete permission on every model the cascade reaches, or the confirmation lists the types the
// user lacks and has no delete button (Django's rule). Restoring an operation needs
// <app>.restore_<model> for every model it brings back; deleting one for good needs
// <app>.purge_<model> for its soft-deletable models (the permission a hard delete of such a row
// needs) and delete permission for the others it reaches. The audit log needs
// cascade_audit.view_logentry.
//
// Bulk delete: the change list posts the selected keys (at most a page of them), or "all N
// matching" (no keys). The selection is then kept server-side in the session, behind a token
// signed with [web] secret_key, bound to the user and valid for an hour: the confirmation page
// and its POST carry only the token, never the keys. The POST deletes what the page showed, or
// nothing and shows the new page.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cascade/web/auth.h"
#include "cascade/web/http.h"
#include "cascade/web/templates.h"

namespace cascade {
class Database;
class ModelMeta;
class Registry;
}  // namespace cascade

namespace cascade::web {

// What the admin shows of one model (Django's ModelAdmin options).
struct ModelAdmin {
  std::vector<std::string> list_display{};   // fields shown as columns; empty: str() only
  std::vector<std::string> search_fields{};  // ?q= words, each in one of them (icontains)
  std::vector<std::string> list_filter{};    // fields with a filter beside the list
  std::vector<std::string> ordering{};       // empty: the model's ordering, else by key
  std::int64_t list_per_page = 100;
};

// The logged-in user of a request (from its session), if any and still active.
std::optional<User> request_user(Request& request);
// Logs `user` in: a new session key (the old one stops working), then the user's id in it.
void login(Request& request, const User& user);
// Empties the session and gives it a new key.
void logout(Request& request);

class AdminSite {
 public:
  AdminSite(const Registry& registry, const Templates& templates, std::string prefix = "/admin");
  ~AdminSite();
  AdminSite(const AdminSite&) = delete;
  AdminSite& operator=(const AdminSite&) = delete;

  void register_model(const ModelMeta& model, ModelAdmin options = {});
  // Every model but auto-created many-to-many tables.
  void register_all();

  // The routes under the prefix. The site must outlive the router.
  void add_routes(Router& router);

  // Failed logins allowed per username and address within `window` before login refuses (429).
  void set_login_throttle(int failures, std::chrono::seconds window);
  // Password hashes computed at once (a login's hash costs about a quarter of a second): more
  // logins wait, then get 503, so logins cannot take every worker.
  void set_concurrent_logins(int n);
  // The iteration count logins rehash to (tests use a small one).
  void set_password_iterations(int n);
  // The audit log (cascade/deletion/audit.h) for the admin's deletes, restores and purges: on
  // by default, with the user, "admin" as the tool and the reason the confirmation asks for.
  // The log's tables must exist (AuditLog::migrate()) when it is on.
  void set_audit(bool enabled, bool record_rows = false);
  // Deletes whose confirmation showed at least `rows` rows run as background jobs, each on a
  // connection `open` makes: the POST answers at once with a job page that shows the progress
  // (refreshed every second) and then the outcome. Without this, every delete runs in its
  // request. The site waits for its jobs when it is destroyed.
  void set_background_jobs(std::function<Database()> open, std::int64_t rows = 100000);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cascade::web
