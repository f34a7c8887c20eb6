// Fuzzes the shell's evaluator (src/cli/shell/interpreter.cc): the fuzzed text runs as a
// `cascade shell` script against the fixture's models and rows (fixture.h) in an in-memory
// SQLite database. Each input runs inside a transaction that is rolled back afterwards, so
// every input starts from the same rows.
//
// The shell is a small Python: a script can legitimately take unbounded time or memory
// (range(10**7), a = a + a repeated, nested loops). Inputs that could are skipped before they
// run (Budget below), so that a timeout or an out-of-memory report means a bug.
//
// CASCADE_FUZZ_VERBOSE=1 in the environment shows what each input prints, and which are skipped.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>

#include "cascade/db/transaction.h"
#include "cli/shell/ast.h"
#include "fixture.h"

namespace {

using cascade::shell::Expr;
using cascade::shell::ExprPtr;
using cascade::shell::Stmt;

constexpr std::size_t kMaxInput = 2048;
constexpr std::size_t kMaxStatements = 24;
constexpr int kMaxLoops = 3;
constexpr long kMaxRange = 100;

// The budget check: a static walk of the syntax tree that refuses what could grow without bound.
class Budget {
 public:
  bool ok(const std::vector<cascade::shell::StmtPtr>& program) {
    if (program.size() > kMaxStatements) return false;
    for (const auto& s : program) collect_targets(*s);
    for (const auto& s : program) {
      if (!statement(*s, false)) return false;
    }
    return true;
  }

 private:
  std::set<std::string> variables_;  // every name a statement assigns
  int loops_ = 0;

  void collect_targets(const Stmt& s) {
    for (const auto& t : s.targets) collect_names(t);
    if (s.body) collect_targets(*s.body);
    if (s.orelse) collect_targets(*s.orelse);
    for (const auto& b : s.statements) collect_targets(*b);
  }
  void collect_names(const ExprPtr& e) {
    if (!e) return;
    if (e->kind == Expr::Kind::Name) variables_.insert(e->text);
    for (const auto& i : e->items) collect_names(i);
  }

  // Assigned variables an expression reads.
  int references(const ExprPtr& e) const {
    if (!e) return 0;
    int n = e->kind == Expr::Kind::Name && variables_.count(e->text) != 0 ? 1 : 0;
    n += references(e->object);
    for (const auto& i : e->items) n += references(i);
    for (const auto& [k, v] : e->keywords) n += references(v);
    return n;
  }

  // A range of small literals, or a name (a QuerySet or a list already bounded).
  bool bounded(const ExprPtr& e) const {
    if (e->kind == Expr::Kind::Name) return true;
    return e->kind == Expr::Kind::Call && e->object->kind == Expr::Kind::Name &&
           e->object->text == "range" && expression(e, false);
  }
  static bool contains_comprehension(const ExprPtr& e) {
    if (!e) return false;
    if (e->kind == Expr::Kind::Comprehension) return true;
    if (contains_comprehension(e->object)) return true;
    for (const auto& i : e->items) {
      if (contains_comprehension(i)) return true;
    }
    for (const auto& [k, v] : e->keywords) {
      if (contains_comprehension(v)) return true;
    }
    return false;
  }

  static bool small_int(const ExprPtr& e) {
    if (e->kind == Expr::Kind::Unary && (e->text == "-" || e->text == "+"))
      return small_int(e->items[0]);
    return e->kind == Expr::Kind::Int && e->text.size() <= 3 && std::stol(e->text) <= kMaxRange;
  }

  // range() only as range(small literals); str() and repr() (which grow a string by escaping
  // it) only where their result is not kept.
  bool expression(const ExprPtr& e, bool kept) const {
    if (!e) return true;
    // A comprehension is a loop: its iterable must be bounded and nothing in it may nest.
    if (e->kind == Expr::Kind::Comprehension) {
      if (e->items.size() < 2 || !bounded(e->items[1])) return false;
      for (const auto& i : e->items) {
        if (contains_comprehension(i)) return false;
      }
      return !contains_comprehension(e->object) && expression(e->object, kept);
    }
    if (e->kind == Expr::Kind::Name && e->text == "range") return false;  // not called directly
    if (e->kind == Expr::Kind::Name && kept && (e->text == "str" || e->text == "repr"))
      return false;
    if (e->kind == Expr::Kind::Call && e->object->kind == Expr::Kind::Name &&
        e->object->text == "range") {
      if (e->items.empty() || e->items.size() > 3 || !e->keywords.empty()) return false;
      for (const auto& a : e->items) {
        if (!small_int(a)) return false;
      }
      return true;
    }
    if (!expression(e->object, kept)) return false;
    for (const auto& i : e->items) {
      if (!expression(i, kept)) return false;
    }
    for (const auto& [k, v] : e->keywords) {
      if (!expression(v, kept)) return false;
    }
    return true;
  }

  bool statement(const Stmt& s, bool in_loop) {
    switch (s.kind) {
      case Stmt::Kind::Pass:
      case Stmt::Kind::Import: return true;
      case Stmt::Kind::Expr: return expression(s.value, false);
      case Stmt::Kind::Assign:
        // One read of a variable per assignment: a = a + a, a = [a, a], q = q | q and
        // qs = qs.filter(id__in=qs) would each double in size.
        if (references(s.value) > 1) return false;
        for (const auto& t : s.targets) {
          if (in_loop && t->kind != Expr::Kind::Attribute)
            return false;  // nothing grows per iteration
          if (!expression(t, true)) return false;
        }
        return expression(s.value, true);
      case Stmt::Kind::For:
        if (in_loop || ++loops_ > kMaxLoops) return false;
        return expression(s.value, false) && statement(*s.body, true) &&
               (!s.orelse || statement(*s.orelse, true));
      case Stmt::Kind::While: return false;  // no bound on its iterations
      case Stmt::Kind::AugAssign:
        // n += 1 grows nothing; s += s doubles, and anything in a loop may grow each time.
        if (in_loop || references(s.value) > 0) return false;
        return expression(s.targets[0], true) && expression(s.value, true);
      case Stmt::Kind::If:
      case Stmt::Kind::With:
        return expression(s.value, false) && statement(*s.body, in_loop) &&
               (!s.orelse || statement(*s.orelse, in_loop));
      case Stmt::Kind::Block:
        for (const auto& b : s.statements) {
          if (!statement(*b, in_loop)) return false;
        }
        return true;
      case Stmt::Kind::Break:
      case Stmt::Kind::Continue: return true;
    }
    return false;
  }
};

}  // namespace

// The fixture is built before fuzzing starts, so that its allocations do not look like a leak
// of the first input.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cascade::fuzz::fixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool verbose = std::getenv("CASCADE_FUZZ_VERBOSE") != nullptr;
  if (size > kMaxInput) return -1;  // not added to the corpus
  std::string source(reinterpret_cast<const char*>(data), size);
  try {
    if (!Budget().ok(cascade::shell::parse(source))) {
      if (verbose) std::cerr << "[skipped: beyond the budget]\n";
      return -1;
    }
  } catch (const cascade::shell::SyntaxError&) {
    // run() reports it; its message layout is worth running too.
  }
  auto& fx = cascade::fuzz::fixture();
  cascade::fuzz::NullStream null;
  std::ostream& out = verbose ? std::cerr : null;
  {
    cascade::db::Atomic everything(fx.db->connection());  // rolled back: never committed
    cascade::shell::Interpreter interp(*fx.db, out, /*interactive=*/true);
    interp.run(source, out);
  }
  return 0;
}
