// Lexer and recursive-descent parser for the shell's Python subset.
#include <algorithm>
#include <cctype>

#include "cli/shell/ast.h"

namespace cascade::shell {
namespace {

// Brackets open at once (Python's tokenizer allows 200), levels of one expression tree, and
// levels of indentation (Python's tokenizer allows 100).
constexpr int kMaxBrackets = 200;
constexpr int kMaxDepth = 1000;
constexpr std::size_t kMaxIndents = 100;

struct Token {
  enum Kind { Name, Int, Float, Str, FStr, Op, Newline, Indent, Dedent, End } kind;
  std::string text;  // Str: decoded; FStr: the body as written (decoded by the parser)
  Location where;
  bool raw = false;  // FStr: an rf'' string, whose backslashes stay as they are
};

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The escapes of a string literal's body, as Python decodes them; `at` is where the literal
// starts, for errors.
std::string decode_escapes(const std::string& s, Location at) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '\\' || i + 1 >= s.size()) {
      out += c;
      continue;
    }
    char e = s[++i];
    auto hex = [&](std::size_t digits, const char* what) {
      std::uint32_t v = 0;
      for (std::size_t k = 1; k <= digits; ++k) {
        if (i + k >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + k]))) {
          throw SyntaxError{std::string("(unicode error) truncated ") + what + " escape", at};
        }
        v = v * 16 + static_cast<std::uint32_t>(std::stoi(std::string(1, s[i + k]), nullptr, 16));
      }
      i += digits;
      return v;
    };
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case '\n': break;
      case 'x': out += static_cast<char>(hex(2, "\\xXX")); break;
      case 'u': append_utf8(out, hex(4, "\\uXXXX")); break;
      case 'U': {
        std::uint32_t cp = hex(8, "\\UXXXXXXXX");
        if (cp > 0x10FFFF) throw SyntaxError{"(unicode error) illegal Unicode character", at};
        append_utf8(out, cp);
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          std::uint32_t v = static_cast<std::uint32_t>(e - '0');
          for (int k = 0; k < 2 && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7'; ++k) {
            v = v * 8 + static_cast<std::uint32_t>(s[++i] - '0');
          }
          append_utf8(out, v);
        } else {
          out += '\\';
          out += e;
        }
    }
  }
  return out;
}

class Lexer {
 public:
  explicit Lexer(const std::string& src) : s_(src) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    int depth = 0;  // inside brackets newlines do not end a statement
    bool line_start = true;
    bool line_has_tokens = false;
    while (i_ < s_.size()) {
      if (line_start && depth == 0) {
        line_start = false;
        indentation(out);
        continue;
      }
      char c = s_[i_];
      if (c == '#') {
        while (i_ < s_.size() && s_[i_] != '\n') advance();
        continue;
      }
      if (c == '\\' && i_ + 1 < s_.size() && s_[i_ + 1] == '\n') {
        advance();
        advance();
        continue;
      }
      if (c == '\n') {
        if (depth == 0) {
          if (line_has_tokens) out.push_back({Token::Newline, "\n", here()});
          line_has_tokens = false;
          line_start = true;
        }
        advance();
        continue;
      }
      if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
        advance();
        continue;
      }
      line_has_tokens = true;
      Location at = here();
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
          static_cast<unsigned char>(c) >= 0x80) {
        std::string word;
        while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) ||
                                  s_[i_] == '_' || static_cast<unsigned char>(s_[i_]) >= 0x80)) {
          word += s_[i_];
          advance();
        }
        if (i_ < s_.size() && (s_[i_] == '\'' || s_[i_] == '"') && word.size() <= 2) {
          std::string prefix = word;
          for (auto& ch : prefix)
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          bool raw = prefix.find('r') != std::string::npos;
          bool f = prefix.find('f') != std::string::npos;
          if (prefix == "b" || prefix == "rb" || prefix == "br") {
            throw SyntaxError{"bytes literals are not supported by the cascade shell", at};
          }
          if (prefix == "u" || prefix == "r" || prefix == "f" || prefix == "rf" || prefix == "fr") {
            std::string body = string_body();
            if (f) {
              out.push_back({Token::FStr, body, at, raw});
            } else {
              out.push_back({Token::Str, raw ? body : decode_escapes(body, at), at});
            }
            continue;
          }
        }
        out.push_back({Token::Name, word, at});
        continue;
      }
      if (std::isdigit(static_cast<unsigned char>(c)) ||
          (c == '.' && i_ + 1 < s_.size() &&
           std::isdigit(static_cast<unsigned char>(s_[i_ + 1])))) {
        out.push_back(number(at));
        continue;
      }
      if (c == '\'' || c == '"') {
        out.push_back({Token::Str, decode_escapes(string_body(), at), at});
        continue;
      }
      static const char* kOps[] = {"**=", "//=", "**", "//", "==", "!=", "<=", ">=", "+=", "-=",
                                   "*=",  "/=",  "%=", "&=", "|=", "^=", "(",  ")",  "[",  "]",
                                   "{",   "}",   ",",  ":",  ";",  ".",  "=",  "<",  ">",  "+",
                                   "-",   "*",   "/",  "%",  "&",  "|",  "~",  "^"};
      bool matched = false;
      for (const char* op : kOps) {
        std::string o(op);
        if (s_.compare(i_, o.size(), o) == 0) {
          if (o == "(" || o == "[" || o == "{") {
            // Python's tokenizer limit; it also bounds the parser's recursion.
            if (++depth > kMaxBrackets) throw SyntaxError{"too many nested parentheses", at};
          }
          if ((o == ")" || o == "]" || o == "}") && depth > 0) --depth;
          out.push_back({Token::Op, o, at});
          for (std::size_t k = 0; k < o.size(); ++k) advance();
          matched = true;
          break;
        }
      }
      if (!matched) throw SyntaxError{"invalid character '" + std::string(1, c) + "'", at};
    }
    if (line_has_tokens) out.push_back({Token::Newline, "", here()});
    for (std::size_t k = 1; k < indents_.size(); ++k) out.push_back({Token::Dedent, "", here()});
    out.push_back({Token::End, "", here()});
    return out;
  }

 private:
  const std::string& s_;
  std::size_t i_ = 0;
  int line_ = 1;
  int column_ = 1;
  // The indentation of each open block: columns with tabs to multiples of 8, and with tabs as
  // one column (Python's check that tabs and spaces are used consistently).
  std::vector<int> indents_{0};
  std::vector<int> alt_indents_{0};

  Location here() const { return {line_, column_}; }
  void advance() {
    if (s_[i_] == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
    ++i_;
  }

  // At the start of a line: Indent or Dedent tokens when its indentation differs from the
  // enclosing block's. Blank lines and comment lines have no indentation.
  void indentation(std::vector<Token>& out) {
    int col = 0, alt = 0;
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\f')) {
      if (s_[i_] == ' ') {
        ++col;
        ++alt;
      } else if (s_[i_] == '\t') {
        col = (col / 8 + 1) * 8;
        ++alt;
      } else {
        col = alt = 0;
      }
      advance();
    }
    std::size_t j = i_;
    while (j < s_.size() && s_[j] == '\r') ++j;
    if (j >= s_.size() || s_[j] == '\n' || s_[j] == '#') return;
    Location at = here();
    auto tab_error = [&] {
      throw SyntaxError{"inconsistent use of tabs and spaces in indentation", at, "TabError"};
    };
    if (col == indents_.back()) {
      if (alt != alt_indents_.back()) tab_error();
    } else if (col > indents_.back()) {
      if (alt <= alt_indents_.back()) tab_error();
      if (indents_.size() >= kMaxIndents) {
        throw SyntaxError{"too many levels of indentation", at, "IndentationError"};
      }
      indents_.push_back(col);
      alt_indents_.push_back(alt);
      out.push_back({Token::Indent, "", at});
    } else {
      while (indents_.size() > 1 && col < indents_.back()) {
        indents_.pop_back();
        alt_indents_.pop_back();
        out.push_back({Token::Dedent, "", at});
      }
      if (col != indents_.back()) {
        // Python puts the caret after the line's text.
        std::size_t eol = s_.find('\n', i_);
        int length = static_cast<int>((eol == std::string::npos ? s_.size() : eol) - i_);
        throw SyntaxError{"unindent does not match any outer indentation level",
                          {line_, column_ + length},
                          "IndentationError"};
      }
      if (alt != alt_indents_.back()) tab_error();
    }
  }

  Token number(Location at) {
    std::string digits;
    bool is_float = false;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (std::isdigit(static_cast<unsigned char>(c)) || c == '_') {
        if (c != '_') digits += c;
      } else if (c == '.' && !is_float) {
        is_float = true;
        digits += c;
      } else if ((c == 'e' || c == 'E') && !digits.empty()) {
        is_float = true;
        digits += c;
        advance();
        if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) {
          digits += s_[i_];
          advance();
        }
        continue;
      } else {
        break;
      }
      advance();
    }
    if (i_ < s_.size() && (std::isalpha(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_')) {
      throw SyntaxError{"invalid decimal literal", here()};
    }
    return {is_float ? Token::Float : Token::Int, digits, at};
  }

  // The body of a string literal between its quotes, as written (escapes not decoded).
  std::string string_body() {
    char quote = s_[i_];
    Location start = here();
    bool triple = s_.compare(i_, 3, std::string(3, quote)) == 0;
    for (int k = 0; k < (triple ? 3 : 1); ++k) advance();
    std::string out;
    while (true) {
      if (i_ >= s_.size()) {
        if (triple) {
          throw SyntaxError{"unterminated triple-quoted string literal", start, "SyntaxError",
                            true};
        }
        throw SyntaxError{"unterminated string literal", start};
      }
      char c = s_[i_];
      if (!triple && c == '\n') throw SyntaxError{"unterminated string literal", start};
      if (c == quote && (!triple || s_.compare(i_, 3, std::string(3, quote)) == 0)) {
        for (int k = 0; k < (triple ? 3 : 1); ++k) advance();
        return out;
      }
      if (c == '\\' && i_ + 1 < s_.size()) {
        out += c;
        advance();
        out += s_[i_];
        advance();
        continue;
      }
      out += c;
      advance();
    }
  }
};

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  std::vector<StmtPtr> program() {
    std::vector<StmtPtr> out;
    while (peek().kind != Token::End) {
      if (peek().kind == Token::Newline || peek().kind == Token::Dedent) {
        ++p_;
        continue;
      }
      statement(out);
    }
    return out;
  }

  // The expression of an f-string's replacement field: the whole input.
  ExprPtr lone_expression() {
    if (peek().kind == Token::Newline || peek().kind == Token::End) {
      fail("f-string: empty expression not allowed");
    }
    ExprPtr e = expression_list();
    while (peek().kind == Token::Newline) ++p_;
    if (peek().kind != Token::End) fail("invalid syntax");
    return e;
  }

 private:
  std::vector<Token> t_;
  std::size_t p_ = 0;
  std::vector<Token> open_;  // brackets not closed yet, for "'(' was never closed"
  int loops_ = 0;            // loop bodies being parsed, for "'break' outside loop"

  // Consumes an opening bracket.
  void open() { open_.push_back(t_[p_++]); }

  const Token& peek(std::size_t ahead = 0) const { return t_[std::min(p_ + ahead, t_.size() - 1)]; }
  bool is_op(const std::string& op, std::size_t ahead = 0) const {
    return peek(ahead).kind == Token::Op && peek(ahead).text == op;
  }
  bool is_name(const std::string& name) const {
    return peek().kind == Token::Name && peek().text == name;
  }
  // Only dedents remain: the input ended.
  bool at_eof() const {
    for (std::size_t k = p_; k < t_.size(); ++k) {
      if (t_[k].kind != Token::Dedent && t_[k].kind != Token::End) return false;
    }
    return true;
  }
  bool at_line_end() const { return peek().kind == Token::Newline || peek().kind == Token::End; }
  [[noreturn]] void fail(const std::string& message) const {
    // Running out of input inside brackets: Python names the bracket left open.
    if (at_line_end() && !open_.empty()) {
      throw SyntaxError{"'" + open_.back().text + "' was never closed", open_.back().where,
                        "SyntaxError", true};
    }
    throw SyntaxError{message, peek().where};
  }
  void expect(const std::string& op) {
    if (!is_op(op)) fail("invalid syntax");
    if ((op == ")" || op == "]" || op == "}") && !open_.empty()) open_.pop_back();
    ++p_;
  }
  // The colon that ends a block's header.
  void expect_colon() {
    if (!is_op(":")) fail(at_line_end() ? "expected ':'" : "invalid syntax");
    ++p_;
  }
  std::string name() {
    if (peek().kind != Token::Name || is_keyword(peek().text)) fail("invalid syntax");
    return t_[p_++].text;
  }
  static bool is_keyword(const std::string& w) {
    static const char* kw[] = {
        "and",   "or",       "not",    "in",      "is",    "for",    "from",  "import", "as",
        "if",    "elif",     "else",   "def",     "class", "return", "while", "with",   "pass",
        "break", "continue", "lambda", "True",    "False", "None",   "del",   "global", "nonlocal",
        "yield", "try",      "except", "finally", "raise", "assert", "async", "await"};
    for (const char* k : kw) {
      if (w == k) return true;
    }
    return false;
  }
  bool at_compound() const {
    return is_name("for") || is_name("if") || is_name("while") || is_name("with");
  }

  // Every node knows its depth, so evaluating a tree never recurses deeper than kMaxDepth
  // (a chain of 100000 additions parses in a loop but evaluates recursively).
  static ExprPtr make(Expr e) {
    int below = 0;
    if (e.object) below = e.object->depth;
    for (const auto& i : e.items) {
      if (i) below = std::max(below, i->depth);
    }
    for (const auto& [k, v] : e.keywords) {
      if (v) below = std::max(below, v->depth);
    }
    e.depth = below + 1;
    if (e.depth > kMaxDepth) throw SyntaxError{"expression too deeply nested", e.where};
    return std::make_shared<const Expr>(std::move(e));
  }

  static StmtPtr stmt(Stmt s) { return std::make_shared<const Stmt>(std::move(s)); }
  static Stmt node(Stmt::Kind kind, Location at) {
    Stmt s{kind, at, nullptr, {}, {}, {}, nullptr, {}, nullptr, {}};
    return s;
  }

  // Bounds the parser's own recursion (unary operators, nested statements).
  class Nesting {
   public:
    explicit Nesting(Parser& p) : p_(p) {
      if (++p_.nesting_ > kMaxDepth) p_.fail("expression too deeply nested");
    }
    ~Nesting() { --p_.nesting_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;

   private:
    Parser& p_;
  };
  int nesting_ = 0;

  // ---- statements ----------------------------------------------------------------------------

  // One line's statements (a; b) or one compound statement, appended to `out`.
  void statement(std::vector<StmtPtr>& out) {
    Nesting guard(*this);
    if (peek().kind == Token::Indent) {
      throw SyntaxError{"unexpected indent", peek().where, "IndentationError"};
    }
    if (at_compound()) {
      out.push_back(compound());
      return;
    }
    simple_statements(out);
  }

  void simple_statements(std::vector<StmtPtr>& out) {
    while (true) {
      out.push_back(small_statement());
      if (!is_op(";")) break;
      ++p_;
      if (at_line_end()) break;
      if (at_compound()) fail("invalid syntax");
    }
    if (!at_line_end()) fail("invalid syntax");
    if (peek().kind == Token::Newline) ++p_;
  }

  StmtPtr small_statement() {
    Location at = peek().where;
    if (is_name("from")) return import_from(at);
    if (is_name("import")) {
      ++p_;
      Stmt s = node(Stmt::Kind::Import, at);
      s.module = dotted();
      return stmt(std::move(s));
    }
    if (is_name("pass")) {
      ++p_;
      return stmt(node(Stmt::Kind::Pass, at));
    }
    if (is_name("break") || is_name("continue")) {
      bool is_break = is_name("break");
      if (loops_ == 0) {
        throw SyntaxError{is_break ? "'break' outside loop" : "'continue' not properly in loop",
                          at};
      }
      ++p_;
      return stmt(node(is_break ? Stmt::Kind::Break : Stmt::Kind::Continue, at));
    }
    for (const char* unsupported : {"def", "class", "return", "del", "lambda", "try", "global",
                                    "nonlocal", "raise", "assert", "yield", "async", "await"}) {
      if (is_name(unsupported)) {
        fail("'" + std::string(unsupported) + "' is not supported by the cascade shell");
      }
    }
    ExprPtr first = expression_list();
    static const char* kAugmented[] = {
        "+=", "-=", "*=", "/=", "//=", "%=", "**=", "&=", "|=", "^="};
    for (const char* op : kAugmented) {
      if (!is_op(op)) continue;
      if (first->kind != Expr::Kind::Name && first->kind != Expr::Kind::Attribute &&
          first->kind != Expr::Kind::Subscript) {
        throw SyntaxError{
            "'" + describe(*first) + "' is an illegal expression for augmented assignment",
            first->where};
      }
      ++p_;
      Stmt s = node(Stmt::Kind::AugAssign, at);
      s.op = std::string(op).substr(0, std::string(op).size() - 1);
      s.targets = {first};
      s.value = expression_list();
      return stmt(std::move(s));
    }
    if (is_op("=")) {
      std::vector<ExprPtr> targets{first};
      ExprPtr value;
      while (is_op("=")) {
        ++p_;
        value = expression_list();
        targets.push_back(value);
      }
      targets.pop_back();
      for (const auto& t : targets) check_target(t);
      Stmt s = node(Stmt::Kind::Assign, at);
      s.value = value;
      s.targets = targets;
      return stmt(std::move(s));
    }
    Stmt s = node(Stmt::Kind::Expr, at);
    s.value = first;
    return stmt(std::move(s));
  }

  // Python's name for an expression that cannot be assigned to.
  static std::string describe(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::Tuple: return "tuple";
      case Expr::Kind::List: return "list";
      case Expr::Kind::Dict: return "dict literal";
      case Expr::Kind::Call: return "function call";
      case Expr::Kind::Int:
      case Expr::Kind::Float:
      case Expr::Kind::Str:
      case Expr::Kind::FString: return "literal";
      case Expr::Kind::Compare: return "comparison";
      case Expr::Kind::Comprehension:
        return e.text == "dict" ? "dict comprehension" : "list comprehension";
      default: return "expression";
    }
  }

  void check_target(const ExprPtr& t) {
    if (t->kind == Expr::Kind::Tuple || t->kind == Expr::Kind::List) {
      for (const auto& i : t->items) check_target(i);
      return;
    }
    if (t->kind != Expr::Kind::Name && t->kind != Expr::Kind::Attribute &&
        t->kind != Expr::Kind::Subscript) {
      throw SyntaxError{
          "cannot assign to " + describe(*t) + " here. Maybe you meant '==' instead of '='?",
          t->where};
    }
  }

  // for / if / while / with, with their indented (or same-line) bodies.
  StmtPtr compound() {
    Location at = peek().where;
    if (is_name("if")) return if_statement("if");
    if (is_name("for")) {
      ++p_;
      ExprPtr target = target_list();
      if (!is_name("in")) fail("invalid syntax");
      ++p_;
      Stmt s = node(Stmt::Kind::For, at);
      s.value = expression_list();
      s.targets = {target};
      expect_colon();
      ++loops_;
      s.body = suite("for", at);
      --loops_;
      s.orelse = else_clause();
      return stmt(std::move(s));
    }
    if (is_name("while")) {
      ++p_;
      Stmt s = node(Stmt::Kind::While, at);
      s.value = expression();
      expect_colon();
      ++loops_;
      s.body = suite("while", at);
      --loops_;
      s.orelse = else_clause();
      return stmt(std::move(s));
    }
    // with a, b as c: body -> with a: (with b as c: body)
    ++p_;
    std::vector<std::pair<ExprPtr, ExprPtr>> items;
    while (true) {
      ExprPtr manager = expression();
      ExprPtr as;
      if (is_name("as")) {
        ++p_;
        as = target_list();
      }
      items.emplace_back(manager, as);
      if (!is_op(",")) break;
      ++p_;
    }
    expect_colon();
    StmtPtr body = suite("with", at);
    for (auto it = items.rbegin(); it != items.rend(); ++it) {
      Stmt s = node(Stmt::Kind::With, at);
      s.value = it->first;
      if (it->second) s.targets = {it->second};
      s.body = body;
      body = stmt(std::move(s));
    }
    return body;
  }

  StmtPtr if_statement(const std::string& keyword) {
    Location at = peek().where;
    ++p_;  // if / elif
    Stmt s = node(Stmt::Kind::If, at);
    s.value = expression();
    expect_colon();
    s.body = suite(keyword, at);
    if (is_name("elif")) {
      s.orelse = if_statement("elif");
    } else {
      s.orelse = else_clause();
    }
    return stmt(std::move(s));
  }

  StmtPtr else_clause() {
    if (!is_name("else")) return nullptr;
    Location at = peek().where;
    ++p_;
    expect_colon();
    return suite("else", at);
  }

  // A block's body: statements on the header's line, or an indented block on the next lines.
  StmtPtr suite(const std::string& keyword, Location header) {
    std::vector<StmtPtr> body;
    Location at = peek().where;
    if (peek().kind == Token::Newline) {
      Location line_end = t_[p_++].where;
      if (peek().kind != Token::Indent) {
        bool eof = at_eof();
        throw SyntaxError{"expected an indented block after '" + keyword + "' statement on line " +
                              std::to_string(header.line),
                          eof ? line_end : peek().where, "IndentationError", eof};
      }
      ++p_;
      while (peek().kind != Token::Dedent && peek().kind != Token::End) statement(body);
      if (peek().kind == Token::Dedent) ++p_;
    } else {
      if (at_compound()) fail("invalid syntax");
      simple_statements(body);
    }
    if (body.size() == 1) return body[0];
    Stmt block = node(Stmt::Kind::Block, at);
    block.statements = std::move(body);
    return stmt(std::move(block));
  }

  std::string dotted() {
    std::string out = name();
    while (is_op(".")) {
      ++p_;
      out += "." + name();
    }
    return out;
  }

  StmtPtr import_from(Location at) {
    ++p_;  // from
    std::string module = dotted();
    if (!is_name("import")) fail("invalid syntax");
    ++p_;
    std::vector<std::pair<std::string, std::string>> names;
    bool paren = is_op("(");
    if (paren) open();
    while (true) {
      if (is_op("*")) {
        ++p_;
        names.emplace_back("*", "*");
      } else {
        std::string n = name();
        std::string alias = n;
        if (is_name("as")) {
          ++p_;
          alias = name();
        }
        names.emplace_back(n, alias);
      }
      if (!is_op(",")) break;
      ++p_;
      if (paren && is_op(")")) break;
    }
    if (paren) expect(")");
    Stmt s = node(Stmt::Kind::Import, at);
    s.module = module;
    s.names = names;
    return stmt(std::move(s));
  }

  // ---- expressions ---------------------------------------------------------------------------

  // The targets of `for` (and of a comprehension): `x`, `a, b`; stops before `in`.
  ExprPtr target_list() {
    Location at = peek().where;
    std::vector<ExprPtr> items{bit_or()};
    bool tuple = false;
    while (is_op(",")) {
      ++p_;
      tuple = true;
      if (is_name("in") || is_op(":")) break;
      items.push_back(bit_or());
    }
    ExprPtr target = tuple ? make(Expr{Expr::Kind::Tuple, at, "", nullptr, items, {}}) : items[0];
    check_target(target);
    return target;
  }

  // a, b  -> a tuple
  ExprPtr expression_list() {
    Location at = peek().where;
    ExprPtr first = expression();
    if (!is_op(",")) return first;
    Expr tuple{Expr::Kind::Tuple, at, "", nullptr, {first}, {}};
    while (is_op(",")) {
      ++p_;
      if (at_line_end() || is_op("=") || is_op(")") || is_op(":") || is_op(";") ||
          (peek().kind == Token::Op && peek().text.size() >= 2 && peek().text.back() == '=' &&
           peek().text != "==" && peek().text != "!=" && peek().text != "<=" &&
           peek().text != ">=")) {
        break;
      }
      tuple.items.push_back(expression());
    }
    return make(std::move(tuple));
  }

  // or_test [if or_test else expression]
  ExprPtr expression() {
    Nesting guard(*this);
    ExprPtr value = or_test();
    if (!is_name("if")) return value;
    Location at = peek().where;
    ++p_;
    ExprPtr test = or_test();
    if (!is_name("else")) fail("expected 'else' after 'if' expression");
    ++p_;
    ExprPtr other = expression();
    return make(Expr{Expr::Kind::IfExp, at, "", nullptr, {test, value, other}, {}});
  }

  ExprPtr or_test() {
    ExprPtr left = and_test();
    while (is_name("or")) {
      Location at = peek().where;
      ++p_;
      left = make(Expr{Expr::Kind::BoolOp, at, "or", nullptr, {left, and_test()}, {}});
    }
    return left;
  }
  ExprPtr and_test() {
    ExprPtr left = not_test();
    while (is_name("and")) {
      Location at = peek().where;
      ++p_;
      left = make(Expr{Expr::Kind::BoolOp, at, "and", nullptr, {left, not_test()}, {}});
    }
    return left;
  }
  ExprPtr not_test() {
    Nesting guard(*this);
    if (is_name("not")) {
      Location at = peek().where;
      ++p_;
      return make(Expr{Expr::Kind::Unary, at, "not", nullptr, {not_test()}, {}});
    }
    return comparison();
  }
  ExprPtr comparison() {
    ExprPtr left = bit_or();
    while (true) {
      Location at = peek().where;
      std::string op;
      if (peek().kind == Token::Op &&
          (peek().text == "==" || peek().text == "!=" || peek().text == "<" || peek().text == ">" ||
           peek().text == "<=" || peek().text == ">=")) {
        op = t_[p_++].text;
      } else if (is_name("in")) {
        ++p_;
        op = "in";
      } else if (is_name("not") && peek(1).kind == Token::Name && peek(1).text == "in") {
        p_ += 2;
        op = "not in";
      } else if (is_name("is")) {
        ++p_;
        op = "is";
        if (is_name("not")) {
          ++p_;
          op = "is not";
        }
      } else {
        return left;
      }
      left = make(Expr{Expr::Kind::Compare, at, op, nullptr, {left, bit_or()}, {}});
    }
  }
  ExprPtr binary(ExprPtr (Parser::*next)(), std::initializer_list<const char*> ops) {
    ExprPtr left = (this->*next)();
    while (true) {
      bool found = false;
      for (const char* op : ops) {
        if (is_op(op)) {
          Location at = peek().where;
          ++p_;
          left = make(Expr{Expr::Kind::Binary, at, op, nullptr, {left, (this->*next)()}, {}});
          found = true;
          break;
        }
      }
      if (!found) return left;
    }
  }
  ExprPtr bit_or() { return binary(&Parser::bit_xor, {"|"}); }
  ExprPtr bit_xor() { return binary(&Parser::bit_and, {"^"}); }
  ExprPtr bit_and() { return binary(&Parser::arith, {"&"}); }
  ExprPtr arith() { return binary(&Parser::term, {"+", "-"}); }
  ExprPtr term() { return binary(&Parser::factor, {"*", "/", "//", "%"}); }
  ExprPtr factor() {
    Nesting guard(*this);
    if (is_op("-") || is_op("+") || is_op("~")) {
      Location at = peek().where;
      std::string op = t_[p_++].text;
      return make(Expr{Expr::Kind::Unary, at, op, nullptr, {factor()}, {}});
    }
    return power();
  }
  ExprPtr power() {
    ExprPtr base = primary();
    if (is_op("**")) {
      Location at = peek().where;
      ++p_;
      return make(Expr{Expr::Kind::Binary, at, "**", nullptr, {base, factor()}, {}});
    }
    return base;
  }

  ExprPtr primary() {
    ExprPtr e = atom();
    while (true) {
      Location at = peek().where;
      if (is_op(".")) {
        ++p_;
        if (peek().kind != Token::Name) fail("invalid syntax");
        e = make(Expr{Expr::Kind::Attribute, at, t_[p_++].text, e, {}, {}});
      } else if (is_op("(")) {
        open();
        Expr call{Expr::Kind::Call, at, "", e, {}, {}};
        while (!is_op(")")) {
          if (peek().kind == Token::Name && is_op("=", 1)) {
            std::string key = t_[p_].text;
            p_ += 2;
            for (const auto& [k, v] : call.keywords) {
              if (k == key) fail("keyword argument repeated: " + key);
            }
            call.keywords.emplace_back(key, expression());
          } else {
            if (!call.keywords.empty()) fail("positional argument follows keyword argument");
            Location arg_at = peek().where;
            ExprPtr arg = expression();
            if (is_name("for")) {
              // A generator expression as the argument: sum(p.n for p in qs).
              if (!call.items.empty()) fail("Generator expression must be parenthesized");
              arg = comprehension("list", arg, arg_at);
              if (!is_op(")")) fail("Generator expression must be parenthesized");
            }
            call.items.push_back(arg);
          }
          if (!is_op(",")) break;
          ++p_;
        }
        expect(")");
        e = make(std::move(call));
      } else if (is_op("[")) {
        open();
        ExprPtr index = subscript();
        expect("]");
        e = make(Expr{Expr::Kind::Subscript, at, "", e, {index}, {}});
      } else {
        return e;
      }
    }
  }

  ExprPtr subscript() {
    Location at = peek().where;
    ExprPtr start, stop, step;
    if (!is_op(":")) start = expression_list();
    if (!is_op(":")) return start;
    ++p_;
    if (!is_op("]") && !is_op(":")) stop = expression();
    if (is_op(":")) {
      ++p_;
      if (!is_op("]")) step = expression();
    }
    return make(Expr{Expr::Kind::Slice, at, "", nullptr, {start, stop, step}, {}});
  }

  // [element for target in iterable if condition ...], the `for` next.
  ExprPtr comprehension(const std::string& kind, ExprPtr element, Location at) {
    ++p_;  // for
    ExprPtr target = target_list();
    if (!is_name("in")) fail("invalid syntax");
    ++p_;
    std::vector<ExprPtr> items{target, or_test()};
    while (is_name("if")) {
      ++p_;
      items.push_back(or_test());
    }
    if (is_name("for")) {
      fail("comprehensions with more than one 'for' are not supported by the cascade shell");
    }
    return make(Expr{Expr::Kind::Comprehension, at, kind, element, items, {}});
  }

  ExprPtr atom() {
    const Token& tok = peek();
    Location at = tok.where;
    switch (tok.kind) {
      case Token::Int: ++p_; return make(Expr{Expr::Kind::Int, at, tok.text, nullptr, {}, {}});
      case Token::Float: ++p_; return make(Expr{Expr::Kind::Float, at, tok.text, nullptr, {}, {}});
      case Token::Str:
      case Token::FStr: return strings();
      case Token::Name:
        if (tok.text == "True" || tok.text == "False" || tok.text == "None") {
          ++p_;
          return make(Expr{Expr::Kind::Const, at, tok.text, nullptr, {}, {}});
        }
        if (tok.text == "lambda" || tok.text == "yield" || tok.text == "await") {
          fail("'" + tok.text + "' is not supported by the cascade shell");
        }
        return make(Expr{Expr::Kind::Name, at, name(), nullptr, {}, {}});
      case Token::Op:
        if (tok.text == "(") {
          open();
          if (is_op(")")) {
            expect(")");
            return make(Expr{Expr::Kind::Tuple, at, "", nullptr, {}, {}});
          }
          ExprPtr inner = expression();
          if (is_name("for")) {
            ExprPtr gen = comprehension("list", inner, at);
            expect(")");
            return gen;
          }
          if (is_op(",")) {
            Expr tuple{Expr::Kind::Tuple, at, "", nullptr, {inner}, {}};
            while (is_op(",")) {
              ++p_;
              if (is_op(")")) break;
              tuple.items.push_back(expression());
            }
            expect(")");
            return make(std::move(tuple));
          }
          expect(")");
          return inner;
        }
        if (tok.text == "[") {
          open();
          Expr list{Expr::Kind::List, at, "", nullptr, {}, {}};
          while (!is_op("]")) {
            list.items.push_back(expression());
            if (list.items.size() == 1 && is_name("for")) {
              ExprPtr comp = comprehension("list", list.items[0], at);
              expect("]");
              return comp;
            }
            if (!is_op(",")) break;
            ++p_;
          }
          expect("]");
          return make(std::move(list));
        }
        if (tok.text == "{") {
          open();
          Expr dict{Expr::Kind::Dict, at, "", nullptr, {}, {}};
          while (!is_op("}")) {
            dict.items.push_back(expression());
            if (!is_op(":")) {
              if (dict.items.size() == 1 && is_name("for")) {
                fail("set comprehensions are not supported by the cascade shell");
              }
              if (dict.items.size() == 1 && (is_op(",") || is_op("}"))) {
                fail("sets are not supported by the cascade shell");
              }
            }
            expect(":");
            dict.items.push_back(expression());
            if (dict.items.size() == 2 && is_name("for")) {
              ExprPtr pair =
                  make(Expr{Expr::Kind::Tuple, dict.items[0]->where, "", nullptr, dict.items, {}});
              ExprPtr comp = comprehension("dict", pair, at);
              expect("}");
              return comp;
            }
            if (!is_op(",")) break;
            ++p_;
          }
          expect("}");
          return make(std::move(dict));
        }
        break;
      default: break;
    }
    fail("invalid syntax");
  }

  // Adjacent string literals join; with an f-string among them the result is an f-string.
  ExprPtr strings() {
    Location at = peek().where;
    std::vector<ExprPtr> parts;
    std::string literal;
    bool formatted = false;
    auto flush = [&](Location where) {
      if (!literal.empty())
        parts.push_back(make(Expr{Expr::Kind::Str, where, literal, nullptr, {}, {}}));
      literal.clear();
    };
    while (peek().kind == Token::Str || peek().kind == Token::FStr) {
      const Token& tok = t_[p_++];
      if (tok.kind == Token::Str) {
        literal += tok.text;
        continue;
      }
      formatted = true;
      fstring(tok, literal, parts, flush);
    }
    if (!formatted) return make(Expr{Expr::Kind::Str, at, literal, nullptr, {}, {}});
    flush(at);
    return make(Expr{Expr::Kind::FString, at, "", nullptr, parts, {}});
  }

  // Splits an f-string's body into literal text (appended to `literal`) and replacement fields
  // (each flushed after the literal before it).
  template <typename Flush>
  void fstring(const Token& tok, std::string& literal, std::vector<ExprPtr>& parts, Flush& flush) {
    const std::string& body = tok.text;
    auto error = [&](const std::string& message) {
      throw SyntaxError{"f-string: " + message, tok.where};
    };
    std::string pending;  // literal text still to decode
    auto decode = [&] {
      literal += tok.raw ? pending : decode_escapes(pending, tok.where);
      pending.clear();
    };
    for (std::size_t i = 0; i < body.size();) {
      char c = body[i];
      if (c == '\\' && !tok.raw && i + 1 < body.size() && body[i + 1] != '{' &&
          body[i + 1] != '}') {
        pending += body.substr(i, 2);
        i += 2;
        continue;
      }
      if ((c == '{' || c == '}') && i + 1 < body.size() && body[i + 1] == c) {
        pending += c;
        i += 2;
        continue;
      }
      if (c == '}') error("single '}' is not allowed");
      if (c != '{') {
        pending += c;
        ++i;
        continue;
      }
      // A replacement field: {expression[=][!c][:spec]}
      std::size_t j = i + 1;
      int depth = 0;
      char quote = 0;
      for (; j < body.size(); ++j) {
        char d = body[j];
        if (quote != 0) {
          if (d == quote) quote = 0;
          continue;
        }
        if (d == '\'' || d == '"') {
          quote = d;
        } else if (d == '(' || d == '[' || d == '{') {
          ++depth;
        } else if (d == ')' || d == ']' || (d == '}' && depth > 0)) {
          --depth;
        } else if (depth == 0 && (d == '}' || d == ':' ||
                                  (d == '!' && (j + 1 >= body.size() || body[j + 1] != '=')))) {
          break;
        }
      }
      if (j >= body.size()) error("expecting '}'");
      std::string text = body.substr(i + 1, j - i - 1);
      std::string conversion;
      // {x=} prints "x=" and then the value's repr.
      std::size_t last = text.find_last_not_of(" \t");
      bool debug = last != std::string::npos && text[last] == '=' && last > 0 &&
                   std::string("=!<>").find(text[last - 1]) == std::string::npos;
      if (debug) {
        pending += text;
        text = text.substr(0, last);
        conversion = "r";
      }
      if (body[j] == '!') {
        if (j + 1 >= body.size() || std::string("rsa").find(body[j + 1]) == std::string::npos) {
          error("invalid conversion character: expected 's', 'r', or 'a'");
        }
        conversion = std::string(1, body[j + 1]);
        j += 2;
      }
      std::string spec;
      if (j < body.size() && body[j] == ':') {
        if (debug && conversion == "r") conversion.clear();  // {x=:spec} formats the value
        std::size_t k = j + 1;
        while (k < body.size() && body[k] != '}') {
          if (body[k] == '{')
            error(
                "nested replacement fields in format specs are not supported by the cascade shell");
          ++k;
        }
        spec = body.substr(j + 1, k - j - 1);
        j = k;
      }
      if (j >= body.size() || body[j] != '}') error("expecting '}'");
      if (text.find_first_not_of(" \t\n") == std::string::npos)
        error("empty expression not allowed");
      if (text.find('\\') != std::string::npos) error("expression part cannot include a backslash");
      ExprPtr value;
      try {
        // In brackets, as Python reads it: spaces before it and newlines in it do not count.
        std::string parenthesized = "(" + text + ")";
        value = Parser(Lexer(parenthesized).run()).lone_expression();
      } catch (const SyntaxError& e) {
        error(e.message.rfind("f-string: ", 0) == 0 ? e.message.substr(10) : "invalid syntax");
      }
      decode();
      flush(tok.where);
      parts.push_back(
          make(Expr{Expr::Kind::FormatValue, tok.where, conversion + ":" + spec, value, {}, {}}));
      i = j + 1;
    }
    decode();
  }
};

}  // namespace

std::vector<StmtPtr> parse(const std::string& source) {
  return Parser(Lexer(source).run()).program();
}

}  // namespace cascade::shell
