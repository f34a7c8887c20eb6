#include "cli/auth_commands.h"

#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <ostream>

#include "cascade/error.h"
#include "cascade/web/auth.h"

namespace cascade::cli {
namespace {

bool terminal(std::istream& in) { return &in == &std::cin && isatty(STDIN_FILENO) != 0; }

// A line from `in`; on a terminal without echo. nullopt at end of input.
std::optional<std::string> read_secret(std::istream& in, std::ostream& out,
                                       const std::string& prompt) {
  // Echo goes off before the prompt appears, and typed-ahead input is kept (TCSANOW, not
  // TCSAFLUSH): whoever answers the prompt at once is neither echoed nor lost.
  termios saved{};
  bool hide = terminal(in) && tcgetattr(STDIN_FILENO, &saved) == 0;
  if (hide) {
    termios quiet = saved;
    quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  out << prompt << std::flush;
  std::string line;
  bool got = static_cast<bool>(std::getline(in, line));
  if (hide) {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    out << "\n";
  }
  if (!got) return std::nullopt;
  return line;
}

std::optional<std::string> read_line(std::istream& in, std::ostream& out,
                                     const std::string& prompt) {
  out << prompt << std::flush;
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  return line;
}

// The password asked twice until both agree and pass the validators (an empty line ends).
std::optional<std::string> ask_password(std::istream& in, std::ostream& out, std::ostream& err,
                                        const std::string& username) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto first = read_secret(in, out, "Password: ");
    if (!first) return std::nullopt;
    auto again = read_secret(in, out, "Password (again): ");
    if (!again) return std::nullopt;
    if (*first != *again) {
      err << "Error: Your passwords didn't match.\n";
      continue;
    }
    if (first->empty()) {
      err << "Error: Blank passwords aren't allowed.\n";
      continue;
    }
    if (std::string problem = password_problem(*first, username); !problem.empty()) {
      err << "This password is not allowed: " << problem << "\n";
      continue;
    }
    return first;
  }
  return std::nullopt;
}

}  // namespace

std::string password_problem(const std::string& password, const std::string& username) {
  if (password.size() < 8) {
    return "This password is too short. It must contain at least 8 characters.";
  }
  if (std::all_of(password.begin(), password.end(),
                  [](unsigned char c) { return std::isdigit(c) != 0; })) {
    return "This password is entirely numeric.";
  }
  std::string a = password;
  std::string b = username;
  for (auto* s : {&a, &b}) {
    std::transform(s->begin(), s->end(), s->begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  if (!b.empty() && (a == b || a.find(b) != std::string::npos)) {
    return "The password is too similar to the username.";
  }
  return {};
}

int createsuperuser_command(Database& db, const SuperuserOptions& options, std::istream& in,
                            std::ostream& out, std::ostream& err) {
  web::migrate_auth(db.connection());
  web::Users users(db);
  std::string username = options.username.value_or("");
  std::string email = options.email;
  std::string password;
  if (options.no_input) {
    if (username.empty()) {
      err << "CommandError: You must use --username with --no-input.\n";
      return 1;
    }
    const char* env = std::getenv("CASCADE_SUPERUSER_PASSWORD");
    if (env == nullptr || *env == '\0') {
      err << "CommandError: --no-input needs the password in CASCADE_SUPERUSER_PASSWORD.\n";
      return 1;
    }
    password = env;
  } else {
    if (!terminal(in)) {
      err << "Superuser creation skipped due to not running in a TTY. You can run `cascade "
             "createsuperuser --no-input` with CASCADE_SUPERUSER_PASSWORD set, or run it in a "
             "terminal.\n";
      return 1;
    }
    while (username.empty()) {
      auto line = read_line(in, out, "Username: ");
      if (!line) return 1;
      username = *line;
      if (users.find(username)) {
        err << "Error: That username is already taken.\n";
        username.clear();
      }
    }
    auto mail = read_line(in, out, "Email address: ");
    if (!mail) return 1;
    email = *mail;
    auto chosen = ask_password(in, out, err, username);
    if (!chosen) {
      err << "Superuser creation aborted.\n";
      return 1;
    }
    password = *chosen;
  }
  try {
    users.create_superuser(username, password, email);
  } catch (const ValueError& e) {
    err << "CommandError: " << e.what() << "\n";
    return 1;
  }
  out << "Superuser created successfully.\n";
  return 0;
}

int changepassword_command(Database& db, const std::string& username, std::istream& in,
                           std::ostream& out, std::ostream& err) {
  web::migrate_auth(db.connection());
  web::Users users(db);
  auto user = users.find(username);
  if (!user) {
    err << "CommandError: user '" << username << "' does not exist\n";
    return 1;
  }
  out << "Changing password for user '" << username << "'\n";
  auto password = ask_password(in, out, err, username);
  if (!password) {
    err << "CommandError: Aborting password change for user '" << username
        << "' after 3 attempts\n";
    return 1;
  }
  users.set_password(*user, *password);
  out << "Password changed successfully for user '" << username << "'\n";
  return 0;
}

}  // namespace cascade::cli
