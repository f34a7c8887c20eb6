// The syntax tree of the shell's Python subset: what Django users type at `manage.py shell`
// for data work (assignments, augmented assignments, calls, attribute access, indexing and
// slicing, literals, f-strings, list and dict comprehensions, Q expressions with & | ~,
// comparisons, imports, and `for` / `while` / `if` / `with` blocks indented as Python's).
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
    Name,  // text
    Int,   // text holds the digits
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
    // [object for items[0] in items[1] if items[2] if ...]; text "list", or "dict" when object
    // is the Tuple (key, value) of {key: value for ...}. A generator expression is a list.
    Comprehension,
    FString,      // items: the parts, each a Str or a FormatValue
    FormatValue,  // {object!c:spec} of an f-string; text: "c:spec" (c empty without !r/!s/!a)
    IfExp,        // items[1] if items[0] else items[2]
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
  enum class Kind {
    Expr,
    Assign,
    Import,
    For,
    Pass,
    Block,      // statements: the body of a compound statement that has more than one
    If,         // if value: body, else orelse (an If for elif); orelse may be null
    While,      // while value: body, else orelse
    With,       // with value [as targets[0]]: body
    AugAssign,  // targets[0] op= value; op: "+", "-", ...
    Break,
    Continue,
  };
  Kind kind;
  Location where;
  ExprPtr value;                 // Expr, Assign (right side), For (iterable), If/While (test), With
  std::vector<ExprPtr> targets;  // Assign: a = b = value; For: the loop variable (a name or tuple)
  std::string module;            // Import: "blog.models"
  std::vector<std::pair<std::string, std::string>> names;  // Import: (name, alias)
  // For, If, While, With: the body, one statement or a Block.
  std::shared_ptr<const Stmt> body;
  std::vector<std::shared_ptr<const Stmt>> statements;  // Block
  std::shared_ptr<const Stmt> orelse;                   // If, For, While: the else part, or null
  std::string op;                                       // AugAssign
};
using StmtPtr = std::shared_ptr<const Stmt>;

// A syntax error with Python's message and where it is.
struct SyntaxError {
  std::string message;  // "invalid syntax"
  Location where;
  std::string type = "SyntaxError";  // or IndentationError, TabError
  // The input ended too early (a bracket or triple-quoted string left open, a block header
  // without its body yet): at the interactive prompt, more lines may complete it.
  bool incomplete = false;
};

// Parses source code: statements separated by newlines or ';', and blocks by indentation, as
// Python reads a file. Throws SyntaxError.
std::vector<StmtPtr> parse(const std::string& source);

}  // namespace cascade::shell
