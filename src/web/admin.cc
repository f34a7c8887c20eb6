#include "cascade/web/admin.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <nlohmann/json.hpp>

#include "cascade/database.h"
#include "cascade/deletion/audit.h"
#include "cascade/deletion/collector.h"
#include "cascade/deletion/soft_delete.h"
#include "cascade/error.h"
#include "cascade/model/registry.h"
#include "cascade/query/manager.h"
#include "cascade/query/queryset.h"
#include "cascade/web/session.h"
#include "cascade/web/views.h"
#include "web/confirm.h"
#include "web/text.h"
#include "web/crypto.h"
#include "web/state.h"

namespace cascade::web {
namespace {

using text::capitalized;
using text::lower;
using text::split;

constexpr const char* kUserKey = "_auth_user_id";
constexpr std::int64_t kSelectionSeconds = 3600;

std::string hmac_hex(const std::string& key, const std::string& message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), out,
           &length) == nullptr) {
    throw Error("HMAC failed (OpenSSL)");
  }
  static const char* hex = "0123456789abcdef";
  std::string text;
  for (unsigned int i = 0; i < length; ++i) {
    text += hex[out[i] >> 4];
    text += hex[out[i] & 15];
  }
  return text;
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::optional<User> request_user(Request& request) {
  auto id = request.session().get(kUserKey);
  if (!id) return std::nullopt;
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(id->data(), id->data() + id->size(), n);
  if (ec != std::errc() || p != id->data() + id->size()) return std::nullopt;
  Database& db = request.db();
  auto user = Users(db).find(Value(n));
  if (!user || !user->is_active) return std::nullopt;
  return user;
}

void login(Request& request, const User& user) {
  Session& s = request.session();
  s.cycle_key();
  s.set(kUserKey, user.id.to_string());
}

void logout(Request& request) { request.session().flush(); }

// ---- the site
// ------------------------------------------------------------------------------------

struct AdminSite::Impl {
  const Registry& registry;
  const Templates& templates;
  std::string prefix;
  std::vector<std::pair<const ModelMeta*, ModelAdmin>> models;
  int password_iterations = kPasswordIterations;
  // Login throttling: failures per "username|address" since the first.
  int max_failures = 5;
  std::chrono::seconds window{900};
  std::mutex throttle_mutex;
  std::map<std::string, std::pair<int, std::chrono::steady_clock::time_point>> failures;
  // Password hashes under way.
  int max_hashing = 2;
  int hashing = 0;
  std::mutex hashing_mutex;
  std::condition_variable hashing_done;
  std::string fallback_key = crypto::random_string(48);  // no secret_key (debug): per process
  bool audit_enabled = true;
  bool audit_rows = false;

  // Background deletes: each runs on a thread of its own, on a connection of its own.
  struct Job {
    std::string id;
    std::string user_id;
    std::string back_url;  // the change list
    std::mutex mutex;      // guards what follows
    int step = 0;
    int steps = 0;
    std::string what;
    bool finished = false;
    bool failed = false;
    std::string message;
    std::thread thread;
  };
  std::function<Database()> job_database;  // none: every delete runs in its request
  std::int64_t background_rows = 100000;
  std::mutex jobs_mutex;
  std::map<std::string, std::shared_ptr<Job>> jobs;

  Impl(const Registry& r, const Templates& t, std::string p)
      : registry(r), templates(t), prefix(std::move(p)) {}
  // The jobs under way finish first (as the server's requests in flight do).
  ~Impl() {
    std::lock_guard lock(jobs_mutex);
    for (auto& [id, job] : jobs) {
      if (job->thread.joinable()) job->thread.join();
    }
  }

  const std::pair<const ModelMeta*, ModelAdmin>* find(Request& req) {
    for (const auto& entry : models) {
      if (entry.first->app_label == req.param("app") &&
          lower(entry.first->object_name) == req.param("model")) {
        return &entry;
      }
    }
    throw HttpError{404,
                    "No model " + req.param("app") + "." + req.param("model") + " in the admin."};
  }

  std::string changelist_url(const ModelMeta& m) const {
    return prefix + "/" + m.app_label + "/" + lower(m.object_name) + "/";
  }

  std::string secret(Request& req) const {
    const std::string& key = req.state != nullptr && req.state->options != nullptr
                                 ? req.state->options->secret_key
                                 : std::string();
    return key.empty() ? fallback_key : key;
  }

  Response to_login(Request& req) const {
    std::string next = req.path + (req.query_string.empty() ? "" : "?" + req.query_string);
    return Response::redirect(prefix + "/login/?next=" + percent_encode(next));
  }

  // The logged-in staff user, or nullopt (the view sends the request to the login page).
  std::optional<User> staff(Request& req) const {
    auto user = request_user(req);
    if (!user || !user->is_staff) return std::nullopt;
    return user;
  }

  Response page(Request& req, const std::string& name, const std::string& title, TemplateData data,
                const std::optional<User>& user, int status = 200) const {
    data.set("admin_url", prefix + "/")
        .set("logout_url", prefix + "/logout/")
        .set("has_user", user.has_value())
        .set("current_user", user ? user->username : std::string());
    return secured(Response::html(templates.page(name, title, std::move(data), req), status));
  }

  // Every admin page: never cached, and a Content-Security-Policy (no script at all; the
  // layout's CSS is inline).
  static Response secured(Response r) {
    r.set_header("Cache-Control", "no-store");
    r.set_header("Content-Security-Policy",
                 "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                 "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    return r;
  }

  // ?page=N of `count` items, `per_page` a page: 404 for a malformed or past-the-end page.
  struct Paging {
    std::int64_t page = 1;
    std::int64_t pages = 1;
    std::int64_t per_page = 1;
    std::int64_t offset() const { return (page - 1) * per_page; }
    // pagination.html's data; `url(n)` is page n's address.
    void describe(TemplateData& d, std::int64_t count,
                  const std::function<std::string(std::int64_t)>& url) const {
      d.set("count", count)
          .set("page", page)
          .set("pages", pages)
          .set("has_previous", page > 1)
          .set("has_next", page < pages)
          .set("previous_url", url(page - 1))
          .set("next_url", url(page + 1));
    }
  };
  // The requested page number alone (1 when absent); 404 when malformed.
  static std::int64_t page_asked(const Request& req) {
    std::int64_t n = 1;
    if (auto text = req.query("page")) {
      auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
      if (ec != std::errc() || end != text->data() + text->size() || n < 1) {
        throw HttpError{404, "Invalid page."};
      }
    }
    return n;
  }
  static Paging paging(const Request& req, std::int64_t count, std::int64_t per_page) {
    Paging p;
    p.per_page = per_page;
    p.pages = std::max<std::int64_t>(1, (count + per_page - 1) / per_page);
    p.page = page_asked(req);
    if (p.page > p.pages) throw HttpError{404, "Invalid page."};
    return p;
  }

  // The audit log's settings for an operation the user runs from the admin.
  AuditSettings audit_for(const User& user, Request& req) const {
    std::string reason = req.form_value("reason").value_or("");
    if (reason.size() > 2000) reason.resize(2000);
    return AuditSettings{.enabled = audit_enabled,
                         .record_rows = audit_rows,
                         .user = user.username,
                         .tool = "admin",
                         .reason = reason};
  }

  std::string trash_url() const { return prefix + "/trash-bin/"; }

  // An object's admin page, for a preview's objects and blockers; "" when its model is not in
  // the admin.
  std::string object_url(const Preview::Node& n) const {
    for (const auto& [m, options] : models) {
      if (m->label() == n.label && !n.pk.is_null()) {
        return changelist_url(*m) + percent_encode(n.pk.to_string()) + "/";
      }
    }
    return {};
  }
  std::string log_url() const { return prefix + "/audit-log/"; }

  // ---- login -----------------------------------------------------------------------------------

  std::string throttle_key(Request& req, const std::string& username) const {
    return lower(username) + "|" + req.remote_addr;
  }

  bool throttled(const std::string& key) {
    std::lock_guard lock(throttle_mutex);
    auto it = failures.find(key);
    if (it == failures.end()) return false;
    if (std::chrono::steady_clock::now() - it->second.second > window) {
      failures.erase(it);
      return false;
    }
    return it->second.first >= max_failures;
  }

  void failed(const std::string& key) {
    std::lock_guard lock(throttle_mutex);
    // Bounded: past 10,000 pairs, the expired ones go (a flood of made-up usernames cannot
    // grow the map for ever).
    if (failures.size() > 10000) {
      auto now = std::chrono::steady_clock::now();
      std::erase_if(failures, [&](const auto& e) { return now - e.second.second > window; });
    }
    auto [it, added] = failures.try_emplace(key, 0, std::chrono::steady_clock::now());
    ++it->second.first;
  }

  Response login_view(Request& req) {
    std::string next =
        req.method == "POST" ? req.form_value("next").value_or("") : req.query("next").value_or("");
    // Only this site's admin pages: a crafted ?next= cannot send the user elsewhere.
    if (next.rfind(prefix + "/", 0) != 0 || next.rfind("//", 0) == 0) next = prefix + "/";
    TemplateData data;
    data.set("next", next).set("error", "").set("has_error", false).set("username", "");
    if (req.method != "POST") return page(req, "admin_login.html", "Log in", data, std::nullopt);
    std::string username = req.form_value("username").value_or("");
    std::string password = req.form_value("password").value_or("");
    auto refuse = [&](const std::string& why, int status) {
      data.set("error", why).set("has_error", true).set("username", username);
      return page(req, "admin_login.html", "Log in", data, std::nullopt, status);
    };
    std::string key = throttle_key(req, username);
    if (throttled(key)) {
      return refuse(
          "Too many failed login attempts for this account from this address. Try again later.",
          429);
    }
    std::optional<User> user;
    {
      HashingSlot slot(*this);
      user = Users(req.db()).authenticate(username, password, password_iterations);
    }
    if (!user || !user->is_staff) {
      failed(key);
      return refuse(
          "Please enter the correct username and password for a staff account. Note that both "
          "fields may be case-sensitive.",
          200);
    }
    {
      std::lock_guard lock(throttle_mutex);
      failures.erase(key);
    }
    login(req, *user);
    return Response::redirect(next);
  }

  // One of the max_hashing password hashes that may run at once, for the scope's life; 503
  // when none frees up within 10 seconds.
  class HashingSlot {
   public:
    explicit HashingSlot(Impl& site) : site_(site) {
      std::unique_lock lock(site_.hashing_mutex);
      if (!site_.hashing_done.wait_for(lock, std::chrono::seconds(10),
                                       [&] { return site_.hashing < site_.max_hashing; })) {
        throw HttpError{503, "Too many logins at once; try again in a moment."};
      }
      ++site_.hashing;
    }
    ~HashingSlot() {
      {
        std::lock_guard lock(site_.hashing_mutex);
        --site_.hashing;
      }
      site_.hashing_done.notify_one();
    }
    HashingSlot(const HashingSlot&) = delete;
    HashingSlot& operator=(const HashingSlot&) = delete;

   private:
    Impl& site_;
  };

  // ---- index and change lists ------------------------------------------------------------------

  // The user's permissions, read once for a request (two queries) rather than per check.
  struct Permissions {
    bool all = false;  // a superuser
    std::set<std::string> names;
    bool has(const std::string& codename) const { return all || names.count(codename) != 0; }
  };
  static Permissions permissions_of(Database& db, const User& user) {
    Permissions p;
    p.all = user.is_active && user.is_superuser;
    if (!p.all) {
      for (auto& name : Users(db).permissions(user)) p.names.insert(std::move(name));
    }
    return p;
  }

  static bool may_view(const Permissions& perms, const ModelMeta& m) {
    return perms.has(permission_codename("view", m)) || perms.has(permission_codename("delete", m));
  }

  Response index(Request& req) {
    auto user = staff(req);
    if (!user) return to_login(req);
    Permissions perms = permissions_of(req.db(), *user);
    TemplateData apps = TemplateData::list();
    std::map<std::string, TemplateData> by_app;
    std::vector<std::string> order;
    for (const auto& [m, options] : models) {
      if (!may_view(perms, *m)) continue;
      if (!by_app.count(m->app_label)) {
        order.push_back(m->app_label);
        by_app[m->app_label] = TemplateData::list();
      }
      by_app[m->app_label].push_back(TemplateData()
                                         .set("name", capitalized(m->verbose_name_plural))
                                         .set("url", changelist_url(*m)));
    }
    for (const auto& app : order) {
      apps.push_back(TemplateData().set("name", capitalized(app)).set("models", by_app[app]));
    }
    TemplateData data;
    data.set("apps", apps)
        .set("has_apps", !order.empty())
        .set("has_trash", may_use_trash(perms))
        .set("trash_url", trash_url())
        .set("has_log", may_view_log(perms))
        .set("log_url", log_url());
    return page(req, "admin_index.html", "Site administration", data, user);
  }

  Response changelist(Request& req) {
    auto user = staff(req);
    if (!user) return to_login(req);
    // Not a structured binding: the row lambda below captures them (clang 14 cannot).
    const auto& entry = *find(req);
    const ModelMeta* m = entry.first;
    const ModelAdmin& options = entry.second;
    Permissions perms = permissions_of(req.db(), *user);
    if (!may_view(perms, *m)) {
      throw HttpError{403, "You do not have permission to view " + m->verbose_name_plural + "."};
    }
    QuerySet qs(req.db(), *m);
    TemplateData extra;
    qs = search(req, options, qs, extra);
    qs = filter(req, *m, options, qs, extra);
    qs = sort(req, *m, options, qs, extra);
    // "Select all N matching": the POST carries the search and filters, not the keys.
    bool narrowed = !req.query("q").value_or("").empty();
    for (const auto& f : options.list_filter) {
      narrowed = narrowed || req.query(f) || req.query(f + "__isnull");
    }
    extra.set("query", req.query_string).set("has_q", narrowed);
    ListOptions o;
    o.template_name = "admin_changelist.html";
    o.title = "Select " + m->verbose_name + " to delete";
    o.per_page = options.list_per_page;
    o.extra = std::move(extra);
    o.extra.set("column_title", capitalized(m->verbose_name))
        .set("plural", m->verbose_name_plural)
        .set("action_url", changelist_url(*m) + "delete_selected/")
        .set("can_delete", perms.has(permission_codename("delete", *m)))
        .set("admin_url", prefix + "/")
        .set("logout_url", prefix + "/logout/")
        .set("has_user", true)
        .set("current_user", user->username);
    // A foreign key's column shows its target's text, as Django's; each target is read once.
    std::map<std::pair<const ModelMeta*, std::string>, std::string> targets;
    Database& db = req.db();
    auto cell_text = [&](const Instance& inst, const std::string& name) -> std::string {
      Value v = inst.get(name);
      if (v.is_null()) return "-";
      auto index = m->field_index(name);
      const Field* f = index ? &m->fields[*index] : nullptr;
      if (f == nullptr || !f->is_foreign_key() || f->target == nullptr) return v.to_string();
      auto key = std::make_pair(f->target, v.to_string());
      auto it = targets.find(key);
      if (it == targets.end()) {
        auto target = f->target_field->primary_key
                          ? Manager(db, *f->target, Visibility::All).find(v)
                          : QuerySet(db, *f->target, Visibility::All)
                                .filter(Q(f->target_field->name, Arg(v)))
                                .first();
        it = targets.emplace(key, target ? target->str() : v.to_string()).first;
      }
      return it->second;
    };
    return secured(list_page(req, templates, qs, o, [&](const Instance& inst) {
      // With list_display, its first column links to the object (Django's list_display_links).
      TemplateData cells = TemplateData::list();
      std::string url = changelist_url(*m) + percent_encode(inst.pk().to_string()) + "/";
      for (std::size_t i = 0; i < options.list_display.size(); ++i) {
        cells.push_back(TemplateData()
                            .set("value", cell_text(inst, options.list_display[i]))
                            .set("link", i == 0)
                            .set("url", url));
      }
      return TemplateData()
          .set("text", inst.str())
          .set("pk", inst.pk().to_string())
          .set("url", url)
          .set("cells", cells);
    }));
  }

  // A read-only page of one object, with Delete (the delete-selected flow for that one row).
  Response detail(Request& req) {
    auto user = staff(req);
    if (!user) return to_login(req);
    const ModelMeta& m = *find(req)->first;
    Permissions perms = permissions_of(req.db(), *user);
    if (!may_view(perms, m)) {
      throw HttpError{403, "You do not have permission to view " + m.verbose_name_plural + "."};
    }
    Instance inst = get_object_or_404(req, m, req.param("pk"));
    TemplateData d = detail_data(inst);
    d.set("plural", m.verbose_name_plural)
        .set("changelist_url", changelist_url(m))
        .set("action_url", changelist_url(m) + "delete_selected/")
        .set("pk", inst.pk().to_string())
        .set("can_delete", perms.has(permission_codename("delete", m)));
    return page(req, "admin_detail.html", inst.str(), d, user);
  }

  // ---- delete selected ---------------------------------------------------------------------
  // ---------------------------------------------------------------------------

  std::string sign(Request& req, const std::string& message) const {
    return hmac_hex(secret(req), "cascade.admin.selection:" + message);
  }

  // A new selection in the session; its token.
  std::string remember(Request& req, const User& user, const ModelMeta& m,
                       const nlohmann::json& what) {
    std::string id = crypto::random_string(20);
    std::string body =
        id + "." + user.id.to_string() + "." + std::to_string(now_seconds() + kSelectionSeconds);
    req.session().set("_selection_" + id,
                      nlohmann::json{{"model", m.label()}, {"rows", what}}.dump());
    return body + "." + sign(req, body);
  }

  // The selection a token names: checked signature, user, expiry, model. HttpError 400 else.
  nlohmann::json selection(Request& req, const std::string& token, const User& user,
                           const ModelMeta& m, std::string* id_out = nullptr) {
    auto parts = split(token, '.');
    auto bad = [] { return HttpError{400, "This selection is not valid any more; select again."}; };
    if (parts.size() != 4) throw bad();
    std::string body = parts[0] + "." + parts[1] + "." + parts[2];
    if (!crypto::constant_time_equal(sign(req, body), parts[3])) throw bad();
    std::int64_t expiry = 0;
    auto [p, ec] = std::from_chars(parts[2].data(), parts[2].data() + parts[2].size(), expiry);
    if (ec != std::errc() || expiry < now_seconds() || parts[1] != user.id.to_string()) throw bad();
    auto stored = req.session().get("_selection_" + parts[0]);
    if (!stored) throw bad();
    auto j = nlohmann::json::parse(*stored, nullptr, false);
    if (!j.is_object() || j.value("model", "") != m.label()) throw bad();
    if (id_out != nullptr) *id_out = parts[0];
    return j["rows"];
  }

  // A selection's rows on `db`: the keys ticked, or every row the change list's search and
  // filters matched (`list` stands for the change list's request: its query string is set).
  static QuerySet selected_rows(Context& db, Request list, const ModelMeta& m,
                                const ModelAdmin& options, const nlohmann::json& rows) {
    QuerySet qs(db, m);
    if (rows.is_object() && rows.contains("all") && rows["all"].is_string()) {
      list.query_string = rows["all"].get<std::string>();
      TemplateData unused;
      qs = search(list, options, qs, unused);
      return filter(list, m, options, qs, unused, /*with_choices=*/false);
    }
    std::vector<Value> keys;
    for (const auto& k : rows) {
      if (k.is_number_integer())
        keys.emplace_back(k.get<std::int64_t>());
      else if (k.is_string())
        keys.emplace_back(k.get<std::string>());
    }
    return qs.filter(Q("pk__in", Arg(keys)));
  }

  QuerySet recall(Request& req, const std::string& token, const User& user, const ModelMeta& m,
                  std::string* id_out = nullptr) {
    return selected_rows(req.db(), req, m, find(req)->second,
                         selection(req, token, user, m, id_out));
  }

  // The model labels of a preview the user may not delete, as Django names them.
  std::vector<std::string> missing_permissions(const Permissions& perms,
                                               const DeleteResult& counts) {
    std::vector<std::string> out;
    for (const auto& [label, n] : counts.per_model) {
      const ModelMeta* m = registry.find(label);
      if (m == nullptr || m->auto_created) continue;
      if (!perms.has(permission_codename("delete", *m))) out.push_back(m->verbose_name);
    }
    return out;
  }

  Response confirm_page(Request& req, const User& user, const ModelMeta& m, const QuerySet& rows,
                        const std::string& token, const std::string& notice, int status) {
    Preview p = Collector(req.db()).collect(rows).preview(100);
    TemplateData d = preview_data(
        p, registry, [&](const Preview::Node& n) { return object_url(n); },
        [&](const std::string& label) {
          return changelist_url(m) + "delete_selected/objects/?selection=" + percent_encode(token) +
                 "&label=" + percent_encode(label);
        });
    std::vector<std::string> missing =
        missing_permissions(permissions_of(req.db(), user), p.counts);
    TemplateData missing_list = TemplateData::list();
    for (const auto& name : missing) missing_list.push_back(TemplateData().set("name", name));
    std::int64_t selected = 0;
    for (const auto& [label, n] : p.counts.per_model) {
      if (label == m.label()) selected = n;
    }
    d.set("selection", token)
        .set("verbose_name", m.verbose_name)
        .set("plural", m.verbose_name_plural)
        .set("selected", selected)
        .set("selected_name", selected == 1 ? m.verbose_name : m.verbose_name_plural)
        .set("missing", std::move(missing_list))
        .set("has_missing", !missing.empty())
        .set("can_delete", !missing.empty() || p.blocked() ? false : true)
        .set("cancel_url", changelist_url(m))
        .set("soft", m.soft_deletable())
        .set("notice", notice)
        .set("has_notice", !notice.empty())
        .set("audited", audit_enabled);
    return page(req, "admin_delete_selected.html", "Are you sure?", d, user, status);
  }

  // The URL's model, which the user must be allowed to delete (403 else).
  const ModelMeta& deletable(Request& req, const Permissions& perms) {
    const ModelMeta& m = *find(req)->first;
    if (!perms.has(permission_codename("delete", m))) {
      throw HttpError{403, "You do not have permission to delete " + m.verbose_name_plural + "."};
    }
    return m;
  }

  Response delete_selected(Request& req) {
    auto user = staff(req);
    if (!user) return to_login(req);
    Permissions perms = permissions_of(req.db(), *user);
    const ModelMeta& m = deletable(req, perms);
    if (req.method == "GET") {
      auto token = req.query("selection");
      if (!token) throw HttpError{400, "No selection."};
      return confirm_page(req, *user, m, recall(req, *token, *user, m), *token, "", 200);
    }
    if (auto token = req.form_value("selection")) {
      // The confirmation's POST: the delete, bound to what the page showed.
      std::string id;
      QuerySet rows = recall(req, *token, *user, m, &id);
      if (auto shown = req.form_value("binding")) {
        if (auto preview = decode_binding(*shown)) {
          std::vector<std::string> missing = missing_permissions(perms, preview->counts);
          if (!missing.empty()) {
            throw HttpError{403,
                            "You do not have permission to delete every object this "
                            "delete reaches."};
          }
        }
      }
      if (auto job = start_job(req, *user, m, id, *token)) {
        return Response::redirect(prefix + "/background-jobs/" + *job + "/", 303);
      }
      AuditScope audit(req.db(), audit_for(*user, req));
      auto outcome = execute_bound(req, [&] { return Collector(req.db()).collect(rows); });
      if (const auto* result = std::get_if<DeleteResult>(&outcome)) {
        std::int64_t roots = 0;
        for (const auto& [label, n] : result->per_model) {
          if (label == m.label()) roots = n;
        }
        std::int64_t related = result->total - roots;
        add_message(req, {.text = "Successfully deleted " + std::to_string(roots) + " " +
                                  (roots == 1 ? m.verbose_name : m.verbose_name_plural) +
                                  (related > 0 ? ", with " + std::to_string(related) +
                                                     " related object" + (related == 1 ? "" : "s")
                                               : std::string()) +
                                  "."});
        req.session().erase("_selection_" + id);
        return Response::redirect(changelist_url(m));
      }
      return confirm_page(req, *user, m, rows, *token, std::get<std::string>(outcome), 409);
    }
    // The change list's POST: the keys of the rows ticked, or all of them.
    nlohmann::json what;
    if (req.form_value("select_across").value_or("") == "1") {
      // Every row the change list's search and filters match, as they are when the page is
      // shown and when the delete runs (the delete is bound to what the page showed).
      what = nlohmann::json{{"all", req.form_value("query").value_or("")}};
    } else {
      what = nlohmann::json::array();
      for (const auto& [name, value] : req.form()) {
        if (name != "_selected_action") continue;
        try {
          Value key = m.pk().to_python(Value(value));
          if (key.kind() == Value::Kind::Integer) {
            what.push_back(key.as_integer());
          } else {
            what.push_back(key.to_string());
          }
        } catch (const Error&) {
          throw HttpError{400, "Not a key of " + m.verbose_name + ": " + value};
        }
      }
      if (what.empty()) {
        add_message(req, {.level = "warning",
                          .text = "Items must be selected in order to perform actions on them. "
                                  "No items have been changed."});
        return Response::redirect(changelist_url(m));
      }
    }
    std::string token = remember(req, *user, m, what);
    return Response::redirect(changelist_url(m) + "delete_selected/?selection=" + token, 303);
  }

  // ---- change lists: search, filters, order ----------------------------------------------------

  // The query string with `name` set to `value` (removed when empty), and no page: the link of a
  // filter choice or a column's sort.
  static std::string with_param(const Request& req, const std::string& name,
                                const std::string& value,
                                const std::vector<std::string>& also_drop = {}) {
    std::string out;
    for (const auto& [k, v] : parse_urlencoded(req.query_string)) {
      if (k == name || k == "page" ||
          std::find(also_drop.begin(), also_drop.end(), k) != also_drop.end()) {
        continue;
      }
      out += (out.empty() ? "?" : "&") + percent_encode(k) + "=" + percent_encode(v);
    }
    if (!value.empty())
      out += (out.empty() ? "?" : "&") + percent_encode(name) + "=" + percent_encode(value);
    return req.path + (out.empty() ? "?" : out);
  }

  // ?q=: every word must be in one of the search fields (Django's search_fields, icontains).
  static QuerySet search(const Request& req, const ModelAdmin& options, QuerySet qs,
                         TemplateData& extra) {
    std::string q = req.query("q").value_or("");
    extra.set("has_search", !options.search_fields.empty()).set("q", q);
    if (q.empty() || options.search_fields.empty()) return qs;
    std::vector<std::string> words;
    for (auto& w : split(q, ' ')) {
      if (!w.empty()) words.push_back(w);
    }
    for (const auto& word : words) {
      std::optional<Q> any;
      for (const auto& f : options.search_fields) {
        Q one(f + "__icontains", Arg(Value(word)));
        any = any ? (*any | one) : one;
      }
      qs = qs.filter(*any);
    }
    return qs;
  }

  // ?<field>=<value> and ?<field>__isnull=1 for each list_filter field; the choices beside the
  // list (booleans: yes / no; keys: their targets; others: their values, at most 50 of each).
  static QuerySet filter(const Request& req, const ModelMeta& m, const ModelAdmin& options,
                         QuerySet qs, TemplateData& extra, bool with_choices = true) {
    TemplateData filters = TemplateData::list();
    for (const auto& name : options.list_filter) {
      auto index = m.field_index(name);
      if (!index) continue;
      const Field& f = m.fields[*index];
      std::string null_param = name + "__isnull";
      auto chosen = req.query(name);
      bool chosen_null = req.query(null_param).value_or("") == "1";
      if (chosen) {
        try {
          qs = qs.filter(Q(name, Arg(f.to_python(Value(*chosen)))));
        } catch (const Error&) {
          throw HttpError{400, "Not a value of " + f.name + ": " + *chosen};
        }
      } else if (chosen_null) {
        qs = qs.filter(Q(null_param, Arg(Value(true))));
      }
      if (!with_choices) continue;
      TemplateData choices = TemplateData::list();
      auto add = [&](const std::string& label, const std::string& value, bool selected,
                     bool is_null = false) {
        std::string url = is_null ? with_param(req, null_param, "1", {name})
                                  : with_param(req, name, value, {null_param});
        choices.push_back(
            TemplateData().set("label", label).set("url", url).set("selected", selected));
      };
      add("All", "", !chosen && !chosen_null);
      if (f.type == FieldType::Boolean) {
        add("Yes", "1", chosen && (*chosen == "1" || *chosen == "True" || *chosen == "true"));
        add("No", "0", chosen && (*chosen == "0" || *chosen == "False" || *chosen == "false"));
      } else if (f.is_foreign_key() && f.target != nullptr) {
        for (const Instance& t : QuerySet(req.db(), *f.target).order_by({"pk"}).slice(0, 50)) {
          std::string key = t.get(f.target_field->name).to_string();
          add(t.str(), key, chosen && *chosen == key);
        }
      } else {
        for (const auto& row : QuerySet(req.db(), m)
                                   .values_list({name}, true)
                                   .distinct()
                                   .order_by({name})
                                   .slice(0, 50)
                                   .rows()) {
          if (row.empty() || row[0].is_null()) continue;
          std::string v = row[0].to_string();
          add(v, v, chosen && *chosen == v);
        }
      }
      if (f.null) add("Empty", "", chosen_null, true);
      filters.push_back(
          TemplateData().set("title", "By " + f.name).set("choices", std::move(choices)));
    }
    extra.set("filters", std::move(filters)).set("has_filters", !options.list_filter.empty());
    return qs;
  }

  // ?o=<field> or ?o=-<field>, a list_display field (or pk); else the configured ordering.
  static QuerySet sort(const Request& req, const ModelMeta& m, const ModelAdmin& options,
                       QuerySet qs, TemplateData& extra) {
    std::vector<std::string> ordering = options.ordering;
    if (ordering.empty()) ordering = m.ordering;
    if (ordering.empty()) ordering = {"-pk"};  // the admin's default: newest first
    std::string o = req.query("o").value_or("");
    std::string field = !o.empty() && o[0] == '-' ? o.substr(1) : o;
    if (!o.empty()) {
      if (field != "pk" && std::find(options.list_display.begin(), options.list_display.end(),
                                     field) == options.list_display.end()) {
        throw HttpError{400, "Cannot sort by " + field + "."};
      }
      ordering = {o, "-pk"};
    }
    TemplateData columns = TemplateData::list();
    for (const auto& f : options.list_display) {
      bool ascending = o == f;
      bool descending = o == "-" + f;
      columns.push_back(TemplateData()
                            .set("name", f)
                            .set("url", with_param(req, "o", ascending ? "-" + f : f))
                            .set("sorted", ascending || descending)
                            .set("arrow", ascending    ? "\u25b2"
                                          : descending ? "\u25bc"
                                                       : ""));
    }
    extra.set("columns", std::move(columns)).set("has_columns", !options.list_display.empty());
    return qs.order_by(ordering);
  }

  // ---- background jobs
  // ---------------------------------------------------------------------------

  // Starts the confirmed delete of a selection as a background job when the page showed at
  // least background_rows rows and jobs are set up; its id. The job is bound to the shown
  // preview as a delete in a request is; the selection is used up now.
  std::optional<std::string> start_job(Request& req, const User& user, const ModelMeta& m,
                                       const std::string& selection_id, const std::string& token) {
    if (!job_database) return std::nullopt;
    auto binding = req.form_value("binding");
    std::optional<Preview> shown = binding ? decode_binding(*binding) : std::nullopt;
    if (!shown || shown->counts.total < background_rows) return std::nullopt;
    nlohmann::json rows = selection(req, token, user, m);
    auto job = std::make_shared<Job>();
    job->id = crypto::random_string(24);
    job->user_id = user.id.to_string();
    job->back_url = changelist_url(m);
    const ModelAdmin* options = &find(req)->second;
    Request list;  // the change list's search and filters, for a selection of all matching rows
    AuditSettings audit = audit_for(user, req);
    req.session().erase("_selection_" + selection_id);
    std::lock_guard lock(jobs_mutex);
    // Finished jobs of earlier requests go once there are many.
    if (jobs.size() > 1000) {
      std::erase_if(jobs, [](auto& e) {
        std::lock_guard job_lock(e.second->mutex);
        if (!e.second->finished) return false;
        if (e.second->thread.joinable()) e.second->thread.join();
        return true;
      });
    }
    jobs[job->id] = job;
    job->thread = std::thread([this, job, &m, options, list, rows, audit, preview = *shown] {
      std::variant<DeleteResult, std::string> outcome;
      try {
        Database db = job_database();
        AuditScope scope(db, audit);
        QuerySet selected = selected_rows(db, list, m, *options, rows);
        outcome = run_bound(
            preview, [&] { return Collector(db).collect(selected); },
            [&](int step, int steps, const std::string& what) {
              std::lock_guard job_lock(job->mutex);
              job->step = step;
              job->steps = steps;
              job->what = what;
            });
      } catch (const std::exception& e) {
        outcome = std::string("Nothing was deleted: ") + e.what();
      }
      std::lock_guard job_lock(job->mutex);
      job->finished = true;
      if (const auto* result = std::get_if<DeleteResult>(&outcome)) {
        job->message = "Successfully deleted " + std::to_string(result->total) + " object" +
                       (result->total == 1 ? "" : "s") + ".";
      } else {
        job->failed = true;
        job->message = std::get<std::string>(outcome);
      }
    });
    return job->id;
  }

  // A job's page: its progress, refreshed every second while it runs (no script: a meta
  // refresh), then its outcome. Only its user sees it.
  Response job_page(Request& req) {
    auto user = staff(req);
    if (!user) return to_login(req);
    std::shared_ptr<Job> job;
    {
      std::lock_guard lock(jobs_mutex);
      auto it = jobs.find(req.param("job"));
      if (it != jobs.end() && it->second->user_id == user->id.to_string()) job = it->second;
    }
    if (!job) throw HttpError{404, "No such job."};
    TemplateData d;
    std::lock_guard job_lock(job->mutex);
    d.set("running", !job->finished)
        .set("finished", job->finished)
        .set("failed", job->failed)
        .set("succeeded", job->finished && !job->failed)
        .set("message", job->message)
        .set("step", job->step)
        .set("steps", std::max(job->steps, 1))
        .set("what", job->what.empty() ? std::string("starting") : job->what)
        .set("back_url", job->back_url);
    return page(req, "admin_job.html", job->finished ? "Delete finished" : "Deleting…", d, user);
  }

  // The objects of one model a selection's delete would remove, 100 a page: the drill-down
  // behind the confirmation's counts. Changes nothing; the selection stays usable.
  Response delete_objects(Request& req) {
    auto user = staff(req);
    if (!user) return to_login(req);
    const ModelMeta& m = deletable(req, permissions_of(req.db(), *user));
    std::string token = req.query("selection").value_or("");
    QuerySet rows = recall(req, token, *user, m);
    std::string label = req.query("label").value_or("");
    const ModelMeta* listed = registry.find(label);
    if (listed == nullptr) throw HttpError{404, "No model " + label + "."};
    const std::int64_t per_page = 100;
    auto found = Collector(req.db()).collect(rows).objects(label, (page_asked(req) - 1) * per_page,
                                                           per_page);
    Paging pages = paging(req, found.total, per_page);
    bool linked =
        std::any_of(models.begin(), models.end(), [&](const auto& e) { return e.first == listed; });
    TemplateData items = TemplateData::list();
    for (const Instance& o : found.objects) {
      std::string url = linked ? changelist_url(*listed) + percent_encode(o.pk().to_string()) + "/"
                               : std::string();
      items.push_back(
          TemplateData().set("text", o.str()).set("url", url).set("has_url", !url.empty()));
    }
    std::string base = changelist_url(m) +
                       "delete_selected/objects/?selection=" + percent_encode(token) +
                       "&label=" + percent_encode(label) + "&page=";
    std::string name =
        capitalized(found.total == 1 ? listed->verbose_name : listed->verbose_name_plural);
    TemplateData d;
    d.set("name", name).set("objects", std::move(items));
    pages.describe(d, found.total, [&](std::int64_t n) { return base + std::to_string(n); });
    d.set("back_url", changelist_url(m) + "delete_selected/?selection=" + percent_encode(token));
    return page(req, "admin_delete_objects.html", name + " this delete would remove", d, user);
  }

  // ---- trash -----------------------------------------------------------------------------------

  static bool soft_models_with(const Registry& registry, const Permissions& perms,
                               const std::string& action) {
    for (const ModelMeta* m : registry.models()) {
      if (m->soft_deletable() && perms.has(permission_codename(action, *m))) return true;
    }
    return false;
  }

  bool may_use_trash(const Permissions& perms) const {
    return soft_models_with(registry, perms, "restore") ||
           soft_models_with(registry, perms, "purge");
  }

  static bool may_view_log(const Permissions& perms) {
    return perms.has(
        permission_codename("view", AuditLog::registry().get("cascade_audit.LogEntry")));
  }

  // Model labels of `counts` lacking `action` permission (purge: the soft-deletable models need
  // purge, the others delete).
  std::vector<std::string> lacking(const Permissions& perms, const DeleteResult& counts,
                                   const std::string& action) const {
    std::vector<std::string> out;
    for (const auto& [label, n] : counts.per_model) {
      const ModelMeta* m = registry.find(label);
      if (m == nullptr || m->auto_created) continue;
      std::string needed = action == "purge" && !m->soft_deletable() ? "delete" : action;
      if (!perms.has(permission_codename(needed, *m))) out.push_back(m->verbose_name);
    }
    return out;
  }

  TemplateData counts_list(const DeleteResult& counts) const {
    TemplateData list = TemplateData::list();
    for (const auto& [label, n] : counts.per_model) {
      const ModelMeta* m = registry.find(label);
      std::string name =
          m != nullptr ? capitalized(n == 1 ? m->verbose_name : m->verbose_name_plural) : label;
      list.push_back(TemplateData().set("name", name).set("count", n));
    }
    return list;
  }

  static std::string roots_text(const AuditEntry& e) {
    std::string keys;
    for (const auto& k : e.root_keys) keys += (keys.empty() ? "" : ", ") + k;
    if (e.root_count > static_cast<std::int64_t>(e.root_keys.size())) {
      keys += ", \u2026 (" + std::to_string(e.root_count) + " in all)";
    }
    return e.root_model + (keys.empty() ? "" : " " + keys);
  }

  std::optional<AuditEntry> logged(Request& req, const std::string& operation) const {
    AuditLog log(req.db());
    if (!log.exists()) return std::nullopt;
    return log.find(operation);
  }

  Response trash(Request& req) {
    auto user = staff(req);
    if (!user) return to_login(req);
    Permissions perms = permissions_of(req.db(), *user);
    if (!may_use_trash(perms)) {
      throw HttpError{403, "You do not have permission to restore or purge anything."};
    }
    std::vector<TrashedOperation> ops = trashed_operations(req.db());
    auto count = static_cast<std::int64_t>(ops.size());
    Paging pages = paging(req, count, 50);
    TemplateData rows = TemplateData::list();
    AuditLog log(req.db());
    const bool logging = log.exists();  // once for the page, not per row
    for (std::int64_t i = pages.offset(); i < std::min(count, pages.offset() + pages.per_page);
         ++i) {
      const TrashedOperation& op = ops[static_cast<std::size_t>(i)];
      auto entry = logging ? log.find(op.deletion_id) : std::nullopt;
      std::string who =
          entry ? (entry->user.empty() ? entry->tool : entry->user + " (" + entry->tool + ")")
                : "not recorded";
      rows.push_back(TemplateData()
                         .set("when", op.deleted_at.iso(' ').substr(0, 19))
                         .set("who", who)
                         .set("roots", entry ? roots_text(*entry) : std::string("-"))
                         .set("reason", entry ? entry->reason : std::string())
                         .set("counts", counts_list(op.counts))
                         .set("total", op.counts.total)
                         .set("operation", op.deletion_id)
                         .set("restore_url", trash_url() + op.deletion_id + "/restore/")
                         .set("purge_url", trash_url() + op.deletion_id + "/purge/"));
    }
    TemplateData d;
    d.set("rows", std::move(rows)).set("has_rows", count > 0);
    pages.describe(d, count,
                   [&](std::int64_t n) { return trash_url() + "?page=" + std::to_string(n); });
    return page(req, "admin_trash.html", "Trash", d, user);
  }

  // The trash's operation named in the URL: its rows per model. 404 when nothing carries it.
  std::vector<QuerySet> operation_rows(Request& req) {
    const std::string& id = req.param("operation");
    std::vector<QuerySet> rows = trashed_rows(req.db(), id);
    if (rows.empty()) throw HttpError{404, "No operation " + id + " in the trash."};
    return rows;
  }

  // "r1|<label>:<n>,...": the counts the restore page showed.
  static std::string restore_binding(const RestorePreview& p) {
    std::string out = "r1|";
    for (std::size_t i = 0; i < p.counts.per_model.size(); ++i) {
      out += (i ? "," : "") + p.counts.per_model[i].first + ":" +
             std::to_string(p.counts.per_model[i].second);
    }
    return out;
  }

  Response restore(Request& req) {
    auto user = staff(req);
    if (!user) return to_login(req);
    Permissions perms = permissions_of(req.db(), *user);
    std::vector<QuerySet> rows = operation_rows(req);
    const QuerySet& selected = rows.front();
    RestorePreview preview = restore_preview(selected);
    std::vector<std::string> missing = lacking(perms, preview.counts, "restore");
    auto show = [&](const std::string& notice, const std::string& error, int status) {
      TemplateData missing_list = TemplateData::list();
      for (const auto& name : missing) missing_list.push_back(TemplateData().set("name", name));
      TemplateData d;
      d.set("operation", req.param("operation"))
          .set("counts", counts_list(preview.counts))
          .set("total", preview.counts.total)
          .set("binding", restore_binding(preview))
          .set("missing", std::move(missing_list))
          .set("has_missing", !missing.empty())
          .set("can_restore", missing.empty() && error.empty())
          .set("notice", notice)
          .set("has_notice", !notice.empty())
          .set("error", error)
          .set("has_error", !error.empty())
          .set("audited", audit_enabled)
          .set("cancel_url", trash_url());
      auto entry = logged(req, req.param("operation"));
      d.set("has_entry", entry.has_value())
          .set("roots", entry ? roots_text(*entry) : std::string())
          .set("when", entry ? entry->at.iso(' ').substr(0, 19) : std::string());
      return page(req, "admin_restore.html", "Restore", d, user, status);
    };
    if (req.method == "GET") return show("", "", 200);
    if (!missing.empty()) {
      throw HttpError{403, "You do not have permission to restore every object of this operation."};
    }
    std::string shown = req.form_value("binding").value_or("");
    if (shown != restore_binding(preview)) {
      return show(
          "The objects changed since the page was shown, so nothing was restored. This "
          "is what a restore would bring back now.",
          "", 409);
    }
    try {
      AuditScope audit(req.db(), audit_for(*user, req));
      DeleteResult result = restore_soft_deleted(selected, preview);
      add_message(req, {.text = "Restored " + std::to_string(result.total) + " object" +
                                (result.total == 1 ? "" : "s") + "."});
      return Response::redirect(trash_url());
    } catch (const PreviewChanged&) {
      preview = restore_preview(selected);
      return show(
          "The objects changed since the page was shown, so nothing was restored. This "
          "is what a restore would bring back now.",
          "", 409);
    } catch (const RestoreError& e) {
      return show("", e.what(), 409);
    }
  }

  Response purge(Request& req) {
    auto user = staff(req);
    if (!user) return to_login(req);
    Permissions perms = permissions_of(req.db(), *user);
    std::vector<QuerySet> rows = operation_rows(req);
    PurgePlan plan(req.db(), rows);
    Preview p = plan.preview(100);
    std::vector<std::string> missing = lacking(perms, p.counts, "purge");
    auto show = [&](const std::string& notice, int status) {
      // No links: the objects are in the trash, which the change lists and pages do not show.
      TemplateData d =
          preview_data(p, registry, [&](const Preview::Node&) { return std::string(); });
      TemplateData missing_list = TemplateData::list();
      for (const auto& name : missing) missing_list.push_back(TemplateData().set("name", name));
      d.set("operation", req.param("operation"))
          .set("missing", std::move(missing_list))
          .set("has_missing", !missing.empty())
          .set("can_purge", missing.empty() && !p.blocked())
          .set("notice", notice)
          .set("has_notice", !notice.empty())
          .set("audited", audit_enabled)
          .set("cancel_url", trash_url());
      return page(req, "admin_purge.html", "Delete for good", d, user, status);
    };
    if (req.method == "GET") return show("", 200);
    if (!missing.empty()) {
      throw HttpError{403, "You do not have permission to delete every object this purge reaches."};
    }
    if (req.form_value("binding").value_or("") != encode_binding(p)) {
      return show(
          "The objects changed since the page was shown, so nothing was deleted. This is "
          "what would be deleted now.",
          409);
    }
    try {
      AuditScope audit(req.db(), audit_for(*user, req));
      DeleteResult result = plan.execute(p);
      add_message(req, {.text = "Deleted " + std::to_string(result.total) + " object" +
                                (result.total == 1 ? "" : "s") + " for good."});
      return Response::redirect(trash_url());
    } catch (const PreviewChanged&) {
      p = plan.preview(100);
      return show(
          "The objects changed since the page was shown, so nothing was deleted. This is "
          "what would be deleted now.",
          409);
    } catch (const IntegrityError& e) {
      return show(std::string("Nothing was deleted: ") + e.what(), 409);
    }
  }

  // ---- the audit log ---------------------------------------------------------------------------

  TemplateData entry_data(const AuditEntry& e) const {
    return TemplateData()
        .set("id", e.id)
        .set("operation", e.operation)
        .set("url", log_url() + e.operation + "/")
        .set("action", e.action)
        .set("when", e.at.iso(' ').substr(0, 19))
        .set("user", e.user.empty() ? std::string("-") : e.user)
        .set("tool", e.tool)
        .set("os_user", e.os_user)
        .set("reason", e.reason)
        .set("has_reason", !e.reason.empty())
        .set("roots", roots_text(e))
        .set("counts", counts_list(e.counts))
        .set("total", e.counts.total);
  }

  Response log(Request& req) {
    auto user = staff(req);
    if (!user) return to_login(req);
    if (!may_view_log(permissions_of(req.db(), *user))) {
      throw HttpError{403, "You do not have permission to view the audit log."};
    }
    AuditLog log(req.db());
    AuditFilter f{.action = req.query("action").value_or(""),
                  .model = req.query("model").value_or(""),
                  .user = req.query("user").value_or("")};
    std::int64_t count = log.exists() ? log.count(f) : 0;
    Paging pages = paging(req, count, 50);
    TemplateData rows = TemplateData::list();
    if (count > 0) {
      for (const auto& e : log.entries(f, pages.per_page, pages.offset())) {
        rows.push_back(entry_data(e));
      }
    }
    TemplateData actions = TemplateData::list();
    for (std::string a : {"", "delete", "soft_delete", "restore", "purge"}) {
      actions.push_back(TemplateData()
                            .set("label", a.empty() ? std::string("All") : a)
                            .set("url", with_param(req, "action", a))
                            .set("selected", f.action == a));
    }
    TemplateData d;
    d.set("rows", std::move(rows)).set("has_rows", count > 0).set("actions", std::move(actions));
    pages.describe(d, count,
                   [&](std::int64_t n) { return with_param(req, "page", std::to_string(n)); });
    return page(req, "admin_log.html", "Audit log", d, user);
  }

  Response log_entry(Request& req) {
    auto user = staff(req);
    if (!user) return to_login(req);
    if (!may_view_log(permissions_of(req.db(), *user))) {
      throw HttpError{403, "You do not have permission to view the audit log."};
    }
    auto e = logged(req, req.param("operation"));
    if (!e) throw HttpError{404, "No operation " + req.param("operation") + " in the audit log."};
    TemplateData d = entry_data(*e);
    TemplateData recorded = TemplateData::list();
    std::int64_t n = 0;
    const std::int64_t shown = 1000;
    if (e->rows_recorded) {
      AuditLog(req.db()).for_each_row(
          e->operation, [&](const std::string& m, const std::string& k) {
            if (n++ < shown) recorded.push_back(TemplateData().set("model", m).set("key", k));
          });
    }
    TemplateData refers = TemplateData::list();
    for (const auto& id : e->refers_to) {
      refers.push_back(TemplateData().set("operation", id).set("url", log_url() + id + "/"));
    }
    d.set("rows_recorded", e->rows_recorded)
        .set("recorded", std::move(recorded))
        .set("recorded_count", n)
        .set("more_rows", std::max<std::int64_t>(0, n - shown))
        .set("has_more_rows", n > shown)
        .set("refers", std::move(refers))
        .set("has_refers", !e->refers_to.empty())
        .set("log_url", log_url());
    return page(req, "admin_log_entry.html", "Operation " + e->operation, d, user);
  }
};

AdminSite::AdminSite(const Registry& registry, const Templates& templates, std::string prefix)
    : impl_(std::make_unique<Impl>(registry, templates, std::move(prefix))) {}

AdminSite::~AdminSite() = default;

void AdminSite::register_model(const ModelMeta& model, ModelAdmin options) {
  impl_->models.emplace_back(&model, std::move(options));
}

void AdminSite::register_all() {
  for (const ModelMeta* m : impl_->registry.models()) {
    if (!m->auto_created) register_model(*m);
  }
}

void AdminSite::set_login_throttle(int failures, std::chrono::seconds window) {
  impl_->max_failures = failures;
  impl_->window = window;
}

void AdminSite::set_concurrent_logins(int n) { impl_->max_hashing = std::max(1, n); }

void AdminSite::set_password_iterations(int n) { impl_->password_iterations = n; }

void AdminSite::set_background_jobs(std::function<Database()> open, std::int64_t rows) {
  impl_->job_database = std::move(open);
  impl_->background_rows = std::max<std::int64_t>(1, rows);
}

void AdminSite::set_audit(bool enabled, bool record_rows) {
  impl_->audit_enabled = enabled;
  impl_->audit_rows = record_rows;
}

void AdminSite::add_routes(Router& router) {
  Impl& s = *impl_;
  router.add({"GET", "POST"}, s.prefix + "/login/", [&s](Request& r) { return s.login_view(r); });
  router.add({"POST"}, s.prefix + "/logout/", [&s](Request& r) {
    logout(r);
    add_message(r, {.level = "info",
                    .text = "Logged out. Thanks for spending some quality time "
                            "with the site today."});
    return Response::redirect(s.prefix + "/login/");
  });
  router.add({"GET"}, s.prefix + "/", [&s](Request& r) { return s.index(r); });
  // Before the model pages: "trash-bin", "audit-log" and "background-jobs" cannot be app labels
  // (a hyphen), but
  // the patterns below would match their paths.
  router.add({"GET"}, s.trash_url(), [&s](Request& r) { return s.trash(r); });
  router.add({"GET", "POST"}, s.trash_url() + "<operation>/restore/",
             [&s](Request& r) { return s.restore(r); });
  router.add({"GET", "POST"}, s.trash_url() + "<operation>/purge/",
             [&s](Request& r) { return s.purge(r); });
  router.add({"GET"}, s.log_url(), [&s](Request& r) { return s.log(r); });
  router.add({"GET"}, s.log_url() + "<operation>/", [&s](Request& r) { return s.log_entry(r); });
  router.add({"GET"}, s.prefix + "/background-jobs/<job>/",
             [&s](Request& r) { return s.job_page(r); });
  router.add({"GET"}, s.prefix + "/<app>/<model>/", [&s](Request& r) { return s.changelist(r); });
  router.add({"GET", "POST"}, s.prefix + "/<app>/<model>/delete_selected/",
             [&s](Request& r) { return s.delete_selected(r); });
  router.add({"GET"}, s.prefix + "/<app>/<model>/delete_selected/objects/",
             [&s](Request& r) { return s.delete_objects(r); });
  // After delete_selected/: the first pattern that matches a path decides.
  router.add({"GET"}, s.prefix + "/<app>/<model>/<pk>/", [&s](Request& r) { return s.detail(r); });
}

}  // namespace cascade::web
