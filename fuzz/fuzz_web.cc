// Fuzzes the web layer's own parsing (src/web/http.cc, src/web/crypto.cc, src/web/server.cc):
// query strings and form bodies, Cookie headers, URL paths and routes, HTML escaping, CSRF
// tokens and Host headers. Nothing is served.
//
// Input: any bytes; each parser gets all of them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cascade/web/http.h"
#include "cascade/web/server.h"
#include "broken.h"
#include "web/crypto.h"

namespace {

constexpr std::size_t kMaxInput = 4096;

const cascade::web::Router& router() {
  static const cascade::web::Router* r = [] {
    auto* out = new cascade::web::Router();
    auto view = [](cascade::web::Request&) { return cascade::web::Response::text("x"); };
    out->add({"GET"}, "/", view);
    out->add({"GET", "POST"}, "/<app>/<model>/<pk>/delete/", view);
    out->add({"GET"}, "/<app>/<model>/", view);
    return out;
  }();
  return *r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kMaxInput) return -1;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  namespace web = cascade::web;

  try {
    auto params = web::parse_urlencoded(text, 50);
    if (params.size() > 50) broken("parse_urlencoded returned more fields than allowed");
    for (const auto& [name, value] : params) {
      if (name.size() + value.size() > text.size()) broken("a decoded field grew");
    }
  } catch (const web::BadRequest&) {
  }

  auto cookies = web::parse_cookies(text);
  for (const auto& [name, value] : cookies) {
    if (name.empty()) broken("parse_cookies kept an empty name");
    if (name.find_first_of(" ;=\t") != std::string::npos) broken("a cookie name is not a token");
  }

  std::string decoded = web::percent_decode_path(text);
  if (decoded.size() > text.size()) broken("percent_decode_path grew its input");
  std::string encoded = web::percent_encode(decoded);
  if (web::percent_decode_path(encoded) != decoded) broken("percent_encode does not round-trip");

  std::string escaped = web::escape(text);
  if (escaped.find_first_of("<>\"'") != std::string::npos) broken("escape left a special character");

  auto match = router().match("GET", text);
  if (match.view != nullptr && !match.allowed.empty()) broken("a match with an Allow list");

  std::string secret = web::crypto::csrf_unmask(text);
  if (!secret.empty() && !web::crypto::csrf_well_formed(secret)) broken("csrf_unmask gave junk");
  if (!secret.empty() && web::crypto::csrf_unmask(web::crypto::csrf_mask(secret)) != secret) {
    broken("csrf_mask does not round-trip");
  }

  std::string host(text);
  (void)web::host_allowed(host, {});
  (void)web::host_allowed(host, {".example.com", "*"});
  return 0;
}
