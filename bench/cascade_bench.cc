// Cascade's side of the deletion benchmark: the same scenarios, on the same data (a copy of the
// template database the Django harness builds), timing only the operation.
//
//   cascade_bench run <scenario> <size> <dbfile or postgresql:// URL>
//
// prints one JSON line: seconds, statements, rows, per-model counts, receivers called, peak RSS.
// Scenarios (see bench/README.md): S1a S1b S2 S3 S4 S5 S6a, and S6s: Cascade's own soft delete of
// the S6a QuerySet (Post with delete_policy = "soft"; the driver adds its two columns to the
// copy before the run, untimed); S6t: a soft_cascade tree on the S2 data (Author soft_cascade,
// Post and Comment soft: every author, post and comment is marked; tag links are kept); A1: the
// admin's confirmation page for deleting every author of the S2 data, its first byte timed.
// D<d> / R<d>: every row of Level1 deleted through a chain of d models (R<d>: one Guard row
// protects a row of level d, and the delete is refused; "rows" is then -1). V<d>: the preview of
// D<d>'s delete (counts and the first 100 objects), which writes nothing. T: every root of a
// tree 100 levels deep (Node, a CASCADE key to itself) deleted with everything under it; VT:
// its preview.

#include <chrono>
#include <map>
#include <optional>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include <httplib.h>

#include <thread>

#include "cascade/database.h"
#include "cascade/deletion/audit.h"
#include "cascade/error.h"
#include "cascade/model/loader.h"
#include "cascade/web/admin.h"
#include "cascade/web/auth.h"
#include "cascade/web/server.h"
#include "cascade/web/templates.h"

namespace {

// The harness's models (shared/bench/blog/models.py), all in the "blog" app.
const char* kModels = R"(
[models.blog.Author]
fields.name = { type = "char", max_length = 100 }
[models.blog.Tag]
fields.name = { type = "char", max_length = 50 }
[models.blog.Post]
fields.title = { type = "char", max_length = 200 }
fields.status = { type = "char", max_length = 20, default = "published" }
fields.author = { type = "foreign_key", to = "Author", on_delete = "CASCADE", related_name = "posts" }
fields.editor = { type = "foreign_key", to = "Author", on_delete = "SET_NULL", null = true, blank = true, related_name = "edited_posts" }
fields.is_deleted = { type = "boolean", default = false }
fields.tags = { type = "many_to_many", to = "Tag", related_name = "posts" }
[models.blog.Comment]
fields.post = { type = "foreign_key", to = "Post", on_delete = "CASCADE", related_name = "comments" }
fields.body = { type = "text" }
[models.blog.Product]
fields.name = { type = "char", max_length = 100 }
fields.discontinued = { type = "boolean", default = false }
[models.blog.PlainProduct]
fields.name = { type = "char", max_length = 100 }
fields.discontinued = { type = "boolean", default = false }
[models.blog.Order]
fields.number = { type = "char", max_length = 30 }
[models.blog.OrderItem]
fields.order = { type = "foreign_key", to = "Order", on_delete = "CASCADE", related_name = "items" }
fields.product = { type = "foreign_key", to = "Product", on_delete = "PROTECT", related_name = "order_items" }
fields.quantity = { type = "integer", default = 1 }
)";

// The high-water mark of this process image's resident memory (VmHWM). Not getrusage's
// ru_maxrss: on Linux it carries the parent's high-water mark across fork and exec, so that
// the Python orchestrator's ~20 MB hid any growth below that.
// The chain models (bench/harness/blog/models.py): Level1 <- Level2 <- ... <- Level10, and Guard.
std::string chain_models() {
  std::string out = "[models.blog.Level1]\nfields.name = { type = \"char\", max_length = 20 }\n";
  for (int k = 2; k <= 10; ++k) {
    out += "[models.blog.Level" + std::to_string(k) +
           "]\nfields.name = { type = \"char\", max_length = 20 }\n"
           "fields.parent = { type = \"foreign_key\", to = \"Level" +
           std::to_string(k - 1) +
           "\", on_delete = \"CASCADE\", related_name = \"children\" }\n";
  }
  out += "[models.blog.Node]\nfields.name = { type = \"char\", max_length = 20 }\n"
         "fields.parent = { type = \"foreign_key\", to = \"Node\", on_delete = \"CASCADE\", "
         "null = true, related_name = \"children\" }\n";
  out += "[models.blog.Guard]\n";
  for (int k = 1; k <= 10; ++k) {
    out += "fields.l" + std::to_string(k) + " = { type = \"foreign_key\", to = \"Level" +
           std::to_string(k) +
           "\", on_delete = \"PROTECT\", null = true, related_name = \"guards\" }\n";
  }
  return out;
}

bool chain_scenario(const std::string& s) {
  return s.size() > 1 && (s[0] == 'D' || s[0] == 'R') &&
         s.find_first_not_of("0123456789", 1) == std::string::npos;
}

long peak_rss_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// A1: the admin's confirmation page for deleting every author of the S2 data, through a real
// server and client: log in, "select all" on the change list, then the timed GET of the
// confirmation page (its exact counts and the first 100 objects). Times the first byte of the
// body and the whole page.
int admin_first_byte(const cascade::Registry& registry, const std::string& url,
                     const std::string& size) {
  {
    auto db = cascade::Database::open(registry, url);
    cascade::web::migrate_auth(db.connection());
    cascade::AuditLog(db).migrate();
    cascade::web::Users(db).create_superuser("bench", "bench-password", "", 1000);
  }
  cascade::web::Templates templates;
  cascade::web::Router router;
  cascade::web::AdminSite admin(registry, templates);
  admin.register_all();
  admin.set_password_iterations(1000);
  admin.add_routes(router);
  cascade::web::ServerOptions options;
  options.port = 0;
  options.secret_key = "bench";
  options.templates = &templates;
  options.workers = 2;
  options.connections = 1;
  cascade::web::Server server(options, std::move(router),
                              [&] { return cascade::Database::open(registry, url); });
  int port = server.listen();
  std::thread serving([&] { server.run(); });
  std::map<std::string, std::string> cookies;
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(600, 0);
  auto headers = [&] {
    std::string line;
    for (const auto& [k, v] : cookies) line += (line.empty() ? "" : "; ") + k + "=" + v;
    return httplib::Headers{{"Cookie", line}};
  };
  auto keep_cookies = [&](const httplib::Result& r) {
    for (const auto& [k, v] : r->headers) {
      if (k != "Set-Cookie") continue;
      auto eq = v.find('=');
      cookies[v.substr(0, eq)] = v.substr(eq + 1, v.find(';') - eq - 1);
    }
  };
  auto csrf = [](const std::string& html) {
    const std::string mark = "name=\"csrfmiddlewaretoken\" value=\"";
    auto at = html.find(mark) + mark.size();
    return html.substr(at, html.find('"', at) - at);
  };
  auto fail = [&](const std::string& what) {
    server.stop();
    serving.join();
    throw cascade::Error("A1: " + what);
  };
  auto form = client.Get("/admin/login/", headers());
  if (!form) fail("no login page");
  keep_cookies(form);
  auto login = client.Post("/admin/login/", headers(),
                           httplib::Params{{"csrfmiddlewaretoken", csrf(form->body)},
                                           {"username", "bench"},
                                           {"password", "bench-password"},
                                           {"next", "/admin/"}});
  if (!login || login->status != 302) fail("login failed");
  keep_cookies(login);
  auto list = client.Get("/admin/blog/author/", headers());
  if (!list || list->status != 200) fail("no change list");
  keep_cookies(list);
  auto selected = client.Post(
      "/admin/blog/author/delete_selected/", headers(),
      httplib::Params{
          {"csrfmiddlewaretoken", csrf(list->body)}, {"query", ""}, {"select_across", "1"}});
  if (!selected || selected->status != 303) fail("select all failed");
  std::string location = selected->get_header_value("Location");
  long rss_before = peak_rss_kb();
  auto t0 = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> first;
  std::string body;
  auto page = client.Get(location, headers(), [&](const char* data, std::size_t n) {
    if (!first) first = std::chrono::steady_clock::now();
    body.append(data, n);
    return true;
  });
  auto t1 = std::chrono::steady_clock::now();
  long peak = peak_rss_kb();
  server.stop();
  serving.join();
  if (!page || page->status != 200 || !first) fail("no confirmation page");
  // The page's total: "<span ...>N</span> objects" is not parsed; the summary's counts are.
  std::int64_t rows = 0;
  for (std::size_t at = body.find("<ul class=\"summary\">"); at != std::string::npos;) {
    auto colon = body.find(": ", at);
    auto end = body.find("</", colon);
    if (colon == std::string::npos || end == std::string::npos || colon > body.find("</ul>", at)) {
      break;
    }
    rows += std::stoll(body.substr(colon + 2, end - colon - 2));
    at = end;
  }
  std::printf(
      "{\"scenario\": \"A1\", \"size\": %s, \"seconds\": %.6f, \"page_seconds\": %.6f, "
      "\"queries\": 0, \"rows\": %lld, \"updated\": 0, \"per_model\": {}, "
      "\"signals_received\": 0, \"rss_before_kb\": %ld, \"peak_rss_kb\": %ld}\n",
      size.c_str(), std::chrono::duration<double>(*first - t0).count(),
      std::chrono::duration<double>(t1 - t0).count(), static_cast<long long>(rows), rss_before,
      peak);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5 || std::string(argv[1]) != "run") {
    std::cerr << "usage: cascade_bench run <S1a|S1b|S2|S3|S4|S5|S6a|S6s|S6t|A1|D<d>|R<d>|V<d>|T|VT> <size> <dbfile|postgresql://...>\n";
    return 2;
  }
  std::string scenario = argv[2];
  std::string size = argv[3];
  std::string file = argv[4];
  try {
    std::string models = std::string(kModels) + chain_models();
    auto policy = [&](const std::string& model, const std::string& value) {
      std::string header = "[models.blog." + model + "]\n";
      models.insert(models.find(header) + header.size(), "delete_policy = \"" + value + "\"\n");
    };
    if (scenario == "S6s") policy("Post", "soft");
    if (scenario == "S6t") {
      policy("Author", "soft_cascade");
      policy("Post", "soft");
      policy("Comment", "soft");
    }
    cascade::Project project = cascade::parse_project(models, "bench models");
    // A database URL (postgresql://...) as it is; a file: the harness's SQLite defaults, the
    // file's own journal mode, no WAL switch.
    std::string url = file.find("://") != std::string::npos
                          ? file
                          : "sqlite:///" + file + "?journal_mode=keep";
    if (scenario == "A1") return admin_first_byte(*project.registry, url, size);
    auto db = cascade::Database::open(*project.registry, url);
    std::int64_t received = 0;
    if (scenario == "S3") {
      db.signals().connect(
          cascade::Signal::PreDelete, [&](const cascade::SignalEvent&) { ++received; },
          &db.registry().get("blog.Comment"));
    }
    // CASCADE_BENCH_SQL=1: every statement on standard error, for profiles (not in timed runs).
    if (const char* trace = std::getenv("CASCADE_BENCH_SQL"); trace != nullptr && *trace == '1') {
      // Each line: the milliseconds since the previous statement began (that statement's time,
      // with whatever the engine did after it), then the statement.
      db.connection().observe_statements(
          [last = std::chrono::steady_clock::now()](std::string_view sql,
                                                    std::span<const cascade::Value>) mutable {
            auto now = std::chrono::steady_clock::now();
            std::fprintf(stderr, "%9.3f  ",
                         std::chrono::duration<double, std::milli>(now - last).count());
            last = now;
            std::cerr << sql << ";\n";
          });
    }
    std::optional<cascade::Instance> target;
    if (scenario == "S5") target = db.objects("blog.Author").get(cascade::Q("name", "victim"));
    long rss_before = peak_rss_kb();
    auto statements_before = db.connection().statement_count();
    auto t0 = std::chrono::steady_clock::now();
    cascade::DeleteResult result;
    std::int64_t updated = 0;
    if (scenario == "S1a") {
      result = db.objects("blog.PlainProduct").filter({{"discontinued", true}}).remove();
    } else if (scenario == "S1b") {
      result = db.objects("blog.Product").filter({{"discontinued", true}}).remove();
    } else if (scenario == "S2" || scenario == "S3") {
      result = db.objects("blog.Author").all().remove();
    } else if (scenario == "S4") {
      result = db.objects("blog.Author").filter({{"name__startswith", "editor"}}).remove();
    } else if (scenario == "S5") {
      result = db.objects("blog.Author").remove(*target);
    } else if (scenario == "S6a") {
      updated = db.objects("blog.Post").filter({{"status", "spam"}}).update({{"is_deleted", true}});
    } else if (scenario == "S6t") {
      result = db.objects("blog.Author").all().remove();
      updated = result.total;
    } else if (scenario == "S6s") {
      result = db.objects("blog.Post").filter({{"status", "spam"}}).remove();
      updated = result.total;
    } else if (scenario == "T") {
      result = db.objects("blog.Node").filter({{"parent__isnull", true}}).remove();
    } else if (scenario == "VT") {
      result = db.objects("blog.Node").filter({{"parent__isnull", true}}).preview_remove(100).counts;
    } else if (scenario[0] == 'V' && chain_scenario("D" + scenario.substr(1))) {
      // V<d>: the preview of D<d>'s delete (exact counts and the first 100 objects), as the
      // confirmation page shows it; nothing is written.
      cascade::Preview preview = db.objects("blog.Level1").all().preview_remove(100);
      result = preview.counts;
    } else if (chain_scenario(scenario)) {
      try {
        result = db.objects("blog.Level1").all().remove();
      } catch (const cascade::ProtectedError&) {
        result.total = -1;
      }
    } else {
      std::cerr << "unknown scenario " << scenario << "\n";
      return 2;
    }
    auto t1 = std::chrono::steady_clock::now();
    long peak = peak_rss_kb();
    std::string per_model = "{";
    for (std::size_t i = 0; i < result.per_model.size(); ++i) {
      per_model += (i ? ", \"" : "\"") + result.per_model[i].first +
                   "\": " + std::to_string(result.per_model[i].second);
    }
    per_model += "}";
    std::printf(
        "{\"scenario\": \"%s\", \"size\": %s, \"seconds\": %.6f, \"queries\": %lld, \"rows\": "
        "%lld, "
        "\"updated\": %lld, \"per_model\": %s, \"signals_received\": %lld, \"rss_before_kb\": %ld, "
        "\"peak_rss_kb\": %ld}\n",
        scenario.c_str(), size.c_str(), std::chrono::duration<double>(t1 - t0).count(),
        static_cast<long long>(db.connection().statement_count() - statements_before),
        static_cast<long long>(result.total), static_cast<long long>(updated), per_model.c_str(),
        static_cast<long long>(received), rss_before, peak);
    return 0;
  } catch (const cascade::Error& e) {
    std::cerr << "cascade_bench: " << e.what() << "\n";
    return 1;
  }
}
