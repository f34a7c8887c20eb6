// The shell's interpreter: runs parsed statements against a Database, with Python's and
// Django's printing (reprs, QuerySet truncation, delete results, error lines).
#pragma once

#include <csignal>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cascade/database.h"
#include "cli/shell/ast.h"

namespace cascade::shell {

// Ctrl-C: set by the shell's SIGINT handler (a plain store, so async-signal-safe). The running
// statement stops at its next step (a statement, a loop iteration, an expression, a row read)
// with Python's KeyboardInterrupt. Whoever runs the interpreter clears it.
inline volatile std::sig_atomic_t interrupt_requested = 0;

class Interpreter {
 public:
  // `interactive`: echo the repr of expression statements, as Python's prompt does.
  Interpreter(Database& db, std::ostream& out, bool interactive);
  ~Interpreter();

  // Runs source code; on error prints Python's last traceback line ("blog.models.Post.
  // DoesNotExist: ...") to `err` and returns false. Autocommit, as Django's shell: each ORM
  // call that writes commits on its own, unless inside `with transaction.atomic():`, whose
  // block is rolled back when it raises. Ctrl-C (interrupt_requested) prints
  // "KeyboardInterrupt" and returns false.
  bool run(const std::string& source, std::ostream& err);

  // Refuses every call that can write to the database (QuerySet.delete(), save(), create(),
  // update(), restore(), a many-to-many add()...) with PermissionError, before it runs.
  void set_read_only(bool read_only);

  // exit() / quit() was called: the session should end, with this exit code.
  std::optional<int> exit_requested() const;

  // What completes `text`, a (dotted) name being typed at the prompt ("Po", "Post.obj",
  // "post.ti"), as Python's rlcompleter offers it: names in scope and keywords, or the
  // attributes of what the dotted prefix names (model classes, managers, instances' fields and
  // relations, modules). Methods end with "(". Nothing is called and no query runs.
  std::vector<std::string> completions(const std::string& text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cascade::shell
