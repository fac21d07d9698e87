#include "exchange/npy_dict.hpp"

#include <limits>

#include <fmt/format.h>

#include "tessera/core/error.hpp"

namespace tessera::exchange {
namespace {

// A recursive-descent reader over the small subset of Python literals that NumPy writes.
class Parser {
 public:
  Parser(std::string_view text, std::string_view name) : text_(text), name_(name) {}

  NpyDict parse() {
    NpyDict dict;
    bool has_descr = false, has_order = false, has_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = string();
      expect(':');
      skip_space();
      if (key == "descr") {
        if (peek() == '[') {
          throw Error(ErrorCode::unsupported,
                      fmt::format("{}: structured dtypes (a descr list) are not supported", name_));
        }
        dict.descr = string();
        has_descr = true;
      } else if (key == "fortran_order") {
        dict.fortran_order = boolean();
        has_order = true;
      } else if (key == "shape") {
        dict.shape = tuple();
        has_shape = true;
      } else {
        fail(fmt::format("unexpected key '{}'", key));
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      skip_space();
      if (peek() != '}') fail("expected ',' or '}'");
    }
    ++pos_;
    skip_space();
    if (pos_ != text_.size()) fail("text after the dict");
    if (!has_descr || !has_order || !has_shape) fail("the dict needs 'descr', 'fortran_order' and 'shape'");
    return dict;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(ErrorCode::corrupt, fmt::format("{}: bad .npy header at byte {}: {}", name_, pos_, what));
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t')) ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail(fmt::format("expected '{}'", c));
    ++pos_;
  }
  std::string string() {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a quoted string");
    const size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string out(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    if (text_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (text_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail("expected True or False");
  }
  uint64_t integer() {
    skip_space();
    uint64_t v = 0;
    const size_t start = pos_;
    while (peek() >= '0' && peek() <= '9') {
      const uint64_t digit = static_cast<uint64_t>(peek() - '0');
      if (v > (std::numeric_limits<uint64_t>::max() - digit) / 10) fail("dimension too large");
      v = v * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) fail("expected a non-negative integer");
    if (peek() == 'L') ++pos_;
    return v;
  }
  std::vector<uint64_t> tuple() {
    expect('(');
    std::vector<uint64_t> out;
    while (true) {
      skip_space();
      if (peek() == ')') break;
      out.push_back(integer());
      skip_space();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != ')') {
        fail("expected ',' or ')' in the shape");
      }
    }
    ++pos_;
    return out;
  }

  std::string_view text_;
  std::string_view name_;
  size_t pos_ = 0;
};

}  // namespace

NpyDict parse_npy_dict(std::string_view text, std::string_view name) { return Parser(text, name).parse(); }

}  // namespace tessera::exchange
