// The HTTP server: a pool of worker threads serving a Router, each request with one database
// connection borrowed from a smaller pool, behind Cascade's own Request / Response types (the
// engine, cpp-httplib, is an implementation detail).
//
//   web::ServerOptions options;            // 127.0.0.1:8000, 8 workers, 4 connections
//   options.secret_key = "...";
//   web::Server server(options, router, [&] { return Database::open(registry, url); });
//   server.listen();                       // binds; throws when the port is taken
//   web::serve_until_signal(server);      // SIGINT / SIGTERM: stop, let in-flight requests end
//
// Each request, in order: the Host header is checked against allowed_hosts (400); a
// connection is borrowed (503 after connection_wait); for POST, PUT, PATCH and DELETE the CSRF
// token is checked (403, see docs/web.md); the route's view runs (404, 405 when none); a
// changed session is saved; the CSRF and session cookies are set; one access-log line is
// written. A view's exception becomes a 500 page, with the exception's text only under debug.
//
// Thread safety: the Router, the ServerOptions and the Registry are shared by every worker and
// only read. A Database (its connection, its signals) serves one request at a time: a worker
// borrows one for the whole request and returns it, so connections are never shared.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "cascade/web/http.h"

namespace cascade {
class Database;
}  // namespace cascade

namespace cascade::web {

class Templates;

struct ServerOptions {
  std::string host = "127.0.0.1";                   // only this machine, unless told otherwise
  int port = 8000;                                  // 0: any free port (listen() returns it)
  int workers = 8;                                  // threads serving requests
  int connections = 4;                              // database connections they borrow
  std::chrono::milliseconds connection_wait{3000};  // then 503

  // Limits. Headers are limited by the engine to 8 KiB per line.
  std::size_t max_body_bytes = 2621440;  // Django's DATA_UPLOAD_MAX_MEMORY_SIZE; then 413
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{10};
  std::chrono::seconds keep_alive_timeout{2};
  int keep_alive_max_requests = 50;

  // Settings ([web] in cascade.toml).
  std::string secret_key;
  std::vector<std::string> allowed_hosts;  // empty: localhost, 127.0.0.1 and [::1] only
  bool debug = false;                      // 500 pages show the exception's text
  bool https = false;                      // Secure cookies; Origin / Referer checked

  std::ostream* access_log = nullptr;  // one line per request; null: none
  // Error pages (400, 403, 404, 405, 500, 503) render error.html in the base layout; null: a
  // plain page.
  const Templates* templates = nullptr;
};

class Server {
 public:
  using Connect = std::function<Database()>;
  // Opens `options.connections` databases with `connect` (which may also connect signal
  // receivers to each), creates the sessions table where missing and clears expired sessions.
  Server(ServerOptions options, Router router, Connect connect);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the address; returns the port. Throws cascade::Error when it cannot.
  int listen();
  // Serves until stop(); in-flight requests finish before it returns.
  void run();
  // Thread-safe; returns at once.
  void stop();

  const ServerOptions& options() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs the server until SIGINT or SIGTERM, then stops it and waits for in-flight requests.
// Blocks both signals in the calling thread (and so in threads it starts afterwards).
void serve_until_signal(Server& server);

// Whether `host` (a Host header, with or without a port) is allowed; Django's rules: an entry
// matches exactly, ".example.com" matches the domain and its subdomains, "*" matches anything.
bool host_allowed(const std::string& host, const std::vector<std::string>& allowed);

}  // namespace cascade::web
