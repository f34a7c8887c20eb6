#include "cli/shell/shell.h"

#include <editline/readline.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <iterator>
#include <sstream>

#include "cli/shell/interpreter.h"

namespace cascade::shell {
namespace {

std::string history_file() {
  const char* home = std::getenv("HOME");
  return home != nullptr ? std::string(home) + "/.cascade_history" : std::string();
}

// True when the text ends inside brackets or a string: the prompt asks for more.
bool needs_more(const std::string& text) {
  try {
    parse(text);
    return false;
  } catch (const SyntaxError& e) {
    return e.message.find("was never closed") != std::string::npos ||
           e.message.find("unterminated triple-quoted") != std::string::npos;
  }
}

}  // namespace

int shell_command(Database& db, const std::optional<std::string>& code, std::ostream& out,
                  std::ostream& err) {
  if (code) {
    Interpreter interp(db, out, false);
    bool ok = interp.run(*code, err);
    return interp.exit_requested().value_or(ok ? 0 : 1);
  }
  if (isatty(STDIN_FILENO) == 0) {
    // A script on standard input runs as Python's exec would.
    std::string script((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    Interpreter interp(db, out, false);
    bool ok = interp.run(script, err);
    return interp.exit_requested().value_or(ok ? 0 : 1);
  }
  Interpreter interp(db, out, true);
  out << "Cascade shell on " << db.connection().describe()
      << " (Django's syntax; models are in scope). exit() or Ctrl-D to leave.\n";
  std::string history = history_file();
  using_history();
  if (!history.empty()) read_history(history.c_str());
  std::string pending;
  while (true) {
    out.flush();
    char* raw = readline(pending.empty() ? ">>> " : "... ");
    if (raw == nullptr) {
      out << "\n";
      break;
    }
    std::string line(raw);
    std::free(raw);
    if (!line.empty()) add_history(line.c_str());
    pending += (pending.empty() ? "" : "\n") + line;
    if (needs_more(pending)) continue;
    interp.run(pending, err);
    err.flush();
    pending.clear();
    if (interp.exit_requested()) break;
  }
  if (!history.empty()) write_history(history.c_str());
  return interp.exit_requested().value_or(0);
}

}  // namespace cascade::shell
