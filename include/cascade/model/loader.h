// Loading a project from its settings file, cascade.toml: the database URL and the models, so
// the `cascade` tool works on a project without compiling C++.
//
//   [database]
//   url = "sqlite:///blog.db"          # relative paths are relative to this file's directory
//
//   [models.blog.Author]
//   display = "{name}"                  # what str() shows
//   fields.name = { type = "char", max_length = 100 }
//
//   [models.blog.Post]
//   fields.title  = { type = "char", max_length = 200 }
//   fields.author = { type = "foreign_key", to = "Author", on_delete = "CASCADE" }
//
// Models and fields keep the order in which they are written. docs/models-file.md lists every
// key. A bad file is rejected with a ConfigError naming the file, the line, the model and the key.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cascade/model/registry.h"

namespace cascade {

// The [web] table of a settings file, as written (what the values mean: cascade/web/).
struct WebSettings {
  bool present = false;                    // the file has a [web] table
  std::string secret_key;                  // signs sessions' tokens; empty: none set
  std::vector<std::string> allowed_hosts;  // Host headers served; empty: localhost only
  bool debug = false;                      // error pages show the exception
  bool https = false;                      // cookies are Secure; Origin/Referer are checked
  std::string templates;                   // a directory whose templates override the defaults
  int workers = 8;                         // threads serving requests
  int connections = 4;                     // database connections they share
};

// The [audit] table: the audit log (cascade/deletion/audit.h) for the command-line tool and the
// admin, which turn it on unless `enabled = false`.
struct AuditFileSettings {
  bool enabled = true;       // cascade delete / restore / purge and the admin record
  bool record_rows = false;  // ... with every row's primary key
  bool shell = false;        // cascade shell records too
};

// An [admin.<app>.<Model>] table: how the admin lists the model (cascade/web/admin.h).
struct AdminModelSettings {
  std::string label;                       // "blog.Post"
  std::vector<std::string> list_display;   // columns of the change list; empty: the display
  std::vector<std::string> search_fields;  // searched with icontains, any of them
  std::vector<std::string> list_filter;    // fields with a filter in the sidebar
  std::vector<std::string> ordering;       // the default order ("-created"); empty: the model's
  int list_per_page = 100;
};

struct Project {
  std::string settings_path;           // the file it was loaded from
  std::string base_dir;                // its directory: relative SQLite paths start here
  std::string database_url;            // empty when the file has no [database] table
  std::unique_ptr<Registry> registry;  // finalized
  WebSettings web;
  AuditFileSettings audit;
  std::vector<AdminModelSettings> admin;  // in file order; checked against the models
};

// Reads and checks a settings file. Throws ConfigError (file and line in the message).
Project load_project(const std::string& path);

// The same from text; `name` stands for the file name in messages.
Project parse_project(std::string_view text, const std::string& name = "cascade.toml");

}  // namespace cascade
