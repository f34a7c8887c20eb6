// `cascade runserver [ADDR:]PORT`: the model pages and delete views of web/views.h for every
// model of the project, until Ctrl-C.
#pragma once

#include <iosfwd>
#include <string>

#include "cascade/cli/cli.h"
#include "cascade/model/loader.h"
#include "cascade/model/registry.h"

namespace cascade::cli {

struct AddressPort {
  std::string host = "127.0.0.1";
  int port = 8000;
};
// "8000", "0.0.0.0:8000", "[::1]:8000", "localhost:8080". Throws UsageError.
AddressPort parse_address_port(const std::string& text);

// `site.templates_dir` is used as given (the caller resolves it against the settings file).
int runserver_command(const Registry& registry, const std::string& url, const std::string& base_dir,
                      const WebApp& site, const std::string& address_port, std::ostream& out,
                      std::ostream& err);

}  // namespace cascade::cli
