#include "cli/shell/shell.h"

#include <editline/readline.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "cascade/error.h"
#include "cli/shell/interpreter.h"

namespace cascade::shell {
namespace {

std::string history_file() {
  const char* home = std::getenv("HOME");
  return home != nullptr ? std::string(home) + "/.cascade_history" : std::string();
}

// ---- Ctrl-C ------------------------------------------------------------------------------------

extern "C" void on_interrupt(int) { interrupt_requested = 1; }

// SIGINT raises KeyboardInterrupt while the shell runs (the previous handler comes back after).
// No SA_RESTART: a read at the prompt returns, so that the prompt can start over.
class InterruptHandler {
 public:
  InterruptHandler() {
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    sigaction(SIGINT, &action, &previous_);
  }
  ~InterruptHandler() { sigaction(SIGINT, &previous_, nullptr); }
  InterruptHandler(const InterruptHandler&) = delete;
  InterruptHandler& operator=(const InterruptHandler&) = delete;

 private:
  struct sigaction previous_ {};
};

// libedit reads keys through this: Ctrl-C makes readline() return null, the line typed so far
// dropped (libedit's own read would retry after the signal and carry on).
extern "C" int read_key(FILE* in) {
  unsigned char c = 0;
  while (interrupt_requested == 0) {
    ssize_t n = read(fileno(in), &c, 1);
    // A Ctrl-D typed while a statement ran reaches libedit as a NUL byte (the terminal keeps an
    // end-of-file of its line mode that way), which libedit would take for a key that turns
    // Ctrl-C off for the next one. It is the Ctrl-D it was.
    if (n == 1 && c == '\0') return 4;
    if (n == 1) return c;
    if (n < 0 && errno == EINTR) continue;
    return EOF;
  }
  return EOF;
}

// While code runs: after Ctrl-C, interrupts the connection's SQL every 50 ms until the code
// stops. Once would not do: an interrupt that comes before a statement starts is forgotten by
// SQLite, and the ORM call may have more statements to run.
class SqlInterrupter {
 public:
  explicit SqlInterrupter(db::Connection& connection) {
    // The thread never takes SIGINT itself: the main thread's reads must see it.
    sigset_t blocked, previous;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGINT);
    pthread_sigmask(SIG_BLOCK, &blocked, &previous);
    thread_ = std::thread([this, &connection] {
      std::unique_lock lock(mutex_);
      while (!wake_.wait_for(lock, std::chrono::milliseconds(50), [this] { return done_; })) {
        if (interrupt_requested != 0) connection.interrupt();
      }
    });
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  }
  ~SqlInterrupter() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  SqlInterrupter(const SqlInterrupter&) = delete;
  SqlInterrupter& operator=(const SqlInterrupter&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::thread thread_;
};

// Runs code with Ctrl-C able to interrupt it, its SQL included; true when Ctrl-C did.
bool run_interruptible(Interpreter& interp, Database& db, const std::string& code,
                       std::ostream& err, bool& ok) {
  interrupt_requested = 0;
  {
    SqlInterrupter interrupter(db.connection());
    ok = interp.run(code, err);
  }
  bool interrupted = interrupt_requested != 0;
  interrupt_requested = 0;
  if (interrupted && !db.connection().in_atomic_block()) {
    // Outside atomic blocks the shell is in autocommit. Should the interruption have hit the
    // ROLLBACK of an interrupted call, the transaction it left open ends here.
    try {
      db.connection().execute("ROLLBACK");
    } catch (const Error&) {
      // No transaction was open: the usual case.
    }
  }
  return interrupted;
}

// ---- the prompt's blocks -----------------------------------------------------------------------

bool blank(const std::string& line) {
  return line.find_first_not_of(" \t\r\f") == std::string::npos;
}

// The first word of a line, after its indentation.
std::string first_word(const std::string& line) {
  std::size_t start = line.find_first_not_of(" \t");
  if (start == std::string::npos) return "";
  std::size_t end = start;
  while (end < line.size() &&
         (std::isalnum(static_cast<unsigned char>(line[end])) || line[end] == '_'))
    ++end;
  return line.substr(start, end - start);
}

// What the prompt does with the text typed so far: run it, ask for more (brackets or a
// triple-quoted string left open, a block header without its body yet), or report its error
// now.
enum class Input { Complete, Incomplete, NoBody, Error };

// `block`: the text is a compound statement, which Python's prompt ends with an empty line.
Input classify(const std::string& text, bool& block) {
  block = false;
  try {
    for (const auto& s : parse(text)) {
      if (s->kind == Stmt::Kind::For || s->kind == Stmt::Kind::If || s->kind == Stmt::Kind::While ||
          s->kind == Stmt::Kind::With) {
        block = true;
      }
    }
    return Input::Complete;
  } catch (const SyntaxError& e) {
    std::string word = first_word(text);
    block = word == "for" || word == "if" || word == "while" || word == "with";
    if (!e.incomplete) return Input::Error;
    return e.message.rfind("expected an indented block", 0) == 0 ? Input::NoBody
                                                                 : Input::Incomplete;
  }
}

// ---- completion --------------------------------------------------------------------------------

Interpreter* completing = nullptr;
std::vector<std::string> candidates;
std::size_t next_candidate = 0;

extern "C" char* completion_entry(const char* text, int state) {
  if (state == 0) {
    candidates = completing != nullptr ? completing->completions(text) : std::vector<std::string>();
    next_candidate = 0;
  }
  if (next_candidate >= candidates.size()) return nullptr;
  return strdup(candidates[next_candidate++].c_str());
}

extern "C" char** attempt_completion(const char* text, int start, int) {
  rl_attempted_completion_over = 1;  // never file names
  // Tab after nothing but indentation indents, as at Python's prompt.
  std::string before(rl_line_buffer != nullptr ? rl_line_buffer : "",
                     static_cast<std::size_t>(std::max(start, 0)));
  if (*text == '\0' && before.find_first_not_of(" \t") == std::string::npos) {
    rl_insert_text("    ");
    return nullptr;
  }
  return rl_completion_matches(text, completion_entry);
}

}  // namespace

int shell_command(Database& db, const std::optional<std::string>& code, bool read_only,
                  std::ostream& out, std::ostream& err) {
  std::optional<std::string> script = code;
  if (!script && isatty(STDIN_FILENO) == 0) {
    // A script on standard input runs as Python's exec would.
    script =
        std::string((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  }
  if (script) {
    Interpreter interp(db, out, false);
    interp.set_read_only(read_only);
    InterruptHandler handler;
    bool ok = false;
    // Ctrl-C stops the script as Python's KeyboardInterrupt does (exit status 130).
    if (run_interruptible(interp, db, *script, err, ok)) return 130;
    return interp.exit_requested().value_or(ok ? 0 : 1);
  }
  Interpreter interp(db, out, true);
  interp.set_read_only(read_only);
  out << "Cascade shell on " << db.connection().describe() << (read_only ? ", read-only" : "")
      << " (Django's syntax; models are in scope). exit() or Ctrl-D to leave.\n";
  std::string history = history_file();
  // The shell handles SIGINT itself (InterruptHandler); libedit's handlers would put the
  // terminal back in cooked mode and send the signal on to the whole process group.
  rl_catch_signals = 0;
  rl_getc_function = read_key;
  using_history();
  if (!history.empty()) read_history(history.c_str());
  // Completion: names in scope, and attributes after a dotted name (Post.objects.fi<Tab>).
  completing = &interp;
  rl_attempted_completion_function = attempt_completion;
  static char breaks[] = " \t\n\"\\'`@$><=;|&{(,[+-*/%~^!:)]}";
  rl_basic_word_break_characters = breaks;
  rl_completer_word_break_characters = breaks;
  rl_completion_append_character = '\0';
  InterruptHandler handler;
  std::string pending;  // the statement typed so far
  bool block = false;   // it is a compound statement: an empty line ends it
  // Runs the statement typed so far, and keeps it in the history, whole, at once.
  auto run_pending = [&] {
    std::size_t end = pending.find_last_not_of(" \t\r\f\n");
    pending.erase(end == std::string::npos ? 0 : end + 1);
    if (!pending.empty()) {
      add_history(pending.c_str());
      if (!history.empty()) write_history(history.c_str());
      bool ok = false;
      run_interruptible(interp, db, pending, err, ok);
      err.flush();
    }
    pending.clear();
    block = false;
  };
  while (!interp.exit_requested()) {
    out.flush();
    interrupt_requested = 0;
    char* raw = readline(pending.empty() ? ">>> " : "... ");
    if (raw == nullptr) {
      if (interrupt_requested != 0) {
        // Ctrl-C at the prompt: the statement typed so far is dropped, as at Python's prompt.
        interrupt_requested = 0;
        out << "\n";
        out.flush();
        err << "KeyboardInterrupt\n";
        err.flush();
        pending.clear();
        block = false;
        continue;
      }
      out << "\n";
      if (!pending.empty()) run_pending();
      break;
    }
    std::string line(raw);
    std::free(raw);
    if (line.find('\n') != std::string::npos) {
      // A statement recalled whole from the history: it runs as it was.
      pending += (pending.empty() ? "" : "\n") + line;
      if (classify(pending, block) != Input::Incomplete) run_pending();
      continue;
    }
    if (block && !blank(line) && line[0] != ' ' && line[0] != '\t') {
      // A line at the margin after a block: Python's prompt wants the empty line first; this
      // one runs the block and goes on with the new line (pasted code works).
      std::string word = first_word(line);
      bool still_block = false;
      if (word != "elif" && word != "else" && line[0] != '#' &&
          classify(pending, still_block) == Input::Complete) {
        run_pending();
      }
    }
    if (pending.empty() && blank(line)) continue;
    pending += (pending.empty() ? "" : "\n") + line;
    Input state = classify(pending, block);
    // An open bracket or string asks for more even after an empty line; a block ends with one.
    if (state == Input::Incomplete) continue;
    if (state == Input::NoBody && !blank(line)) continue;
    if (state == Input::Complete && block && !blank(line)) continue;
    run_pending();
  }
  completing = nullptr;
  return interp.exit_requested().value_or(0);
}

}  // namespace cascade::shell
