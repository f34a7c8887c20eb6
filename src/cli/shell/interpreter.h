// The shell's interpreter: runs parsed statements against a Database, with Python's and
// Django's printing (reprs, QuerySet truncation, delete results, error lines).
#pragma once

#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "cascade/database.h"
#include "cli/shell/ast.h"

namespace cascade::shell {

struct Object;
using ObjPtr = std::shared_ptr<Object>;

class Interpreter {
 public:
  // `interactive`: echo the repr of expression statements, as Python's prompt does.
  Interpreter(Database& db, std::ostream& out, bool interactive);
  ~Interpreter();

  // Runs source code; on error prints Python's last traceback line ("blog.models.Post.
  // DoesNotExist: ...") to `err` and returns false. Nothing of a failing statement stays
  // half-applied: each statement that writes runs in its own transaction.
  bool run(const std::string& source, std::ostream& err);

  // exit() / quit() was called: the session should end, with this exit code.
  std::optional<int> exit_requested() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cascade::shell
