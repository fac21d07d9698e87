#pragma once

#include <cstdint>

namespace tessera::tiles {

// Edge of every tile, in pixels of its level.
inline constexpr int kTileSize = 256;

// One level of a pyramid. Level pixel (i, j) covers the source pixels [i*scale, (i+1)*scale) x
// [j*scale, (j+1)*scale), clipped to the image, so a level is ceil(width / scale) x ceil(height / scale).
struct Level {
  int z = 0;
  std::int64_t scale = 1;  // 2^(max_zoom - z): source pixels per level pixel along each axis
  int width = 0;
  int height = 0;
  int tiles_x = 0;  // ceil(width / 256)
  int tiles_y = 0;
};

// The XYZ grid of an image's tile pyramid. z = 0 is the smallest level where the whole image fits one
// 256-px tile; each level doubles the previous one; z = max_zoom() is full resolution. x grows to the right
// and y downwards from the top-left corner. Tiles on the right and bottom edges cover less than 256 px of
// image; the tile files are always 256 x 256 (see TileCache). Cheap to build, no I/O.
class TileGrid {
 public:
  // Error{invalid_argument} unless both sides are in [1, 2^30].
  TileGrid(std::int64_t width, std::int64_t height);

  int width() const { return width_; }
  int height() const { return height_; }
  int max_zoom() const { return max_zoom_; }
  int level_count() const { return max_zoom_ + 1; }

  // Error{invalid_argument} when z is outside [0, max_zoom()].
  Level level(int z) const;
  // True when (z, x, y) names a tile of the pyramid; any integers are accepted (absurd ones give false).
  bool contains(std::int64_t z, std::int64_t x, std::int64_t y) const;

 private:
  int width_;
  int height_;
  int max_zoom_;
};

}  // namespace tessera::tiles
