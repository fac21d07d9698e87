#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

namespace tessera::stitch {

// One tile of a mosaic: pixels in memory or a file read when needed, and its approximate (nominal)
// place, as a stage or a file name gives it. Copying a Tile shares its pixels (cv::Mat semantics).
struct Tile {
  std::string name;            // names the tile in errors and reports (the file path for files)
  std::filesystem::path path;  // read from here when image is empty
  cv::Mat image;               // pixels, channels in file order (RGB), or empty to read path
  std::optional<cv::Point2d>
      nominal;   // approximate top-left in mosaic pixels; unset = from row/col
  int row = -1;  // grid indices when known (layout and reports), -1 = unknown
  int col = -1;

  static Tile from_file(std::filesystem::path path);
  static Tile from_image(std::string name, cv::Mat image);
};

// What every tile of a mosaic shares.
struct TileFormat {
  cv::Size size;
  int type = 0;  // OpenCV type: depth and channels
};

// The common size and type of the tiles, from file headers only (pixels are not decoded).
// Throws Error{invalid_argument} for an empty list or naming the first tile whose size or type
// differs from the first tile's, and the decoder's Error (io, corrupt, unsupported) naming an
// unreadable file.
TileFormat probe_tiles(const std::vector<Tile>& tiles);

// The pixels of a tile: its image, or the first frame of its file, decoded.
cv::Mat load_tile(const Tile& tile);

// Gives tiles, in their order, grid indices: `columns` per row, row by row; with snake, odd rows
// run right to left (a serpentine stage scan). The last row may be partial. Error{invalid_argument}
// naming 'columns' when it is below 1.
void fill_grid(std::vector<Tile>& tiles, int columns, bool snake = false);

// Sets the nominal position of every tile that has none from its row and col: col * width * (1 -
// overlap_x), row * height * (1 - overlap_y). Error{invalid_argument} naming the overlap parameter
// outside [0, 0.9] or a tile with neither a position nor grid indices.
void place_on_grid(std::vector<Tile>& tiles, cv::Size tile_size, double overlap_x,
                   double overlap_y);

// Reads a tile's place from one table row: "x" and "y" (pixels) and/or "row" and "col" (grid
// indices), as numbers or numeric text; other fields are ignored. Error{invalid_argument} naming
// `where` and the field for a non-numeric value, only one of a pair, negative indices, or neither
// pair.
void apply_layout_row(Tile& tile, const nlohmann::json& row, const std::string& where);

}  // namespace tessera::stitch
