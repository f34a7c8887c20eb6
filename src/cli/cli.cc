#include "cascade/cli/cli.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <nlohmann/json.hpp>
#include <cstdlib>
#include <fstream>
#include <fmt/format.h>
#include <iostream>
#include <optional>

#include "cascade/database.h"
#include "cascade/deletion/audit.h"
#include "cascade/error.h"
#include "cascade/model/loader.h"
#include "cascade/version.h"
#include "cli/delete_commands.h"
#include "cli/inspect.h"
#include "cli/inspectdb.h"
#include "cli/log_command.h"
#include "cli/shell/shell.h"
#include "cli/auth_commands.h"
#include "cli/runserver.h"
#include "model/naming.h"

namespace cascade::cli {
namespace {

struct Options {
  std::string settings = "cascade.toml";
  std::string database;
  bool plan_only = false;
  std::vector<std::string> models;
};

// Where the models and the database come from for one run.
struct Context {
  std::optional<Project> project;  // the stand-alone tool
  const Registry* registry = nullptr;
  std::string url;
  std::string base_dir;
};

Context context_for(const Options& o, const Registry* app_registry,
                    const std::string& default_url) {
  Context ctx;
  if (app_registry != nullptr) {
    ctx.registry = app_registry;
    ctx.url = o.database;
    if (ctx.url.empty()) {
      if (const char* env = std::getenv("CASCADE_DATABASE_URL")) ctx.url = env;
    }
    if (ctx.url.empty()) ctx.url = default_url;
  } else {
    ctx.project = load_project(o.settings);
    ctx.registry = ctx.project->registry.get();
    ctx.base_dir = ctx.project->base_dir;
    ctx.url = o.database.empty() ? ctx.project->database_url : o.database;
    // A URL given on the command line is relative to the working directory.
    if (!o.database.empty()) ctx.base_dir.clear();
  }
  if (ctx.url.empty()) {
    throw ConfigError(
        "no database: set [database] url in the settings file or pass --database URL");
  }
  return ctx;
}

// Turns the audit log on for `db` when the settings want it (the default), creating its tables.
void start_audit(Database& db, const AuditFileSettings& settings, const std::string& tool,
                 const std::string& reason) {
  if (!settings.enabled) return;
  AuditLog(db).migrate();
  db.audit() = AuditSettings{.enabled = true,
                             .record_rows = settings.record_rows,
                             .user = {},
                             .tool = tool,
                             .reason = reason};
}

// The tool's name in messages: the program's file name, without its directory.
std::string program_name(int argc, const char* const* argv) {
  if (argc < 1 || argv[0] == nullptr || *argv[0] == '\0') return "cascade";
  std::string path = argv[0];
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The first argument that is not an option (or an option's value): the command.
std::optional<std::string> command_word(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--settings" || a == "--database") {
      ++i;
      continue;
    }
    if (!a.empty() && a[0] == '-') continue;
    return a;
  }
  return std::nullopt;
}

bool wants_json(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--format=json" ||
        (a == "--format" && i + 1 < argc && std::string(argv[i + 1]) == "json")) {
      return true;
    }
  }
  return false;
}

// A command-line error: "cascade: error: ..." and exit code 2, or one JSON document.
int usage_error(const std::string& name, const std::string& message, bool json, std::ostream& out,
                std::ostream& err) {
  if (json) {
    nlohmann::json doc{{"status", "error"},
                       {"error", {{"type", "UsageError"}, {"message", message}}},
                       {"exit_code", 2}};
    out << doc.dump(2) << "\n";
  }
  err << name << ": error: " << message << "\nRun with --help for usage.\n";
  return 2;
}

int migrate_command(const Options& o, Context& ctx, std::ostream& out) {
  auto conn = db::Connection::open(ctx.url, ctx.base_dir);
  if (o.plan_only) {
    auto plan = db::plan_migration(*conn, *ctx.registry);
    if (!plan.problems.empty()) throw db::SchemaMismatch(plan.problems);
    if (plan.statements.empty()) {
      out << "No changes: every table exists and matches its model.\n";
      return 0;
    }
    for (const auto& s : plan.statements) out << s << ";\n";
    return 0;
  }
  auto plan = db::migrate(*conn, *ctx.registry);
  if (plan.statements.empty()) {
    out << "No changes: every table exists and matches its model.\n";
    return 0;
  }
  for (const auto& label : plan.create_tables) out << "Created table for " << label << "\n";
  std::size_t indexes = plan.statements.size() - plan.create_tables.size();
  if (indexes > 0) out << "Created " << indexes << " index(es) and constraint(s)\n";
  return 0;
}

int run_impl(int argc, const char* const* argv, const Registry* app_registry,
             const std::string& default_url, std::ostream& out, std::ostream& err,
             const std::vector<Command>& commands, const WebApp* web_app = nullptr) {
  Options o;
  CLI::App app{app_registry != nullptr
                   ? "Cascade: data tools over this application's models."
                   : "Cascade: delete data correctly, previewably and reversibly.\n"
                     "Works on the project described by a settings file (cascade.toml)."};
  const std::string name = program_name(argc, argv);
  app.name(name);
  app.set_version_flag("--version", CASCADE_VERSION_STRING);
  app.require_subcommand(1);
  app.fallthrough();  // --database / --settings may also follow the command
  if (app_registry == nullptr) {
    app.add_option("--settings", o.settings, "Settings file with [database] and [models]")
        ->envname("CASCADE_SETTINGS")
        ->capture_default_str();
  }
  app.add_option("--database", o.database,
                 "Database URL (overrides the settings): sqlite:///relative.db, "
                 "sqlite:////absolute.db, sqlite://:memory:");

  auto* migrate = app.add_subcommand(
      "migrate",
      "Create the tables, constraints and indexes the models need. Existing tables "
      "are checked against their models; schema changes are not supported yet.");
  migrate->add_flag("--plan", o.plan_only, "Print the SQL that would run; change nothing");

  auto* inspect = app.add_subcommand(
      "inspect", "Show the models: fields, relations and on_delete rules, and row counts.");
  inspect->add_option("models", o.models, "Only these models (app.Model or Model)");

  std::string inspect_app = "inspected";
  std::string inspect_output;
  std::vector<std::string> inspect_tables;
  auto* inspectdb = app.add_subcommand(
      "inspectdb",
      "Write a cascade.toml describing an existing database (tables, columns, "
      "foreign keys with their ON DELETE, unique constraints), to explore and clean "
      "it with Cascade. Needs --database (or a settings file's [database]).");
  inspectdb->add_option("tables", inspect_tables, "Only these tables");
  inspectdb->add_option("--app", inspect_app, "App label of the models")->capture_default_str();
  inspectdb->add_option("-o,--output", inspect_output,
                        "Write to this file instead of standard output");

  std::string address_port = "8000";
  auto* runserver = app.add_subcommand(
      "runserver",
      "Serve the models' pages on the web: a list and a detail page per object, delete "
      "pages that show exactly what will go (docs/web.md), and the admin at /admin/ "
      "(docs/admin.md; log in as a user from createsuperuser). Binds 127.0.0.1 unless told "
      "otherwise; Ctrl-C stops it after the requests in flight. Needs [web] secret_key (or "
      "CASCADE_SECRET_KEY), or [web] debug = true.");
  runserver->add_option("addrport", address_port, "[ADDR:]PORT to listen on")
      ->capture_default_str();

  auto* check = app.add_subcommand(
      "check",
      "Compare the models with the database: missing tables and columns, constraints, "
      "and ON DELETE rules that differ from the models' on_delete (errors, exit code 1), "
      "and foreign-key columns without an index (warnings). Changes nothing.");

  SuperuserOptions superuser;
  std::string superuser_name;
  auto* createsuperuser = app.add_subcommand(
      "createsuperuser",
      "Create a staff superuser for the web admin. Asks on a terminal; with --no-input the "
      "password comes from the CASCADE_SUPERUSER_PASSWORD environment variable.");
  createsuperuser->add_option("--username", superuser_name, "The username");
  createsuperuser->add_option("--email", superuser.email, "The email address");
  createsuperuser->add_flag("--no-input", superuser.no_input,
                            "Ask nothing (needs --username and CASCADE_SUPERUSER_PASSWORD)");
  std::string password_user;
  auto* changepassword = app.add_subcommand(
      "changepassword",
      "Change a user's password (asked twice; read from standard input when it is not a "
      "terminal)");
  changepassword->add_option("username", password_user, "The user")->required();

  std::string shell_code;
  auto* shell = app.add_subcommand(
      "shell",
      "The Django-syntax shell: Post.objects.filter(status='draft').delete(), "
      "post.author.name, Q(...) | Q(...), print(...), for / while / if / with "
      "transaction.atomic(): blocks, comprehensions, f-strings, timezone and timedelta "
      "(docs/shell.md). Every model is in scope. Interactive on a terminal (history, "
      "tab completion, Ctrl-C stops a statement); runs -c CODE or a script on standard "
      "input like manage.py shell (exit code 1 at the first error, 130 on Ctrl-C).");
  shell->add_option("-c,--command", shell_code, "Code to run instead of the interactive prompt");
  bool shell_read_only = false;
  shell->add_flag("--read-only", shell_read_only,
                  "Refuse every call that writes (delete(), save(), create(), update(), "
                  "restore(), add()...) with PermissionError, before it runs");

  OperationOptions op;
  std::int64_t expect = -1;
  int verbosity = 1;
  auto non_negative = [](const std::string& text) -> std::string {
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || p != text.data() + text.size() || n < 0) {
      return "must be a whole number, 0 or more (got " + text + ")";
    }
    return {};
  };
  auto add_common = [&](CLI::App* sub) {
    sub->add_flag("--dry-run", op.dry_run, "Show the preview and change nothing");
    sub->add_flag("-y,--yes", op.yes, "Do not ask for confirmation");
    sub->add_option("--format", op.format,
                    "Output format: text, or json (one JSON document on standard output, errors "
                    "included; the question goes to standard error)")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    sub->add_option("--max-items", op.max_items, "Objects listed in the preview")
        ->check(CLI::Validator(non_negative, "N"))
        ->capture_default_str();
    sub->add_option("--expect", expect,
                    "Change nothing (exit code 5) unless the selection matches exactly N rows")
        ->check(CLI::Validator(non_negative, "N"));
  };
  const char* exit_codes =
      "The operation is bound to its preview: if the rows changed after it was shown, nothing is "
      "changed and the new preview is shown. Exit codes: 0 done (or dry run), 1 error or "
      "declined, 2 bad command line (option, model, filter), 3 nothing matched, 4 refused "
      "(PROTECT, RESTRICT, a restore check, or the database), 5 the rows changed since the "
      "preview, or --expect differs.";
  auto* del = app.add_subcommand(
      "delete", std::string("Delete rows of a model and everything their on_delete rules reach, "
                            "after a preview (nested objects, counts per model, updates, "
                            "protected objects) and a confirmation. Soft-deletable models are "
                            "soft-deleted. ") +
                    exit_codes);
  del->add_option("model", op.model, "The model: app.Model or Model")->required();
  del->add_option("--filter", op.filters,
                  "A lookup, Django style: status=draft, author__name__startswith=A, "
                  "id__in=1,2,3, editor__isnull=true, active=false (repeatable; all must hold)");
  del->add_flag("--all", op.all,
                "Delete every row of the model (required when there is no --filter)");
  del->add_flag("--sql", op.sql,
                "Also print the SQL statements the delete will run (found by running it in a "
                "transaction that is rolled back)");
  del->add_option("-v,--verbosity", verbosity, "1 (default); 2 or more also prints the SQL (--sql)")
      ->check(CLI::Range(0, 3));
  add_common(del);
  auto* restore = app.add_subcommand(
      "restore", std::string("Restore soft-deleted rows of a model and every row their delete "
                             "operations marked, after a preview and a confirmation. ") +
                     exit_codes);
  restore->add_option("model", op.model, "The model: app.Model or Model")->required();
  restore->add_option("--filter", op.filters, "A lookup on the deleted rows (repeatable)");
  add_common(restore);
  auto* purge = app.add_subcommand(
      "purge", std::string("Delete for good the rows soft-deleted longer ago than --older-than, "
                           "after a preview and a confirmation. ") +
                   exit_codes);
  purge->add_option("model", op.model, "Only this model (default: every soft-deletable model)");
  purge
      ->add_option("--older-than", op.older_than, "Age of the soft deletes: 30d, 12h, 15m, 90s, 2w")
      ->required();
  add_common(purge);
  for (auto* sub : {del, restore, purge}) {
    sub->add_option("--reason", op.reason,
                    "Why: kept in the audit log with the operation (cascade log)");
  }

  LogOptions log_options;
  auto* log = app.add_subcommand(
      "log",
      "The audit log: every delete, soft delete, restore and purge recorded in this database "
      "(by cascade delete / restore / purge, the admin, and programs that turn it on), newest "
      "first; or one operation in full. [audit] in the settings file turns it off or records "
      "every row's key (record_rows).");
  log->add_option("operation", log_options.operation, "Show this operation in full");
  log->add_option("--action", log_options.action, "Only this action")
      ->check(CLI::IsMember({"delete", "soft_delete", "restore", "purge"}));
  log->add_option("--model", log_options.model,
                  "Only operations that reached this model (app.Model)");
  log->add_option("--user", log_options.user, "Only this application user's operations");
  log->add_option("--limit", log_options.limit, "Entries per page")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{100000}))
      ->capture_default_str();
  log->add_option("--offset", log_options.offset, "Entries to skip")
      ->check(CLI::Validator(non_negative, "N"));
  log->add_flag("--rows", log_options.rows, "With an operation: every row it recorded");
  log->add_option("--format", log_options.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  std::vector<std::pair<CLI::App*, const Command*>> custom;
  for (const auto& command : commands) {
    auto* sub = app.add_subcommand(command.name, command.description);
    sub->allow_extras();
    sub->prefix_command();
    sub->fallthrough(false);  // its arguments are its own
    custom.emplace_back(sub, &command);
  }

  // A misspelled command: CLI11 would only say that one is required.
  if (auto word = command_word(argc, argv)) {
    std::vector<std::string> names;
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      names.push_back(sub->get_name());
    }
    if (std::find(names.begin(), names.end(), *word) == names.end()) {
      std::string known;
      for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
      return usage_error(name,
                         "unknown command '" + *word + "'" + naming::did_you_mean(*word, names) +
                             "; commands: " + known,
                         wants_json(argc, argv), out, err);
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    out << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp& e) {
    out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::CallForVersion& e) {
    out << CASCADE_VERSION_STRING << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    return usage_error(name, e.what(), wants_json(argc, argv), out, err);
  }
  if (expect >= 0) op.expect = expect;
  if (verbosity >= 2) op.sql = true;

  try {
    if (inspectdb->parsed()) {
      // No models needed: the database describes itself.
      std::string url = o.database;
      std::string base;
      if (url.empty() && app_registry == nullptr) {
        Project project = load_project(o.settings);
        url = project.database_url;
        base = project.base_dir;
      }
      if (url.empty()) url = default_url;
      if (url.empty()) throw ConfigError("inspectdb needs --database URL");
      auto conn = db::Connection::open(url, base, /*create_missing=*/false);
      std::string text = inspect_database(*conn, url, inspect_app, inspect_tables);
      if (inspect_output.empty()) {
        out << text;
      } else {
        std::ofstream file(inspect_output);
        if (!file) throw ConfigError("cannot write " + inspect_output);
        file << text;
        out << "Wrote " << inspect_output << "\n";
      }
      return 0;
    }
    Context ctx = context_for(o, app_registry, default_url);
    // The audit log: the settings file's [audit], or the application's.
    const AuditFileSettings audit_settings = ctx.project          ? ctx.project->audit
                                             : web_app != nullptr ? web_app->audit
                                                                  : AuditFileSettings{};
    if (migrate->parsed()) return migrate_command(o, ctx, out);
    if (inspect->parsed()) {
      auto conn = db::Connection::open(ctx.url, ctx.base_dir, /*create_missing=*/false);
      return inspect_command(*conn, *ctx.registry, o.models, out);
    }
    if (check->parsed()) {
      auto conn = db::Connection::open(ctx.url, ctx.base_dir, /*create_missing=*/false);
      return check_command(*conn, *ctx.registry, out);
    }
    if (runserver->parsed()) {
      WebApp site;
      if (ctx.project) {
        site.settings = ctx.project->web;
        site.audit = ctx.project->audit;
        site.admin = ctx.project->admin;
        site.templates_dir = ctx.project->web.templates;
        // Relative to the settings file.
        if (!site.templates_dir.empty() && site.templates_dir.front() != '/') {
          site.templates_dir = ctx.project->base_dir + "/" + site.templates_dir;
        }
      } else if (web_app != nullptr) {
        site = *web_app;
      }
      return runserver_command(*ctx.registry, ctx.url, ctx.base_dir, site, address_port, out, err);
    }
    if (log->parsed()) {
      Database db(*ctx.registry, db::Connection::open(ctx.url, ctx.base_dir,
                                                      /*create_missing=*/false));
      return log_command(db, log_options, out, err);
    }
    if (createsuperuser->parsed() || changepassword->parsed()) {
      Database db(*ctx.registry, db::Connection::open(ctx.url, ctx.base_dir));
      if (changepassword->parsed()) {
        return changepassword_command(db, password_user, std::cin, out, err);
      }
      if (createsuperuser->count("--username") > 0) superuser.username = superuser_name;
      return createsuperuser_command(db, superuser, std::cin, out, err);
    }
    if (shell->parsed()) {
      Database db(*ctx.registry, db::Connection::open(ctx.url, ctx.base_dir));
      if (audit_settings.shell && !shell_read_only) {
        start_audit(db, audit_settings, "cascade shell", {});
      }
      std::optional<std::string> code;
      if (shell->count("--command") > 0) code = shell_code;
      return shell::shell_command(db, code, shell_read_only, out, err);
    }
    if (del->parsed() || restore->parsed() || purge->parsed()) {
      op.command = del->parsed() ? "delete" : restore->parsed() ? "restore" : "purge";
      // Nothing to delete, restore or purge in a database that does not exist yet.
      std::unique_ptr<db::Connection> conn;
      try {
        conn = db::Connection::open(ctx.url, ctx.base_dir, /*create_missing=*/false);
      } catch (const Error& e) {
        if (op.format != "json") throw;
        out << nlohmann::json{{"command", op.command},
                              {"status", "error"},
                              {"error", {{"type", e.python_name()}, {"message", e.what()}}},
                              {"exit_code", 1}}
                   .dump(2)
            << "\n";
        err << name << ": error: " << e.what() << "\n";
        return 1;
      }
      Database db(*ctx.registry, std::move(conn));
      if (!op.dry_run) {
        start_audit(db, audit_settings, "cascade " + op.command, op.reason);
      }
      if (del->parsed()) return delete_command(db, op, std::cin, out, err);
      if (restore->parsed()) return restore_command(db, op, std::cin, out, err);
      return purge_command(db, op, std::cin, out, err);
    }
    for (auto& [sub, command] : custom) {
      if (sub->parsed()) {
        Database db(*ctx.registry, db::Connection::open(ctx.url, ctx.base_dir));
        return command->run(db, sub->remaining(), out);
      }
    }
  } catch (const UsageError& e) {
    return usage_error(name, e.what(), false, out, err);
  } catch (const Error& e) {
    err << name << ": error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    err << name << ": internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  return run_impl(argc, argv, nullptr, {}, out, err, {});
}

int run(int argc, const char* const* argv, const Registry& registry, const std::string& default_url,
        std::ostream& out, std::ostream& err, const std::vector<Command>& commands,
        const WebApp& web) {
  return run_impl(argc, argv, &registry, default_url, out, err, commands, &web);
}

}  // namespace cascade::cli
