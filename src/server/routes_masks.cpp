// POST /api/v1/images/{id}/masks:generate: a point-prompted mask (app::generate_mask, the use case under
// `tessera annotate generate`). Editors only; 400 for bad points, box, colour, frame or overlap, 404 for an
// unknown image or tag, 423 when someone else holds the image's lease, 409 when a mask the new one takes
// pixels from changed meanwhile; nothing is stored on any error.

#include <fmt/format.h>

#include "server/http.hpp"
#include "server/json_records.hpp"
#include "server/routes.hpp"
#include "tessera/app/annotations.hpp"
#include "tessera/app/generate_mask.hpp"
#include "tessera/core/error.hpp"

namespace tessera::server {

using nlohmann::json;

namespace {

[[noreturn]] void bad_field(const std::string& field, const std::string& message) {
  throw Error(ErrorCode::invalid_argument, message, {{"field", field}});
}

app::GenerateMaskRequest parse_request(const json& body, const catalog::ImageRecord& image) {
  app::GenerateMaskRequest request;
  request.image_id = image.id;
  if (!body.contains("points")) bad_field("points", "points is required: [{\"x\": .., \"y\": .., \"positive\": true}]");
  request.points = app::parse_prompt_points(body["points"]);
  if (body.contains("box") && !body["box"].is_null()) {
    const json& b = body["box"];
    if (!b.is_array() || b.size() != 4 || !std::all_of(b.begin(), b.end(), [](const json& v) { return v.is_number(); }))
      bad_field("box", "box must be [x0, y0, x1, y1]");
    request.box = cv::Rect(cv::Point(b[0].get<int>(), b[1].get<int>()), cv::Point(b[2].get<int>(), b[3].get<int>()));
  }
  if (const auto frame = optional_int(body, "frame")) request.frame_index = *frame;
  if (const auto tag = optional_int(body, "tag_id")) request.tag_id = *tag;
  if (const auto color = optional_string(body, "mask_color")) request.color = *color;
  if (const auto overlap = optional_string(body, "overlap")) request.overlap = app::parse_overlap(*overlap);
  if (body.contains("save") && !body["save"].is_null()) {
    if (!body["save"].is_boolean()) bad_field("save", "save must be true or false");
    request.save = body["save"].get<bool>();
  }
  return request;
}

void send_locked(const catalog::Lease& lease) {
  throw HttpError(423, "locked",
                  fmt::format("image {} is locked by '{}' until {}; nothing was stored", lease.image_id, lease.holder,
                              lease.expires_at),
                  lease_holder_json(lease));
}

}  // namespace

void add_mask_routes(Router& router) {
  router.post(R"(/api/v1/images/(\d+)/masks:generate)", [](Context& ctx) {
    const catalog::ImageRecord image = ctx.image(ctx.path_id(1, "image"), Role::editor);
    const json body = ctx.json_body();
    const app::GenerateMaskRequest request = parse_request(body, image);
    const std::string format = optional_string(body, "mask_format").value_or("rle");
    if (format != "rle" && format != "png") bad_field("mask_format", "mask_format must be 'rle' or 'png'");
    const catalog::Actor actor{ctx.user().id, ctx.user().name};
    const app::GenerateMaskOutcome outcome = app::generate_mask(ctx.services.workspace, request, actor);
    if (outcome.status == catalog::EditStatus::locked) send_locked(*outcome.lease);
    if (outcome.status == catalog::EditStatus::stale) {
      const catalog::Annotation& current = *outcome.current;
      throw HttpError(409, "conflict",
                      fmt::format("annotation {} changed meanwhile (now version {}); nothing was stored", current.id,
                                  current.version),
                      json{{"annotation", app::annotation_json(current)}});
    }
    json out = {{"mask", app::generated_mask_json(outcome, format)},
                {"confidence", outcome.confidence},
                {"segmenter", outcome.segmenter}};
    if (outcome.annotation) {
      out["annotation"] = app::annotation_json(*outcome.annotation);
      json updated = json::array();
      for (const auto& a : outcome.updated) updated.push_back(app::annotation_json(a));
      out["updated"] = updated;
      out["deleted"] = outcome.deleted;
      ctx.services.feed.notify();
      ctx.send_created(out, fmt::format("/api/v1/annotations/{}", outcome.annotation->id));
      return;
    }
    ctx.send_json(out);
  });
}

}  // namespace tessera::server
