// The `cascade` command-line tool as a library call, so a C++ application can offer the same
// commands over its own typed models (Django's manage.py):
//
//   int main(int argc, char** argv) {
//     cascade::Registry registry;
//     register_models(registry);
//     registry.finalize();
//     return cascade::cli::run(argc, argv, registry, "sqlite:///app.db");
//   }
//
// Commands write results to `out` and errors to `err`; the return value is the exit code:
// 0 success, 1 error, 2 bad command line.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "cascade/model/loader.h"
#include "cascade/web/http.h"

namespace cascade {
class Database;
class Registry;
}  // namespace cascade

namespace cascade::web {
class Templates;
}  // namespace cascade::web

namespace cascade::cli {

// An application's own command (Django's custom management commands). It receives the open
// database and the arguments that follow its name, and returns the exit code.
struct Command {
  std::string name;
  std::string description;
  std::function<int(Database& db, const std::vector<std::string>& args, std::ostream& out)> run;
};

// What an application adds to its `runserver` (Django's urls.py and templates directory): its
// own routes, tried before the model pages; a directory whose templates override the defaults;
// and the [web] settings (the secret key may also come from $CASCADE_SECRET_KEY).
struct WebApp {
  std::function<void(web::Router& router, const web::Templates& templates)> routes;
  std::string templates_dir;
  WebSettings settings;
  AuditFileSettings audit;                // the admin records its deletes unless turned off
  std::vector<AdminModelSettings> admin;  // [admin.<app>.<Model>]: change-list options
};

// The stand-alone tool: models and database come from the settings file (--settings).
int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

// An application's tool: models come from `registry` (finalized); the database from --database,
// else $CASCADE_DATABASE_URL, else `default_url`.
int run(int argc, const char* const* argv, const Registry& registry, const std::string& default_url,
        std::ostream& out, std::ostream& err, const std::vector<Command>& commands = {},
        const WebApp& web = {});

}  // namespace cascade::cli
