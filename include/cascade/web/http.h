// Cascade's own HTTP types: what a view receives and returns, and the router that picks the
// view. The server engine (cpp-httplib today, see web/server.h) is hidden behind them, so views
// never see it and the engine could be replaced.
//
//   web::Router router;
//   router.add({"GET"}, "/posts/<pk>/", [&](web::Request& req) {
//     return web::Response::html("<p>" + web::escape(req.param("pk")) + "</p>");
//   });
//
// Thread safety: a Router is built before the server starts and only read afterwards, by every
// worker at once. A Request and its Response belong to the one worker serving them.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cascade {
class Database;
}  // namespace cascade

namespace cascade::web {

class Session;
struct RequestState;

// ---- parsing (web/parse.cc; fuzzed) ----------------------------------------------------------

// Ordered name/value pairs; a name may repeat (?tag=a&tag=b).
using Params = std::vector<std::pair<std::string, std::string>>;

// application/x-www-form-urlencoded (a query string or a form body): '+' is a space, %XX a
// byte; a malformed escape is kept as written, as Python's parse_qsl does. A pair without '='
// has an empty value; empty pairs are skipped. At most `max_fields` pairs (Django's
// DATA_UPLOAD_MAX_NUMBER_FIELDS is 1000): more throws BadRequest.
Params parse_urlencoded(std::string_view text, std::size_t max_fields = 1000);
// Percent-decoding of a URL path ('+' stays '+').
std::string percent_decode_path(std::string_view text);
// Percent-encoding for a query value or a path segment: everything but unreserved characters.
std::string percent_encode(std::string_view text);
// The Cookie header: "a=1; b=2". Values may be quoted; pairs without '=' and names that are not
// tokens are skipped, as browsers and Python's http.cookies do. The first of a repeated name
// wins.
std::map<std::string, std::string> parse_cookies(std::string_view header);
// HTML escaping of & < > " ' (Django's escape()).
std::string escape(std::string_view text);

// ---- request and response ---------------------------------------------------------------------

// A malformed request: the server answers 400 with this message.
struct BadRequest {
  std::string message;
};

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded: "/blog/post/3/delete/"
  std::string query_string;
  // Header names lower-cased.
  std::multimap<std::string, std::string> headers;
  std::string body;
  std::string remote_addr;
  bool secure = false;  // served over HTTPS ([web] https)

  // Filled by the router: the <name> parts of the route's pattern, decoded.
  std::map<std::string, std::string> params;
  // What the server's middleware attaches for the views: the session (created on first use),
  // the database connection this request borrowed, and CSRF state.
  RequestState* state = nullptr;

  std::string header(std::string_view name) const;  // "" when absent
  const std::string& param(const std::string& name) const;
  // ?name=value; the first value, or nullopt.
  std::optional<std::string> query(std::string_view name) const;
  // The form fields of a urlencoded POST body (parsed once).
  const Params& form() const;
  std::optional<std::string> form_value(std::string_view name) const;
  const std::map<std::string, std::string>& cookies() const;

  // The session (web/session.h), the borrowed database, the CSRF token for a form (masked anew
  // on every call, as Django's get_token()). Only inside a server's request.
  Session& session() const;
  Database& db() const;
  std::string csrf_token() const;

 private:
  mutable std::optional<Params> form_;
  mutable std::optional<std::map<std::string, std::string>> cookies_;
};

struct Cookie {
  std::string name;
  std::string value;
  std::string path = "/";
  std::optional<long> max_age;  // seconds; 0 deletes; nullopt: a session cookie
  bool http_only = true;
  bool secure = false;
  std::string same_site = "Lax";
  std::string header_value() const;  // for Set-Cookie
};

struct Response {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<Cookie> cookies;
  std::string body;

  static Response html(std::string body, int status = 200);
  static Response text(std::string body, int status = 200);
  // 302 to `location`, a path of this site ("/blog/post/"), as Django's redirect().
  static Response redirect(const std::string& location, int status = 302);
  void set_header(std::string name, std::string value);
};

using View = std::function<Response(Request&)>;

// ---- routing -----------------------------------------------------------------------------------

// Raise from a view (or get_object_or_404) to answer with an error page.
struct HttpError {
  int status;           // 400, 403, 404, 405, 503, ...
  std::string message;  // shown on the page (escaped)
};

class Router {
 public:
  // `pattern`: a path whose segments are literal or <name> (one segment, any characters but
  // '/'), e.g. "/<app>/<model>/<pk>/delete/". Patterns are tried in the order they were added;
  // the first that matches the path decides, as Django's URL resolver: the routes with that
  // very pattern give the view for the method, or 405.
  void add(std::vector<std::string> methods, std::string pattern, View view);

  struct Match {
    const View* view = nullptr;  // null: no route for this method
    std::map<std::string, std::string> params;
    std::vector<std::string> allowed;  // the methods of the path's routes (405's Allow)
  };
  // The route for `method` and `path` (as sent: still percent-encoded, so that an encoded '/'
  // stays inside its segment; each segment is decoded before it is compared or handed to the
  // view): view null and `allowed` empty when no route has the path (404), view null and
  // `allowed` set when only other methods have it (405).
  Match match(std::string_view method, std::string_view path) const;

 private:
  struct Route {
    std::vector<std::string> methods;
    std::vector<std::string> segments;  // "<name>" for a parameter
    View view;
  };
  std::vector<Route> routes_;
};

}  // namespace cascade::web
