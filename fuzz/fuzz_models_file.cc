// Fuzzes the models-file loader (src/model/loader.cc, parse_project): any text must either
// load into a finalized registry or be refused with a ConfigError. A registry that loads is
// then migrated into a fresh in-memory SQLite database, which must then agree with it
// (migrating again plans nothing) and answer a count() on every model.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cascade/database.h"
#include "cascade/error.h"
#include "cascade/model/loader.h"
#include "broken.h"

namespace {

constexpr std::size_t kMaxInput = 4096;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kMaxInput) return -1;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  cascade::Project project;
  try {
    project = cascade::parse_project(text, "fuzz.toml");
  } catch (const cascade::ConfigError& e) {
    if (std::string_view(e.what()).empty()) broken("ConfigError without a message");
    return 0;
  }
  if (!project.registry || !project.registry->finalized())
    broken("the loaded registry is not finalized");
  // The [database] url is never opened: only the fixed in-memory database is.
  try {
    auto db = cascade::Database::open(*project.registry, "sqlite://:memory:");
    db.migrate();
    auto again = cascade::db::plan_migration(db.connection(), *project.registry);
    if (!again.create_tables.empty() || !again.statements.empty() || !again.problems.empty()) {
      std::string what = "migrating twice is not a no-op:";
      for (const auto& s : again.statements) what += "\n  " + s;
      for (const auto& p : again.problems) what += "\n  " + p;
      broken(what);
    }
    for (const cascade::ModelMeta* m : project.registry->models()) {
      try {
        (void)db.objects(*m).count();
      } catch (const cascade::Error& e) {
        broken("count() on " + m->app_label + "." + m->object_name + " after migrate: " + e.what());
      }
    }
  } catch (const cascade::Error&) {
    // A schema SQLite refuses (two models on one table, for instance).
  }
  return 0;
}
