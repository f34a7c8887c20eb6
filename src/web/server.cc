// The server: cpp-httplib underneath, Cascade's middleware (hosts, connection pool, CSRF,
// sessions, access log) around the router.
#include "cascade/web/server.h"

#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <iomanip>
#include <mutex>
#include <ostream>
#include <sstream>
#include <thread>

#include "cascade/database.h"
#include "cascade/db/schema.h"
#include "cascade/error.h"
#include "cascade/web/session.h"
#include "cascade/web/templates.h"
#include "web/crypto.h"
#include "web/state.h"

namespace cascade::web {
namespace {

constexpr const char* kCsrfCookie = "csrftoken";
constexpr const char* kSessionCookie = "sessionid";
constexpr long kCsrfCookieAge = 31449600;  // Django's CSRF_COOKIE_AGE: a year

bool unsafe_method(const std::string& m) {
  return m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE";
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The host part of a Host header: "example.com:8000" -> "example.com", "[::1]:80" -> "[::1]".
std::string host_without_port(const std::string& host) {
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    return close == std::string::npos ? std::string() : host.substr(0, close + 1);
  }
  auto colon = host.rfind(':');
  return colon == std::string::npos ? host : host.substr(0, colon);
}

bool valid_host_syntax(const std::string& host) {
  if (host.empty()) return false;
  return std::all_of(host.begin(), host.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' ||
           c == '_';
  });
}

std::string error_html(int status, const std::string& title, const std::string& message) {
  return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape(title) +
         "</title></head><body><h1>" + escape(title) + "</h1><p>" + escape(message) +
         "</p><p><small>HTTP " + std::to_string(status) + "</small></p></body></html>";
}

const char* reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 500: return "Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

}  // namespace

bool host_allowed(const std::string& host, const std::vector<std::string>& allowed) {
  std::string name = lower(host_without_port(host));
  if (!valid_host_syntax(name)) return false;
  if (!name.empty() && name.back() == '.') name.pop_back();
  static const std::vector<std::string> local{"localhost", "127.0.0.1", "[::1]"};
  for (const std::string& raw : allowed.empty() ? local : allowed) {
    std::string pattern = lower(raw);
    if (pattern == "*" || pattern == name) return true;
    if (pattern.size() > 1 && pattern.front() == '.' &&
        (name == pattern.substr(1) ||
         (name.size() > pattern.size() &&
          name.compare(name.size() - pattern.size(), pattern.size(), pattern) == 0))) {
      return true;
    }
  }
  return false;
}

// ---- the request's state, for the views
// ----------------------------------------------------------

Session& Request::session() const {
  if (state == nullptr || state->db == nullptr) throw Error("no session outside a server request");
  if (!state->session) state->session.emplace(*state->db, state->session_cookie);
  return *state->session;
}

Database& Request::db() const {
  if (state == nullptr || state->db == nullptr) throw Error("no database outside a server request");
  return *state->db;
}

std::string Request::csrf_token() const {
  if (state == nullptr) throw Error("no CSRF token outside a server request");
  if (state->csrf_secret.empty()) {
    state->csrf_secret = crypto::random_string(crypto::kCsrfSecretLength);
    state->csrf_secret_new = true;
  }
  return crypto::csrf_mask(state->csrf_secret);
}

// ---- the server
// ------------------------------------------------------------------------------------

struct Server::Impl {
  ServerOptions options;
  Router router;
  httplib::Server http;
  std::mutex pool_mutex;
  std::condition_variable pool_ready;
  std::vector<std::unique_ptr<Database>> databases;
  std::deque<Database*> idle;
  std::mutex log_mutex;
  std::atomic<std::int64_t> requests{0};
  std::chrono::steady_clock::time_point last_cleanup = std::chrono::steady_clock::now();
  std::mutex run_mutex;
  bool in_run = false;
  bool stop_requested = false;
  bool engine_stopped = false;

  Database* borrow() {
    std::unique_lock lock(pool_mutex);
    if (!pool_ready.wait_for(lock, options.connection_wait, [&] { return !idle.empty(); })) {
      return nullptr;
    }
    Database* db = idle.front();
    idle.pop_front();
    return db;
  }
  void give_back(Database* db) {
    {
      std::lock_guard lock(pool_mutex);
      idle.push_back(db);
    }
    pool_ready.notify_one();
  }

  Response error_page(Request& req, int status, const std::string& message) {
    std::string title = std::to_string(status) + " " + reason_phrase(status);
    Response r;
    r.status = status;
    if (options.templates != nullptr && req.state != nullptr && req.state->db != nullptr) {
      try {
        TemplateData data;
        data.set("status", std::to_string(status)).set("title", title).set("message", message);
        r.body = options.templates->page("error.html", title, data, req);
        return r;
      } catch (const std::exception&) {
        // fall back to the plain page
      }
    }
    r.body = error_html(status, title, message);
    return r;
  }

  // Django's CsrfViewMiddleware: "" when the request passes, else the reason it fails.
  std::string csrf_failure(const Request& req, const RequestState& state) {
    std::string host = req.header("host");
    std::string scheme = options.https ? "https://" : "http://";
    std::string origin = req.header("origin");
    if (!origin.empty()) {
      if (lower(origin) != lower(scheme + host)) {
        return "Origin checking failed - " + origin + " does not match any trusted origins.";
      }
    } else if (options.https) {
      std::string referer = req.header("referer");
      if (referer.empty()) return "Referer checking failed - no Referer.";
      std::string expected = lower(scheme + host + "/");
      if (lower(referer).rfind(expected, 0) != 0) {
        return "Referer checking failed - " + referer + " does not match any trusted origins.";
      }
    }
    if (state.csrf_secret.empty()) return "CSRF cookie not set.";
    std::string token = req.form_value("csrfmiddlewaretoken").value_or(req.header("x-csrftoken"));
    if (token.empty()) return "CSRF token missing.";
    std::string secret = crypto::csrf_unmask(token);
    if (secret.empty() || !crypto::constant_time_equal(secret, state.csrf_secret)) {
      return "CSRF token incorrect.";
    }
    return {};
  }

  Response handle(Request& req, RequestState& state, const std::string& raw_path) {
    if (!host_allowed(req.header("host"), options.allowed_hosts)) {
      std::string host = req.header("host");
      return error_page(req, 400,
                        "Invalid HTTP_HOST header: '" + host + "'. You may need to add '" +
                            host_without_port(host) + "' to [web] allowed_hosts.");
    }
    Router::Match match = router.match(req.method, raw_path);
    if (match.view == nullptr && match.allowed.empty()) {
      return error_page(req, 404, "The requested resource was not found on this server.");
    }
    if (match.view == nullptr) {
      Response r = error_page(req, 405, "Method " + req.method + " is not allowed here.");
      std::string allow;
      for (const auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
      r.set_header("Allow", allow);
      return r;
    }
    if (unsafe_method(req.method)) {
      std::string reason = csrf_failure(req, state);
      if (!reason.empty()) {
        return error_page(req, 403, "CSRF verification failed. Request aborted. " + reason);
      }
    }
    req.params = std::move(match.params);
    return (*match.view)(req);
  }

  void serve(const httplib::Request& in, httplib::Response& out) {
    auto started = std::chrono::steady_clock::now();
    Request req;
    RequestState state;
    state.options = &options;
    req.method = in.method;
    std::string target = in.target;
    auto question = target.find('?');
    std::string raw_path = target.substr(0, question);
    if (question != std::string::npos) req.query_string = target.substr(question + 1);
    req.path = percent_decode_path(raw_path);
    for (const auto& [name, value] : in.headers) req.headers.emplace(lower(name), value);
    req.body = in.body;
    req.remote_addr = in.remote_addr;
    req.secure = options.https;
    req.state = &state;

    Response res;
    Database* db = borrow();
    if (db == nullptr) {
      res = error_page(req, 503, "All database connections are busy; try again in a moment.");
      res.set_header("Retry-After", "1");
    } else {
      state.db = db;
      try {
        auto cookie = req.cookies().find(kCsrfCookie);
        if (cookie != req.cookies().end() && crypto::csrf_well_formed(cookie->second)) {
          state.csrf_secret = cookie->second;
        }
        auto sid = req.cookies().find(kSessionCookie);
        if (sid != req.cookies().end()) state.session_cookie = sid->second;
        res = handle(req, state, raw_path);
        if (state.session) {
          bool had = !state.session_cookie.empty();
          std::string key = state.session->save();
          if (!key.empty() && key != state.session_cookie) {
            res.cookies.push_back(Cookie{kSessionCookie, key, "/",
                                         static_cast<long>(kSessionAge.count()), true,
                                         options.https, "Lax"});
          } else if (key.empty() && had) {
            res.cookies.push_back(Cookie{kSessionCookie, "", "/", 0, true, options.https, "Lax"});
          }
        }
      } catch (const HttpError& e) {
        res = error_page(req, e.status, e.message);
      } catch (const BadRequest& e) {
        res = error_page(req, 400, e.message);
      } catch (const std::exception& e) {
        res = error_page(req, 500,
                         options.debug ? std::string("A server error occurred: ") + e.what()
                                       : "A server error occurred. Please contact the "
                                         "administrator.");
      }
      if (state.csrf_secret_new) {
        res.cookies.push_back(Cookie{kCsrfCookie, state.csrf_secret, "/", kCsrfCookieAge, true,
                                     options.https, "Lax"});
      }
      maybe_clear_sessions(*db);
      give_back(db);
    }

    out.status = res.status;
    for (const auto& [name, value] : res.headers) out.set_header(name, value);
    for (const auto& c : res.cookies) out.headers.emplace("Set-Cookie", c.header_value());
    out.set_header("X-Content-Type-Options", "nosniff");
    out.set_header("X-Frame-Options", "DENY");
    out.set_header("Referrer-Policy", "same-origin");
    out.set_content(res.body, res.content_type.c_str());
    if (options.access_log != nullptr) {
      double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
              .count();
      std::ostringstream took;
      took << std::fixed << std::setprecision(1) << ms << "ms";
      pending_log_line = log_line(in, res.status, res.body.size(), took.str());
    }
  }

  // The engine calls this after every response it writes, the ones it answers itself (a
  // malformed request, 413) included, on the worker that served the request: a request that
  // went through serve() logs the line serve() left, others a line without a duration.
  void log(const httplib::Request& in, const httplib::Response& out) {
    if (options.access_log == nullptr) return;
    std::string line = pending_log_line.empty() ? log_line(in, out.status, out.body.size(), "-")
                                                : std::move(pending_log_line);
    pending_log_line.clear();
    std::lock_guard lock(log_mutex);
    *options.access_log << line << std::flush;
  }

  static std::string log_line(const httplib::Request& in, int status, std::size_t bytes,
                              const std::string& took) {
    std::ostringstream line;
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    line << "[" << std::put_time(&tm, "%d/%b/%Y %H:%M:%S") << "] \"" << in.method << " "
         << in.target << " " << in.version << "\" " << status << " " << bytes << " "
         << in.remote_addr << " " << took << "\n";
    return line.str();
  }
  static thread_local std::string pending_log_line;

  // Expired sessions go once an hour, by whichever request comes first.
  void maybe_clear_sessions(Database& db) {
    {
      std::lock_guard lock(pool_mutex);
      auto now = std::chrono::steady_clock::now();
      if (now - last_cleanup < std::chrono::hours(1)) return;
      last_cleanup = now;
    }
    try {
      clear_expired_sessions(db);
    } catch (const std::exception&) {
      // the next hour's attempt will do
    }
  }
};

thread_local std::string Server::Impl::pending_log_line;

Server::Server(ServerOptions options, Router router, Connect connect)
    : impl_(std::make_unique<Impl>()) {
  if (options.workers < 1 || options.connections < 1) {
    throw ConfigError("a server needs at least one worker and one database connection");
  }
  impl_->options = std::move(options);
  impl_->router = std::move(router);
  for (int i = 0; i < impl_->options.connections; ++i) {
    impl_->databases.push_back(std::make_unique<Database>(connect()));
    impl_->idle.push_back(impl_->databases.back().get());
  }
  Database& first = *impl_->databases.front();
  db::migrate(first.connection(), session_registry());
  clear_expired_sessions(first);

  auto& http = impl_->http;
  int workers = impl_->options.workers;
  http.new_task_queue = [workers] { return new httplib::ThreadPool(static_cast<size_t>(workers)); };
  http.set_payload_max_length(impl_->options.max_body_bytes);
  http.set_read_timeout(impl_->options.read_timeout);
  http.set_write_timeout(impl_->options.write_timeout);
  http.set_keep_alive_timeout(impl_->options.keep_alive_timeout.count());
  http.set_keep_alive_max_count(static_cast<size_t>(impl_->options.keep_alive_max_requests));
  auto handler = [this](const httplib::Request& in, httplib::Response& out) {
    impl_->serve(in, out);
  };
  http.Get(".*", handler);
  http.Post(".*", handler);
  http.Put(".*", handler);
  http.Patch(".*", handler);
  http.Delete(".*", handler);
  http.Options(".*", handler);
  http.set_logger(
      [this](const httplib::Request& in, const httplib::Response& out) { impl_->log(in, out); });
}

Server::~Server() { stop(); }

int Server::listen() {
  auto& o = impl_->options;
  int port = o.port;
  if (port == 0) {
    port = impl_->http.bind_to_any_port(o.host);
    if (port < 0) throw Error("cannot listen on " + o.host + ": no free port");
  } else if (!impl_->http.bind_to_port(o.host, port)) {
    throw Error("cannot listen on " + o.host + ":" + std::to_string(port) +
                " (is another server using the port?)");
  }
  o.port = port;
  return port;
}

// The engine's stop() acts only once its accept loop runs (and must not be called twice), so
// stop() waits for that loop when run() is starting, and run() does not start after a stop().
void Server::run() {
  {
    std::lock_guard lock(impl_->run_mutex);
    if (impl_->stop_requested) return;
    impl_->in_run = true;
  }
  impl_->http.listen_after_bind();
  std::lock_guard lock(impl_->run_mutex);
  impl_->in_run = false;
}

void Server::stop() {
  {
    std::lock_guard lock(impl_->run_mutex);
    impl_->stop_requested = true;
    if (!impl_->in_run || impl_->engine_stopped) return;
    impl_->engine_stopped = true;
  }
  while (!impl_->http.is_running()) {
    {
      std::lock_guard lock(impl_->run_mutex);
      if (!impl_->in_run) return;  // the accept loop ended (it failed to start)
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->http.stop();
}

const ServerOptions& Server::options() const noexcept { return impl_->options; }

void serve_until_signal(Server& server) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &signals, &previous);
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    timespec tick{0, 200 * 1000 * 1000};
    while (!done.load()) {
      if (sigtimedwait(&signals, nullptr, &tick) > 0) {
        server.stop();
        return;
      }
    }
  });
  server.run();  // returns after stop(), once the workers have finished their requests
  done = true;
  waiter.join();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

}  // namespace cascade::web
