// File names on both sides of a crowd job (formats.md 1.3, 1.4, 1.7).
#include <charconv>

#include <fmt/format.h>

#include "tessera/exchange/montage.hpp"

namespace tessera::exchange {
namespace {

// A non-negative decimal number that is the whole of text.
std::optional<int> whole_number(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::string chopper_log_name(std::string_view id) { return fmt::format("{}_overlapping_chopper_log.json", id); }
std::string montage_log_name(std::string_view id) { return fmt::format("{}_montage_maker_log.json", id); }

std::string chopped_frame_name(std::string_view id, int x, int y, int frame, std::string_view ext) {
  return fmt::format("{}_x_{:02}_y_{:02}_frame_{:03}{}", id, x, y, frame, ext);
}

std::string montage_name(std::string_view id, int x, int y, int montage) {
  return fmt::format("{}_x_{}_y_{}_montage_{}.png", id, x, y, montage);
}

std::string position_folder(int x, int y) { return fmt::format("x_{:02}_y_{:02}", x, y); }

std::string annotated_frame_name(std::string_view id, int x, int y, int frame) {
  return fmt::format("{}_x_{:02}_y_{:02}_frame_{:03}.png", id, x, y, frame);
}

std::string raw_frame_name(std::string_view id, int x, int y, int frame) {
  return fmt::format("{}_raw_x_{:02}_y_{:02}_frame_{:03}.tif", id, x, y, frame);
}

std::optional<MontageKey> parse_montage_stem(std::string_view stem) {
  // Taken apart from the right, so an identifier may itself contain "_x_" or digits.
  size_t m = stem.rfind("_montage_");
  if (m == std::string_view::npos) return std::nullopt;
  size_t y = stem.rfind("_y_", m);
  if (y == std::string_view::npos) return std::nullopt;
  size_t x = stem.rfind("_x_", y);
  if (x == std::string_view::npos || x == 0) return std::nullopt;
  auto montage = whole_number(stem.substr(m + 9));
  auto yv = whole_number(stem.substr(y + 3, m - y - 3));
  auto xv = whole_number(stem.substr(x + 3, y - x - 3));
  if (!montage || !yv || !xv) return std::nullopt;
  return MontageKey{std::string(stem.substr(0, x)), *xv, *yv, *montage};
}

}  // namespace tessera::exchange
