//===- GridFormula.cpp - A kernel's grid from the manifest's formula ------===//

#include "runtime/GridFormula.h"

#include <cctype>

namespace sattn {
namespace {

/// Recursive descent over `text`; the first error stops it.
class Parser {
public:
  Parser(const std::string &text, const std::map<std::string, int64_t> &names)
      : text_(text), names_(names) {}

  std::optional<int64_t> parse(std::string *error) {
    int64_t value = expression();
    skipSpace();
    if (error_.empty() && pos_ != text_.size())
      fail("unexpected '" + text_.substr(pos_, 1) + "'");
    if (!error_.empty()) {
      *error = "grid formula \"" + text_ + "\": " + error_;
      return std::nullopt;
    }
    return value;
  }

private:
  static constexpr int64_t kLimit = int64_t(1) << 31;

  void fail(const std::string &why) {
    if (error_.empty())
      error_ = why;
  }
  void skipSpace() {
    while (pos_ < text_.size() && std::isspace((unsigned char)text_[pos_]))
      ++pos_;
  }
  bool accept(char c) {
    skipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  int64_t checked(int64_t v) {
    if (v < -kLimit || v > kLimit)
      fail("a value out of range");
    return v;
  }

  int64_t expression() {
    int64_t v = term();
    while (error_.empty()) {
      if (accept('+'))
        v = checked(v + term());
      else if (accept('-'))
        v = checked(v - term());
      else
        break;
    }
    return v;
  }
  int64_t term() {
    int64_t v = factor();
    while (error_.empty() && accept('*'))
      v = checked(v * factor());
    return v;
  }
  int64_t factor() {
    skipSpace();
    if (pos_ >= text_.size()) {
      fail("ends too early");
      return 0;
    }
    char c = text_[pos_];
    if (std::isdigit((unsigned char)c)) {
      int64_t v = 0;
      while (pos_ < text_.size() && std::isdigit((unsigned char)text_[pos_]))
        v = checked(v * 10 + (text_[pos_++] - '0'));
      return v;
    }
    if (accept('(')) {
      int64_t v = expression();
      if (!accept(')'))
        fail("missing ')'");
      return v;
    }
    if (!std::isalpha((unsigned char)c) && c != '_') {
      fail("unexpected '" + std::string(1, c) + "'");
      return 0;
    }
    size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum((unsigned char)text_[pos_]) || text_[pos_] == '_'))
      ++pos_;
    std::string name = text_.substr(start, pos_ - start);
    if (accept('('))
      return call(name);
    auto it = names_.find(name);
    if (it == names_.end()) {
      fail("unknown name " + name);
      return 0;
    }
    return it->second;
  }
  int64_t call(const std::string &name) {
    int64_t a = expression();
    if (!accept(','))
      fail(name + " takes two arguments");
    int64_t b = expression();
    if (!accept(')'))
      fail("missing ')' after the arguments of " + name);
    if (name == "min")
      return std::min(a, b);
    if (name == "max")
      return std::max(a, b);
    if (name == "ceildiv") {
      if (b <= 0) {
        fail("ceildiv by " + std::to_string(b));
        return 0;
      }
      return a >= 0 ? (a + b - 1) / b : -((-a) / b);
    }
    fail("unknown function " + name);
    return 0;
  }

  const std::string &text_;
  const std::map<std::string, int64_t> &names_;
  size_t pos_ = 0;
  std::string error_;
};

} // namespace

std::optional<int64_t>
evaluateGridFormula(const std::string &formula,
                    const std::map<std::string, int64_t> &names,
                    std::string *error) {
  std::optional<int64_t> v = Parser(formula, names).parse(error);
  if (v && (*v < 0 || *v >= (int64_t(1) << 31))) {
    *error = "grid formula \"" + formula + "\" gives " + std::to_string(*v) +
             ", not a grid size";
    return std::nullopt;
  }
  return v;
}

} // namespace sattn
