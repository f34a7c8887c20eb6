// The server's middleware and limits over HTTP (CSRF, hosts, body size, slow clients, the
// connection pool, shutdown, concurrency), and the web layer's parsers and tokens.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <set>
#include <sstream>
#include <thread>

#include "cascade/web/session.h"
#include "support/assertions.h"
#include "web/crypto.h"
#include "web/web_fixture.h"

namespace cascade::testing {
namespace {

using namespace std::chrono_literals;

class WebServer : public WebTest {
 protected:
  void seed_posts(int authors, int posts_each) {
    Database d = db();
    for (int a = 0; a < authors; ++a) {
      auto author = d.objects("blog.Author").create({{"name", "A" + std::to_string(a)}});
      for (int p = 0; p < posts_each; ++p) {
        auto post = d.objects("blog.Post").create({{"title", "P"}, {"author", author.pk()}});
        d.objects("blog.Comment").create({{"post", post.pk()}, {"body", "x"}});
      }
    }
  }
  std::int64_t count(const std::string& label) { return db().objects(label).all().count(); }
};
CASCADE_ON_EVERY_BACKEND(WebServer);

TEST_P(WebServer, CsrfMissingWrongOrFromAnotherOriginIs403AndChangesNothing) {
  seed_posts(1, 1);
  Page form = get("/blog/author/1/delete/");
  std::string token = field(form.body, "csrfmiddlewaretoken");
  std::string binding = field(form.body, "binding");
  ASSERT_EQ(token.size(), 64u);
  ASSERT_EQ(cookies.count("csrftoken"), 1u);
  // Each render masks the secret anew (Django's format).
  EXPECT_NE(field(get("/blog/author/1/delete/").body, "csrfmiddlewaretoken"), token);

  Page missing = post("/blog/author/1/delete/", {{"binding", binding}});
  EXPECT_EQ(missing.status, 403);
  EXPECT_CONTAINS(missing.body, "CSRF token missing.");
  std::string wrong = token;
  wrong[40] = wrong[40] == 'a' ? 'b' : 'a';
  Page incorrect =
      post("/blog/author/1/delete/", {{"csrfmiddlewaretoken", wrong}, {"binding", binding}});
  EXPECT_EQ(incorrect.status, 403);
  EXPECT_CONTAINS(incorrect.body, "CSRF token incorrect.");
  Page foreign =
      post("/blog/author/1/delete/", {{"csrfmiddlewaretoken", token}, {"binding", binding}},
           {{"Origin", "http://evil.example"}});
  EXPECT_EQ(foreign.status, 403);
  EXPECT_CONTAINS(foreign.body, "Origin checking failed");
  auto saved = cookies;
  cookies.erase("csrftoken");
  Page no_cookie =
      post("/blog/author/1/delete/", {{"csrfmiddlewaretoken", token}, {"binding", binding}});
  EXPECT_EQ(no_cookie.status, 403);
  EXPECT_CONTAINS(no_cookie.body, "CSRF cookie not set.");
  cookies = saved;
  EXPECT_EQ(count("blog.Author"), 1);
  EXPECT_EQ(count("blog.Comment"), 1);
  // The header form of the token, as Django's X-CSRFToken, passes.
  Page ok = post("/blog/author/1/delete/", {{"binding", binding}}, {{"X-CSRFToken", token}});
  EXPECT_EQ(ok.status, 302);
  EXPECT_EQ(count("blog.Author"), 0);
}

TEST_P(WebServer, OverHttpsTheRefererMustBeThisSiteAndCookiesAreSecure) {
  web::ServerOptions o;
  o.https = true;
  start(o);
  seed_posts(1, 0);
  auto first = client->Get("/blog/author/1/delete/");
  ASSERT_TRUE(first);
  EXPECT_NE(first->get_header_value("Set-Cookie").find("; Secure"), std::string::npos);
  Page form = get("/blog/author/1/delete/");
  httplib::Params params{{"csrfmiddlewaretoken", field(form.body, "csrfmiddlewaretoken")},
                         {"binding", field(form.body, "binding")}};
  Page no_referer = post("/blog/author/1/delete/", params);
  EXPECT_EQ(no_referer.status, 403);
  EXPECT_CONTAINS(no_referer.body, "Referer checking failed - no Referer.");
  std::string host = "127.0.0.1:" + std::to_string(port);
  Page other = post("/blog/author/1/delete/", params, {{"Referer", "https://evil.example/x"}});
  EXPECT_EQ(other.status, 403);
  EXPECT_EQ(count("blog.Author"), 1);
  Page same = post("/blog/author/1/delete/", params, {{"Referer", "https://" + host + "/blog/"}});
  EXPECT_EQ(same.status, 302);
}

TEST_P(WebServer, HostsOutsideAllowedHostsAre400) {
  EXPECT_EQ(get("/", {{"Host", "evil.example"}}).status, 400);
  EXPECT_CONTAINS(get("/", {{"Host", "evil.example"}}).body, "Invalid HTTP_HOST header");
  EXPECT_EQ(get("/", {{"Host", "localhost:8000"}}).status, 200);
  web::ServerOptions o;
  o.allowed_hosts = {".example.com"};
  start(o);
  EXPECT_EQ(get("/", {{"Host", "www.example.com"}}).status, 200);
  EXPECT_EQ(get("/", {{"Host", "example.com"}}).status, 200);
  EXPECT_EQ(get("/", {{"Host", "badexample.com"}}).status, 400);
  EXPECT_EQ(get("/", {{"Host", "127.0.0.1"}}).status, 400);
}

TEST_P(WebServer, OversizedBodiesAreRefusedBeforeAnyViewAndEveryRequestIsLogged) {
  web::ServerOptions o;
  o.max_body_bytes = 1000;
  std::ostringstream log;
  o.access_log = &log;
  start(o);
  seed_posts(1, 0);
  get("/blog/author/1/delete/");
  auto r = client->Post("/blog/author/1/delete/", headers(), std::string(5000, 'x'),
                        "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(count("blog.Author"), 1);
  stop();
  // One line per request, the engine's own 413 included (without a duration).
  std::string lines = log.str();
  EXPECT_CONTAINS(lines, "\"GET /blog/author/1/delete/ HTTP/1.1\" 200 ");
  EXPECT_CONTAINS(lines, "\"POST /blog/author/1/delete/ HTTP/1.1\" 413 ");
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 2) << lines;
}

TEST_P(WebServer, ASlowClientIsCutOffAndOthersAreServedMeanwhile) {
  web::ServerOptions o;
  o.read_timeout = 1s;
  start(o);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string partial = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n";  // and then nothing
  ASSERT_EQ(send(fd, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));
  EXPECT_EQ(get("/").status, 200);  // another client is served while it stalls
  auto started = std::chrono::steady_clock::now();
  // The server gives up: it answers with an error, or closes, and the connection ends.
  char buffer[256];
  std::string answer;
  for (ssize_t n; (n = recv(fd, buffer, sizeof buffer, 0)) > 0;) answer.append(buffer, n);
  EXPECT_TRUE(answer.empty() || answer.rfind("HTTP/1.1 4", 0) == 0) << answer;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  close(fd);
}

TEST_P(WebServer, ARequestThatCannotGetAConnectionIs503) {
  web::ServerOptions o;
  o.connections = 1;
  o.connection_wait = 200ms;
  std::atomic<bool> entered{false};
  std::atomic<bool> release{false};
  start(o, [&](web::Router& r) {
    r.add({"GET"}, "/slow/", [&](web::Request&) {
      entered = true;
      while (!release) std::this_thread::sleep_for(5ms);
      return web::Response::text("done");
    });
  });
  std::thread slow([&] {
    httplib::Client c("127.0.0.1", port);
    auto r = c.Get("/slow/");
    EXPECT_TRUE(r && r->status == 200);
  });
  while (!entered) std::this_thread::sleep_for(5ms);
  Page busy = get("/");
  EXPECT_EQ(busy.status, 503);
  release = true;
  slow.join();
  EXPECT_EQ(get("/").status, 200);
}

TEST_P(WebServer, StopLetsTheRequestInFlightFinish) {
  std::atomic<bool> entered{false};
  start({}, [&](web::Router& r) {
    r.add({"GET"}, "/slow/", [&](web::Request&) {
      entered = true;
      std::this_thread::sleep_for(300ms);
      return web::Response::text("finished");
    });
  });
  std::string body;
  int status = 0;
  std::thread slow([&] {
    httplib::Client c("127.0.0.1", port);
    auto r = c.Get("/slow/");
    if (r) {
      status = r->status;
      body = r->body;
    }
  });
  while (!entered) std::this_thread::sleep_for(5ms);
  stop();
  slow.join();
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, "finished");
}

TEST_P(WebServer, ConcurrentClientsDeletingOverlappingObjectsLeaveAConsistentDatabase) {
  seed_posts(6, 3);
  std::atomic<int> server_errors{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client http("127.0.0.1", port);
      std::string jar;
      for (int round = 0; round < 6; ++round) {
        // Half the clients delete authors, the others the posts under them.
        std::string path =
            c % 2 == 0 ? "/blog/author/" + std::to_string(1 + (round + c) % 6) + "/delete/"
                       : "/blog/post/" + std::to_string(1 + (round * 3 + c) % 18) + "/delete/";
        httplib::Headers h;
        if (!jar.empty()) h.emplace("Cookie", jar);
        auto form = http.Get(path.c_str(), h);
        if (!form) continue;
        if (form->status >= 500) ++server_errors;
        if (form->status != 200) continue;
        std::string cookie = form->get_header_value("Set-Cookie");
        if (!cookie.empty()) jar = cookie.substr(0, cookie.find(';'));
        h = {};
        h.emplace("Cookie", jar);
        auto done = http.Post(path.c_str(), h,
                              httplib::Params{{"csrfmiddlewaretoken",
                                               WebTest::field(form->body, "csrfmiddlewaretoken")},
                                              {"binding", WebTest::field(form->body, "binding")}});
        if (done && done->status >= 500) ++server_errors;
        if (done) {
          EXPECT_TRUE(done->status == 302 || done->status == 409 || done->status == 404)
              << done->status;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(server_errors, 0);
  // No comment without its post, no post without its author.
  Database d = db();
  for (const Instance& c : d.objects("blog.Comment").all()) {
    EXPECT_TRUE(d.objects("blog.Post").find(c.get("post")).has_value());
  }
  for (const Instance& p : d.objects("blog.Post").all()) {
    EXPECT_TRUE(d.objects("blog.Author").find(p.get("author")).has_value());
  }
}

TEST_P(WebServer, SessionsAreStoredServerSideAndTheirKeysCycle) {
  Database d = db();
  web::Session fresh(d, "");
  EXPECT_TRUE(fresh.empty());
  EXPECT_EQ(fresh.save(), "");  // nothing stored: no row, no cookie
  fresh.set("user", "7");
  std::string key = fresh.save();
  ASSERT_EQ(key.size(), 32u);
  web::Session loaded(d, key);
  EXPECT_EQ(loaded.get("user"), "7");
  loaded.cycle_key();
  std::string next = loaded.save();
  EXPECT_NE(next, key);
  EXPECT_FALSE(web::Session(d, key).get("user").has_value());  // the old key stops working
  EXPECT_EQ(web::Session(d, next).get("user"), "7");
  web::Session flushed(d, next);
  flushed.flush();
  EXPECT_EQ(flushed.save(), "");
  EXPECT_FALSE(web::Session(d, next).get("user").has_value());
  // A forged or malformed cookie is a new, empty session.
  EXPECT_TRUE(web::Session(d, "'; DROP TABLE cascade_session; --").empty());
  EXPECT_EQ(d.objects(web::session_model()).all().count(), 0);
}

// ---- parsers and tokens ------------------------------------------------------------------------

TEST(WebParsing, UrlencodedFormsAndQueryStrings) {
  using P = web::Params;
  EXPECT_EQ(web::parse_urlencoded("a=1&b=two+words&c=%41%42&d"),
            (P{{"a", "1"}, {"b", "two words"}, {"c", "AB"}, {"d", ""}}));
  EXPECT_EQ(web::parse_urlencoded("&&x=%zz&y=%4"), (P{{"x", "%zz"}, {"y", "%4"}}));
  EXPECT_EQ(web::parse_urlencoded("k=a&k=b"), (P{{"k", "a"}, {"k", "b"}}));
  EXPECT_EQ(web::parse_urlencoded("=v"), (P{{"", "v"}}));
  std::string many;
  for (int i = 0; i < 1001; ++i) many += "f" + std::to_string(i) + "=1&";
  EXPECT_THROW(web::parse_urlencoded(many), web::BadRequest);
  EXPECT_EQ(web::percent_decode_path("/a%20b/c+d/%2F"), "/a b/c+d//");
  EXPECT_EQ(web::percent_encode("a b/é"), "a%20b%2F%C3%A9");
}

TEST(WebParsing, CookiesAsBrowsersSendThem) {
  auto c = web::parse_cookies("a=1; b=\"quoted\";c = spaced ; bad name=x; a=second; novalue");
  EXPECT_EQ(c.at("a"), "1");
  EXPECT_EQ(c.at("b"), "quoted");
  EXPECT_EQ(c.at("c"), "spaced");
  EXPECT_EQ(c.count("bad name"), 0u);
  EXPECT_EQ(c.count("novalue"), 0u);
}

TEST(WebParsing, EscapeAndRoutes) {
  EXPECT_EQ(web::escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#x27;x&#x27;&gt;&amp;&quot;&lt;/a&gt;");
  web::Router r;
  r.add({"GET"}, "/a/<x>/", [](web::Request&) { return web::Response::text("a"); });
  r.add({"POST"}, "/a/<x>/", [](web::Request&) { return web::Response::text("b"); });
  auto m = r.match("GET", "/a/1%2F2/");
  ASSERT_NE(m.view, nullptr);
  EXPECT_EQ(m.params.at("x"), "1/2");  // an encoded '/' stays in its segment
  EXPECT_EQ(r.match("PUT", "/a/1/").allowed, (std::vector<std::string>{"GET", "POST"}));
  EXPECT_EQ(r.match("GET", "/a//").view, nullptr);
  EXPECT_TRUE(r.match("GET", "/b/").allowed.empty());
  EXPECT_NE(r.match("HEAD", "/a/1/").view, nullptr);
  // The first pattern that matches the path decides, whatever the method (Django's resolver).
  r.add({"GET"}, "/<any>/<thing>/", [](web::Request&) { return web::Response::text("c"); });
  EXPECT_EQ(r.match("POST", "/a/1/").view, r.match("POST", "/a/2/").view);
  EXPECT_EQ(r.match("POST", "/z/1/").allowed, (std::vector<std::string>{"GET"}));
  EXPECT_THROW(web::Response::redirect("//evil.example/"), web::HttpError);
  EXPECT_THROW(web::Response::redirect("https://evil.example/"), web::HttpError);
}

TEST(WebParsing, HostsFollowDjangosAllowedHosts) {
  EXPECT_TRUE(web::host_allowed("localhost:8000", {}));
  EXPECT_TRUE(web::host_allowed("[::1]:8000", {}));
  EXPECT_FALSE(web::host_allowed("example.com", {}));
  EXPECT_TRUE(web::host_allowed("EXAMPLE.com.", {"example.com"}));
  EXPECT_TRUE(web::host_allowed("a.b.example.com", {".example.com"}));
  EXPECT_FALSE(web::host_allowed("example.com.evil", {".example.com"}));
  EXPECT_TRUE(web::host_allowed("anything", {"*"}));
  EXPECT_FALSE(web::host_allowed("bad host", {"*"}));
  EXPECT_FALSE(web::host_allowed("", {"*"}));
}

TEST(WebCsrf, TokensMaskTheSecretAsDjangosDo) {
  std::string secret = web::crypto::random_string(32);
  ASSERT_TRUE(web::crypto::csrf_well_formed(secret));
  std::set<std::string> tokens;
  for (int i = 0; i < 20; ++i) {
    std::string token = web::crypto::csrf_mask(secret);
    EXPECT_EQ(token.size(), 64u);
    EXPECT_EQ(web::crypto::csrf_unmask(token), secret);
    tokens.insert(token);
  }
  EXPECT_EQ(tokens.size(), 20u);
  EXPECT_EQ(web::crypto::csrf_unmask(secret), secret);  // an unmasked secret is accepted
  EXPECT_EQ(web::crypto::csrf_unmask("short"), "");
  EXPECT_EQ(web::crypto::csrf_unmask(std::string(64, '!')), "");
  // The token Django (3.2's django.middleware.csrf._mask_cipher_secret) makes for the secret
  // "abcdefghijklmnopqrstuvwxyzABCDEF" with the mask "0123456789ABCDEFGHIJKLMNOPQRSTUV".
  EXPECT_EQ(web::crypto::csrf_unmask("0123456789ABCDEFGHIJKLMNOPQRSTUV"
                                     "02468acegiKMOQSUWY02468acegikmoq"),
            "abcdefghijklmnopqrstuvwxyzABCDEF");
  EXPECT_TRUE(web::crypto::constant_time_equal("abc", "abc"));
  EXPECT_FALSE(web::crypto::constant_time_equal("abc", "abd"));
  EXPECT_FALSE(web::crypto::constant_time_equal("abc", "abcd"));
}

}  // namespace
}  // namespace cascade::testing
