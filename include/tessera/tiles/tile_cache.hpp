#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "tessera/blob/blob_store.hpp"
#include "tessera/tiles/render_spec.hpp"
#include "tessera/tiles/tile_grid.hpp"

namespace tessera::tiles {

// Where a tile lives and the name HTTP caches know it by. Computing it reads nothing.
struct TileAddress {
  std::string pyramid;  // hex SHA-256 of pyramid_key(): the folder of this pyramid
  std::string file;     // <blob root>/tiles/<pyramid[0:2]>/<pyramid>/<z>/<x>/<y>.<ext>
  std::string etag;     // "\"<pyramid[0:32]>-<z>-<x>-<y>\"": a tile's bytes never change for its key
};

// Counters of the work a cache did in this process (per blob root), for tests and logs.
struct TileCacheStats {
  std::uint64_t source_reads = 0;  // times a source image file was opened and streamed
  std::uint64_t tiles_written = 0;
  std::uint64_t windows_computed = 0;  // auto windows computed (each is one or two source reads)
};

// Progress of build_pyramid: tiles visited so far (present or written) out of all tiles of all levels.
// May throw to stop the build (a cancelled job); tiles already written stay.
using PyramidProgress = std::function<void(std::int64_t done, std::int64_t total)>;

// Tile pyramids of images in a blob store, derived data cached on disk under <blob root>/tiles/ (design.md:
// "tile pyramids are derived blobs, built on demand or by a job"). A pyramid is keyed by (image blob,
// frame, channels, window, format); a tile file is 256 x 256 (edge tiles padded, see encode_tile) and is
// written to a temp file and renamed, so readers see a whole tile or none. Resolved auto windows are cached
// in <blob root>/tiles/windows/. The cache is derived: deleting <blob root>/tiles loses only time.
//
// Handles are cheap; every handle on the same blob root shares one set of locks and counters in the
// process, so concurrent requests for tiles of one block render it once. Thread-safe. Several processes
// may share a root (they may then render a block twice, harmlessly: the bytes are equal).
class TileCache {
 public:
  explicit TileCache(const blob::BlobStore& blobs);

  // Error{not_found} when (z, x, y) is not a tile of the image's grid.
  TileAddress address(const SourceImage& source, const RenderSpec& spec, std::int64_t z, std::int64_t x,
                      std::int64_t y) const;

  // The hot path: the cached tile's bytes, or nullopt when it is not rendered yet (or was cut short by a
  // crash). Never decodes anything: the bytes come from a bounded in-memory set of recently served tiles
  // (64 MiB per blob root) or from one file read.
  std::optional<std::string> find_tile(const TileAddress& address, TileFormat format) const;

  // The cached tile, or renders the block of up to 8 x 8 tiles of its level around it (one streaming read
  // of the source, then the tile's neighbours are hits) and returns it. Error{not_found} outside the grid,
  // Error{corrupt} when the source cannot be read.
  std::string get_tile(const SourceImage& source, const RenderSpec& spec, std::int64_t z, std::int64_t x,
                       std::int64_t y);

  // Renders every tile of every level that is not cached yet, one streaming read of the source per level
  // (the job kind tiles.pyramid calls this ahead of viewers). Returns the number of tiles written.
  std::int64_t build_pyramid(const SourceImage& source, const RenderSpec& spec, const PyramidProgress& progress = {});

  // The window the spec resolves to on this image (auto percentiles computed once, then cached).
  Window window(const SourceImage& source, const RenderSpec& spec);

  // The pyramid's description for viewers: size, tile size, levels, formats, frames, channels, pixel type
  // and the spec's resolved window (computing an auto window reads the source once, then it is cached).
  nlohmann::json describe(const SourceImage& source, const RenderSpec& spec);

  TileCacheStats stats() const;

  struct State;

 private:
  std::string render_block(const SourceImage& source, const RenderSpec& spec, const Level& level,
                           const TileAddress& wanted, std::int64_t x, std::int64_t y);

  const blob::BlobStore& blobs_;
  std::shared_ptr<State> state_;
};

}  // namespace tessera::tiles
