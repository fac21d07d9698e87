#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

#include "catalog/db.hpp"
#include "tessera/core/error.hpp"

namespace tessera::catalog {

bool Rows::is_null(size_t row, size_t col) const {
  return std::holds_alternative<std::nullptr_t>(cell(row, col));
}

std::int64_t Rows::i64(size_t row, size_t col) const {
  const SqlValue& v = cell(row, col);
  if (auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  if (auto* s = std::get_if<std::string>(&v)) {
    std::int64_t out = 0;
    auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
    if (ec == std::errc() && end == s->data() + s->size()) return out;
  }
  throw Error(ErrorCode::internal, fmt::format("catalog: column '{}' is not an integer", columns_[col]));
}

double Rows::f64(size_t row, size_t col) const {
  const SqlValue& v = cell(row, col);
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  if (auto* s = std::get_if<std::string>(&v)) {
    char* end = nullptr;
    const double out = std::strtod(s->c_str(), &end);
    if (end != s->c_str() && *end == '\0') return out;
  }
  throw Error(ErrorCode::internal, fmt::format("catalog: column '{}' is not a number", columns_[col]));
}

std::string Rows::text(size_t row, size_t col) const {
  const SqlValue& v = cell(row, col);
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  return {};
}

std::optional<std::int64_t> Rows::opt_i64(size_t row, size_t col) const {
  if (is_null(row, col)) return std::nullopt;
  return i64(row, col);
}
std::optional<double> Rows::opt_f64(size_t row, size_t col) const {
  if (is_null(row, col)) return std::nullopt;
  return f64(row, col);
}
std::optional<std::string> Rows::opt_text(size_t row, size_t col) const {
  if (is_null(row, col)) return std::nullopt;
  return text(row, col);
}

}  // namespace tessera::catalog
