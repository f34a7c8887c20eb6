#include "cascade/web/admin.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <set>
#include <nlohmann/json.hpp>

#include "cascade/database.h"
#include "cascade/deletion/collector.h"
#include "cascade/error.h"
#include "cascade/model/registry.h"
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

  Impl(const Registry& r, const Templates& t, std::string p)
      : registry(r), templates(t), prefix(std::move(p)) {}

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
    data.set("apps", apps).set("has_apps", !order.empty());
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
    std::vector<std::string> ordering = options.ordering;
    if (ordering.empty()) ordering = m->ordering;
    if (ordering.empty()) ordering = {"-pk"};  // the admin's default: newest first
    QuerySet qs = QuerySet(req.db(), *m).order_by(ordering);
    ListOptions o;
    o.template_name = "admin_changelist.html";
    o.title = "Select " + m->verbose_name + " to delete";
    o.per_page = options.list_per_page;
    TemplateData columns = TemplateData::list();
    for (const auto& f : options.list_display) columns.push_back(TemplateData().set("name", f));
    o.extra.set("columns", columns)
        .set("has_columns", !options.list_display.empty())
        .set("column_title", capitalized(m->verbose_name))
        .set("plural", m->verbose_name_plural)
        .set("action_url", changelist_url(*m) + "delete_selected/")
        .set("can_delete", perms.has(permission_codename("delete", *m)))
        .set("admin_url", prefix + "/")
        .set("logout_url", prefix + "/logout/")
        .set("has_user", true)
        .set("current_user", user->username);
    return secured(list_page(req, templates, qs, o, [&](const Instance& inst) {
      TemplateData cells = TemplateData::list();
      for (const auto& f : options.list_display) {
        Value v = inst.get(f);
        cells.push_back(TemplateData().set("value", v.is_null() ? "-" : v.to_string()));
      }
      return TemplateData()
          .set("text", inst.str())
          .set("pk", inst.pk().to_string())
          .set("url", changelist_url(*m) + percent_encode(inst.pk().to_string()) + "/")
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
  QuerySet recall(Request& req, const std::string& token, const User& user, const ModelMeta& m,
                  std::string* id_out = nullptr) {
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
    QuerySet qs(req.db(), m);
    const auto& rows = j["rows"];
    if (rows.is_string() && rows.get<std::string>() == "all") return qs;
    std::vector<Value> keys;
    for (const auto& k : rows) {
      if (k.is_number_integer())
        keys.emplace_back(k.get<std::int64_t>());
      else if (k.is_string())
        keys.emplace_back(k.get<std::string>());
    }
    return qs.filter(Q("pk__in", Arg(keys)));
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
    TemplateData d = preview_data(p, registry, [&](const Preview::Node&) { return std::string(); });
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
        .set("has_notice", !notice.empty());
    return page(req, "admin_delete_selected.html", "Are you sure?", d, user, status);
  }

  Response delete_selected(Request& req) {
    auto user = staff(req);
    if (!user) return to_login(req);
    const ModelMeta& m = *find(req)->first;
    Permissions perms = permissions_of(req.db(), *user);
    if (!perms.has(permission_codename("delete", m))) {
      throw HttpError{403, "You do not have permission to delete " + m.verbose_name_plural + "."};
    }
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
      what = "all";
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
  router.add({"GET"}, s.prefix + "/<app>/<model>/", [&s](Request& r) { return s.changelist(r); });
  router.add({"GET", "POST"}, s.prefix + "/<app>/<model>/delete_selected/",
             [&s](Request& r) { return s.delete_selected(r); });
  // After delete_selected/: the first pattern that matches a path decides.
  router.add({"GET"}, s.prefix + "/<app>/<model>/<pk>/", [&s](Request& r) { return s.detail(r); });
}

}  // namespace cascade::web
