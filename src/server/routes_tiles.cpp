// Tiles of an image's pyramid (docs/api/tiles.md): the pyramid's description and 256-px tiles in an XYZ
// grid, with frame, channel and contrast-window selection. Mask overlays are routes_annotations.cpp's.
#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <mutex>
#include <unordered_map>

#include "server/routes.hpp"
#include "tessera/app/job_kinds.hpp"
#include "tessera/core/error.hpp"
#include "tessera/tiles/tile_cache.hpp"

namespace tessera::server {
namespace {

// A year: a tile's bytes never change for its URL (the key covers the image's content and the rendering),
// so clients may keep it; "private" because the answer depends on who asked.
constexpr std::string_view kCacheControl = "private, max-age=31536000, immutable";

tiles::SourceImage source_of(const catalog::ImageRecord& record) {
  const auto type = image::parse_pixel_type(record.pixel_type);
  if (!type) {
    throw Error(ErrorCode::unsupported,
                fmt::format("image {} has pixel type '{}', which tiles cannot show", record.id, record.pixel_type));
  }
  return {record.blob_hash, record.width, record.height, record.channels, record.frames, *type};
}

// What a tile request needs of an image record, remembered for a few seconds: a viewer asks for dozens of
// tiles a second, and Context::image() costs two catalog queries under the catalog's one mutex (measured:
// 6,400 requests/s at most for anything that calls it, against 36,000 for a route that does not). The
// image's content never changes under its id; a deleted image or a changed membership is seen after at
// most kTtl, as AccessCache sees roles.
class TileImageCache {
 public:
  struct Entry {
    Id project_id = 0;
    tiles::SourceImage source;
  };

  // The image when the caller may see it; 404 (never 403, so existence does not leak) otherwise.
  Entry image(Context& ctx, Id image_id) {
    const auto now = std::chrono::steady_clock::now();
    std::optional<Entry> entry;
    {
      std::lock_guard lock(mutex_);
      auto it = entries_.find(image_id);
      if (it != entries_.end() && it->second.until > now) entry = it->second.entry;
    }
    if (!entry) {
      const catalog::ImageRecord record = ctx.image(image_id);  // checks access on the way
      entry = Entry{record.project_id, source_of(record)};
      std::lock_guard lock(mutex_);
      if (entries_.size() > kMaxEntries) entries_.clear();
      entries_[image_id] = Timed{*entry, now + kTtl};
      return *entry;
    }
    auto& services = ctx.services;
    if (!services.access.role(services.users, entry->project_id, ctx.user().id)) {
      throw HttpError(404, "not_found", fmt::format("no image with id {}", image_id));
    }
    return *entry;
  }

 private:
  static constexpr auto kTtl = AccessCache::kTtl;
  static constexpr size_t kMaxEntries = 100000;
  struct Timed {
    Entry entry;
    std::chrono::steady_clock::time_point until;
  };
  std::mutex mutex_;
  std::unordered_map<Id, Timed> entries_;
};

tiles::RenderQuery render_query(const Context& ctx) {
  tiles::RenderQuery query;
  query.frame = ctx.query("frame");
  query.channels = ctx.query("channels");
  query.min = ctx.query("min");
  query.max = ctx.query("max");
  query.percentiles = ctx.query("percentiles");
  return query;
}

// A path coordinate; numbers too large for any grid are not tiles (404), like any other outside one.
std::int64_t coordinate(const std::string& text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw HttpError(404, "not_found", fmt::format("no tile at coordinate '{}'", text));
  }
  return value;
}

// If-None-Match holds one or more entity tags ("a", W/"b") or *.
bool matches_etag(const std::string& header, const std::string& etag) {
  size_t start = 0;
  while (start < header.size()) {
    size_t end = header.find(',', start);
    if (end == std::string::npos) end = header.size();
    std::string_view tag(header.data() + start, end - start);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
    start = end + 1;
  }
  return false;
}

void describe_pyramid(Context& ctx) {
  const catalog::ImageRecord record = ctx.image(ctx.path_id(1, "image"));
  const tiles::SourceImage source = source_of(record);
  const tiles::RenderSpec spec = tiles::resolve_render_spec(source, render_query(ctx), tiles::TileFormat::png);
  nlohmann::json description = tiles::TileCache(ctx.blobs()).describe(source, spec);
  description["image_id"] = record.id;
  description["url"] = fmt::format("/api/v1/images/{}/tiles/{{z}}/{{x}}/{{y}}.png", record.id);
  ctx.send_json(description);
}

// The hot path once a tile is cached: the access check (from caches), a key hash and one file read;
// nothing is decoded and the catalog is not asked.
void send_tile(Context& ctx, TileImageCache& images, tiles::TileCache& cache) {
  const TileImageCache::Entry image = images.image(ctx, ctx.path_id(1, "image"));
  const std::int64_t z = coordinate(ctx.path(2));
  const std::int64_t x = coordinate(ctx.path(3));
  const std::int64_t y = coordinate(ctx.path(4));
  const auto format = tiles::parse_tile_format(ctx.path(5));
  if (!format) throw HttpError(404, "not_found", fmt::format("tiles come as png, jpg or webp, not '{}'", ctx.path(5)));
  const tiles::SourceImage& source = image.source;
  const tiles::RenderSpec spec = tiles::resolve_render_spec(source, render_query(ctx), *format);
  const tiles::TileAddress address = cache.address(source, spec, z, x, y);
  ctx.res.set_header("ETag", address.etag);
  ctx.res.set_header("Cache-Control", std::string(kCacheControl));
  if (matches_etag(ctx.req.get_header_value("If-None-Match"), address.etag)) {
    ctx.res.status = 304;
    return;
  }
  auto bytes = cache.find_tile(address, *format);
  if (!bytes) bytes = cache.get_tile(source, spec, z, x, y);
  ctx.res.status = 200;
  ctx.res.set_content(*bytes, std::string(tiles::media_type(*format)));
}

// The whole pyramid as a job (tiles.pyramid), for images about to be viewed a lot or too large to render
// block by block on first view. Same query parameters as a tile, plus format.
void queue_pyramid(Context& ctx) {
  const catalog::ImageRecord record = ctx.image(ctx.path_id(1, "image"), Role::editor);
  nlohmann::json params{{"image", record.id}};
  for (const char* name : {"format", "frame", "channels", "min", "max", "percentiles"}) {
    if (auto value = ctx.query(name)) params[name] = *value;
  }
  ctx.queue_job(record.project_id, "tiles.pyramid", params);
}

}  // namespace

void add_tile_routes(Router& router) {
  router.get(R"(/api/v1/images/(\d+)/tiles)", describe_pyramid);
  router.post(R"(/api/v1/images/(\d+)/tiles/pyramid)", queue_pyramid);
  auto images = std::make_shared<TileImageCache>();
  auto cache = std::make_shared<tiles::TileCache>(router.services().workspace.blobs());
  router.get(R"(/api/v1/images/(\d+)/tiles/(\d+)/(\d+)/(\d+)\.(png|jpg|jpeg|webp))",
             [images, cache](Context& ctx) { send_tile(ctx, *images, *cache); });
}

}  // namespace tessera::server
