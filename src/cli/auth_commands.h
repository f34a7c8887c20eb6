// `cascade createsuperuser` and `cascade changepassword`, as Django's management commands.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "cascade/database.h"

namespace cascade::cli {

struct SuperuserOptions {
  std::optional<std::string> username;
  std::string email;
  bool no_input = false;  // the password comes from $CASCADE_SUPERUSER_PASSWORD
};

// Interactive on a terminal (username, email, the password twice without echo, checked by
// Django's default validators); with --no-input, the username from the option and the password
// from the environment. Returns the exit code.
int createsuperuser_command(Database& db, const SuperuserOptions& options, std::istream& in,
                            std::ostream& out, std::ostream& err);

// Asks for the new password twice (without echo on a terminal; read from standard input
// otherwise, as Django's getpass falls back to).
int changepassword_command(Database& db, const std::string& username, std::istream& in,
                           std::ostream& out, std::ostream& err);

// Django's default password validators: at least 8 characters, not entirely numeric, not the
// username. The first problem, or "" when there is none.
std::string password_problem(const std::string& password, const std::string& username);

}  // namespace cascade::cli
