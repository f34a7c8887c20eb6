// `cascade delete / restore / purge` as a program and a user rely on them: the operation is
// bound to the preview that was shown (a row added while the tool waits at its question changes
// nothing and exits 5), --expect, one JSON document per run, guards and messages.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cascade/db/schema.h"
#include "cascade/model/registry.h"
#include "cascade/web/session.h"
#include "cascade/deletion/soft_delete.h"
#include "cascade/model/loader.h"
#include "cli/delete_commands.h"
#include "generate.h"
#include "support/backends.h"
#include "support/process.h"
#include "tool_fixture.h"

namespace cascade {
namespace {

using cascade::testing::run_process;
using cascade::testing::TempDir;
using nlohmann::json;

const std::string kTool = CASCADE_TOOL_PATH;
const std::string kApp = BLOG_SHOP_PATH;
const std::string kSettings = std::string(CASCADE_SOURCE_DIR) + "/examples/blog_shop/cascade.toml";

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Standard input that runs `meanwhile` when the tool first reads its answer (while it waits at
// the question, after the preview), then answers `answer`.
class AnswerAfter : public std::streambuf {
 public:
  AnswerAfter(std::function<void()> meanwhile, std::string answer)
      : meanwhile_(std::move(meanwhile)), answer_(std::move(answer)) {}

 protected:
  int_type underflow() override {
    if (!started_) {
      started_ = true;
      meanwhile_();
      setg(answer_.data(), answer_.data(), answer_.data() + answer_.size());
    }
    return gptr() < egptr() ? traits_type::to_int_type(*gptr()) : traits_type::eof();
  }

 private:
  std::function<void()> meanwhile_;
  std::string answer_;
  bool started_ = false;
};

class Operations : public cascade::testing::BackendTest {
 protected:
  Database db = blog_shop();
  void SetUp() override { blog_shop::generate(db, 20); }

  cli::OperationOptions options(const std::string& command, const std::string& model,
                                std::vector<std::string> filters) {
    cli::OperationOptions o;
    o.command = command;
    o.model = model;
    o.filters = std::move(filters);
    o.max_items = 5;
    return o;
  }
  // Another client's write, on a connection of its own.
  void elsewhere(const std::string& sql, std::vector<Value> params = {}) {
    auto c = connect();
    c->execute(sql, params);
  }
  std::int64_t count(const std::string& table) {
    auto c = connect();
    return cascade::testing::count_rows(*c, table);
  }
};
CASCADE_ON_EVERY_BACKEND(Operations);

TEST_P(Operations, ARowAddedWhileTheQuestionWaitsChangesNothingAndShowsTheNewPreview) {
  // The issue's trial: a preview of 2 posts; a third matching post is inserted while the tool
  // waits at [y/N]; after "y" it used to delete 3.
  auto author = db.objects("blog.Author").all().first();
  ASSERT_TRUE(author.has_value());
  db.objects("blog.Post").all().filter({{"status", "draft"}}).update({{"status", "published"}});
  for (int i = 0; i < 2; ++i) {
    db.objects("blog.Post").create({{"title", "d"}, {"status", "draft"}, {"author", author->pk()}});
  }
  std::int64_t posts = count("blog_post");
  AnswerAfter input(
      [&] {
        elsewhere(
            "INSERT INTO blog_post (title, content, status, author_id, is_deleted) VALUES "
            "('late', '', 'draft', " +
            author->pk().to_string() + ", " + (sqlite() ? "0" : "false") + ")");
      },
      "y\n");
  std::istream in(&input);
  std::ostringstream out, err;
  int code =
      cli::delete_command(db, options("delete", "blog.Post", {"status=draft"}), in, out, err);
  EXPECT_EQ(code, cli::kExitChanged) << out.str() << err.str();
  EXPECT_TRUE(contains(err.str(),
                       "The rows changed since the preview, so nothing was changed: 3 "
                       "blog.Post rows match now, the preview showed 2"))
      << err.str();
  EXPECT_TRUE(contains(out.str(), "The preview now:\n")) << out.str();
  EXPECT_TRUE(contains(out.str(), "  blog.Post: 3")) << out.str();
  EXPECT_EQ(count("blog_post"), posts + 1);  // nothing deleted
}

TEST_P(Operations, AChildAddedWhileTheQuestionWaitsChangesNothing) {
  // Same root rows, one more comment under them: the per-model counts differ.
  Instance post = *db.objects("blog.Post").all().first();
  std::int64_t comments = count("blog_comment");
  AnswerAfter input(
      [&] {
        elsewhere("INSERT INTO blog_comment (post_id, body) VALUES (" + post.pk().to_string() +
                  ", 'late')");
      },
      "yes\n");
  std::istream in(&input);
  std::ostringstream out, err;
  int code = cli::delete_command(
      db, options("delete", "blog.Post", {"id=" + post.pk().to_string()}), in, out, err);
  EXPECT_EQ(code, cli::kExitChanged) << out.str() << err.str();
  EXPECT_TRUE(contains(err.str(), "blog.Comment: ")) << err.str();
  EXPECT_TRUE(contains(err.str(), "to delete, the preview showed")) << err.str();
  EXPECT_EQ(count("blog_comment"), comments + 1);
  EXPECT_TRUE(db.objects("blog.Post").filter({{"pk", post.pk()}}).exists());
}

TEST_P(Operations, AnUnchangedPreviewDeletesExactlyWhatItShowed) {
  Instance post = *db.objects("blog.Post").all().first();
  std::istringstream in("y\n");
  std::ostringstream out, err;
  int code = cli::delete_command(
      db, options("delete", "blog.Post", {"id=" + post.pk().to_string()}), in, out, err);
  EXPECT_EQ(code, cli::kExitDone) << err.str();
  EXPECT_FALSE(db.objects("blog.Post").filter({{"pk", post.pk()}}).exists());
  EXPECT_TRUE(contains(err.str(), "Delete these ")) << err.str();  // the question is on stderr
  EXPECT_FALSE(contains(out.str(), "[y/N]")) << out.str();
}

TEST_P(Operations, TheApiExecutesAPlanOnlyIfItsPreviewStillHolds) {
  QuerySet drafts = db.objects("blog.Post").all().filter({{"status", "draft"}});
  DeletionPlan plan = Collector(db).collect(drafts);
  Preview shown = plan.preview(0);
  Instance author = *db.objects("blog.Author").all().first();
  db.objects("blog.Post").create({{"title", "new"}, {"status", "draft"}, {"author", author.pk()}});
  std::int64_t before = count("blog_post");
  EXPECT_THROW(plan.execute(shown), PreviewChanged);
  EXPECT_EQ(count("blog_post"), before);
  // Another row of the same count is not the same rows either.
  Preview again = plan.preview(0);
  Instance first = *drafts.order_by({"pk"}).first();
  db.objects("blog.Post").all().filter({{"pk", first.pk()}}).update({{"status", "published"}});
  db.objects("blog.Post")
      .create({{"title", "newer"}, {"status", "draft"}, {"author", author.pk()}});
  try {
    plan.execute(again);
    ADD_FAILURE() << "the same count of other rows was deleted";
  } catch (const PreviewChanged& e) {
    EXPECT_TRUE(contains(e.what(), "rows that match are not those the preview showed")) << e.what();
  }
  // Unchanged: it deletes.
  Preview now = plan.preview(0);
  DeleteResult r = plan.execute(now);
  EXPECT_EQ(r.total, now.counts.total);
  EXPECT_FALSE(drafts.exists());
}

TEST_P(Operations, ExpectRefusesASelectionOfAnotherSize) {
  std::int64_t posts = count("blog_post");
  auto o = options("delete", "blog.Post", {"id__in=1,2,3"});
  o.yes = true;
  o.expect = 2;
  std::istringstream in;
  std::ostringstream out, err;
  EXPECT_EQ(cli::delete_command(db, o, in, out, err), cli::kExitChanged);
  EXPECT_TRUE(contains(err.str(), "--expect 2 but 3 blog.Post rows match: nothing changed"))
      << err.str();
  EXPECT_EQ(count("blog_post"), posts);
  o.expect = 3;
  std::ostringstream out2, err2;
  EXPECT_EQ(cli::delete_command(db, o, in, out2, err2), cli::kExitDone) << err2.str();
  EXPECT_EQ(count("blog_post"), posts - 3);
}

TEST_P(Operations, PurgeIsOnePlanWithOneMergedPreviewAndResult) {
  // Two soft-deletable models where purging one reaches the other's candidates: each row is
  // counted once, and the result names the models.
  static Project* project = new Project(parse_project(R"(
[models.lib.Author]
delete_policy = "soft_cascade"
fields.name = { type = "char", max_length = 20 }
[models.lib.Book]
delete_policy = "soft"
fields.author = { type = "foreign_key", to = "Author", on_delete = "CASCADE" }
)",
                                                      "lib.toml"));
  const Registry& registry = *project->registry;
  Database lib = Database::open(registry, scratch.url());
  lib.migrate();
  for (int i = 0; i < 3; ++i) {
    Instance a = lib.objects("lib.Author").create({{"name", "a" + std::to_string(i)}});
    lib.objects("lib.Book").create({{"author", a.pk()}});
    lib.objects("lib.Book").create({{"author", a.pk()}});
  }
  lib.objects("lib.Author").all().remove();  // marks 3 authors and 6 books
  DateTime later = DateTime::now();
  later.micros += 1'000'000;
  PurgePlan plan(lib, {&lib.registry().get("lib.Author"), &lib.registry().get("lib.Book")}, later);
  Preview p = plan.preview(100);
  EXPECT_EQ(p.counts.repr(), "(9, {'lib.Book': 6, 'lib.Author': 3})");
  EXPECT_EQ(p.roots, 3);  // the books went with their authors: nothing left to purge by itself
  DeleteResult r = plan.execute(p);
  EXPECT_EQ(r.repr(), p.counts.repr());
  EXPECT_EQ(lib.all_objects("lib.Book").all().count(), 0);

  // Bound: a row soft-deleted after the preview changes nothing.
  Instance a = lib.objects("lib.Author").create({{"name", "x"}});
  lib.objects("lib.Author").remove(a);
  DateTime cutoff = DateTime::now();
  cutoff.micros += 60'000'000;
  PurgePlan second(lib, {&lib.registry().get("lib.Author")}, cutoff);
  Preview shown = second.preview(0);
  EXPECT_EQ(shown.roots, 1);
  Instance b = lib.objects("lib.Author").create({{"name", "y"}});
  lib.objects("lib.Author").remove(b);
  EXPECT_THROW(second.execute(shown), PreviewChanged);
  EXPECT_EQ(lib.all_objects("lib.Author").all().count(), 2);
  Preview now = second.preview(0);
  EXPECT_EQ(second.execute(now).total, 2);
  EXPECT_EQ(lib.all_objects("lib.Author").all().count(), 0);
}

TEST_P(Operations, RestoreIsBoundToItsPreview) {
  // blog_shop has no soft-deletable model.
  static Project* project = new Project(parse_project(R"(
[models.app.Note]
delete_policy = "soft"
fields.text = { type = "text" }
)",
                                                      "notes.toml"));
  const Registry& registry = *project->registry;
  Database notes = Database::open(registry, scratch.url());
  notes.migrate();
  Instance a = notes.objects("app.Note").create({{"text", "a"}});
  Instance b = notes.objects("app.Note").create({{"text", "b"}});
  notes.objects("app.Note").remove(a);
  QuerySet deleted = notes.deleted_objects("app.Note").all();
  RestorePreview shown = restore_preview(deleted);
  EXPECT_EQ(shown.counts.total, 1);
  notes.objects("app.Note").remove(b);  // another operation now matches too
  EXPECT_THROW(restore_soft_deleted(deleted, shown), PreviewChanged);
  EXPECT_EQ(notes.deleted_objects("app.Note").all().count(), 2);
  RestorePreview now = restore_preview(deleted);
  EXPECT_EQ(now.operations.size(), 2u);
  EXPECT_EQ(restore_soft_deleted(deleted, now).total, 2);
}

// ---- the tool as a process
// -----------------------------------------------------------------------

class ToolRun : public cascade::testing::ToolOnExample {
 protected:
  // Exactly one JSON document on standard output.
  static json document(const cascade::testing::ProcessResult& r) {
    json doc;
    EXPECT_NO_THROW(doc = json::parse(r.out)) << r.out;
    return doc;
  }
};
CASCADE_ON_EVERY_BACKEND(ToolRun);

TEST_P(ToolRun, JsonIsOneDocumentWithLabelsKeysAndNulls) {
  auto r = tool({"delete", "blog.Author", "--filter", "id=1", "--format", "json", "--yes",
                 "--max-items", "3"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  json doc = document(r);
  EXPECT_EQ(doc["command"], "delete");
  EXPECT_EQ(doc["model"], "blog.Author");
  EXPECT_EQ(doc["status"], "done");
  EXPECT_EQ(doc["exit_code"], 0);
  EXPECT_EQ(doc["result"]["per_model"]["blog.Author"], 1);
  EXPECT_EQ(doc["preview"]["objects"][0]["model"], "blog.Author");
  EXPECT_EQ(doc["preview"]["objects"][0]["pk"], 1);
  EXPECT_TRUE(doc["preview"]["blocked"].is_null());
  EXPECT_EQ(doc["preview"]["total"], doc["result"]["total"]);
  // The question never reaches standard output; with --yes there is none.
  EXPECT_FALSE(contains(r.out, "[y/N]"));
}

TEST_P(ToolRun, JsonErrorsAreJsonWithTheDocumentedExitCodes) {
  auto blocked = tool({"delete", "shop.Product", "--filter", "order_items__isnull=false",
                       "--format", "json", "--yes"});
  EXPECT_EQ(blocked.exit_code, 4);
  json b = document(blocked);
  EXPECT_EQ(b["status"], "refused");
  EXPECT_EQ(b["preview"]["blocked"]["error"], "ProtectedError");
  EXPECT_EQ(b["preview"]["blocked"]["objects"][0]["model"], "shop.OrderItem");
  auto bad_filter = tool({"delete", "blog.Post", "--filter", "nope=1", "--format", "json"});
  EXPECT_EQ(bad_filter.exit_code, 2);
  json f = document(bad_filter);
  EXPECT_EQ(f["status"], "error");
  EXPECT_TRUE(contains(f["error"]["message"].get<std::string>(), "Cannot resolve keyword 'nope'"));
  auto bad_model = tool({"delete", "blog.Pots", "--all", "--format", "json"});
  EXPECT_EQ(bad_model.exit_code, 2);
  EXPECT_TRUE(contains(document(bad_model)["error"]["message"].get<std::string>(),
                       "did you mean 'blog.Post'?"));
  auto bad_option = tool({"delete", "blog.Post", "--all", "--format", "json", "--max-items", "-1"});
  EXPECT_EQ(bad_option.exit_code, 2);
  EXPECT_EQ(document(bad_option)["status"], "error");
  EXPECT_TRUE(contains(bad_option.err, "must be a whole number, 0 or more")) << bad_option.err;
  auto declined = tool({"delete", "blog.Post", "--filter", "id=1", "--format", "json"}, "n\n");
  EXPECT_EQ(declined.exit_code, 1);
  EXPECT_EQ(document(declined)["status"], "cancelled");
  EXPECT_TRUE(contains(declined.err, "objects? [y/N]")) << declined.err;
}

TEST_P(ToolRun, DeleteWithoutAFilterNeedsAll) {
  auto r = tool({"delete", "blog.Comment", "--yes"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "no --filter: to delete every blog.Comment row")) << r.err;
  auto all = tool({"delete", "blog.Comment", "--all", "--yes"});
  EXPECT_EQ(all.exit_code, 0) << all.err;
}

TEST_P(ToolRun, SqlShowsTheStatementsFromThePlanAndChangesNothing) {
  auto r = tool({"delete", "blog.Author", "--filter", "id=1", "--sql", "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "SQL, in one transaction:\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "DELETE FROM \"blog_comment\"")) << r.out;
  EXPECT_TRUE(contains(r.out, "UPDATE \"blog_post\" SET \"editor_id\"")) << r.out;
  EXPECT_TRUE(contains(r.out, "DELETE FROM \"blog_author\"")) << r.out;
  auto v = tool({"delete", "blog.Author", "--filter", "id=1", "-v", "2", "--dry-run"});
  EXPECT_TRUE(contains(v.out, "SQL, in one transaction:\n"));
  auto still = tool({"delete", "blog.Author", "--filter", "id=1", "--dry-run", "--format", "json"});
  EXPECT_EQ(document(still)["preview"]["per_model"]["blog.Author"], 1);
}

TEST_P(ToolRun, MessagesSayWhatHappened) {
  auto one = tool({"delete", "blog.Comment", "--filter", "id=1"}, "n\n");
  EXPECT_TRUE(contains(one.err, "Delete this object? [y/N]")) << one.err;
  auto typo = run_process({kTool, "--settings", kSettings, "delte", "blog.Post"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_TRUE(contains(typo.err, "unknown command 'delte' (did you mean 'delete'?)")) << typo.err;
  EXPECT_EQ(typo.err.rfind("cascade: error: ", 0), 0u) << typo.err;  // not the binary's path
  auto boolean = tool({"delete", "shop.Product", "--filter", "discontinued=false", "--dry-run"});
  EXPECT_NE(boolean.exit_code, 2) << boolean.err;
  EXPECT_FALSE(contains(boolean.err, "must be either True or False")) << boolean.err;
  auto not_soft = tool({"purge", "blog.Post", "--older-than", "1d"});
  EXPECT_EQ(not_soft.exit_code, 2);
  EXPECT_TRUE(contains(not_soft.err, "blog.Post is not soft-deletable (its delete_policy is hard)"))
      << not_soft.err;
}

TEST_P(ToolRun, OperationsAreLoggedWithTheReasonAndCascadeLogShowsThem) {
  EXPECT_TRUE(contains(tool({"log"}).out, "The audit log is empty"));
  auto r = tool({"delete", "blog.Author", "--filter", "id=1", "--yes", "--reason", "spam account"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // A dry run, a declined delete and a refused one leave nothing.
  tool({"delete", "blog.Author", "--filter", "id=2", "--dry-run"});
  tool({"delete", "blog.Author", "--filter", "id=2"}, "n\n");
  EXPECT_EQ(
      tool({"delete", "shop.Product", "--filter", "order_items__isnull=false", "--yes"}).exit_code,
      4);
  auto log = tool({"log", "--format", "json"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  json doc = json::parse(log.out);
  ASSERT_EQ(doc["count"], 1);
  json e = doc["entries"][0];
  EXPECT_EQ(e["action"], "delete");
  EXPECT_EQ(e["tool"], "cascade delete");
  EXPECT_EQ(e["reason"], "spam account");
  EXPECT_EQ(e["root_model"], "blog.Author");
  EXPECT_EQ(e["root_keys"], json::array({"1"}));
  EXPECT_FALSE(e["os_user"].get<std::string>().empty());
  EXPECT_GT(e["counts"]["blog.Author"], 0);
  auto text = tool({"log"});
  EXPECT_TRUE(contains(text.out, "delete  blog.Author [1]")) << text.out;
  EXPECT_TRUE(contains(text.out, "reason: spam account")) << text.out;
  auto one = tool({"log", e["operation"].get<std::string>(), "--rows"});
  EXPECT_EQ(one.exit_code, 0);
  EXPECT_TRUE(contains(one.out, "action:  delete")) << one.out;
  // The example project records every row's key ([audit] record_rows = true).
  EXPECT_TRUE(contains(one.out, "    blog.Author 1\n")) << one.out;
  auto missing = tool({"log", "no-such-operation"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(contains(missing.err, "no operation no-such-operation")) << missing.err;
  EXPECT_EQ(tool({"log", "--action", "nonsense"}).exit_code, 2);
}

TEST_P(ToolRun, RecordedRowsAndTurningTheLogOff) {
  TempDir dir;
  // The example's settings with another [audit] table.
  auto settings_with = [&](const std::string& audit) {
    std::ifstream in(kSettings);
    std::stringstream text;
    text << in.rdbuf();
    std::string toml = text.str();
    toml = toml.substr(0, toml.find("[audit]")) + "[audit]\n" + audit + "\n";
    std::string path = dir.file("cascade.toml");
    std::ofstream(path) << toml;
    return path;
  };
  std::string rows = settings_with("record_rows = true");
  auto r = run_process({kTool, "--settings", rows, "--database", url, "delete", "blog.Comment",
                        "--filter", "id__in=1,2,3", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto log = run_process({kTool, "--settings", rows, "--database", url, "log", "--format", "json"});
  json e = json::parse(log.out)["entries"][0];
  EXPECT_TRUE(e["rows_recorded"].get<bool>());
  auto one = run_process({kTool, "--settings", rows, "--database", url, "log",
                          e["operation"].get<std::string>(), "--rows"});
  for (const char* key : {"blog.Comment 1", "blog.Comment 2", "blog.Comment 3"}) {
    EXPECT_TRUE(contains(one.out, key)) << one.out;
  }
  std::string off = settings_with("enabled = false");
  ASSERT_EQ(run_process({kTool, "--settings", off, "--database", url, "delete", "blog.Comment",
                         "--filter", "id=4", "--yes"})
                .exit_code,
            0);
  auto after =
      run_process({kTool, "--settings", off, "--database", url, "log", "--format", "json"});
  EXPECT_EQ(json::parse(after.out)["count"], 1);  // the first delete only
  std::string typo = settings_with("enable = false");
  auto bad = run_process({kTool, "--settings", typo, "--database", url, "log"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_TRUE(contains(bad.err, "enable")) << bad.err;
}

TEST(ToolFiles, ReadersNeverCreateADatabaseAndReadOnlyFilesCanBeDryRun) {
  TempDir dir;
  std::string missing = "sqlite:///" + dir.file("typo.db");
  for (std::vector<std::string> args : {std::vector<std::string>{"inspect"},
                                        {"check"},
                                        {"delete", "blog.Post", "--all", "--dry-run"},
                                        {"inspectdb"}}) {
    std::vector<std::string> all = {kTool, "--settings", kSettings, "--database", missing};
    all.insert(all.end(), args.begin(), args.end());
    auto r = run_process(all);
    EXPECT_EQ(r.exit_code, 1) << args[0];
    EXPECT_TRUE(contains(r.err, "typo.db' does not exist")) << args[0] << ": " << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.file("typo.db"))) << args[0];
  }
  std::string url = "sqlite:///" + dir.file("ro.db");
  ASSERT_EQ(run_process({kApp, "--database", url, "migrate"}).exit_code, 0);
  ASSERT_EQ(run_process({kApp, "--database", url, "generate", "--size", "5"}).exit_code, 0);
  std::string ro = url + "?mode=ro";
  auto inspect = run_process({kTool, "--settings", kSettings, "--database", ro, "inspect", "Post"});
  EXPECT_EQ(inspect.exit_code, 0) << inspect.err;
  auto dry = run_process({kTool, "--settings", kSettings, "--database", ro, "delete", "blog.Post",
                          "--filter", "id=1", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  auto write = run_process({kTool, "--settings", kSettings, "--database", ro, "delete", "blog.Post",
                            "--filter", "id=1", "--yes"});
  EXPECT_NE(write.exit_code, 0);
  EXPECT_TRUE(contains(write.err, "readonly database (")) << write.err;  // names the file
  EXPECT_TRUE(contains(write.err, "ro.db")) << write.err;
}

TEST_P(ToolRun, InspectShowsPoliciesAndCountsAndCheckFindsNoProblem) {
  auto i = tool({"inspect", "blog.Post"});
  EXPECT_TRUE(contains(i.out, "  delete policy: hard (delete removes the rows)")) << i.out;
  auto ok = tool({"check"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_TRUE(contains(ok.out, "0 errors, 0 warnings: the schema matches the models")) << ok.out;
}

TEST(ToolFiles, CheckFindsRulesThatDifferAndKeysWithoutAnIndex) {
  TempDir dir;
  std::ofstream(dir.file("cascade.toml"))
      << "[database]\nurl = \"sqlite:///legacy.db\"\n"
         "[models.app.Shelf]\ndb_table = \"shelf\"\ndelete_policy = \"soft\"\n"
         "fields.name = { type = \"char\", max_length = 10 }\n"
         "[models.app.Book]\ndb_table = \"book\"\n"
         "fields.shelf = { type = \"foreign_key\", to = \"Shelf\", on_delete = \"DB_CASCADE\" }\n"
         "fields.nook = { type = \"foreign_key\", to = \"Shelf\", on_delete = \"CASCADE\", "
         "null = true, related_name = \"+\" }\n";
  {
    auto c = db::Connection::open("sqlite:///" + dir.file("legacy.db"));
    c->execute(
        "CREATE TABLE shelf (id integer PRIMARY KEY AUTOINCREMENT, name varchar(10) NOT "
        "NULL, deleted_at datetime NULL, deletion_id varchar(36) NULL)");
    c->execute(
        "CREATE TABLE book (id integer PRIMARY KEY AUTOINCREMENT, shelf_id bigint NOT NULL "
        "REFERENCES shelf (id) ON DELETE RESTRICT, nook_id bigint NULL REFERENCES shelf (id) "
        "DEFERRABLE INITIALLY DEFERRED)");
  }
  auto r = run_process({kTool, "--settings", dir.file("cascade.toml"), "check"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "foreign key \"shelf_id\" has ON DELETE RESTRICT")) << r.out;
  EXPECT_TRUE(
      contains(r.out, "warning: app.Book.nook: foreign key column \"nook_id\" has no index"))
      << r.out;
  auto i = run_process({kTool, "--settings", dir.file("cascade.toml"), "inspect", "Shelf"});
  EXPECT_TRUE(contains(i.out, "0 live rows, 0 soft-deleted")) << i.out << i.err;
  EXPECT_TRUE(contains(i.out, "delete policy: soft")) << i.out;
}

// ---- inspectdb on a hand-made legacy database ---------------------------------------------------

class Inspectdb : public cascade::testing::BackendTest {
 protected:
  void SetUp() override {
    auto c = connect();
    std::string serial = sqlite() ? "integer PRIMARY KEY" : "serial PRIMARY KEY";
    std::string stamp = sqlite() ? "datetime" : "timestamp";
    c->execute("CREATE TABLE member (id " + serial +
               ", name text NOT NULL, email varchar(100) UNIQUE)");
    c->execute(
        "CREATE TABLE book (isbn varchar(13) PRIMARY KEY, title text NOT NULL, \"from\" text, "
        "price numeric(8,2))");
    c->execute("CREATE TABLE copy (id " + serial +
               ", book_isbn varchar(13) NOT NULL REFERENCES "
               "book (isbn) ON DELETE RESTRICT, shelf integer)");
    c->execute("CREATE TABLE loan (id " + serial +
               ", copy_id integer NOT NULL REFERENCES copy (id) "
               "ON DELETE CASCADE, member_id integer REFERENCES member (id) ON DELETE SET NULL, "
               "due " +
               stamp + ", returned boolean NOT NULL)");
    c->execute(
        "CREATE TABLE book_author (book_isbn varchar(13) NOT NULL REFERENCES book (isbn), "
        "author text NOT NULL, PRIMARY KEY (book_isbn, author))");
    c->execute("CREATE TABLE audit_log (at " + stamp + ", message text)");
    // A key to a unique column (to_field), a through table, a multi-table inheritance child,
    // Django's content types.
    c->execute("CREATE TABLE review (id " + serial +
               ", member_email varchar(100) REFERENCES member (email) ON DELETE CASCADE, "
               "stars integer NOT NULL)");
    c->execute("CREATE TABLE wishlist (id " + serial +
               ", member_id integer NOT NULL REFERENCES member (id) ON DELETE CASCADE, "
               "book_isbn varchar(13) NOT NULL REFERENCES book (isbn) ON DELETE CASCADE, "
               "UNIQUE (member_id, book_isbn))");
    c->execute(
        "CREATE TABLE ebook (copy_ptr_id integer PRIMARY KEY REFERENCES copy (id), url text)");
    c->execute(
        "CREATE TABLE audiobook (copy_ptr_id integer PRIMARY KEY REFERENCES copy (id) ON DELETE "
        "CASCADE, minutes integer)");
    c->execute("CREATE TABLE django_content_type (id " + serial +
               ", app_label varchar(100) NOT NULL, model varchar(100) NOT NULL, UNIQUE "
               "(app_label, model))");
    c->execute("CREATE TABLE tagged (id " + serial +
               ", label text NOT NULL, content_type_id integer NOT NULL REFERENCES "
               "django_content_type (id), object_id integer NOT NULL)");
    db::migrate(*c, web::session_registry());  // as `cascade runserver` leaves it
    c->execute("INSERT INTO member (name) VALUES ('Ann')");
    c->execute(
        "INSERT INTO book (isbn, title, \"from\") VALUES ('111', 'Dune', 'x'), ('222', 'Emma', "
        "NULL)");
    c->execute("INSERT INTO copy (book_isbn) VALUES ('111'), ('222')");
    c->execute(std::string("INSERT INTO loan (copy_id, member_id, returned) VALUES (1, 1, ") +
               (sqlite() ? "0" : "false") + ")");
    c->execute("INSERT INTO book_author VALUES ('111', 'Frank'), ('111', 'Brian')");
    ASSERT_EQ(
        run_process({kTool, "inspectdb", "--database", scratch.url(), "--app", "lib", "-o", toml})
            .exit_code,
        0);
    std::ifstream in(toml);
    std::stringstream t;
    t << in.rdbuf();
    text = t.str();
  }
  TempDir dir;
  std::string toml = dir.file("lib.toml");
  std::string text;
  cascade::testing::ProcessResult tool(std::vector<std::string> args) {
    std::vector<std::string> all = {kTool, "--settings", toml};
    all.insert(all.end(), args.begin(), args.end());
    return run_process(all);
  }
};
CASCADE_ON_EVERY_BACKEND(Inspectdb);

TEST_P(Inspectdb, TheGeneratedModelsMatchTheirDatabaseWithNoMismatch) {
  auto plan = tool({"migrate", "--plan"});
  EXPECT_EQ(plan.exit_code, 0) << plan.err;  // at most indexes to add, no mismatch
  auto check = tool({"check"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_TRUE(contains(check.out, "0 errors")) << check.out;
}

TEST_P(Inspectdb, DatabaseRestrictBecomesRestrictAndRefusesBeforeWriting) {
  EXPECT_TRUE(contains(text,
                       "fields.book_isbn = { type = \"foreign_key\", to = \"Book\", on_delete = "
                       "\"RESTRICT\""))
      << text;
  auto r = tool({"delete", "Book", "--filter", "isbn=222", "--yes"});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "Blocked (RestrictedError)")) << r.out;
}

TEST_P(Inspectdb, CompositeKeysAndTablesWithoutAKeyAreNotGuessed) {
  EXPECT_TRUE(contains(text,
                       "# Table \"book_author\" has no model: its primary key has several "
                       "columns (book_isbn, author)"))
      << text;
  EXPECT_TRUE(contains(text, "# Table \"audit_log\" has no model: it has no primary key.")) << text;
  EXPECT_FALSE(contains(text, "[models.lib.BookAuthor]"));
  EXPECT_FALSE(contains(text, "[models.lib.AuditLog]"));
  auto check = tool({"check"});
  EXPECT_TRUE(contains(check.out,
                       "table \"book_author\" has no model; its column \"book_isbn\" "
                       "references lib.Book"))
      << check.out;
}

// #18 item 10: what inspectdb recognises of Django's relations, and says it guessed.
TEST_P(Inspectdb, ToFieldThroughTablesInheritanceAndContentTypesAreRecognised) {
  EXPECT_TRUE(contains(text,
                       "fields.member_email = { type = \"foreign_key\", to = \"Member\", "
                       "on_delete = \"DB_CASCADE\", to_field = \"email\""))
      << text;
  EXPECT_TRUE(contains(text,
                       "# Guessed: the through table of Member.books (a many-to-many to "
                       "Book): two keys, unique together."))
      << text;
  EXPECT_TRUE(contains(text,
                       "fields.books = { type = \"many_to_many\", to = \"Book\", through = "
                       "\"Wishlist\" }  # guessed"))
      << text;
  EXPECT_TRUE(contains(text,
                       "# Guessed: Django's multi-table inheritance, a child of Copy (its primary "
                       "key\n# \"copy_ptr_id\" is the parent link).\n[models.lib.Ebook]\n"
                       "db_table = \"ebook\"\nbases = [\"Copy\"]\n"))
      << text;
  // A key Django would not have made is kept as it is, with what was seen.
  EXPECT_TRUE(contains(text,
                       "perhaps Django's multi-table inheritance (a child of Copy), but its "
                       "ON DELETE is CASCADE, Django's has none"))
      << text;
  EXPECT_TRUE(contains(text, "fields.copy_ptr_id = { type = \"integer\", primary_key = true }"))
      << text;
  EXPECT_TRUE(contains(text,
                       "# Table \"django_content_type\" holds Django's content types: the built-in "
                       "model contenttypes.ContentType,"))
      << text;
  EXPECT_FALSE(contains(text, "[models.lib.DjangoContentType]")) << text;
  EXPECT_TRUE(contains(text,
                       "fields.content_type = { type = \"foreign_key\", to = "
                       "\"contenttypes.ContentType\", on_delete = \"DO_NOTHING\" }"))
      << text;
  EXPECT_TRUE(contains(text, "# Guessed: Django's GenericForeignKey \"content_object\"")) << text;
  EXPECT_TRUE(contains(text, "fields.content_object = { type = \"generic_foreign_key\" }  # guessed"))
      << text;
  auto r = tool({"shell", "-c",
                 "m = Member.objects.create(name='Bo', email='bo@x')\n"
                 "Review.objects.create(member_email=m, stars=5)\n"
                 "print(Review.objects.filter(member_email__name='Bo').count())\n"
                 "m.books.add(Book.objects.get(isbn='111'))\n"
                 "print(Wishlist.objects.count(), m.books.count())\n"
                 "print(m.delete())\n"
                 "print(Review.objects.count(), Wishlist.objects.count())\n"
                 "e = Ebook.objects.create(book_isbn_id='222', url='u')\n"
                 "print(Copy.objects.count(), list(Ebook.objects.values_list('url', flat=True)))\n"
                 "print(e.delete())\n"
                 "c = Member.objects.create(name='Cy', email='cy@x')\n"
                 "t = Tagged.objects.create(label='t', content_object=c)\n"
                 "print(t.content_type.model, t.content_object.name)\n"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // The review and the wishlist row go by the database's ON DELETE CASCADE (not counted); the
  // e-book is a copy too.
  EXPECT_EQ(r.out,
            "1\n1 1\n(1, {'lib.Member': 1})\n0 0\n3 ['u']\n(2, {'lib.Ebook': 1, 'lib.Copy': 1})\n"
            "member Cy\n")
      << r.err;
}

TEST_P(Inspectdb, CascadesOwnSessionsTableGetsNoModel) {
  EXPECT_TRUE(contains(text,
                       "# Table \"cascade_session\" is Cascade's own (the web server's "
                       "sessions): no model."))
      << text;
  EXPECT_FALSE(contains(text, "CascadeSession"));
}

TEST_P(Inspectdb, ReservedNamesGetAFieldNameTheShellCanWrite) {
  EXPECT_TRUE(
      contains(text, "fields.from_field = { type = \"text\", null = true, db_column = \"from\" }"))
      << text;
  auto r = run_process({kTool, "--settings", toml, "shell", "-c",
                        "print(Book.objects.filter(from_field='x').count())"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1\n");
  EXPECT_TRUE(contains(text, "# numeric(8,2) in the database: read as a float")) << text;
}

TEST_P(Inspectdb, PreviewsCountWhatTheDatabaseWillDo) {
  auto copy = tool({"delete", "Copy", "--filter", "id=1", "--dry-run"});
  EXPECT_EQ(copy.exit_code, 0) << copy.err;
  EXPECT_TRUE(contains(copy.out,
                       "The database will delete 1 lib.Loan row through copy (ON DELETE "
                       "CASCADE)"))
      << copy.out;
  auto member = tool({"delete", "Member", "--filter", "id=1", "--dry-run", "--format", "json"});
  json doc = json::parse(member.out);
  ASSERT_EQ(doc["preview"]["database_effects"].size(), 1u) << member.out;
  EXPECT_EQ(doc["preview"]["database_effects"][0]["action"], "ON DELETE SET NULL");
  EXPECT_EQ(doc["preview"]["database_effects"][0]["rows"], 1);
}

TEST_P(Operations, APreviewForeseesADoNothingReferenceThatWouldFailTheCommit) {
  static Project* project = new Project(parse_project(R"(
[models.t.Owner]
fields.name = { type = "char", max_length = 10 }
[models.t.Pet]
fields.owner = { type = "foreign_key", to = "Owner", on_delete = "DO_NOTHING" }
)",
                                                      "pets.toml"));
  Database pets = Database::open(*project->registry, scratch.url());
  pets.migrate();
  Instance owner = pets.objects("t.Owner").create({{"name", "o"}});
  pets.objects("t.Pet").create({{"owner", owner.pk()}});
  Preview p = pets.objects("t.Owner").all().preview_remove();
  EXPECT_EQ(p.blocked_by, Refusal::Commit);
  EXPECT_TRUE(contains(p.blocked_message,
                       "the commit would fail: 1 t.Pet row would still "
                       "reference deleted t.Owner rows through 'Pet.owner' "
                       "(on_delete=DO_NOTHING)"))
      << p.blocked_message;
  ASSERT_EQ(p.blocking.size(), 1u);
  EXPECT_EQ(p.blocking[0].label, "t.Pet");
  // The API still runs it and fails at commit, as Django does; nothing is left half-done.
  EXPECT_THROW(pets.objects("t.Owner").all().remove(), IntegrityError);
  EXPECT_EQ(pets.objects("t.Owner").all().count(), 1);
}

}  // namespace
}  // namespace cascade
