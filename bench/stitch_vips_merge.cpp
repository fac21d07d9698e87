// tessera_bench_stitch_vips_merge: the stitching benchmark's anchor. libvips' own mosaicking joins
// the same tiles at their nominal grid places, no registration: each row left to right with
// vips_merge (horizontal), then the rows top to bottom (vertical), blended over the whole overlap,
// written as the same tiled, deflate-compressed TIFF as `tessera stitch` writes.
//
//   tessera_bench_stitch_vips_merge DIR COLS ROWS TILE OVERLAP OUT.tif [--concurrency N]
//
// Tiles are DIR/tile_r<R>_c<C>.tif; the nominal step is round(TILE * (1 - OVERLAP)). libvips runs
// with N worker threads (default 1, as tessera runs it).
#include <vips/vips.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "tessera_bench_stitch_vips_merge: %s: %s\n", what.c_str(),
               vips_error_buffer());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7 && argc != 9) {
    std::fprintf(stderr,
                 "usage: tessera_bench_stitch_vips_merge DIR COLS ROWS TILE OVERLAP OUT.tif "
                 "[--concurrency N]\n");
    return 2;
  }
  if (VIPS_INIT(argv[0]) != 0) fail("libvips failed to start");
  const std::string dir = argv[1];
  const int cols = std::atoi(argv[2]);
  const int rows = std::atoi(argv[3]);
  const int tile = std::atoi(argv[4]);
  const double overlap = std::atof(argv[5]);
  const std::string out = argv[6];
  vips_concurrency_set(argc == 9 ? std::atoi(argv[8]) : 1);
  vips_cache_set_max(0);
  const int step = static_cast<int>(std::lround(tile * (1.0 - overlap)));
  const int blend = tile - step;
  std::vector<VipsImage*> keep;  // every intermediate stays alive until the file is written
  VipsImage* mosaic = nullptr;
  for (int r = 0; r < rows; ++r) {
    VipsImage* row = nullptr;
    for (int c = 0; c < cols; ++c) {
      const std::string path =
          dir + "/tile_r" + std::to_string(r) + "_c" + std::to_string(c) + ".tif";
      VipsImage* t = vips_image_new_from_file(path.c_str(), nullptr);
      if (t == nullptr) fail(path);
      keep.push_back(t);
      if (row == nullptr) {
        row = t;
        continue;
      }
      VipsImage* joined = nullptr;
      // vips_merge places sec at (-dx, -dy) relative to ref: here c steps to the right of the row's
      // start.
      if (vips_merge(row, t, &joined, VIPS_DIRECTION_HORIZONTAL, -c * step, 0, "mblend", blend,
                     nullptr) != 0) {
        fail("merge " + path);
      }
      keep.push_back(joined);
      row = joined;
    }
    if (mosaic == nullptr) {
      mosaic = row;
      continue;
    }
    VipsImage* joined = nullptr;
    if (vips_merge(mosaic, row, &joined, VIPS_DIRECTION_VERTICAL, 0, -r * step, "mblend", blend,
                   nullptr) != 0) {
      fail("merge row " + std::to_string(r));
    }
    keep.push_back(joined);
    mosaic = joined;
  }
  if (vips_tiffsave(mosaic, out.c_str(), "tile", TRUE, "tile_width", 256, "tile_height", 256,
                    "compression", VIPS_FOREIGN_TIFF_COMPRESSION_DEFLATE, nullptr) != 0) {
    fail("write " + out);
  }
  std::printf("%dx%d\n", vips_image_get_width(mosaic), vips_image_get_height(mosaic));
  for (auto it = keep.rbegin(); it != keep.rend(); ++it) g_object_unref(*it);
  vips_shutdown();
  return 0;
}
