// The `cascade` tool and the blog_shop application, driven as processes the way a user runs
// them: output, exit codes, and what they leave in the database.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "cli/delete_commands.h"
#include "generate.h"
#include "support/process.h"
#include "support/backends.h"
#include "tool_fixture.h"

namespace cascade {
namespace {

using cascade::testing::run_process;
using cascade::testing::TempDir;

const std::string kTool = CASCADE_TOOL_PATH;
const std::string kApp = BLOG_SHOP_PATH;
const std::string kSettings = std::string(CASCADE_SOURCE_DIR) + "/examples/blog_shop/cascade.toml";

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(Tool, HelpListsTheCommands) {
  auto r = run_process({kTool, "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(contains(r.out, "migrate"));
  EXPECT_TRUE(contains(r.out, "inspect"));
  EXPECT_TRUE(contains(r.out, "--settings"));
  auto sub = run_process({kTool, "migrate", "--help"});
  EXPECT_EQ(sub.exit_code, 0);
  EXPECT_TRUE(contains(sub.out, "--plan"));
}

TEST(Tool, BadCommandLinesExitWithTwo) {
  auto none = run_process({kTool});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(contains(none.err, "--help"));
  auto unknown = run_process({kTool, "frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
}

TEST(Tool, MissingSettingsFileIsAClearError) {
  TempDir dir;
  auto r = run_process({kTool, "inspect"}, "", dir.path().string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "cascade.toml: cannot read the settings file")) << r.err;
}

TEST(Tool, ABadModelsFileNamesFileLineAndKey) {
  TempDir dir;
  std::ofstream(dir.file("cascade.toml")) << "[database]\nurl = \"sqlite:///x.db\"\n\n"
                                             "[models.blog.Post]\n"
                                             "fields.title = { type = \"char\", max_lenght = 5 }\n";
  auto r = run_process({kTool, "--settings", dir.file("cascade.toml"), "migrate"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "cascade.toml:5:")) << r.err;
  EXPECT_TRUE(contains(r.err,
                       "model blog.Post, field 'title': unknown key 'max_lenght' (did "
                       "you mean 'max_length'?)"))
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.db")));
}

TEST(Tool, MigrateThenInspectShowsModelsAndCounts) {
  TempDir dir;
  std::string url = "sqlite:///" + dir.file("t.db");
  auto m = run_process({kTool, "--settings", kSettings, "--database", url, "migrate"});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  EXPECT_TRUE(contains(m.out, "Created table for blog.Post_tags"));
  auto again = run_process({kTool, "--settings", kSettings, "--database", url, "migrate"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_TRUE(contains(again.out, "No changes"));
  auto i = run_process({kTool, "--settings", kSettings, "--database", url, "inspect", "blog.Post"});
  ASSERT_EQ(i.exit_code, 0) << i.err;
  EXPECT_TRUE(contains(i.out, "blog.Post  table \"blog_post\", 0 rows"));
  EXPECT_TRUE(contains(i.out, "editor      foreign_key -> blog.Author, on_delete=SET_NULL, null"))
      << i.out;
  EXPECT_TRUE(contains(i.out,
                       "<- blog.Comment.post  on_delete=CASCADE, reverse accessor "
                       "comments"));
  auto unknown =
      run_process({kTool, "--settings", kSettings, "--database", url, "inspect", "blog.Nope"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(contains(unknown.err, "App 'blog' doesn't have a 'Nope' model.")) << unknown.err;
}

TEST(Tool, MigratePlanPrintsSqlAndChangesNothing) {
  TempDir dir;
  std::string url = "sqlite:///" + dir.file("plan.db");
  auto r = run_process({kTool, "--settings", kSettings, "--database", url, "migrate", "--plan"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "CREATE TABLE \"blog_author\""));
  auto conn = db::Connection::open(url);
  EXPECT_TRUE(conn->table_names().empty());
}

TEST(Tool, MigrateRefusesATableThatDisagreesWithItsModel) {
  TempDir dir;
  std::string url = "sqlite:///" + dir.file("old.db");
  {
    auto conn = db::Connection::open(url);
    conn->execute("CREATE TABLE blog_tag (id integer PRIMARY KEY, label text)");
  }
  auto r = run_process({kTool, "--settings", kSettings, "--database", url, "migrate"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err,
                       "table \"blog_tag\" (blog.Tag): column \"name\" (varchar(50)) is "
                       "missing"))
      << r.err;
  auto conn = db::Connection::open(url);
  EXPECT_EQ(conn->table_names(), std::vector<std::string>{"blog_tag"});
}

TEST(Tool, RelativeDatabaseUrlInSettingsIsRelativeToTheFile) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "project");
  std::ofstream(dir.file("project/cascade.toml"))
      << "[database]\nurl = \"sqlite:///data.db\"\n[models.app.Thing]\n"
         "fields.name = { type = \"char\", max_length = 10 }\n";
  auto r = run_process({kTool, "--settings", "project/cascade.toml", "migrate"}, "",
                       dir.path().string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir.file("project/data.db")));
}

class ToolOnBackend : public cascade::testing::BackendTest {};
CASCADE_ON_EVERY_BACKEND(ToolOnBackend);

TEST_P(ToolOnBackend, AppAndToolShareOneSchemaOnEveryDatabase) {
  const std::string& url = scratch.url();
  auto m = run_process({kApp, "--database", url, "migrate"});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  auto g = run_process({kApp, "--database", url, "generate", "--size", "10"});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  auto again = run_process({kTool, "--settings", kSettings, "--database", url, "migrate"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(contains(again.out, "No changes")) << again.out;
  auto i = run_process({kTool, "--settings", kSettings, "--database", url, "inspect", "Post"});
  EXPECT_TRUE(contains(i.out, "blog.Post  table \"blog_post\", 10 rows")) << i.out << i.err;
}

TEST(BlogShopApp, GeneratesDataThatTheStandaloneToolReads) {
  // The C++ models and cascade.toml describe the same schema: the app creates and fills the
  // database, the tool finds nothing to migrate and counts the rows.
  TempDir dir;
  std::string url = "sqlite:///" + dir.file("demo.db");
  auto m = run_process({kApp, "--database", url, "migrate"});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  auto g = run_process({kApp, "--database", url, "generate", "--size", "30"});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_TRUE(contains(g.out, "30 posts"));
  auto tool = run_process({kTool, "--settings", kSettings, "--database", url, "migrate"});
  EXPECT_EQ(tool.exit_code, 0) << tool.err;
  EXPECT_TRUE(contains(tool.out, "No changes"));
  auto i = run_process({kTool, "--settings", kSettings, "--database", url, "inspect"});
  EXPECT_TRUE(contains(i.out, "blog.Post  table \"blog_post\", 30 rows")) << i.out;
  auto bad = run_process({kApp, "--database", url, "generate", "--size", "-3"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(contains(bad.err, "--size needs a positive number"));
}

class DeleteCommand : public cascade::testing::ToolOnExample {};
CASCADE_ON_EVERY_BACKEND(DeleteCommand);

TEST_P(DeleteCommand, DryRunShowsThePreviewAndChangesNothing) {
  auto before = rows("blog_post");
  auto r = tool({"delete", "blog.Post", "--filter", "id__in=1,2", "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "- Post: ")) << r.out;
  EXPECT_TRUE(contains(r.out, "Summary: ")) << r.out;
  EXPECT_TRUE(contains(r.out, "  blog.Post: 2")) << r.out;
  EXPECT_TRUE(contains(r.out, "Dry run: nothing was changed."));
  EXPECT_EQ(rows("blog_post"), before);
}

TEST_P(DeleteCommand, AsksBeforeDeletingAndHonoursTheAnswer) {
  auto before = rows("blog_post");
  auto no = tool({"delete", "blog.Post", "--filter", "id=1"}, "n\n");
  EXPECT_EQ(no.exit_code, 1);
  EXPECT_TRUE(contains(no.err, "Delete these")) << no.err;  // the question is on stderr
  EXPECT_TRUE(contains(no.err, "Cancelled: nothing was changed."));
  EXPECT_EQ(rows("blog_post"), before);
  auto yes = tool({"delete", "blog.Post", "--filter", "id=1"}, "y\n");
  EXPECT_EQ(yes.exit_code, 0) << yes.err;
  EXPECT_TRUE(contains(yes.out, "Deleted ")) << yes.out;
  EXPECT_EQ(rows("blog_post"), before - 1);
}

TEST_P(DeleteCommand, ExitCodesTellNothingMatchedAndBlocked) {
  auto none = tool({"delete", "blog.Post", "--filter", "title=no such post", "--yes"});
  EXPECT_EQ(none.exit_code, 3);
  EXPECT_TRUE(contains(none.out, "Nothing matches"));
  // Every product of the example is ordered somewhere or not: find one that is.
  auto blocked = tool({"delete", "shop.Product", "--filter", "order_items__isnull=false", "--yes"});
  EXPECT_EQ(blocked.exit_code, 4) << blocked.out << blocked.err;
  EXPECT_TRUE(
      contains(blocked.err, "referenced through protected foreign keys: 'OrderItem.product'"));
  EXPECT_TRUE(contains(blocked.out, "Blocked (ProtectedError)"));
  auto bad = tool({"delete", "blog.Post", "--filter", "nope=1", "--yes"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(contains(bad.err, "Cannot resolve keyword 'nope' into field."));
  auto malformed = tool({"delete", "blog.Post", "--filter", "no-equals-sign"});
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_TRUE(contains(malformed.err, "must look like field__lookup=value"));
}

TEST_P(DeleteCommand, JsonOutputCarriesThePreviewAndTheResult) {
  auto r = tool({"delete", "blog.Author", "--filter", "id=1", "--format", "json", "--yes"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "\"preview\"")) << r.out;
  EXPECT_TRUE(contains(r.out, "\"blog.Author\": 1")) << r.out;
  EXPECT_TRUE(contains(r.out, "\"status\": \"done\"")) << r.out;
}

TEST(SoftDeleteCommands, RestoreAndPurgeWithPreviews) {
  TempDir dir;
  std::ofstream(dir.file("cascade.toml"))
      << "[database]\nurl = \"sqlite:///soft.db\"\n"
         "[models.app.Note]\ndelete_policy = \"soft\"\nfields.text = { type = \"text\" }\n";
  std::string settings = dir.file("cascade.toml");
  ASSERT_EQ(run_process({kTool, "--settings", settings, "migrate"}).exit_code, 0);
  {
    auto c = db::Connection::open("sqlite:///" + dir.file("soft.db"));
    c->execute("INSERT INTO app_note (text) VALUES ('a'), ('b')");
  }
  auto del = run_process({kTool, "--settings", settings, "delete", "app.Note", "--all", "--yes"});
  EXPECT_EQ(del.exit_code, 0) << del.err;
  EXPECT_TRUE(contains(del.out, "- Note: Note object (1) (soft-deleted)")) << del.out;
  EXPECT_TRUE(contains(del.out, "Soft-deleted 2 objects")) << del.out;
  auto dry = run_process(
      {kTool, "--settings", settings, "restore", "app.Note", "--filter", "id=1", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_TRUE(contains(dry.out, "Will restore 2 objects")) << dry.out;  // one operation: both
  auto restored = run_process({kTool, "--settings", settings, "restore", "app.Note", "--yes"});
  EXPECT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_TRUE(contains(restored.out, "Restored 2 objects")) << restored.out;
  auto nothing = run_process({kTool, "--settings", settings, "restore", "app.Note", "--yes"});
  EXPECT_EQ(nothing.exit_code, 3);
  run_process({kTool, "--settings", settings, "delete", "app.Note", "--all", "--yes"});
  auto young = run_process({kTool, "--settings", settings, "purge", "--older-than", "1d", "--yes"});
  EXPECT_EQ(young.exit_code, 3) << young.out;
  auto purge = run_process({kTool, "--settings", settings, "purge", "--older-than", "0s", "--yes"});
  EXPECT_EQ(purge.exit_code, 0) << purge.err;
  EXPECT_TRUE(contains(purge.out, "Purged 2 objects")) << purge.out;
  auto bad = run_process({kTool, "--settings", settings, "purge", "--older-than", "soon"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(contains(bad.err, "must be a number and a unit"));
  // Durations past the calendar's range are refused, not wrapped around into "seconds ago".
  run_process({kTool, "--settings", settings, "delete", "app.Note", "--all", "--yes"});
  for (const char* huge : {"200000000d", "99999999999999999999d", "9223372036854775807w"}) {
    auto r = run_process({kTool, "--settings", settings, "purge", "--older-than", huge, "--yes"});
    EXPECT_EQ(r.exit_code, 2) << huge << ": " << r.out;
    EXPECT_TRUE(contains(r.err, "reaches back before the year 1")) << r.err;
  }
  auto still = run_process({kTool, "--settings", settings, "restore", "app.Note", "--dry-run"});
  EXPECT_TRUE(contains(still.out, "Will restore")) << still.out;  // nothing was purged
}

TEST_P(DeleteCommand, InspectdbDescribesTheDatabaseItCameFrom) {
  // The generated settings load, and describe the same schema: migrate finds nothing to do.
  TempDir dir;
  std::string toml = dir.file("inspected.toml");
  auto r = run_process({kTool, "inspectdb", "--database", url, "--app", "legacy", "-o", toml});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(toml);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_TRUE(contains(text.str(), "[models.legacy.BlogPost]\ndb_table = \"blog_post\""))
      << text.str();
  EXPECT_TRUE(
      contains(text.str(), "fields.name = { type = \"char\", max_length = 50, unique = true }"));
  EXPECT_TRUE(contains(text.str(), "unique_together = [[\"post\", \"tag\"]]"));
  auto plan = run_process({kTool, "--settings", toml, "migrate", "--plan"});
  EXPECT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_TRUE(contains(plan.out, "No changes")) << plan.out;
  auto counts = run_process({kTool, "--settings", toml, "inspect", "legacy.BlogPost"});
  EXPECT_TRUE(contains(counts.out, "20 rows")) << counts.out;
  auto bad = run_process({kTool, "inspectdb", "--database", url, "no_such_table"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(contains(bad.err, "no table named 'no_such_table'"));
}

TEST(BlogShopApp, GenerateIsDeterministicForASeed) {
  TempDir dir;
  auto fill = [&](const std::string& name) {
    std::string url = "sqlite:///" + dir.file(name);
    run_process({kApp, "--database", url, "migrate"});
    return run_process({kApp, "--database", url, "generate", "--size", "20", "--seed", "7"}).out;
  };
  EXPECT_EQ(fill("a.db"), fill("b.db"));
}

}  // namespace
}  // namespace cascade

namespace cascade {
namespace {

TEST(DeleteProgress, TheLineShowsEachStepInPlaceOnceTheDelayHasPassed) {
  Database db = testing::blog_shop_db();
  blog_shop::generate(db, 50);
  auto plan = Collector(db).collect(db.objects("blog.Author").all());
  std::ostringstream err;
  DeleteResult r = plan.execute(cli::progress_line(err, std::chrono::milliseconds(0)));
  EXPECT_GT(r.total, 0);
  std::string line = err.str();
  // One rewrite per step: carriage return, the bar, step/steps, what runs, clear to the end.
  EXPECT_EQ(line.rfind("\r[", 0), 0u) << line;
  EXPECT_NE(line.find("] 1/"), std::string::npos) << line;
  EXPECT_NE(line.find(" check\x1b[K"), std::string::npos) << line;
  EXPECT_NE(line.find(" delete blog.Author\x1b[K"), std::string::npos) << line;
  EXPECT_EQ(std::count(line.begin(), line.end(), '\r'),
            std::count(line.begin(), line.end(), '\x1b'));

  // A delete quicker than the delay shows nothing.
  std::ostringstream quiet;
  db.objects("blog.Author").create({{"name", "Ann"}});
  Collector(db)
      .collect(db.objects("blog.Author").all())
      .execute(cli::progress_line(quiet, std::chrono::hours(1)));
  EXPECT_EQ(quiet.str(), "");
}

}  // namespace
}  // namespace cascade
