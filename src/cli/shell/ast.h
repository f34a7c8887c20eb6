// The syntax tree of the shell's Python subset: what Django users type at `manage.py shell`
// for data work (assignments, calls, attribute access, indexing and slicing, literals, Q
// expressions with & | ~, comparisons, `from app.models import X`, a one-line `for`).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace cascade::shell {

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

struct Location {
  int line = 1;
  int column = 1;  // 1-based
};

struct Expr {
  enum class Kind {
    Name,       // text
    Int,        // text holds the digits
    Float,
    Str,        // text holds the decoded string
    Const,      // text: True / False / None
    List,       // items
    Tuple,      // items
    Dict,       // items: key, value, key, value...
    Attribute,  // object.text
    Call,       // object(args, keywords)
    Subscript,  // object[index] (index may be a Slice)
    Slice,      // items: start, stop, step (null when absent)
    Unary,      // text: "-", "+", "~", "not"; items[0]
    Binary,     // text: operator; items[0], items[1]
    Compare,    // text: operator; items[0], items[1]
    BoolOp,     // text: "and" / "or"; items
  };
  Kind kind;
  Location where;
  std::string text;
  ExprPtr object;
  std::vector<ExprPtr> items;
  std::vector<std::pair<std::string, ExprPtr>> keywords;  // Call
  int depth = 1;  // levels of the tree from this node down (the parser bounds it)
};

struct Stmt {
  enum class Kind { Expr, Assign, Import, For, Pass };
  Kind kind;
  Location where;
  ExprPtr value;                  // Expr, Assign (right side), For (iterable)
  std::vector<ExprPtr> targets;   // Assign: a = b = value; For: the loop variable
  std::string module;             // Import: "blog.models"
  std::vector<std::pair<std::string, std::string>> names;  // Import: (name, alias)
  std::shared_ptr<const Stmt> body;  // For
};
using StmtPtr = std::shared_ptr<const Stmt>;

// A syntax error with Python's message and where it is.
struct SyntaxError {
  std::string message;  // "invalid syntax"
  Location where;
};

// Parses one logical line (or several, separated by newlines or ';'). Throws SyntaxError.
std::vector<StmtPtr> parse(const std::string& source);

}  // namespace cascade::shell
