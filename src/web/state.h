// What the server attaches to each request for the views: the borrowed database, the session,
// the CSRF secret, the settings. Internal to the web layer.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "cascade/database.h"
#include "cascade/web/server.h"
#include "cascade/web/session.h"

namespace cascade::web {

struct RequestState {
  Database* db = nullptr;
  const ServerOptions* options = nullptr;
  std::string session_cookie;      // the key the request came with
  std::optional<Session> session;  // loaded on first use
  std::string csrf_secret;         // from the cookie, or new
  bool csrf_secret_new = false;    // set the cookie on the response
};

}  // namespace cascade::web
