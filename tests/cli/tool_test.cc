// The `cascade` tool and the blog_shop application, driven as processes the way a user runs
// them: output, exit codes, and what they leave in the database.
#include <gtest/gtest.h>

#include <fstream>

#include "support/process.h"
#include "support/backends.h"

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
  EXPECT_TRUE(contains(r.err, "model blog.Post, field 'title': unknown key 'max_lenght' (did "
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
  auto i = run_process({kTool, "--settings", kSettings, "--database", url, "inspect",
                        "blog.Post"});
  ASSERT_EQ(i.exit_code, 0) << i.err;
  EXPECT_TRUE(contains(i.out, "blog.Post  table \"blog_post\", 0 rows"));
  EXPECT_TRUE(contains(i.out, "editor      foreign_key -> blog.Author, on_delete=SET_NULL, null"))
      << i.out;
  EXPECT_TRUE(contains(i.out, "<- blog.Comment.post  on_delete=CASCADE, reverse accessor "
                              "comments"));
  auto unknown = run_process({kTool, "--settings", kSettings, "--database", url, "inspect",
                              "blog.Nope"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(contains(unknown.err, "App 'blog' doesn't have a 'Nope' model."));
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
  EXPECT_TRUE(contains(r.err, "table \"blog_tag\" (blog.Tag): column \"name\" (varchar(50)) is "
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
