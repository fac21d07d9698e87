#include "exchange/ecotaxa_values.hpp"

#include <cctype>
#include <cmath>
#include <cstdint>

#include <fmt/format.h>

namespace tessera::exchange::ecotaxa {
namespace {

bool all_digits(std::string_view text) {
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return !text.empty();
}

int number(std::string_view digits) {
  int v = 0;
  for (const char c : digits) v = v * 10 + (c - '0');
  return v;
}

bool is_leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

}  // namespace

bool is_valid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t extra;
    uint32_t code;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      code = (code << 6) | (cc & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (code < kMin[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

std::optional<std::string> parse_date(std::string_view text) {
  std::string digits;
  if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
    digits = std::string(text.substr(0, 4)) + std::string(text.substr(5, 2)) + std::string(text.substr(8, 2));
  } else if (text.size() == 8) {
    digits = std::string(text);
  } else {
    return std::nullopt;
  }
  if (!all_digits(digits)) return std::nullopt;
  const int year = number(digits.substr(0, 4));
  const int month = number(digits.substr(4, 2));
  const int day = number(digits.substr(6, 2));
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1 || month < 1 || month > 12 || day < 1) return std::nullopt;
  const int last = kDays[month - 1] + (month == 2 && is_leap(year) ? 1 : 0);
  if (day > last) return std::nullopt;
  return digits;
}

std::optional<std::string> parse_time(std::string_view text) {
  std::string digits;
  if (text.size() == 8 && text[2] == ':' && text[5] == ':') {
    digits = std::string(text.substr(0, 2)) + std::string(text.substr(3, 2)) + std::string(text.substr(6, 2));
  } else if (!text.empty() && text.size() <= 6) {
    // Spreadsheets drop leading zeros (0420 -> 420); EcoTaxa pads them back, then pads seconds.
    digits = std::string(text.size() < 4 ? 4 - text.size() : 0, '0') + std::string(text);
    digits.append(6 - digits.size(), '0');
  } else {
    return std::nullopt;
  }
  if (!all_digits(digits)) return std::nullopt;
  if (number(digits.substr(0, 2)) > 23 || number(digits.substr(2, 2)) > 59 || number(digits.substr(4, 2)) > 59) {
    return std::nullopt;
  }
  return digits;
}

std::optional<std::string> parse_status(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.empty() || lower == "predicted" || lower == "validated" || lower == "dubious" || lower == "discarded") {
    return lower;
  }
  return std::nullopt;
}

std::string text_cell(std::string_view text) {
  if (text.find_first_of("\t\r\n\"") == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  out += '"';
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string number_cell(double value) {
  if (!std::isfinite(value)) return {};
  return fmt::format("{}", value);  // shortest round-trip form (Ryu/Dragonbox in fmt)
}

std::string sanitize_field(std::string_view name) {
  std::string out;
  bool pending_gap = false;
  for (const char raw : name) {
    const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(raw)));
    const bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!keep || c == '_') {
      pending_gap = true;
      continue;
    }
    if (pending_gap && !out.empty()) out += '_';
    pending_gap = false;
    out += c;
  }
  return out;
}

}  // namespace tessera::exchange::ecotaxa
