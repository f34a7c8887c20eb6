// A server on a free port of 127.0.0.1 for HTTP-level tests, on each backend, with an HTTP
// client that keeps cookies and reads the CSRF token and the form's fields from pages.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <memory>
#include <regex>
#include <string>
#include <thread>

#include "cascade/database.h"
#include "cascade/model/loader.h"
#include "cascade/web/http.h"
#include "cascade/web/server.h"
#include "cascade/web/templates.h"
#include "cascade/web/views.h"
#include "support/backends.h"

namespace cascade::testing {

// The blog and shop of the seeds, plus a soft-deletable note with soft-deleted children.
inline const char* kWebModels = R"(
[models.blog.Author]
display = "{name}"
ordering = ["name"]
fields.name = { type = "char", max_length = 100 }

[models.blog.Post]
display = "{title}"
fields.title  = { type = "char", max_length = 200 }
fields.author = { type = "foreign_key", to = "Author", on_delete = "CASCADE", related_name = "posts" }
fields.editor = { type = "foreign_key", to = "Author", on_delete = "SET_NULL", null = true, related_name = "edited_posts" }
fields.tags   = { type = "many_to_many", to = "Tag", related_name = "posts" }

[models.blog.Tag]
display = "{name}"
fields.name = { type = "char", max_length = 50 }

[models.blog.Comment]
display = "Comment {id} on post {post_id}"
fields.post = { type = "foreign_key", to = "Post", on_delete = "CASCADE", related_name = "comments" }
fields.body = { type = "text" }

[models.shop.Product]
display = "{name}"
fields.name = { type = "char", max_length = 100 }

[models.shop.OrderItem]
display = "{quantity} x product {product_id}"
fields.product  = { type = "foreign_key", to = "Product", on_delete = "PROTECT", related_name = "order_items" }
fields.quantity = { type = "integer", default = 1 }

[models.notes.Note]
display = "{title}"
delete_policy = "soft_cascade"
fields.title = { type = "char", max_length = 100 }

[models.notes.Reply]
display = "Reply {id}"
delete_policy = "soft"
fields.note = { type = "foreign_key", to = "Note", on_delete = "CASCADE", related_name = "replies" }
)";

struct Page {
  int status = 0;
  std::string body;
  std::string location;
};

class WebTest : public BackendTest {
 protected:
  void SetUp() override { start({}); }
  void TearDown() override { stop(); }

  // (Re)starts the server with these options (port 0: a free one) and `extra` routes first.
  void start(web::ServerOptions options, std::function<void(web::Router&)> extra = {}) {
    stop();
    if (!project) project = parse_project(kWebModels);
    {
      Database db = Database::open(*project->registry, scratch.url());
      db.migrate();
    }
    options.host = "127.0.0.1";
    options.port = 0;
    if (options.secret_key.empty()) options.secret_key = "test-secret";
    templates = std::make_unique<web::Templates>();
    options.templates = templates.get();
    web::Router router;
    if (extra) extra(router);
    web::add_model_pages(router, *project->registry, *templates);
    const Registry& registry = *project->registry;
    std::string url = scratch.url();
    server = std::make_unique<web::Server>(
        options, std::move(router), [&registry, url] { return Database::open(registry, url); });
    port = server->listen();
    thread = std::thread([this] { server->run(); });
    client = std::make_unique<httplib::Client>("127.0.0.1", port);
    client->set_read_timeout(20, 0);
    cookies.clear();
  }
  void stop() {
    if (server) server->stop();
    if (thread.joinable()) thread.join();
    server.reset();
  }

  Database db() const { return Database::open(*project->registry, scratch.url()); }

  httplib::Headers headers(httplib::Headers extra = {}) const {
    std::string jar;
    for (const auto& [k, v] : cookies) jar += (jar.empty() ? "" : "; ") + k + "=" + v;
    if (!jar.empty()) extra.emplace("Cookie", jar);
    return extra;
  }
  void keep_cookies(const httplib::Result& r) {
    for (const auto& [name, value] : r->headers) {
      if (name != "Set-Cookie") continue;
      auto eq = value.find('=');
      auto semi = value.find(';');
      std::string k = value.substr(0, eq);
      std::string v = value.substr(eq + 1, semi - eq - 1);
      if (value.find("Max-Age=0") != std::string::npos) {
        cookies.erase(k);
      } else {
        cookies[k] = v;
      }
    }
  }
  Page page(const httplib::Result& r) {
    EXPECT_TRUE(r) << "no response: " << httplib::to_string(r.error());
    if (!r) return {};
    keep_cookies(r);
    Page p;
    p.status = r->status;
    p.body = r->body;
    p.location = r->get_header_value("Location");
    return p;
  }
  Page get(const std::string& path, httplib::Headers extra = {}) {
    return page(client->Get(path.c_str(), headers(std::move(extra))));
  }
  Page post(const std::string& path, const httplib::Params& form, httplib::Headers extra = {}) {
    return page(client->Post(path.c_str(), headers(std::move(extra)), form));
  }
  // The value of the hidden input `name` in a page ("" when absent).
  static std::string field(const std::string& html, const std::string& name) {
    std::smatch m;
    std::regex re("name=\"" + name + "\" value=\"([^\"]*)\"");
    return std::regex_search(html, m, re) ? m[1].str() : std::string();
  }
  // Confirms the delete page at `path` as a browser would: GET, then POST its form.
  Page confirm(const std::string& path) {
    Page form = get(path);
    return post(path, {{"csrfmiddlewaretoken", field(form.body, "csrfmiddlewaretoken")},
                       {"binding", field(form.body, "binding")}});
  }

  std::optional<Project> project;
  std::unique_ptr<web::Templates> templates;
  std::unique_ptr<web::Server> server;
  std::thread thread;
  int port = 0;
  std::unique_ptr<httplib::Client> client;
  std::map<std::string, std::string> cookies;
};

}  // namespace cascade::testing
