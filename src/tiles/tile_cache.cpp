#include "tessera/tiles/tile_cache.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <map>
#include <mutex>
#include <random>
#include <unordered_map>

#include "tessera/core/error.hpp"
#include "tessera/core/sha256.hpp"
#include "tiles/level_render.hpp"
#include "tiles/tile_encode.hpp"
#include "tiles/window.hpp"

namespace tessera::tiles {
namespace fs = std::filesystem;
using image::detail::VipsRef;

namespace {

// A miss renders the block of kBlockTiles x kBlockTiles tiles around the tile: a viewer asks for a
// screenful of neighbours at once, and one source read then serves them all, while a block of a huge
// level stays bounded (2048 x 2048 level pixels).
constexpr int kBlockTiles = 8;
constexpr size_t kStripes = 64;
constexpr size_t kRememberedWindows = 100000;
constexpr size_t kRememberedKeys = 100000;
// Recently served tiles kept in memory: a viewer's screenful is a few hundred kilobytes, and serving from
// memory saves the open/read/close of every request (measured: ~6% of the server's time at 15,000
// requests/s went to opening tile files).
constexpr size_t kHotTileBytes = 64u << 20;

std::string host_name() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof buffer - 1) != 0) return "host";
  return buffer;
}

}  // namespace

// Recently read tiles by file name, least recently used dropped first once over the byte budget.
class HotTiles {
 public:
  std::optional<std::string> find(const std::string& file) {
    std::lock_guard lock(mutex_);
    auto it = index_.find(file);
    if (it == index_.end()) return std::nullopt;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->second;
  }

  void add(const std::string& file, const std::string& bytes) {
    if (bytes.size() > kHotTileBytes / 16) return;
    std::lock_guard lock(mutex_);
    if (index_.count(file)) return;
    order_.emplace_front(file, bytes);
    index_[file] = order_.begin();
    held_ += bytes.size();
    while (held_ > kHotTileBytes && !order_.empty()) {
      held_ -= order_.back().second.size();
      index_.erase(order_.back().first);
      order_.pop_back();
    }
  }

 private:
  std::mutex mutex_;
  std::list<std::pair<std::string, std::string>> order_;  // most recent first
  std::unordered_map<std::string, std::list<std::pair<std::string, std::string>>::iterator> index_;
  size_t held_ = 0;
};

// Per blob root, shared by every handle in the process.
struct TileCache::State {
  fs::path root;  // <blob root>/tiles
  std::string root_text;
  fs::path tmp;  // <blob root>/tmp: the blob store removes what dead writers leave there
  std::array<std::mutex, kStripes> block_locks;   // one renderer per block at a time
  std::array<std::mutex, kStripes> window_locks;  // one computation per window at a time
  std::mutex windows_mutex;
  std::map<std::string, Window> windows;  // by window key
  std::mutex keys_mutex;
  std::unordered_map<std::string, std::string> pyramid_hashes;  // pyramid key -> its SHA-256, as hashed
  HotTiles hot;
  std::atomic<std::uint64_t> source_reads{0};
  std::atomic<std::uint64_t> tiles_written{0};
  std::atomic<std::uint64_t> windows_computed{0};
};

namespace {

// States live as long as the process (a few kilobytes per blob root): the remembered windows and the
// counters must outlast the handle of one request.
std::shared_ptr<TileCache::State> shared_state(const fs::path& blob_root) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<TileCache::State>> states;
  const std::string key = fs::absolute(blob_root).lexically_normal().string();
  std::lock_guard lock(mutex);
  if (auto existing = states[key]) return existing;
  auto state = std::make_shared<TileCache::State>();
  state->root = blob_root / "tiles";
  state->root_text = state->root.string();
  state->tmp = blob_root / "tmp";
  states[key] = state;
  return state;
}

std::mutex& stripe(std::array<std::mutex, kStripes>& locks, const std::string& name) {
  return locks[std::hash<std::string>{}(name) % kStripes];
}

std::string source_name(const SourceImage& source) { return fmt::format("image {}", source.blob_hash.substr(0, 12)); }

// The whole file, or nullopt when it does not exist.
std::optional<std::string> read_if_present(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw Error(ErrorCode::io, fmt::format("tiles: cannot open '{}': {}", path.string(), std::strerror(errno)));
  }
  struct stat info {};
  std::string bytes;
  if (::fstat(fd, &info) == 0) bytes.resize(static_cast<size_t>(info.st_size));
  size_t filled = 0;
  while (filled < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + filled, bytes.size() - filled);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    filled += static_cast<size_t>(n);
  }
  ::close(fd);
  bytes.resize(filled);
  return bytes;
}

// Derived data is written to a temp file and renamed, without fsync: a crash can at worst leave a tile
// cut short, which find_tile() recognises by its missing end and renders again. Syncing every tile would
// cost ~4 ms each on this storage, longer than rendering it.
void write_derived(const fs::path& target, std::string_view bytes, const fs::path& tmp_dir) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const std::string host = host_name();
  const fs::path temp = tmp_dir / fmt::format("{}-{:016x}-{}", ::getpid(), rng(), host);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    throw Error(ErrorCode::io, fmt::format("tiles: cannot create '{}': {}", temp.string(), std::strerror(errno)));
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int saved = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      throw Error(ErrorCode::io, fmt::format("tiles: cannot write '{}': {}", temp.string(), std::strerror(saved)));
    }
    written += static_cast<size_t>(n);
  }
  ::close(fd);
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temp.c_str());
    throw Error(ErrorCode::io, fmt::format("tiles: cannot store '{}': {}", target.string(), std::strerror(saved)));
  }
}

fs::path pyramid_folder(const fs::path& root, const std::string& pyramid) {
  return root / pyramid.substr(0, 2) / pyramid;
}

fs::path tile_file(const fs::path& folder, std::int64_t z, std::int64_t x, std::int64_t y, TileFormat format) {
  return folder / std::to_string(z) / std::to_string(x) / fmt::format("{}.{}", y, to_string(format));
}

nlohmann::json window_json(const RenderSpec& spec, const Window& window) {
  nlohmann::json json{{"min", window.min}, {"max", window.max}};
  switch (spec.window.mode) {
    case WindowSpec::Mode::identity:
      json["mode"] = "identity";
      break;
    case WindowSpec::Mode::range:
      json["mode"] = "range";
      break;
    case WindowSpec::Mode::percentiles:
      json["mode"] = "percentiles";
      json["percentiles"] = {spec.window.low, spec.window.high};
      break;
  }
  return json;
}

// Written once per pyramid, for people and tools looking at the cache folder: what the tiles are of.
void write_manifest(const fs::path& folder, const std::string& key, const SourceImage& source, const RenderSpec& spec,
                    const Window& window, const fs::path& tmp_dir) {
  const fs::path path = folder / "pyramid.json";
  std::error_code ec;
  if (fs::exists(path, ec)) return;
  const nlohmann::json manifest{{"key", key},
                                {"blob", source.blob_hash},
                                {"width", source.width},
                                {"height", source.height},
                                {"frame", spec.frame},
                                {"channels", spec.channels},
                                {"format", to_string(spec.format)},
                                {"window", window_json(spec, window)}};
  write_derived(path, manifest.dump(2) + "\n", tmp_dir);
}

}  // namespace

TileCache::TileCache(const blob::BlobStore& blobs) : blobs_(blobs), state_(shared_state(blobs.root())) {}

TileAddress TileCache::address(const SourceImage& source, const RenderSpec& spec, std::int64_t z, std::int64_t x,
                               std::int64_t y) const {
  const TileGrid grid(source.width, source.height);
  if (!grid.contains(z, x, y)) {
    throw Error(ErrorCode::not_found,
                fmt::format("tiles: no tile {}/{}/{}: the image has zoom levels 0 to {}", z, x, y, grid.max_zoom()));
  }
  TileAddress address;
  std::string key = pyramid_key(source, spec);
  {
    std::lock_guard lock(state_->keys_mutex);
    auto it = state_->pyramid_hashes.find(key);
    if (it != state_->pyramid_hashes.end()) address.pyramid = it->second;
  }
  if (address.pyramid.empty()) {
    address.pyramid = sha256_hex(key);
    std::lock_guard lock(state_->keys_mutex);
    if (state_->pyramid_hashes.size() >= kRememberedKeys) state_->pyramid_hashes.clear();
    state_->pyramid_hashes.emplace(std::move(key), address.pyramid);
  }
  // Plain text, not fs::path: splitting paths into components cost 3% of the hot path.
  address.file = fmt::format("{}/{}/{}/{}/{}/{}.{}", state_->root_text, std::string_view(address.pyramid).substr(0, 2),
                             address.pyramid, z, x, y, to_string(spec.format));
  address.etag = fmt::format("\"{}-{}-{}-{}\"", std::string_view(address.pyramid).substr(0, 32), z, x, y);
  return address;
}

std::optional<std::string> TileCache::find_tile(const TileAddress& address, TileFormat format) const {
  if (auto hot = state_->hot.find(address.file)) return hot;
  auto bytes = read_if_present(address.file);
  if (!bytes || !detail::is_complete_tile(*bytes, format)) return std::nullopt;
  state_->hot.add(address.file, *bytes);
  return bytes;
}

std::string TileCache::get_tile(const SourceImage& source, const RenderSpec& spec, std::int64_t z, std::int64_t x,
                                std::int64_t y) {
  const TileAddress wanted = address(source, spec, z, x, y);
  if (auto cached = find_tile(wanted, spec.format)) return std::move(*cached);
  const std::string block = fmt::format("{}/{}/{}/{}", wanted.pyramid, z, x / kBlockTiles, y / kBlockTiles);
  std::lock_guard lock(stripe(state_->block_locks, block));
  // Another request may have rendered the block while this one waited.
  if (auto cached = find_tile(wanted, spec.format)) return std::move(*cached);
  const Level level = TileGrid(source.width, source.height).level(static_cast<int>(z));
  return render_block(source, spec, level, wanted, x, y);
}

std::string TileCache::render_block(const SourceImage& source, const RenderSpec& spec, const Level& level,
                                    const TileAddress& wanted, std::int64_t x, std::int64_t y) {
  const std::string name = source_name(source);
  const Window resolved = window(source, spec);
  const fs::path folder = pyramid_folder(state_->root, wanted.pyramid);
  write_manifest(folder, pyramid_key(source, spec), source, spec, resolved, state_->tmp);

  const int first_x = static_cast<int>(x / kBlockTiles) * kBlockTiles;
  const int first_y = static_cast<int>(y / kBlockTiles) * kBlockTiles;
  const int last_x = std::min(first_x + kBlockTiles, level.tiles_x);
  const int last_y = std::min(first_y + kBlockTiles, level.tiles_y);
  const cv::Rect area(first_x * kTileSize, first_y * kTileSize,
                      std::min(level.width, last_x * kTileSize) - first_x * kTileSize,
                      std::min(level.height, last_y * kTileSize) - first_y * kTileSize);

  ++state_->source_reads;
  detail::Selection selection = detail::open_selection(blobs_.path_of(source.blob_hash), source, spec);
  const bool random_access = selection.random_access;
  VipsRef display = detail::display_level(std::move(selection.image), level, spec.window, resolved, name);
  cv::Mat pixels;
  if (random_access) {
    pixels = detail::render_area(display.get(), area, name);
  } else {
    // Asking libvips for an area far down a sequential file makes it buffer every row above (measured:
    // 430 MB to reach the last block of a 20000^2 PNG); streaming past them holds one strip.
    pixels.create(area.height, area.width, CV_8UC(vips_image_get_bands(display.get())));
    detail::stream_rows(
        display.get(), area,
        [&](int ty, const cv::Mat& strip) {
          strip.copyTo(pixels.rowRange(ty * kTileSize - area.y, ty * kTileSize - area.y + strip.rows));
        },
        name);
  }

  std::string wanted_bytes;
  for (int ty = first_y; ty < last_y; ++ty) {
    for (int tx = first_x; tx < last_x; ++tx) {
      const cv::Rect tile = cv::Rect(tx * kTileSize, ty * kTileSize, kTileSize, kTileSize) & cv::Rect(area);
      const cv::Mat tile_pixels = pixels(tile - area.tl());
      std::string bytes = detail::encode_tile(tile_pixels, spec.format);
      write_derived(tile_file(folder, level.z, tx, ty, spec.format), bytes, state_->tmp);
      ++state_->tiles_written;
      if (tx == x && ty == y) wanted_bytes = std::move(bytes);
    }
  }
  return wanted_bytes;
}

std::int64_t TileCache::build_pyramid(const SourceImage& source, const RenderSpec& spec,
                                      const PyramidProgress& progress) {
  const TileGrid grid(source.width, source.height);
  const std::string name = source_name(source);
  const std::string key = pyramid_key(source, spec);
  const fs::path folder = pyramid_folder(state_->root, sha256_hex(key));
  std::int64_t total = 0;
  for (int z = 0; z < grid.level_count(); ++z) {
    const Level level = grid.level(z);
    total += static_cast<std::int64_t>(level.tiles_x) * level.tiles_y;
  }
  std::int64_t done = 0;
  std::int64_t written = 0;
  for (int z = 0; z < grid.level_count(); ++z) {
    const Level level = grid.level(z);
    auto is_missing = [&](int tx, int ty) {
      std::error_code ec;
      return !fs::exists(tile_file(folder, z, tx, ty, spec.format), ec);
    };
    std::vector<std::vector<int>> missing(static_cast<size_t>(level.tiles_y));
    bool any_missing = false;
    for (int ty = 0; ty < level.tiles_y; ++ty) {
      for (int tx = 0; tx < level.tiles_x; ++tx) {
        if (is_missing(tx, ty)) missing[static_cast<size_t>(ty)].push_back(tx);
      }
      any_missing = any_missing || !missing[static_cast<size_t>(ty)].empty();
    }
    if (!any_missing) {
      done += static_cast<std::int64_t>(level.tiles_x) * level.tiles_y;
      if (progress) progress(done, total);
      continue;
    }
    const Window resolved = window(source, spec);
    write_manifest(folder, key, source, spec, resolved, state_->tmp);
    ++state_->source_reads;
    VipsRef display =
        detail::display_level(detail::open_selection(blobs_.path_of(source.blob_hash), source, spec).image, level,
                              spec.window, resolved, name);
    // One pipeline per level, streamed top to bottom, so the source is read once per level.
    detail::stream_rows(
        display.get(), cv::Rect(0, 0, level.width, level.height),
        [&](int ty, const cv::Mat& strip) {
          for (int tx : missing[static_cast<size_t>(ty)]) {
            const cv::Rect tile =
                cv::Rect(tx * kTileSize, 0, kTileSize, kTileSize) & cv::Rect(0, 0, strip.cols, strip.rows);
            write_derived(tile_file(folder, z, tx, ty, spec.format), detail::encode_tile(strip(tile), spec.format),
                          state_->tmp);
            ++state_->tiles_written;
            ++written;
          }
          done += level.tiles_x;
          if (progress) progress(done, total);
        },
        name);
  }
  return written;
}

Window TileCache::window(const SourceImage& source, const RenderSpec& spec) {
  if (spec.window.mode != WindowSpec::Mode::percentiles) {
    return detail::compute_window(spec.window, source.pixel_type, {}, source_name(source));
  }
  const std::string key = window_key(source, spec);
  auto remembered = [&]() -> std::optional<Window> {
    std::lock_guard lock(state_->windows_mutex);
    auto it = state_->windows.find(key);
    if (it == state_->windows.end()) return std::nullopt;
    return it->second;
  };
  auto remember = [&](Window w) {
    std::lock_guard lock(state_->windows_mutex);
    // Bounded: forgetting only costs a small file read.
    if (state_->windows.size() >= kRememberedWindows) state_->windows.clear();
    state_->windows[key] = w;
    return w;
  };
  if (auto known = remembered()) return *known;
  std::lock_guard computing(stripe(state_->window_locks, key));
  if (auto known = remembered()) return *known;
  const fs::path file = state_->root / "windows" / (sha256_hex(key) + ".json");
  if (auto text = read_if_present(file)) {
    try {
      const auto json = nlohmann::json::parse(*text);
      return remember(Window{json.at("min").get<double>(), json.at("max").get<double>()});
    } catch (const nlohmann::json::exception&) {
      // A damaged cache entry is computed again below and overwritten.
    }
  }
  const Window computed = detail::compute_window(
      spec.window, source.pixel_type,
      [&] {
        ++state_->source_reads;
        return std::move(detail::open_selection(blobs_.path_of(source.blob_hash), source, spec).image);
      },
      source_name(source));
  ++state_->windows_computed;
  write_derived(file, nlohmann::json{{"key", key}, {"min", computed.min}, {"max", computed.max}}.dump() + "\n",
                state_->tmp);
  return remember(computed);
}

nlohmann::json TileCache::describe(const SourceImage& source, const RenderSpec& spec) {
  const TileGrid grid(source.width, source.height);
  nlohmann::json levels = nlohmann::json::array();
  nlohmann::json resolutions = nlohmann::json::array();
  for (int z = 0; z < grid.level_count(); ++z) {
    const Level level = grid.level(z);
    levels.push_back({{"z", z},
                      {"width", level.width},
                      {"height", level.height},
                      {"tiles_x", level.tiles_x},
                      {"tiles_y", level.tiles_y},
                      {"scale", level.scale}});
    resolutions.push_back(level.scale);
  }
  return nlohmann::json{{"width", source.width},
                        {"height", source.height},
                        {"tile_size", kTileSize},
                        {"min_zoom", 0},
                        {"max_zoom", grid.max_zoom()},
                        {"levels", levels},
                        {"resolutions", resolutions},
                        {"formats", {"png", "jpg", "webp"}},
                        {"frames", source.frames},
                        {"channels", source.channels},
                        {"pixel_type", image::to_string(source.pixel_type)},
                        {"frame", spec.frame},
                        {"selected_channels", spec.channels},
                        {"window", window_json(spec, window(source, spec))}};
}

TileCacheStats TileCache::stats() const {
  return {state_->source_reads.load(), state_->tiles_written.load(), state_->windows_computed.load()};
}

}  // namespace tessera::tiles
