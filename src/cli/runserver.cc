#include "cli/runserver.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <ostream>

#include "cascade/database.h"
#include "cascade/version.h"
#include "cascade/deletion/audit.h"
#include "cascade/web/admin.h"
#include "cascade/web/auth.h"
#include "cascade/web/server.h"
#include "cascade/web/templates.h"
#include "cascade/web/views.h"
#include "cli/delete_commands.h"

namespace cascade::cli {

AddressPort parse_address_port(const std::string& text) {
  AddressPort out;
  std::string port = text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find("]:");
    if (close == std::string::npos) {
      throw UsageError("'" + text + "' is not a valid address:port ([::1]:8000)");
    }
    out.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else if (auto colon = text.rfind(':'); colon != std::string::npos) {
    out.host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (out.host.empty()) out.host = "127.0.0.1";
  }
  int n = -1;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
  if (port.empty() || ec != std::errc() || p != port.data() + port.size() || n < 0 || n > 65535) {
    throw UsageError("'" + text + "' is not a valid port number or address:port pair");
  }
  out.port = n;
  return out;
}

int runserver_command(const Registry& registry, const std::string& url, const std::string& base_dir,
                      const WebApp& site, const std::string& address_port, std::ostream& out,
                      std::ostream& err) {
  const WebSettings& web = site.settings;
  AddressPort where = parse_address_port(address_port);
  web::ServerOptions options;
  options.host = where.host;
  options.port = where.port;
  options.secret_key = web.secret_key;
  if (const char* key = std::getenv("CASCADE_SECRET_KEY"); key != nullptr && *key != '\0') {
    options.secret_key = key;
  }
  options.debug = web.debug;
  options.https = web.https;
  options.allowed_hosts = web.allowed_hosts;
  options.workers = web.workers;
  options.connections = web.connections;
  if (options.secret_key.empty() && !options.debug) {
    throw ConfigError(
        "the web server needs a secret key: set [web] secret_key in the settings file (or the "
        "CASCADE_SECRET_KEY environment variable), or [web] debug = true on a development "
        "machine");
  }
  web::Templates templates(site.templates_dir);
  options.templates = &templates;
  options.access_log = &err;
  web::Router router;
  // The admin at /admin/ (its login needs the auth tables; `cascade createsuperuser` makes a
  // user), then the application's own routes, then the model pages.
  {
    Database db = Database::open(registry, url, base_dir);
    web::migrate_auth(db.connection());
    if (site.audit.enabled) AuditLog(db).migrate();
  }
  web::AdminSite admin(registry, templates);
  admin.set_audit(site.audit.enabled, site.audit.record_rows);
  // [admin.<app>.<Model>] first, in file order; then every other model.
  for (const auto& a : site.admin) {
    admin.register_model(registry.get(a.label), web::ModelAdmin{.list_display = a.list_display,
                                                                .search_fields = a.search_fields,
                                                                .list_filter = a.list_filter,
                                                                .ordering = a.ordering,
                                                                .list_per_page = a.list_per_page});
  }
  for (const ModelMeta* m : registry.models()) {
    bool configured = std::any_of(site.admin.begin(), site.admin.end(),
                                  [&](const auto& a) { return a.label == m->label(); });
    if (!m->auto_created && !configured) admin.register_model(*m);
  }
  admin.add_routes(router);
  if (site.routes) site.routes(router, templates);
  web::add_model_pages(router, registry, templates);
  // Every connection records its deletes in the audit log (the model pages' too); the admin
  // names the user and asks for a reason.
  auto open = [&] {
    Database db = Database::open(registry, url, base_dir);
    db.audit() = AuditSettings{.enabled = site.audit.enabled,
                               .record_rows = site.audit.record_rows,
                               .user = {},
                               .tool = "runserver",
                               .reason = {}};
    return db;
  };
  // Deletes of 100,000 rows or more run in the background, with a progress page.
  admin.set_background_jobs(open);
  web::Server server(options, std::move(router), open);
  int port = server.listen();
  std::string shown_host =
      where.host.find(':') != std::string::npos ? "[" + where.host + "]" : where.host;
  out << "Cascade " << CASCADE_VERSION_STRING << ", serving " << url << "\n"
      << "Starting server at http://" << shown_host << ":" << port << "/\n"
      << "The admin is at http://" << shown_host << ":" << port
      << "/admin/ (cascade createsuperuser makes a user).\n"
      << (where.host != "127.0.0.1" && where.host != "localhost" && where.host != "::1"
              ? "Warning: the model pages have no login: anyone who can reach this address can "
                "delete through them (the admin at /admin/ needs a staff login).\n"
              : "")
      << (options.debug ? "Debug mode: error pages show exceptions. " : "")
      << "Quit the server with CONTROL-C.\n"
      << std::flush;
  web::serve_until_signal(server);
  out << "Stopped: the requests in flight were finished.\n";
  return 0;
}

}  // namespace cascade::cli
