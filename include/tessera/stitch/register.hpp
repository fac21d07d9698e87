#pragma once

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/stitch/tile.hpp"

namespace tessera::stitch {

// How tiles are registered. Offsets are in pixels.
struct RegisterOptions {
  // A pair whose measured offset differs from the nominal one by more is dropped (the stage cannot
  // be that far off). 0 = automatic: 30% of the narrow side of the pair's nominal overlap, the most
  // a correlation over that overlap measures reliably.
  double max_shift = 0;
  // Normalised cross-correlation of the two tiles' overlap at the measured offset, in [-1, 1].
  // Below it the pair has no overlap signal (flat, empty or unrelated content) and is not used.
  double min_quality = 0.3;
  // After the global solve, the pair that disagrees most with the solution is dropped while its
  // residual exceeds this, and the solve repeated.
  double max_residual = 2.0;
  // Neighbours whose nominal overlap is narrower than this on either side are not measured.
  int min_overlap = 16;
  // This tile stays at its nominal position; the others are placed relative to it.
  int anchor = 0;
  // Threads decoding tiles and correlating pairs.
  int jobs = 1;
};

enum class PairStatus { used, no_signal, beyond_max_shift, outlier };
std::string_view to_string(PairStatus status);

// One measured pair of neighbouring tiles: where tile b sits relative to tile a.
struct PairMeasurement {
  int a = 0;
  int b = 0;
  cv::Size overlap;      // nominal overlap (width, height)
  cv::Point2d nominal;   // b's top-left minus a's, nominal
  cv::Point2d measured;  // b's top-left minus a's, from the pixels
  double quality = 0;    // normalised cross-correlation at the measured offset
  double response = 0;   // phase-correlation peak (cv::phaseCorrelate's response)
  PairStatus status = PairStatus::no_signal;
  cv::Point2d residual;  // used pairs: placed offset minus measured offset
};

// Where one tile ended up.
struct TilePlacement {
  cv::Point2d position;  // top-left, in the frame of the nominal positions
  cv::Point2d nominal;
  bool fell_back = false;  // no usable pair with a neighbour: left at its nominal position
  int pairs_used = 0;
  double max_residual = 0;  // largest residual length of its used pairs, px
};

// The result of registration: every tile with its place, and every pair measured. Tiles in a group
// with no usable pair to the anchor's group keep their group's first tile at its nominal position.
struct Placement {
  std::vector<Tile> tiles;
  TileFormat format;
  std::vector<TilePlacement> placed;  // one per tile, same order
  std::vector<PairMeasurement> pairs;
  int anchor = 0;
  double seconds = 0;  // wall time of registration

  int fallbacks() const;
  int pairs_used() const;
  // The integer top-left of each tile in the mosaic image (positions rounded, shifted so the mosaic
  // starts at 0).
  std::vector<cv::Point> mosaic_offsets() const;
  cv::Size mosaic_size() const;
};

// Measures every pair of tiles whose nominal rectangles overlap (phase correlation on the overlap,
// checked and refined by normalised cross-correlation), then solves for all positions at once by
// weighted least squares, dropping pairs that fail the checks in RegisterOptions. Tiles are decoded
// once, `jobs` at a time, and only their overlap windows are kept until both tiles of a pair are
// seen. Requires: every tile has a nominal position (see place_on_grid). Throws
// Error{invalid_argument} naming the option or tile for bad input, and the decoder's errors naming
// an unreadable file.
Placement register_tiles(std::vector<Tile> tiles, const RegisterOptions& options = {});

// One row per tile: tile, row, col, nominal_x/y, x, y, dx, dy (x - nominal_x), mosaic_x/y,
// pairs_used, max_residual, fell_back. For the op's table facet and the CLI's report.
nlohmann::json placement_rows(const Placement& placement);
// The same rows as CSV with a header line.
std::string placement_csv(const Placement& placement);

// One row per measured pair: tile_a, tile_b, overlap_w/h, nominal_dx/dy, measured_dx/dy, quality,
// response, status, residual (length, px; used and outlier pairs). To see why a tile fell back.
nlohmann::json pair_rows(const Placement& placement);
std::string pairs_csv(const Placement& placement);

}  // namespace tessera::stitch
