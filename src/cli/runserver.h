// `cascade runserver [ADDR:]PORT`: the model pages and delete views of web/views.h for every
// model of the project, until Ctrl-C.
#pragma once

#include <iosfwd>
#include <string>

#include "cascade/model/loader.h"
#include "cascade/model/registry.h"

namespace cascade::cli {

struct AddressPort {
  std::string host = "127.0.0.1";
  int port = 8000;
};
// "8000", "0.0.0.0:8000", "[::1]:8000", "localhost:8080". Throws UsageError.
AddressPort parse_address_port(const std::string& text);

int runserver_command(const Registry& registry, const std::string& url, const std::string& base_dir,
                      const WebSettings& web, const std::string& settings_dir,
                      const std::string& address_port, std::ostream& out, std::ostream& err);

}  // namespace cascade::cli
