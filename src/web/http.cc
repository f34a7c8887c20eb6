// Parsing (query strings, forms, cookies, paths), escaping, requests, responses and routing.
#include "cascade/web/http.h"

#include <algorithm>
#include <cctype>

#include "web/state.h"

namespace cascade::web {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 &&
               hex_digit(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
      i += 2;
    } else {
      out += c;  // a malformed escape stays as written
    }
  }
  return out;
}

// RFC 6265 token characters, for cookie names.
bool token_char(unsigned char c) {
  if (c <= 32 || c >= 127) return false;
  return std::string_view("()<>@,;:\\\"/[]?={}").find(static_cast<char>(c)) ==
         std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    out.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

}  // namespace

// ---- parsing
// -------------------------------------------------------------------------------------

Params parse_urlencoded(std::string_view text, std::size_t max_fields) {
  Params out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t amp = text.find('&', start);
    if (amp == std::string_view::npos) amp = text.size();
    std::string_view pair = text.substr(start, amp - start);
    start = amp + 1;
    if (pair.empty()) continue;
    if (out.size() >= max_fields) {
      throw BadRequest{"The number of GET/POST parameters exceeded " + std::to_string(max_fields) +
                       "."};
    }
    std::size_t eq = pair.find('=');
    std::string_view name = eq == std::string_view::npos ? pair : pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    out.emplace_back(percent_decode(name, true), percent_decode(value, true));
  }
  return out;
}

std::string percent_decode_path(std::string_view text) { return percent_decode(text, false); }

std::string percent_encode(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::map<std::string, std::string> parse_cookies(std::string_view header) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start <= header.size()) {
    std::size_t semi = header.find(';', start);
    if (semi == std::string_view::npos) semi = header.size();
    std::string_view pair = trim(header.substr(start, semi - start));
    start = semi + 1;
    std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = trim(pair.substr(0, eq));
    std::string_view value = trim(pair.substr(eq + 1));
    if (name.empty() ||
        !std::all_of(name.begin(), name.end(), [](char c) { return token_char(c); })) {
      continue;
    }
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    out.emplace(std::string(name), std::string(value));  // the first of a name wins
  }
  return out;
}

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#x27;"; break;
      default: out += c;
    }
  }
  return out;
}

// ---- request
// ---------------------------------------------------------------------------------------

std::string Request::header(std::string_view name) const {
  std::string key(name);
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto it = headers.find(key);
  return it == headers.end() ? std::string() : it->second;
}

const std::string& Request::param(const std::string& name) const {
  auto it = params.find(name);
  if (it == params.end()) throw HttpError{404, "No route parameter '" + name + "'."};
  return it->second;
}

std::optional<std::string> Request::query(std::string_view name) const {
  for (const auto& [k, v] : parse_urlencoded(query_string)) {
    if (k == name) return v;
  }
  return std::nullopt;
}

const Params& Request::form() const {
  if (!form_) {
    std::string type = header("content-type");
    bool urlencoded = type.rfind("application/x-www-form-urlencoded", 0) == 0;
    form_ = urlencoded ? parse_urlencoded(body) : Params{};
  }
  return *form_;
}

std::optional<std::string> Request::form_value(std::string_view name) const {
  for (const auto& [k, v] : form()) {
    if (k == name) return v;
  }
  return std::nullopt;
}

const std::map<std::string, std::string>& Request::cookies() const {
  if (!cookies_) cookies_ = parse_cookies(header("cookie"));
  return *cookies_;
}

// ---- response
// --------------------------------------------------------------------------------------

std::string Cookie::header_value() const {
  std::string out = name + "=" + value + "; Path=" + path;
  if (max_age) out += "; Max-Age=" + std::to_string(*max_age);
  if (http_only) out += "; HttpOnly";
  if (secure) out += "; Secure";
  if (!same_site.empty()) out += "; SameSite=" + same_site;
  return out;
}

Response Response::html(std::string body, int status) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::text(std::string body, int status) {
  Response r = html(std::move(body), status);
  r.content_type = "text/plain; charset=utf-8";
  return r;
}

Response Response::redirect(const std::string& location, int status) {
  // Only paths of this site: an absolute URL from a form field must not send the user away.
  if (location.empty() || location.front() != '/' || location.rfind("//", 0) == 0) {
    throw HttpError{400, "Unsafe redirect target."};
  }
  Response r;
  r.status = status;
  r.set_header("Location", location);
  return r;
}

void Response::set_header(std::string name, std::string value) {
  for (auto& [n, v] : headers) {
    if (n == name) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

// ---- routing
// ---------------------------------------------------------------------------------------

void Router::add(std::vector<std::string> methods, std::string pattern, View view) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("a route's pattern starts with '/': " + pattern);
  }
  routes_.push_back({std::move(methods), split_path(pattern), std::move(view)});
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match out;
  std::vector<std::string> parts = split_path(path);
  // As Django's URL resolver: the first pattern that matches the path decides; its routes (one
  // per set of methods) then decide between the view and 405.
  const std::vector<std::string>* pattern = nullptr;
  for (const auto& route : routes_) {
    if (route.segments.size() != parts.size()) continue;
    if (pattern != nullptr && route.segments != *pattern) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    for (std::size_t i = 0; i < parts.size() && ok; ++i) {
      const std::string& seg = route.segments[i];
      if (seg.size() > 2 && seg.front() == '<' && seg.back() == '>') {
        if (parts[i].empty()) ok = false;
        params[seg.substr(1, seg.size() - 2)] = percent_decode_path(parts[i]);
      } else {
        ok = seg == percent_decode_path(parts[i]);
      }
    }
    if (!ok) continue;
    pattern = &route.segments;
    bool method_ok =
        std::find(route.methods.begin(), route.methods.end(), method) != route.methods.end() ||
        (method == "HEAD" &&
         std::find(route.methods.begin(), route.methods.end(), "GET") != route.methods.end());
    if (method_ok && out.view == nullptr) {
      out.view = &route.view;
      out.params = std::move(params);
    }
    for (const auto& m : route.methods) {
      if (std::find(out.allowed.begin(), out.allowed.end(), m) == out.allowed.end()) {
        out.allowed.push_back(m);
      }
    }
  }
  if (out.view != nullptr) out.allowed.clear();
  return out;
}

}  // namespace cascade::web
