// `runserver` as a process: the example app's own views (the seeds' delete_post and
// soft_delete_post, examples/blog_shop/views.cc), the settings it refuses to start without, and
// a clean stop on SIGTERM; `cascade runserver` on a models file.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <fstream>
#include <regex>

#include "cascade/query/manager.h"
#include "support/assertions.h"
#include "support/backends.h"
#include "support/process.h"

namespace cascade::testing {
namespace {

const std::string kBlogShop = BLOG_SHOP_PATH;
const std::string kTool = CASCADE_TOOL_PATH;

class Runserver : public BackendTest {
 protected:
  // Starts `args` (a runserver on port 0) and reads the port it prints.
  int start(Child& child) {
    EXPECT_TRUE(child.started());
    std::regex started(R"(Starting server at http://127\.0\.0\.1:(\d+)/)");
    for (int i = 0; i < 5; ++i) {
      std::string line = child.read_line();
      std::smatch m;
      if (std::regex_search(line, m, started)) return std::stoi(m[1]);
    }
    ADD_FAILURE() << "no 'Starting server' line; stderr: " << child.err();
    return 0;
  }
  static std::string field(const std::string& html, const std::string& name) {
    std::smatch m;
    std::regex re("name=\"" + name + "\" value=\"([^\"]*)\"");
    return std::regex_search(html, m, re) ? m[1].str() : std::string();
  }
  static std::string cookies_of(const httplib::Result& r) {
    std::string jar;
    for (const auto& [k, v] : r->headers) {
      if (k == "Set-Cookie") jar += (jar.empty() ? "" : "; ") + v.substr(0, v.find(';'));
    }
    return jar;
  }
};
CASCADE_ON_EVERY_BACKEND(Runserver);

TEST_P(Runserver, TheExampleAppsDeleteAndSoftDeleteViewsAndACleanStop) {
  Database db = blog_shop();
  auto author = db.objects("blog.Author").create({{"name", "Ann"}});
  auto post = db.objects("blog.Post").create({{"title", "Hello"}, {"author", author.pk()}});
  db.objects("blog.Comment").create({{"post", post.pk()}, {"body", "c"}});
  auto other = db.objects("blog.Post").create({{"title", "Other"}, {"author", author.pk()}});

  Child server({"/usr/bin/env", "CASCADE_SECRET_KEY=test", kBlogShop, "--database", scratch.url(),
                "runserver", "127.0.0.1:0"});
  int port = start(server);
  ASSERT_GT(port, 0);
  httplib::Client http("127.0.0.1", port);
  auto list = http.Get("/posts/");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200);
  EXPECT_CONTAINS(list->body, "Hello");
  std::string jar = cookies_of(list);
  EXPECT_CONTAINS(list->body, "Page 1 of 1");  // a ListView<Post>
  auto detail = http.Get("/posts/2/");         // a DetailView<Post>
  ASSERT_TRUE(detail);
  EXPECT_EQ(detail->status, 200);
  EXPECT_CONTAINS(detail->body, "<th>title</th><td>Other</td>");
  EXPECT_EQ(http.Get("/posts/99/")->status, 404);

  // The seeds' delete_post: the confirmation names the post, the POST deletes it and its
  // comment and redirects to the list.
  auto form = http.Get("/posts/1/delete/", {{"Cookie", jar}});
  ASSERT_TRUE(form);
  EXPECT_CONTAINS(form->body, "Are you sure you want to delete the post titled “Hello”?");
  EXPECT_CONTAINS(form->body, "Comment: 1");
  auto done =
      http.Post("/posts/1/delete/", {{"Cookie", jar}},
                httplib::Params{{"csrfmiddlewaretoken", field(form->body, "csrfmiddlewaretoken")},
                                {"binding", field(form->body, "binding")}});
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 302);
  EXPECT_EQ(done->get_header_value("Location"), "/posts/");
  EXPECT_FALSE(db.objects("blog.Post").find(post.pk()).has_value());
  EXPECT_EQ(db.objects("blog.Comment").all().count(), 0);

  // The seeds' soft_delete_post: POST only, sets the hand-made flag.
  EXPECT_EQ(http.Get("/posts/2/soft-delete/")->status, 405);
  auto hidden =
      http.Post("/posts/2/soft-delete/", {{"Cookie", jar}},
                httplib::Params{{"csrfmiddlewaretoken", field(form->body, "csrfmiddlewaretoken")}});
  ASSERT_TRUE(hidden);
  EXPECT_EQ(hidden->status, 302);
  EXPECT_EQ(db.objects("blog.Post").get(other.pk()).get("is_deleted"), Value(true));
  auto after = http.Get("/posts/", {{"Cookie", jar + "; " + cookies_of(hidden)}});
  EXPECT_EQ(after->body.find(">Other<"), std::string::npos);

  // The generic model pages are served too.
  EXPECT_EQ(http.Get("/blog/author/1/delete/")->status, 200);

  server.kill(SIGTERM);
  EXPECT_EQ(server.wait(), 0) << server.err();
  EXPECT_CONTAINS(server.err(), "\"POST /posts/1/delete/ HTTP/1.1\" 302");
}

TEST_P(Runserver, RefusesToStartWithoutASecretKeyOrWithABadAddress) {
  blog_shop();
  auto r = run_process({kBlogShop, "--database", scratch.url(), "runserver", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.err, "needs a secret key");
  auto bad = run_process({"/usr/bin/env", "CASCADE_SECRET_KEY=x", kBlogShop, "--database",
                          scratch.url(), "runserver", "localhost:99999"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_CONTAINS(bad.err, "is not a valid port number");
}

TEST(RunserverSettings, TheToolServesAModelsFileWithItsWebSettings) {
  TempDir dir;
  std::string settings = dir.file("cascade.toml");
  {
    std::ofstream f(settings);
    f << "[database]\nurl = \"sqlite:///site.db\"\n\n[web]\ndebug = true\nallowed_hosts = "
         "[\"127.0.0.1\"]\n\n[models.notes.Note]\ndisplay = \"{title}\"\nfields.title = { type = "
         "\"char\", max_length = 50 }\n";
  }
  ASSERT_EQ(run_process({kTool, "--settings", settings, "migrate"}).exit_code, 0);
  Child server({kTool, "--settings", settings, "runserver", "0"});
  std::regex started(R"(Starting server at http://127\.0\.0\.1:(\d+)/)");
  int port = 0;
  for (int i = 0; i < 5 && port == 0; ++i) {
    std::smatch m;
    std::string line = server.read_line();
    if (std::regex_search(line, m, started)) port = std::stoi(m[1]);
  }
  ASSERT_GT(port, 0) << server.err();
  httplib::Client http("127.0.0.1", port);
  EXPECT_EQ(http.Get("/notes/note/")->status, 200);
  EXPECT_EQ(http.Get("/", {{"Host", "localhost"}})->status, 400);  // not in allowed_hosts
  server.kill(SIGINT);
  EXPECT_EQ(server.wait(), 0);
  // A typo in [web] is refused, with the closest key.
  std::ofstream(dir.file("bad.toml"))
      << "[web]\nsecret_kye = \"x\"\n[models.a.B]\nfields.n = { type = \"integer\" }\n";
  auto bad = run_process({kTool, "--settings", dir.file("bad.toml"), "runserver"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_CONTAINS(bad.err, "unknown key 'secret_kye' (did you mean 'secret_key'?)");
}

}  // namespace
}  // namespace cascade::testing
