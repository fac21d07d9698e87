#pragma once

#include <filesystem>
#include <opencv2/core.hpp>
#include <string>

#include "tessera/stitch/register.hpp"

namespace tessera::stitch {

// How a mosaic is blended and written.
struct MosaicOptions {
  // Width in pixels of the linear ramp each tile's weight rises over from its edges: overlaps
  // cross-fade instead of showing a seam. 0 = automatic: the nominal overlap of neighbouring tiles
  // on each axis.
  int feather = 0;
  bool pyramid = false;  // TIFF: add reduced-resolution levels (for viewers and tiles)
  std::string compression = "deflate";  // TIFF: none, deflate or lzw
};

// What render_mosaic wrote.
struct MosaicInfo {
  cv::Size size;
  double seconds = 0;
  // Tile images opened while writing: one per tile, each closed after its last mosaic row (more
  // would mean a tile was read twice).
  int tile_opens = 0;
};

// Blends the placed tiles (integer positions from Placement::mosaic_offsets(); each output pixel is
// the feather-weighted mean of the tiles covering it, 0 where none does) and writes the mosaic to
// `path`: .tif/.tiff as a tiled TIFF (BigTIFF when large), .png as PNG (8- or 16-bit tiles only).
// libvips pulls the tiles' files strip by strip as the file is written, so the mosaic never has to
// fit in memory. The file appears atomically (temp file, rename). Throws Error{invalid_argument}
// naming the option or the path for an unsupported extension, compression or pixel type, and
// Error{io} when writing fails.
MosaicInfo render_mosaic(const Placement& placement, const std::filesystem::path& path,
                         const MosaicOptions& options = {});

// Throws what render_mosaic would for this path, pixel type and options, before any work is done.
void check_mosaic_output(const std::filesystem::path& path, const TileFormat& format,
                         const MosaicOptions& options);

// The same blend into memory, for mosaics that fit (ops, tests, previews).
cv::Mat compose(const Placement& placement, const MosaicOptions& options = {});

}  // namespace tessera::stitch
