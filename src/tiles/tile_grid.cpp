#include "tessera/tiles/tile_grid.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "tessera/core/error.hpp"

namespace tessera::tiles {
namespace {

constexpr std::int64_t kMaxSide = std::int64_t{1} << 30;

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

}  // namespace

TileGrid::TileGrid(std::int64_t width, std::int64_t height) {
  if (width < 1 || height < 1 || width > kMaxSide || height > kMaxSide) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("tiles: image size must be in [1, {}] on each side, got {}x{}", kMaxSide, width, height));
  }
  width_ = static_cast<int>(width);
  height_ = static_cast<int>(height);
  const std::int64_t longest = std::max(width, height);
  int zoom = 0;
  while ((std::int64_t{kTileSize} << zoom) < longest) ++zoom;
  max_zoom_ = zoom;
}

Level TileGrid::level(int z) const {
  if (z < 0 || z > max_zoom_) {
    throw Error(ErrorCode::invalid_argument, fmt::format("tiles: zoom {} is outside [0, {}]", z, max_zoom_));
  }
  Level level;
  level.z = z;
  level.scale = std::int64_t{1} << (max_zoom_ - z);
  level.width = static_cast<int>(ceil_div(width_, level.scale));
  level.height = static_cast<int>(ceil_div(height_, level.scale));
  level.tiles_x = static_cast<int>(ceil_div(level.width, kTileSize));
  level.tiles_y = static_cast<int>(ceil_div(level.height, kTileSize));
  return level;
}

bool TileGrid::contains(std::int64_t z, std::int64_t x, std::int64_t y) const {
  if (z < 0 || z > max_zoom_ || x < 0 || y < 0) return false;
  const Level l = level(static_cast<int>(z));
  return x < l.tiles_x && y < l.tiles_y;
}

}  // namespace tessera::tiles
