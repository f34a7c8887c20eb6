// Fuzzes the shell's lexer and parser (src/cli/shell/parser.cc): any text must either parse
// into a well-formed syntax tree or be refused with a SyntaxError at a sensible location.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/shell/ast.h"

namespace {

using cascade::shell::Expr;
using cascade::shell::ExprPtr;
using cascade::shell::Stmt;

// Interactive input is a few lines; a few KB is plenty and keeps each run fast.
constexpr std::size_t kMaxInput = 4096;

[[noreturn]] void malformed(const char* what) {
  std::fprintf(stderr, "malformed syntax tree: %s\n", what);
  std::abort();
}

// What the interpreter relies on: the children each kind of node must have.
void check(const ExprPtr& e) {
  if (!e) malformed("null expression");
  switch (e->kind) {
    case Expr::Kind::Attribute:
      if (!e->object) malformed("attribute without object");
      break;
    case Expr::Kind::Call:
      if (!e->object) malformed("call without callee");
      for (const auto& [k, v] : e->keywords) check(v);
      break;
    case Expr::Kind::Subscript:
      if (!e->object || e->items.size() != 1) malformed("subscript shape");
      break;
    case Expr::Kind::Slice:
      if (e->items.size() != 3) malformed("slice shape");
      for (const auto& i : e->items) {
        if (i) check(i);
      }
      return;
    case Expr::Kind::Unary:
      if (e->items.size() != 1) malformed("unary shape");
      break;
    case Expr::Kind::Binary:
    case Expr::Kind::Compare:
    case Expr::Kind::BoolOp:
      if (e->items.size() != 2) malformed("binary shape");
      break;
    case Expr::Kind::Dict:
      if (e->items.size() % 2 != 0) malformed("dict with an odd number of items");
      break;
    case Expr::Kind::Const:
      if (e->text != "True" && e->text != "False" && e->text != "None") malformed("constant");
      break;
    default: break;
  }
  if (e->object) check(e->object);
  for (const auto& i : e->items) check(i);  // only a Slice has optional children
  if (e->where.line < 1 || e->where.column < 1) malformed("location");
}

void check(const Stmt& s) {
  if (s.where.line < 1 || s.where.column < 1) malformed("statement location");
  switch (s.kind) {
    case Stmt::Kind::Expr: check(s.value); break;
    case Stmt::Kind::Assign:
      check(s.value);
      if (s.targets.empty()) malformed("assignment without target");
      for (const auto& t : s.targets) check(t);
      break;
    case Stmt::Kind::For:
      check(s.value);
      if (s.targets.size() != 1 || !s.body) malformed("for shape");
      check(s.targets[0]);
      check(*s.body);
      if (s.orelse) check(*s.orelse);
      break;
    case Stmt::Kind::If:
    case Stmt::Kind::While:
      check(s.value);
      if (!s.body) malformed("if / while without body");
      check(*s.body);
      if (s.orelse) check(*s.orelse);
      break;
    case Stmt::Kind::With:
      check(s.value);
      if (!s.body || s.targets.size() > 1) malformed("with shape");
      for (const auto& t : s.targets) check(t);
      check(*s.body);
      break;
    case Stmt::Kind::Block:
      if (s.statements.empty()) malformed("empty block");
      for (const auto& b : s.statements) {
        if (!b) malformed("null statement in a block");
        check(*b);
      }
      break;
    case Stmt::Kind::AugAssign:
      check(s.value);
      if (s.targets.size() != 1 || s.op.empty()) malformed("augmented assignment shape");
      check(s.targets[0]);
      break;
    case Stmt::Kind::Import:
      if (s.module.empty()) malformed("import without module");
      break;
    case Stmt::Kind::Pass:
    case Stmt::Kind::Break:
    case Stmt::Kind::Continue: break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kMaxInput) return -1;  // not added to the corpus
  std::string source(reinterpret_cast<const char*>(data), size);
  try {
    for (const auto& s : cascade::shell::parse(source)) {
      if (!s) malformed("null statement");
      check(*s);
    }
  } catch (const cascade::shell::SyntaxError& e) {
    if (e.message.empty()) malformed("empty SyntaxError message");
    if (e.where.line < 1 || e.where.column < 1) malformed("SyntaxError location");
  }
  return 0;
}
