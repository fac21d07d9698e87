// Mask edits over HTTP (docs/api/mask_edits.md): merging masks of an image by a skeleton stroke or by ids,
// splitting a mask at point markers (with an optional outline stroke), and deleting or listing every mask
// of a tag in a series. Deleting one annotation and listing one image's annotations by tag are the
// annotation routes' (DELETE /annotations/{id}, GET /images/{id}/annotations?tag=). Handlers parse, call
// app::MaskEdits and format; 409 (stale version) and 423 (image locked) come from the use case's outcome.

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <memory>

#include "server/json_records.hpp"
#include "server/routes.hpp"
#include "tessera/app/annotations.hpp"
#include "tessera/app/mask_edits.hpp"
#include "tessera/catalog/tracks.hpp"
#include "tessera/core/error.hpp"

namespace tessera::server {
namespace {

using app::MaskEditOutcome;
using app::MaskEdits;
using catalog::EditStatus;
using nlohmann::json;

constexpr std::size_t kMaxIds = 1000;
constexpr std::size_t kMaxPoints = 10'000;

catalog::Actor actor_of(Context& ctx) { return catalog::Actor{ctx.user().id, ctx.user().name}; }

[[noreturn]] void bad_field(const std::string& field, const std::string& problem) {
  throw HttpError(400, "invalid_argument", fmt::format("field '{}' {}", field, problem), json{{"field", field}});
}

void reject_unknown_fields(const json& body, std::initializer_list<const char*> known) {
  for (const auto& [key, value] : body.items()) {
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; })) {
      std::string names;
      for (const char* k : known) names += (names.empty() ? "" : ", ") + std::string(k);
      bad_field(key, fmt::format("is not known here (known: {})", names));
    }
  }
}

cv::Point2d parse_point(const json& value, const std::string& field) {
  if (!value.is_array() || value.size() != 2 || !value[0].is_number() || !value[1].is_number()) {
    bad_field(field, "must be a point [x, y] in image pixels");
  }
  return {value[0].get<double>(), value[1].get<double>()};
}

std::vector<cv::Point2d> parse_points(const json& value, const std::string& field) {
  if (!value.is_array()) bad_field(field, "must be an array of points [[x, y], ...]");
  if (value.size() > kMaxPoints) bad_field(field, fmt::format("has {} points; at most {}", value.size(), kMaxPoints));
  std::vector<cv::Point2d> points;
  for (std::size_t i = 0; i < value.size(); ++i)
    points.push_back(parse_point(value[i], fmt::format("{}[{}]", field, i)));
  return points;
}

// {"points": [[x, y], ...], "width": 3}
segment::Stroke parse_stroke(const json& value, const std::string& field) {
  if (!value.is_object()) bad_field(field, "must be an object {\"points\": [[x, y], ...], \"width\": 3}");
  for (const auto& [key, v] : value.items()) {
    if (key != "points" && key != "width") bad_field(field + "." + key, "is not known here (known: points, width)");
  }
  if (!value.contains("points")) bad_field(field + ".points", "is missing");
  segment::Stroke stroke;
  stroke.points = parse_points(value["points"], field + ".points");
  if (value.contains("width")) {
    if (!value["width"].is_number()) bad_field(field + ".width", "must be a number of pixels");
    stroke.width = value["width"].get<double>();
  }
  return stroke;
}

catalog::Id parse_id(const json& value, const std::string& field) {
  if (!value.is_number_integer() || value.get<std::int64_t>() < 1) bad_field(field, "must be a positive id");
  return value.get<catalog::Id>();
}

// If-Match carries the version the change is based on: "3", W/"3" or 3; absent: none.
std::optional<std::int64_t> if_match(Context& ctx) {
  std::string text = ctx.req.get_header_value("If-Match");
  if (text.empty()) return std::nullopt;
  if (text.starts_with("W/")) text = text.substr(2);
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') text = text.substr(1, text.size() - 2);
  std::int64_t version = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (ec != std::errc() || end != text.data() + text.size() || version < 1) {
    throw HttpError(400, "invalid_argument",
                    fmt::format("header 'If-Match' must be an annotation version like \"3\" (got '{}')",
                                ctx.req.get_header_value("If-Match")),
                    json{{"field", "If-Match"}});
  }
  return version;
}

json annotations_json(const std::vector<catalog::Annotation>& annotations) {
  json out = json::array();
  for (const auto& a : annotations) out.push_back(app::annotation_json(a));
  return out;
}

// Applied: what changed. Stale: 409 with the annotation's current state. Locked: 423 naming the holder.
void send_outcome(Context& ctx, const MaskEditOutcome& outcome) {
  switch (outcome.status) {
    case EditStatus::applied:
      ctx.services.feed.notify();
      ctx.send_json({{"updated", annotations_json(outcome.updated)},
                     {"created", annotations_json(outcome.created)},
                     {"deleted", annotations_json(outcome.deleted)}});
      return;
    case EditStatus::stale: {
      const catalog::Annotation& current = *outcome.current;
      throw HttpError(409, "conflict",
                      fmt::format("annotation {} has changed: it is at version {}; reload it and edit again",
                                  current.id, current.version),
                      json{{"current_version", current.version}, {"annotation", app::annotation_json(current)}});
    }
    case EditStatus::locked: {
      const catalog::Lease& lease = *outcome.lease;
      throw HttpError(
          423, "locked",
          fmt::format("image {} is locked by '{}' until {}", lease.image_id, lease.holder, lease.expires_at),
          lease_holder_json(lease));
    }
  }
}

// The annotation's image, if the caller has `min` on it; a missing annotation and one the caller may not
// see read alike.
catalog::Annotation visible_annotation(Context& ctx, catalog::Id id, Role min) {
  const auto missing = [&] { return HttpError(404, "not_found", fmt::format("no annotation with id {}", id)); };
  catalog::Annotation annotation;
  try {
    annotation = catalog::AnnotationStore(ctx.catalog()).get(id);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::not_found) throw missing();
    throw;
  }
  try {
    ctx.image(annotation.image_id, min);
  } catch (const HttpError& e) {
    if (e.status() == 404) throw missing();
    throw;
  }
  return annotation;
}

std::optional<catalog::Id> tag_query(Context& ctx, bool required) {
  if (!ctx.query("tag_id")) {
    if (!required) return std::nullopt;
    throw HttpError(400, "invalid_argument", "query parameter 'tag_id' is missing: which tag's masks to delete",
                    json{{"field", "tag_id"}});
  }
  return ctx.query_int("tag_id", 0, 1, std::numeric_limits<std::int64_t>::max());
}

app::MergeRequest merge_request(const json& body, catalog::Id image_id) {
  reject_unknown_fields(body, {"stroke", "frame_index", "tag_id", "annotation_ids", "versions"});
  app::MergeRequest request;
  request.image_id = image_id;
  if (body.contains("stroke")) request.stroke = parse_stroke(body["stroke"], "stroke");
  if (body.contains("frame_index")) {
    if (!body["frame_index"].is_number_integer()) bad_field("frame_index", "must be a whole number");
    request.frame_index = body["frame_index"].get<std::int64_t>();
  }
  if (body.contains("tag_id")) request.tag_id = parse_id(body["tag_id"], "tag_id");
  if (body.contains("annotation_ids")) {
    const json& ids = body["annotation_ids"];
    if (!ids.is_array()) bad_field("annotation_ids", "must be an array of annotation ids");
    if (ids.size() > kMaxIds)
      bad_field("annotation_ids", fmt::format("names {} masks; at most {}", ids.size(), kMaxIds));
    for (std::size_t i = 0; i < ids.size(); ++i) {
      request.annotation_ids.push_back(parse_id(ids[i], fmt::format("annotation_ids[{}]", i)));
    }
  }
  if (!request.stroke && request.annotation_ids.empty()) {
    bad_field("stroke", "is missing: send a stroke over the masks to merge, or annotation_ids");
  }
  if (body.contains("versions")) {
    const json& versions = body["versions"];
    if (!versions.is_object()) bad_field("versions", "must be an object {\"annotation id\": version, ...}");
    for (const auto& [key, value] : versions.items()) {
      catalog::Id id = 0;
      auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
      if (ec != std::errc() || end != key.data() + key.size() || id < 1) {
        bad_field("versions", fmt::format("key '{}' is not an annotation id", key));
      }
      request.versions[id] = parse_id(value, fmt::format("versions.{}", key));
    }
  }
  return request;
}

app::SplitRequest split_request(const json& body, catalog::Id annotation_id) {
  reject_unknown_fields(body, {"markers", "outline"});
  app::SplitRequest request;
  request.annotation_id = annotation_id;
  if (!body.contains("markers")) bad_field("markers", "is missing: at least two points [x, y] on object centres");
  request.markers = parse_points(body["markers"], "markers");
  if (body.contains("outline")) request.outline = parse_stroke(body["outline"], "outline");
  return request;
}

}  // namespace

void add_mask_edit_routes(Router& router) {
  // One use-case object for the server's lifetime: it only holds references to the workspace's stores.
  auto edits = std::make_shared<MaskEdits>(router.services().workspace);

  router.post(R"(/api/v1/images/(\d+)/masks:merge)", [edits](Context& ctx) {
    const catalog::ImageRecord image = ctx.image(ctx.path_id(1, "image"), Role::editor);
    const app::MergeRequest request = merge_request(ctx.json_body(), image.id);
    // Annotation ids of another project read like missing ones.
    for (catalog::Id id : request.annotation_ids) visible_annotation(ctx, id, Role::editor);
    send_outcome(ctx, edits->merge(request, actor_of(ctx)));
  });

  router.post(R"(/api/v1/annotations/(\d+):split)", [edits](Context& ctx) {
    const catalog::Annotation annotation = visible_annotation(ctx, ctx.path_id(1, "annotation"), Role::editor);
    app::SplitRequest request = split_request(ctx.json_body(), annotation.id);
    request.version = if_match(ctx);
    send_outcome(ctx, edits->split(request, actor_of(ctx)));
  });

  router.del(R"(/api/v1/series/(\d+)/masks)", [edits](Context& ctx) {
    const catalog::Series series = ctx.series(ctx.path_id(1, "series"), Role::editor);
    const catalog::Id tag_id = *tag_query(ctx, true);
    send_outcome(ctx, edits->remove_in_series(series.id, tag_id, actor_of(ctx)));
  });

  router.get(R"(/api/v1/series/(\d+)/masks)", [edits](Context& ctx) {
    const catalog::Series series = ctx.series(ctx.path_id(1, "series"), Role::viewer);
    const app::MaskList list = edits->list_in_series(series.id, tag_query(ctx, false));
    ctx.send_json({{"series_id", series.id}, {"masks", annotations_json(list.masks)}, {"truncated", list.truncated}});
  });
}

}  // namespace tessera::server
