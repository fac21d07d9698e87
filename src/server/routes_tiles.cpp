// Tiles of an image's pyramid (docs/api/tiles.md): the pyramid's description and 256-px tiles in an XYZ
// grid, with frame, channel and contrast-window selection. Mask overlays are routes_annotations.cpp's.
#include <charconv>

#include <fmt/format.h>

#include "server/routes.hpp"
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

// The hot path once a tile is cached: the access check, a key hash and one file read; nothing is decoded.
void send_tile(Context& ctx) {
  const catalog::ImageRecord record = ctx.image(ctx.path_id(1, "image"));
  const std::int64_t z = coordinate(ctx.path(2));
  const std::int64_t x = coordinate(ctx.path(3));
  const std::int64_t y = coordinate(ctx.path(4));
  const auto format = tiles::parse_tile_format(ctx.path(5));
  if (!format) throw HttpError(404, "not_found", fmt::format("tiles come as png, jpg or webp, not '{}'", ctx.path(5)));
  const tiles::SourceImage source = source_of(record);
  const tiles::RenderSpec spec = tiles::resolve_render_spec(source, render_query(ctx), *format);
  tiles::TileCache cache(ctx.blobs());
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

}  // namespace

void add_tile_routes(Router& router) {
  router.get(R"(/api/v1/images/(\d+)/tiles)", describe_pyramid);
  router.get(R"(/api/v1/images/(\d+)/tiles/(\d+)/(\d+)/(\d+)\.(png|jpg|jpeg|webp))", send_tile);
}

}  // namespace tessera::server
