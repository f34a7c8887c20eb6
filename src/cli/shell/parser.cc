// Lexer and recursive-descent parser for the shell's Python subset.
#include <algorithm>
#include <cctype>

#include "cli/shell/ast.h"

namespace cascade::shell {
namespace {

// Brackets open at once (Python's tokenizer allows 200) and levels of one expression tree.
constexpr int kMaxBrackets = 200;
constexpr int kMaxDepth = 1000;

struct Token {
  enum Kind { Name, Int, Float, Str, Op, Newline, End } kind;
  std::string text;
  Location where;
};

class Lexer {
 public:
  explicit Lexer(const std::string& src) : s_(src) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    int depth = 0;  // inside brackets newlines do not end a statement
    while (i_ < s_.size()) {
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
      if (c == '\n' || c == ';') {
        if (depth == 0 || c == ';') out.push_back({Token::Newline, std::string(1, c), here()});
        advance();
        continue;
      }
      if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
        advance();
        continue;
      }
      Location at = here();
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
          static_cast<unsigned char>(c) >= 0x80) {
        std::string word;
        while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' ||
                                  static_cast<unsigned char>(s_[i_]) >= 0x80)) {
          word += s_[i_];
          advance();
        }
        // String prefixes: r'...', b'...' are not supported; u'...' is a plain string.
        if ((word == "u" || word == "U") && i_ < s_.size() && (s_[i_] == '\'' || s_[i_] == '"')) {
          out.push_back({Token::Str, string_literal(), at});
          continue;
        }
        out.push_back({Token::Name, word, at});
        continue;
      }
      if (std::isdigit(static_cast<unsigned char>(c)) ||
          (c == '.' && i_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_ + 1])))) {
        out.push_back(number(at));
        continue;
      }
      if (c == '\'' || c == '"') {
        out.push_back({Token::Str, string_literal(), at});
        continue;
      }
      static const char* kOps[] = {"**", "//", "==", "!=", "<=", ">=", "(", ")", "[", "]", "{",
                                   "}", ",", ":", ".", "=", "<", ">", "+", "-", "*", "/", "%",
                                   "&", "|", "~", "^"};
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
    out.push_back({Token::Newline, "", here()});
    out.push_back({Token::End, "", here()});
    return out;
  }

 private:
  const std::string& s_;
  std::size_t i_ = 0;
  int line_ = 1;
  int column_ = 1;

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

  std::string string_literal() {
    char quote = s_[i_];
    Location start = here();
    bool triple = s_.compare(i_, 3, std::string(3, quote)) == 0;
    for (int k = 0; k < (triple ? 3 : 1); ++k) advance();
    std::string out;
    while (true) {
      if (i_ >= s_.size()) {
        throw SyntaxError{triple ? "unterminated triple-quoted string literal"
                                 : "unterminated string literal",
                          start};
      }
      char c = s_[i_];
      if (!triple && c == '\n') throw SyntaxError{"unterminated string literal", start};
      if (c == quote && (!triple || s_.compare(i_, 3, std::string(3, quote)) == 0)) {
        for (int k = 0; k < (triple ? 3 : 1); ++k) advance();
        return out;
      }
      if (c == '\\' && i_ + 1 < s_.size()) {
        advance();
        char e = s_[i_];
        advance();
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          case '0': out += '\0'; break;
          case '\\': out += '\\'; break;
          case '\'': out += '\''; break;
          case '"': out += '"'; break;
          case '\n': break;
          case 'x': {
            if (i_ + 1 >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[i_])) ||
                !std::isxdigit(static_cast<unsigned char>(s_[i_ + 1]))) {
              throw SyntaxError{"(unicode error) truncated \\xXX escape", start};
            }
            out += static_cast<char>(std::stoi(s_.substr(i_, 2), nullptr, 16));
            advance();
            advance();
            break;
          }
          default:
            out += '\\';
            out += e;
        }
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
      if (peek().kind == Token::Newline) {
        ++p_;
        continue;
      }
      out.push_back(statement());
      if (peek().kind != Token::Newline && peek().kind != Token::End) fail("invalid syntax");
    }
    return out;
  }

 private:
  std::vector<Token> t_;
  std::size_t p_ = 0;
  std::vector<Token> open_;  // brackets not closed yet, for "'(' was never closed"

  // Consumes an opening bracket.
  void open() { open_.push_back(t_[p_++]); }

  const Token& peek(std::size_t ahead = 0) const {
    return t_[std::min(p_ + ahead, t_.size() - 1)];
  }
  bool is_op(const std::string& op, std::size_t ahead = 0) const {
    return peek(ahead).kind == Token::Op && peek(ahead).text == op;
  }
  bool is_name(const std::string& name) const {
    return peek().kind == Token::Name && peek().text == name;
  }
  [[noreturn]] void fail(const std::string& message) const {
    // Running out of input inside brackets: Python names the bracket left open.
    if ((peek().kind == Token::Newline || peek().kind == Token::End) && !open_.empty()) {
      throw SyntaxError{"'" + open_.back().text + "' was never closed", open_.back().where};
    }
    throw SyntaxError{message, peek().where};
  }
  void expect(const std::string& op) {
    if (!is_op(op)) fail("invalid syntax");
    if ((op == ")" || op == "]" || op == "}") && !open_.empty()) open_.pop_back();
    ++p_;
  }
  std::string name() {
    if (peek().kind != Token::Name || is_keyword(peek().text)) fail("invalid syntax");
    return t_[p_++].text;
  }
  static bool is_keyword(const std::string& w) {
    static const char* kw[] = {"and", "or", "not", "in", "is", "for", "from", "import", "as",
                               "if", "else", "def", "class", "return", "while", "with", "pass",
                               "lambda", "True", "False", "None", "del", "global", "yield"};
    for (const char* k : kw) {
      if (w == k) return true;
    }
    return false;
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

  StmtPtr statement() {
    Nesting guard(*this);
    Location at = peek().where;
    if (is_name("from")) return import_from(at);
    if (is_name("import")) {
      ++p_;
      Stmt s{Stmt::Kind::Import, at, nullptr, {}, dotted(), {}, nullptr};
      return std::make_shared<const Stmt>(std::move(s));
    }
    if (is_name("pass")) {
      ++p_;
      return std::make_shared<const Stmt>(Stmt{Stmt::Kind::Pass, at, nullptr, {}, {}, {}, nullptr});
    }
    if (is_name("for")) {
      ++p_;
      std::vector<ExprPtr> target{make(Expr{Expr::Kind::Name, peek().where, name(), nullptr, {}, {}})};
      if (!is_name("in")) fail("invalid syntax");
      ++p_;
      ExprPtr iter = expression_list();
      expect(":");
      if (peek().kind == Token::Newline) fail("expected an indented block (the shell accepts one-line loops: for x in qs: print(x))");
      StmtPtr body = statement();
      return std::make_shared<const Stmt>(Stmt{Stmt::Kind::For, at, iter, target, {}, {}, body});
    }
    for (const char* unsupported : {"def", "class", "while", "if", "with", "return", "del", "lambda",
                                    "try", "global"}) {
      if (is_name(unsupported)) {
        fail("'" + std::string(unsupported) + "' is not supported by the cascade shell");
      }
    }
    ExprPtr first = expression_list();
    if (is_op("=")) {
      std::vector<ExprPtr> targets{first};
      ExprPtr value;
      while (is_op("=")) {
        ++p_;
        value = expression_list();
        targets.push_back(value);
      }
      targets.pop_back();
      for (const auto& t : targets) {
        if (t->kind != Expr::Kind::Name && t->kind != Expr::Kind::Attribute &&
            t->kind != Expr::Kind::Subscript && t->kind != Expr::Kind::Tuple) {
          throw SyntaxError{"cannot assign to expression here. Maybe you meant '==' instead of '='?",
                            t->where};
        }
      }
      return std::make_shared<const Stmt>(Stmt{Stmt::Kind::Assign, at, value, targets, {}, {}, nullptr});
    }
    return std::make_shared<const Stmt>(Stmt{Stmt::Kind::Expr, at, first, {}, {}, {}, nullptr});
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
    return std::make_shared<const Stmt>(Stmt{Stmt::Kind::Import, at, nullptr, {}, module, names, nullptr});
  }

  // a, b  -> a tuple
  ExprPtr expression_list() {
    Location at = peek().where;
    ExprPtr first = expression();
    if (!is_op(",")) return first;
    Expr tuple{Expr::Kind::Tuple, at, "", nullptr, {first}, {}};
    while (is_op(",")) {
      ++p_;
      if (peek().kind == Token::Newline || is_op("=") || is_op(")") || is_op(":")) break;
      tuple.items.push_back(expression());
    }
    return make(std::move(tuple));
  }

  ExprPtr expression() {
    Nesting guard(*this);
    return or_test();
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
            call.items.push_back(expression());
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
    if (!is_op(":")) start = expression();
    if (!is_op(":")) return start;
    ++p_;
    if (!is_op("]") && !is_op(":")) stop = expression();
    if (is_op(":")) {
      ++p_;
      if (!is_op("]")) step = expression();
    }
    return make(Expr{Expr::Kind::Slice, at, "", nullptr, {start, stop, step}, {}});
  }

  ExprPtr atom() {
    const Token& tok = peek();
    Location at = tok.where;
    switch (tok.kind) {
      case Token::Int: ++p_; return make(Expr{Expr::Kind::Int, at, tok.text, nullptr, {}, {}});
      case Token::Float: ++p_; return make(Expr{Expr::Kind::Float, at, tok.text, nullptr, {}, {}});
      case Token::Str: {
        std::string text;
        while (peek().kind == Token::Str) text += t_[p_++].text;  // adjacent literals join
        return make(Expr{Expr::Kind::Str, at, text, nullptr, {}, {}});
      }
      case Token::Name:
        if (tok.text == "True" || tok.text == "False" || tok.text == "None") {
          ++p_;
          return make(Expr{Expr::Kind::Const, at, tok.text, nullptr, {}, {}});
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
            expect(":");
            dict.items.push_back(expression());
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
};

}  // namespace

std::vector<StmtPtr> parse(const std::string& source) {
  return Parser(Lexer(source).run()).program();
}

}  // namespace cascade::shell
