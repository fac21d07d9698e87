// Annotations as JSON: validating what clients send (docs/api/annotations.md) and writing what they get.
// Every problem names the field, so a client (or a person reading its log) knows what to fix.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <string_view>
#include <vector>

#include "app/annotations_mask.hpp"
#include "tessera/app/annotations.hpp"
#include "tessera/core/base64.hpp"
#include "tessera/core/error.hpp"
#include "tessera/image/encode.hpp"

namespace tessera::app {
namespace {

using catalog::AnnotationState;
using catalog::BBox;
using nlohmann::json;

constexpr std::array<std::string_view, 7> kKinds = {"mask",     "polygon",  "box",     "point",
                                                    "polyline", "skeleton", "scribble"};
constexpr std::array<std::string_view, 5> kSources = {"manual", "generated", "propagated", "suggested", "imported"};
constexpr size_t kMaxPoints = 100'000;
// A mask's bbox may cover at most this many pixels (8192 x 8192): larger regions are for label images.
constexpr double kMaxMaskPixels = 8192.0 * 8192.0;
constexpr double kMaxScribbleWidth = 1000;

// What a client may send, and what it may echo back from a GET (ignored: the server owns those).
const std::set<std::string> kWritable = {"kind",        "geometry",     "bbox",      "mask_png_base64", "mask_rle",
                                         "frame_index", "tag_id",       "color",     "source",          "source_ref",
                                         "confidence",  "needs_review", "attributes"};
const std::set<std::string> kReadOnly = {"id",      "image_id",  "project_id", "version",
                                         "author",  "author_id", "created_at", "updated_at",
                                         "deleted", "mask_blob", "overlay_url"};

template <size_t N>
bool one_of(const std::string& value, const std::array<std::string_view, N>& allowed) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

template <size_t N>
std::string listed(const std::array<std::string_view, N>& allowed) {
  return fmt::format("{}", fmt::join(allowed, ", "));
}

bool is_hex_colour(const std::string& c) {
  return c.size() == 7 && c[0] == '#' &&
         std::all_of(c.begin() + 1, c.end(), [](unsigned char ch) { return std::isxdigit(ch) != 0; });
}

// A point [x, y] inside the image (edges included).
void check_point(const json& p, const std::string& field, const catalog::ImageRecord& image) {
  if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number()) {
    bad_annotation_field(field, "must be a point [x, y] of two numbers");
  }
  const double x = p[0].get<double>(), y = p[1].get<double>();
  if (!std::isfinite(x) || !std::isfinite(y) || x < 0 || y < 0 || x > image.width || y > image.height) {
    bad_annotation_field(field, fmt::format("({}, {}) lies outside the {}x{} image", x, y, image.width, image.height));
  }
}

json check_points(const json& geometry, const std::string& key, size_t min_count, const std::string& kind,
                  const catalog::ImageRecord& image) {
  const std::string field = "geometry." + key;
  auto it = geometry.find(key);
  if (it == geometry.end()) bad_annotation_field(field, fmt::format("is missing (a {} needs it)", kind));
  if (!it->is_array() || it->size() < min_count) {
    bad_annotation_field(field, fmt::format("must be an array of at least {} point(s) for a {}", min_count, kind));
  }
  if (it->size() > kMaxPoints) bad_annotation_field(field, fmt::format("has more than {} points", kMaxPoints));
  for (size_t i = 0; i < it->size(); ++i) check_point((*it)[i], fmt::format("{}[{}]", field, i), image);
  return *it;
}

// The half-open box of the pixels the points touch, inside the image.
BBox pixel_cover(const std::vector<const json*>& point_lists, double margin, const catalog::ImageRecord& image) {
  double min_x = INFINITY, min_y = INFINITY, max_x = -INFINITY, max_y = -INFINITY;
  for (const json* points : point_lists) {
    for (const auto& p : *points) {
      min_x = std::min(min_x, p[0].get<double>());
      max_x = std::max(max_x, p[0].get<double>());
      min_y = std::min(min_y, p[1].get<double>());
      max_y = std::max(max_y, p[1].get<double>());
    }
  }
  const double w = image.width, h = image.height;
  const double x0 = std::clamp(std::floor(min_x - margin), 0.0, std::max(0.0, w - 1));
  const double y0 = std::clamp(std::floor(min_y - margin), 0.0, std::max(0.0, h - 1));
  return {x0, y0, std::clamp(std::floor(max_x + margin) + 1, x0 + 1, std::max(x0 + 1, w)),
          std::clamp(std::floor(max_y + margin) + 1, y0 + 1, std::max(y0 + 1, h))};
}

void check_geometry_keys(const json& g, const std::set<std::string>& allowed, const std::string& kind) {
  for (const auto& [key, value] : g.items()) {
    if (!allowed.contains(key)) bad_annotation_field("geometry." + key, fmt::format("is not part of a {}", kind));
  }
}

// Validates geometry for a non-mask kind; returns it (normalised) and sets the bbox it covers.
json parse_geometry(const json& g, const std::string& kind, const catalog::ImageRecord& image, BBox& bbox) {
  if (!g.is_object()) bad_annotation_field("geometry", "must be an object");
  if (kind == "box") {
    check_geometry_keys(g, {"box"}, kind);
    auto it = g.find("box");
    if (it == g.end()) bad_annotation_field("geometry.box", "is missing (a box is {\"box\": [x0, y0, x1, y1]})");
    if (!it->is_array() || it->size() != 4 ||
        !std::all_of(it->begin(), it->end(), [](const json& v) { return v.is_number(); })) {
      bad_annotation_field("geometry.box", "must be [x0, y0, x1, y1]");
    }
    check_point(json{(*it)[0], (*it)[1]}, "geometry.box", image);
    check_point(json{(*it)[2], (*it)[3]}, "geometry.box", image);
    const double x0 = (*it)[0].get<double>(), y0 = (*it)[1].get<double>();
    const double x1 = (*it)[2].get<double>(), y1 = (*it)[3].get<double>();
    if (!(x0 < x1 && y0 < y1)) bad_annotation_field("geometry.box", "must have x0 < x1 and y0 < y1");
    bbox = {std::floor(x0), std::floor(y0), std::ceil(x1), std::ceil(y1)};
    return json{{"box", {x0, y0, x1, y1}}};
  }
  if (kind == "skeleton") {
    check_geometry_keys(g, {"nodes", "edges"}, kind);
    const json nodes = check_points(g, "nodes", 1, kind, image);
    const json edges = g.value("edges", json::array());
    if (!edges.is_array() || edges.size() > kMaxPoints)
      bad_annotation_field("geometry.edges", "must be an array of [i, j] node index pairs");
    for (size_t i = 0; i < edges.size(); ++i) {
      const json& e = edges[i];
      if (!e.is_array() || e.size() != 2 || !is_whole_count(e[0]) || !is_whole_count(e[1]) ||
          e[0].get<std::uint64_t>() >= nodes.size() || e[1].get<std::uint64_t>() >= nodes.size()) {
        bad_annotation_field(fmt::format("geometry.edges[{}]", i),
                             fmt::format("must be a pair of node indices below {}", nodes.size()));
      }
    }
    bbox = pixel_cover({&nodes}, 0, image);
    return json{{"nodes", nodes}, {"edges", edges}};
  }
  const size_t min_points = kind == "polygon" ? 3 : kind == "polyline" ? 2 : 1;
  if (kind == "scribble") {
    check_geometry_keys(g, {"points", "width"}, kind);
  } else {
    check_geometry_keys(g, {"points"}, kind);
  }
  const json points = check_points(g, "points", min_points, kind, image);
  json out = {{"points", points}};
  double margin = 0;
  if (kind == "scribble" && g.contains("width")) {
    const json& width = g["width"];
    if (!width.is_number() || !(width.get<double>() > 0) || width.get<double>() > kMaxScribbleWidth) {
      bad_annotation_field("geometry.width", fmt::format("must be a number in (0, {}]", kMaxScribbleWidth));
    }
    out["width"] = width;
    margin = std::ceil(width.get<double>() / 2);
  }
  bbox = pixel_cover({&points}, margin, image);
  return out;
}

BBox parse_mask_bbox(const json& value, const catalog::ImageRecord& image) {
  if (!value.is_array() || value.size() != 4 ||
      !std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_number_integer(); })) {
    bad_annotation_field("bbox", "must be [x0, y0, x1, y1] in whole pixels");
  }
  const auto x0 = value[0].get<std::int64_t>(), y0 = value[1].get<std::int64_t>();
  const auto x1 = value[2].get<std::int64_t>(), y1 = value[3].get<std::int64_t>();
  if (x0 < 0 || y0 < 0 || x1 > image.width || y1 > image.height || x0 >= x1 || y0 >= y1) {
    bad_annotation_field("bbox", fmt::format("[{}, {}, {}, {}] must satisfy 0 <= x0 < x1 <= {} and 0 <= y0 < y1 <= {}",
                                             x0, y0, x1, y1, image.width, image.height));
  }
  if (double(x1 - x0) * double(y1 - y0) > kMaxMaskPixels) {
    bad_annotation_field("bbox", fmt::format("covers {} pixels; a mask may cover at most {}", (x1 - x0) * (y1 - y0),
                                             static_cast<std::int64_t>(kMaxMaskPixels)));
  }
  return {double(x0), double(y0), double(x1), double(y1)};
}

// The mask sent (PNG or RLE), checked against the bbox and re-encoded canonically, so equal masks are
// stored once whatever encoder the client used.
std::optional<std::string> parse_mask(const json& body, const BBox& bbox) {
  const bool has_png = body.contains("mask_png_base64");
  const bool has_rle = body.contains("mask_rle");
  if (has_png && has_rle) bad_annotation_field("mask_rle", "cannot be sent together with mask_png_base64");
  if (!has_png && !has_rle) return std::nullopt;
  const int width = static_cast<int>(bbox.x1 - bbox.x0), height = static_cast<int>(bbox.y1 - bbox.y0);
  cv::Mat mask;
  if (has_png) {
    const json& text = body["mask_png_base64"];
    if (!text.is_string()) bad_annotation_field("mask_png_base64", "must be a base64 string");
    std::string png;
    try {
      png = base64_decode(text.get<std::string>());
    } catch (const Error& e) {
      bad_annotation_field("mask_png_base64", fmt::format("is not valid base64: {}", e.what()));
    }
    mask = decode_mask_png(png, width, height, "mask_png_base64");
  } else {
    mask = decode_mask_rle(body["mask_rle"], width, height, "mask_rle");
  }
  return image::encode(mask, ".png");
}

void parse_common_fields(const json& body, const catalog::ImageRecord& image, AnnotationState& s) {
  if (auto it = body.find("frame_index"); it != body.end()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0 || it->get<std::int64_t>() >= image.frames) {
      bad_annotation_field("frame_index", fmt::format("must be an integer in [0, {}) for this image", image.frames));
    }
    s.frame_index = it->get<std::int64_t>();
  }
  if (auto it = body.find("tag_id"); it != body.end()) {
    if (it->is_null()) {
      s.tag_id.reset();
    } else if (!it->is_number_integer() || it->get<std::int64_t>() <= 0) {
      bad_annotation_field("tag_id", "must be the id of a tag of this project, or null");
    } else {
      s.tag_id = it->get<std::int64_t>();
    }
  }
  if (auto it = body.find("color"); it != body.end()) {
    if (it->is_null()) {
      s.color.reset();
    } else if (!it->is_string() || !is_hex_colour(it->get<std::string>())) {
      bad_annotation_field("color", "must be \"#rrggbb\" or null");
    } else {
      s.color = it->get<std::string>();
    }
  }
  if (auto it = body.find("source"); it != body.end()) {
    if (!it->is_string() || !one_of(it->get<std::string>(), kSources)) {
      bad_annotation_field("source", fmt::format("must be one of {}", listed(kSources)));
    }
    s.source = it->get<std::string>();
  }
  if (auto it = body.find("source_ref"); it != body.end()) s.source_ref = *it;
  if (auto it = body.find("confidence"); it != body.end()) {
    if (it->is_null()) {
      s.confidence.reset();
    } else if (!it->is_number() || !(it->get<double>() >= 0 && it->get<double>() <= 1)) {
      bad_annotation_field("confidence", "must be a number in [0, 1] or null");
    } else {
      s.confidence = it->get<double>();
    }
  }
  if (auto it = body.find("needs_review"); it != body.end()) {
    if (!it->is_boolean()) bad_annotation_field("needs_review", "must be true or false");
    s.needs_review = it->get<bool>();
  }
  if (auto it = body.find("attributes"); it != body.end()) {
    if (!it->is_object()) bad_annotation_field("attributes", "must be an object");
    s.attributes = *it;
  }
}

json or_null(const std::optional<std::int64_t>& v) { return v ? json(*v) : json(nullptr); }
json or_null(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }
json or_null(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

}  // namespace

AnnotationDraft parse_annotation(const json& body, const catalog::ImageRecord& image, const AnnotationState* base) {
  if (!body.is_object()) bad_annotation_field("(body)", "must be a JSON object");
  for (const auto& [name, value] : body.items()) {
    if (!kWritable.contains(name) && !kReadOnly.contains(name)) {
      bad_annotation_field(name, "is not an annotation field");
    }
  }
  AnnotationDraft draft;
  AnnotationState& s = draft.state;
  if (base) s = *base;
  if (auto it = body.find("kind"); it != body.end()) {
    if (!it->is_string() || !one_of(it->get<std::string>(), kKinds)) {
      bad_annotation_field("kind", fmt::format("must be one of {}", listed(kKinds)));
    }
    s.kind = it->get<std::string>();
  } else if (!base) {
    bad_annotation_field("kind", fmt::format("is missing (one of {})", listed(kKinds)));
  }
  const bool kind_changed = !base || base->kind != s.kind;
  parse_common_fields(body, image, s);

  if (s.kind == "mask") {
    if (body.contains("geometry") && !body["geometry"].is_null()) {
      bad_annotation_field("geometry", "is not used by masks: send bbox with mask_png_base64 or mask_rle");
    }
    if (body.contains("bbox")) {
      s.bbox = parse_mask_bbox(body["bbox"], image);
    } else if (kind_changed) {
      bad_annotation_field("bbox", "is missing (a mask needs [x0, y0, x1, y1] with its mask)");
    }
    draft.mask_png = parse_mask(body, s.bbox);
    const bool box_changed = base && !(base->bbox == s.bbox);
    if (!draft.mask_png && (kind_changed || box_changed)) {
      bad_annotation_field("mask_png_base64", "is missing: a mask needs mask_png_base64 or mask_rle over its bbox");
    }
    s.geometry = nullptr;
    return draft;
  }
  for (const char* mask_only : {"bbox", "mask_png_base64", "mask_rle"}) {
    if (body.contains(mask_only)) {
      bad_annotation_field(mask_only, fmt::format("is only for masks (a {}'s bbox comes from its geometry)", s.kind));
    }
  }
  if (body.contains("geometry")) {
    s.geometry = parse_geometry(body["geometry"], s.kind, image, s.bbox);
  } else if (kind_changed) {
    bad_annotation_field("geometry", fmt::format("is missing (a {} needs it)", s.kind));
  }
  s.mask_blob.reset();
  return draft;
}

bool is_unprocessable(const Error& error) {
  return error.details().is_object() && error.details().value("unprocessable", false);
}

std::array<std::uint8_t, 4> parse_rgba(const std::string& text, const std::string& field, std::uint8_t alpha) {
  const std::string hex = text.starts_with('#') ? text.substr(1) : text;
  if ((hex.size() != 6 && hex.size() != 8) ||
      !std::all_of(hex.begin(), hex.end(), [](unsigned char c) { return std::isxdigit(c) != 0; })) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("'{}' must be a colour as rrggbb or rrggbbaa (hex, '#' optional), got '{}'", field, text),
                {{"field", field}});
  }
  auto byte = [&](size_t at) { return static_cast<std::uint8_t>(std::stoi(hex.substr(at, 2), nullptr, 16)); };
  return {byte(0), byte(2), byte(4), hex.size() == 8 ? byte(6) : alpha};
}

json annotation_json(const catalog::Annotation& a) {
  const AnnotationState& s = a.state;
  json out = {{"id", a.id},
              {"image_id", a.image_id},
              {"project_id", a.project_id},
              {"frame_index", s.frame_index},
              {"tag_id", or_null(s.tag_id)},
              {"kind", s.kind},
              {"bbox", catalog::bbox_json(s.bbox)},
              {"color", or_null(s.color)},
              {"source", s.source},
              {"source_ref", s.source_ref},
              {"confidence", or_null(s.confidence)},
              {"needs_review", s.needs_review},
              {"attributes", s.attributes},
              {"author_id", or_null(a.author_id)},
              {"author", or_null(a.author)},
              {"version", a.version},
              {"created_at", a.created_at},
              {"updated_at", a.updated_at},
              {"deleted", a.deleted},
              {"overlay_url", fmt::format("/api/v1/annotations/{}/mask.png", a.id)}};
  if (s.kind == "mask") {
    out["mask_blob"] = or_null(s.mask_blob);
  } else {
    out["geometry"] = s.geometry;
  }
  return out;
}

json edit_json(const catalog::AnnotationEdit& e) {
  return {{"id", e.id},
          {"annotation_id", e.annotation_id},
          {"user_id", or_null(e.user_id)},
          {"user", e.user},
          {"at", e.at},
          {"action", e.action},
          {"before_version", or_null(e.before_version)},
          {"after_version", e.after_version},
          {"diff", e.diff},
          {"undoes_edit_id", or_null(e.undoes_edit_id)},
          {"undone", e.undone}};
}

json object_json(const catalog::ObjectHit& o) {
  return {{"id", o.id},
          {"image_id", o.image_id},
          {"frame_index", o.frame_index},
          {"label", o.label},
          {"bbox", {o.bbox_x0, o.bbox_y0, o.bbox_x1, o.bbox_y1}},
          {"tag_id", or_null(o.tag_id)},
          {"parent_id", or_null(o.parent_id)},
          {"mask_blob", or_null(o.mask_blob)},
          {"features", o.features}};
}

json lease_json(const catalog::Lease& lease) {
  json out = {{"image_id", lease.image_id},
              {"holder", lease.holder},
              {"holder_id", or_null(lease.holder_id)},
              {"acquired_at", lease.acquired_at},
              {"expires_at", lease.expires_at}};
  if (!lease.token.empty()) out["token"] = lease.token;
  return out;
}

}  // namespace tessera::app
