// Annotations over HTTP (docs/api/annotations.md): CRUD with If-Match versions, the edit journal, undo,
// viewport queries over annotations and objects, and mask overlays. Every handler parses, calls
// app::Annotations and formats; 409 (stale version) and 423 (image locked by someone else) come from the
// use case's outcome, not from exceptions.

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <memory>

#include "server/json_records.hpp"
#include "server/routes.hpp"
#include "tessera/app/annotations.hpp"
#include "tessera/core/base64.hpp"
#include "tessera/core/error.hpp"

namespace tessera::server {
namespace {

using app::Annotations;
using catalog::EditResult;
using catalog::EditStatus;
using nlohmann::json;

constexpr std::int64_t kDefaultViewportLimit = 1000;
constexpr std::int64_t kMaxViewportLimit = 10000;
constexpr double kMaxCoordinate = 1e9;

catalog::Actor actor_of(Context& ctx) { return catalog::Actor{ctx.user().id, ctx.user().name}; }

struct Found {
  catalog::Annotation annotation;
  catalog::ImageRecord image;
};

// The annotation and the caller's access to its image. Not being a member of its project reads exactly like
// a missing annotation (same status, same message), so ids of other projects' annotations do not leak.
Found annotation_for(Context& ctx, Annotations& annotations, Id id, Role min) {
  const std::string missing = fmt::format("no annotation with id {}", id);
  Found found;
  try {
    found.annotation = annotations.get(id);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::not_found) throw HttpError(404, "not_found", missing);
    throw;
  }
  try {
    found.image = ctx.image(found.annotation.image_id, min);
  } catch (const HttpError& e) {
    if (e.status() == 404) throw HttpError(404, "not_found", missing);
    throw;
  }
  return found;
}

// If-Match carries the version the change is based on: "3", W/"3" or 3.
std::optional<std::int64_t> if_match(Context& ctx, bool required) {
  std::string text = ctx.req.get_header_value("If-Match");
  if (text.empty()) {
    if (!required) return std::nullopt;
    throw HttpError(428, "precondition_required",
                    "send 'If-Match: \"VERSION\"' with the version of the annotation this change is based on",
                    json{{"field", "If-Match"}});
  }
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

void send_annotation(Context& ctx, const catalog::Annotation& annotation, int status) {
  ctx.res.set_header("ETag", fmt::format("\"{}\"", annotation.version));
  if (status == 201) {
    ctx.send_created(app::annotation_json(annotation), fmt::format("/api/v1/annotations/{}", annotation.id));
  } else {
    ctx.send_json(app::annotation_json(annotation), status);
  }
}

// Applied: the new state (and the feed wakes). Stale: 409 with the current version. Locked: 423 naming
// the holder and until when.
void send_outcome(Context& ctx, const EditResult& result, int applied_status) {
  switch (result.status) {
    case EditStatus::applied:
      ctx.services.feed.notify();
      send_annotation(ctx, *result.annotation, applied_status);
      return;
    case EditStatus::stale: {
      const catalog::Annotation& current = *result.annotation;
      ctx.res.set_header("ETag", fmt::format("\"{}\"", current.version));
      throw HttpError(
          409, "conflict",
          fmt::format("annotation {} has changed: it is at version {}; reload it and apply the change again",
                      current.id, current.version),
          json{{"current_version", current.version}, {"annotation", app::annotation_json(current)}});
    }
    case EditStatus::locked: {
      const catalog::Lease& lease = *result.lease;
      throw HttpError(
          423, "locked",
          fmt::format("image {} is locked by '{}' until {}", lease.image_id, lease.holder, lease.expires_at),
          lease_holder_json(lease));
    }
  }
}

// Runs a use case that validates a body: a mask that does not fit its bbox is 422, other bad fields 400.
template <typename Fn>
EditResult validated(Fn&& fn) {
  try {
    return fn();
  } catch (const Error& e) {
    if (app::is_unprocessable(e)) throw HttpError(422, "unprocessable", e.what(), e.details());
    throw;
  }
}

[[noreturn]] void bad_query(const std::string& name, const std::string& problem) {
  throw HttpError(400, "invalid_argument", fmt::format("query parameter '{}' {}", name, problem),
                  json{{"field", name}});
}

std::optional<catalog::BBox> bbox_param(Context& ctx) {
  const auto text = ctx.query("bbox");
  if (!text) return std::nullopt;
  double v[4];
  const char* at = text->data();
  const char* end = text->data() + text->size();
  for (int i = 0; i < 4; ++i) {
    auto [next, ec] = std::from_chars(at, end, v[i]);
    if (ec != std::errc() || !std::isfinite(v[i]) || std::abs(v[i]) > kMaxCoordinate) {
      bad_query("bbox",
                fmt::format("must be x0,y0,x1,y1 with numbers within +-{:g} (got '{}')", kMaxCoordinate, *text));
    }
    at = next;
    if (i < 3) {
      if (at == end || *at != ',') bad_query("bbox", fmt::format("must be x0,y0,x1,y1 (got '{}')", *text));
      ++at;
    }
  }
  if (at != end) bad_query("bbox", fmt::format("must be x0,y0,x1,y1 (got '{}')", *text));
  if (v[2] < v[0] || v[3] < v[1]) bad_query("bbox", "must have x0 <= x1 and y0 <= y1");
  return catalog::BBox{v[0], v[1], v[2], v[3]};
}

// ?tag= is a tag id or a tag name of the image's project.
std::optional<Id> tag_param(Context& ctx, Id project_id) {
  const auto text = ctx.query("tag");
  if (!text) return std::nullopt;
  Id id = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), id);
  if (ec == std::errc() && end == text->data() + text->size() && id > 0) return id;
  for (const catalog::Tag& tag : ctx.catalog().list_tags(project_id)) {
    if (tag.name == *text) return tag.id;
  }
  bad_query("tag", fmt::format("names no tag of this project: '{}'", *text));
}

catalog::ViewportQuery viewport_query(Context& ctx, const catalog::ImageRecord& image) {
  catalog::ViewportQuery q;
  q.image_id = image.id;
  q.bbox = bbox_param(ctx);
  q.tag_id = tag_param(ctx, image.project_id);
  if (ctx.query("frame")) q.frame_index = ctx.query_int("frame", 0, 0, std::max(0, image.frames - 1));
  q.limit = ctx.query_int("limit", kDefaultViewportLimit, 1, kMaxViewportLimit);
  return q;
}

void add_image_annotation_routes(Router& router, const std::shared_ptr<Annotations>& annotations) {
  router.post(R"(/api/v1/images/(\d+)/annotations)", [annotations](Context& ctx) {
    const catalog::ImageRecord image = ctx.image(ctx.path_id(1, "image"), Role::editor);
    const json body = ctx.json_body();
    send_outcome(ctx, validated([&] { return annotations->create(image, actor_of(ctx), body); }), 201);
  });

  router.get(R"(/api/v1/images/(\d+)/annotations)", [annotations](Context& ctx) {
    const catalog::ImageRecord image = ctx.image(ctx.path_id(1, "image"), Role::viewer);
    const catalog::AnnotationPage page = annotations->in_viewport(viewport_query(ctx, image));
    json out = json::array();
    for (const auto& a : page.annotations) out.push_back(app::annotation_json(a));
    ctx.send_json({{"annotations", out}, {"truncated", page.truncated}});
  });

  router.post(R"(/api/v1/images/(\d+)/annotations/undo)", [annotations](Context& ctx) {
    const catalog::ImageRecord image = ctx.image(ctx.path_id(1, "image"), Role::editor);
    send_outcome(ctx, annotations->undo_in_image(image.id, actor_of(ctx)), 200);
  });

  router.get(R"(/api/v1/images/(\d+)/objects)", [annotations](Context& ctx) {
    const catalog::ImageRecord image = ctx.image(ctx.path_id(1, "image"), Role::viewer);
    const catalog::ObjectPage page = annotations->objects_in_viewport(viewport_query(ctx, image));
    json out = json::array();
    for (const auto& o : page.objects) out.push_back(app::object_json(o));
    ctx.send_json({{"objects", out}, {"truncated", page.truncated}});
  });
}

void add_single_annotation_routes(Router& router, const std::shared_ptr<Annotations>& annotations) {
  router.get(R"(/api/v1/annotations/(\d+))", [annotations](Context& ctx) {
    const catalog::Annotation a =
        annotation_for(ctx, *annotations, ctx.path_id(1, "annotation"), Role::viewer).annotation;
    ctx.res.set_header("ETag", fmt::format("\"{}\"", a.version));
    json out = app::annotation_json(a);
    if (const auto mask = ctx.query("mask")) {
      if (*mask != "rle" && *mask != "png") bad_query("mask", "must be 'rle' or 'png'");
      if (a.state.kind == "mask") {
        const std::string png = annotations->mask_png(a);
        if (*mask == "rle")
          out["mask_rle"] = app::mask_png_to_rle(png);
        else
          out["mask_png_base64"] = base64_encode(png);
      }
    }
    ctx.send_json(out);
  });

  router.patch(R"(/api/v1/annotations/(\d+))", [annotations](Context& ctx) {
    const Found found = annotation_for(ctx, *annotations, ctx.path_id(1, "annotation"), Role::editor);
    const std::int64_t version = *if_match(ctx, true);
    const json body = ctx.json_body();
    send_outcome(ctx, validated([&] {
                   return annotations->update(found.annotation, found.image, actor_of(ctx), version, body);
                 }),
                 200);
  });

  router.del(R"(/api/v1/annotations/(\d+))", [annotations](Context& ctx) {
    const Id id = ctx.path_id(1, "annotation");
    const catalog::Annotation a = annotation_for(ctx, *annotations, id, Role::editor).annotation;
    if (a.deleted) throw HttpError(404, "not_found", fmt::format("annotation {} is already deleted", id));
    send_outcome(ctx, annotations->remove(id, actor_of(ctx), *if_match(ctx, true)), 200);
  });

  router.get(R"(/api/v1/annotations/(\d+)/history)", [annotations](Context& ctx) {
    const Id id = ctx.path_id(1, "annotation");
    annotation_for(ctx, *annotations, id, Role::viewer);
    json out = json::array();
    for (const auto& edit : annotations->history(id)) out.push_back(app::edit_json(edit));
    ctx.send_json({{"annotation_id", id}, {"edits", out}});
  });

  router.post(R"(/api/v1/annotations/(\d+)/undo)", [annotations](Context& ctx) {
    const Id id = ctx.path_id(1, "annotation");
    annotation_for(ctx, *annotations, id, Role::editor);
    send_outcome(ctx, annotations->undo(id, actor_of(ctx), if_match(ctx, false)), 200);
  });

  router.get(R"(/api/v1/annotations/(\d+)/mask\.png)", [annotations](Context& ctx) {
    const catalog::Annotation a =
        annotation_for(ctx, *annotations, ctx.path_id(1, "annotation"), Role::viewer).annotation;
    if (a.deleted) throw HttpError(404, "not_found", fmt::format("annotation {} is deleted", a.id));
    // Default: the annotation's colour (else red), half transparent so the image shows through.
    const std::string colour = ctx.query("color").value_or(a.state.color.value_or("#ff0000"));
    const auto rgba = app::parse_rgba(colour, "color", 128);
    const std::string png = annotations->overlay_png(a, rgba);
    const auto& b = a.state.bbox;
    // The overlay covers the annotation's bbox: where to place it on the image.
    ctx.res.set_header("X-Tessera-Bbox", fmt::format("{},{},{},{}", b.x0, b.y0, b.x1, b.y1));
    ctx.res.set_header("ETag",
                       fmt::format("\"{}-{:02x}{:02x}{:02x}{:02x}\"", a.version, rgba[0], rgba[1], rgba[2], rgba[3]));
    ctx.res.set_header("Cache-Control", "private, no-cache");
    ctx.res.status = 200;
    ctx.res.set_content(png, "image/png");
  });
}

}  // namespace

void add_annotation_routes(Router& router) {
  // One use-case object for the server's lifetime: it only holds references to the workspace's stores.
  auto annotations = std::make_shared<Annotations>(router.services().workspace);
  add_image_annotation_routes(router, annotations);
  add_single_annotation_routes(router, annotations);
}

}  // namespace tessera::server
