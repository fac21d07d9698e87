#include "tessera/app/path_pattern.hpp"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "tessera/core/error.hpp"

namespace tessera::app {
namespace {

[[noreturn]] void fail(const std::string& pattern, size_t pos, const std::string& what) {
  throw Error(ErrorCode::invalid_argument,
              fmt::format("--pattern: {} at position {}\n  {}\n  {}^", what, pos + 1, pattern, std::string(pos, ' ')));
}

bool is_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

PathPattern::PathPattern(const std::string& pattern) : text_(pattern) {
  if (pattern.empty()) fail(pattern, 0, "the pattern is empty");
  std::string re;
  for (size_t i = 0; i < pattern.size();) {
    const char c = pattern[i];
    if (c == '{') {
      const size_t close = pattern.find('}', i);
      if (close == std::string::npos) fail(pattern, i, "'{' is never closed");
      const std::string body = pattern.substr(i + 1, close - i - 1);
      const size_t colon = body.find(':');
      Field field{body.substr(0, colon), colon == std::string::npos ? "str" : body.substr(colon + 1)};
      if (!is_identifier(field.name)) fail(pattern, i + 1, fmt::format("'{}' is not a field name", field.name));
      if (find_field(field.name) != nullptr) fail(pattern, i + 1, fmt::format("field '{}' appears twice", field.name));
      if (field.type == "int") {
        re += "([0-9]+)";
      } else if (field.type == "float") {
        re += "([-+]?[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)";
      } else if (field.type == "str") {
        re += "([^/]+?)";
      } else {
        fail(pattern, i + 1 + colon + 1, fmt::format("unknown field type '{}' (use int, float or str)", field.type));
      }
      fields_.push_back(field);
      i = close + 1;
    } else if (c == '}') {
      fail(pattern, i, "'}' without '{'");
    } else if (c == '*') {
      if (i + 1 < pattern.size() && pattern[i + 1] == '*') {
        re += ".*";
        i += 2;
      } else {
        re += "[^/]*";
        ++i;
      }
    } else {
      if (std::string_view("\\^$.|?+()[]").find(c) != std::string_view::npos) re += '\\';
      re += c;
      ++i;
    }
  }
  regex_ = std::regex(re, std::regex::ECMAScript | std::regex::optimize);
}

const PathPattern::Field* PathPattern::find_field(const std::string& name) const {
  for (const Field& f : fields_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::optional<nlohmann::json> PathPattern::match(const std::string& relative_path) const {
  std::smatch m;
  if (!std::regex_match(relative_path, m, regex_)) return std::nullopt;
  nlohmann::json out = nlohmann::json::object();
  for (size_t k = 0; k < fields_.size(); ++k) {
    const std::string value = m[k + 1].str();
    if (fields_[k].type == "int") {
      std::int64_t n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;  // overflow
      out[fields_[k].name] = n;
    } else if (fields_[k].type == "float") {
      out[fields_[k].name] = std::stod(value);
    } else {
      out[fields_[k].name] = value;
    }
  }
  return out;
}

}  // namespace tessera::app
