// Propagation over HTTP (docs/api/propagation.md): POST /api/v1/series/{id}/masks:propagate checks the
// request up front (series, frame, tag, source masks, leases) and queues a masks.propagate job, answered
// 202; the job runs app::propagate_masks with progress on the feed.

#include <fmt/format.h>

#include <algorithm>

#include "server/json_records.hpp"
#include "server/routes.hpp"
#include "tessera/app/propagate_masks.hpp"
#include "tessera/catalog/tracks.hpp"
#include "tessera/core/error.hpp"

namespace tessera::server {
namespace {

using nlohmann::json;

const std::initializer_list<const char*> kFields = {"frame", "tag_id", "direction", "min_confidence",
                                                    "flow",  "stop_on_review", "refine"};

void propagate(Context& ctx) {
  const catalog::Series series = ctx.series(ctx.path_id(1, "series"), Role::editor);
  const json body = ctx.json_body();
  for (const auto& [key, value] : body.items()) {
    if (std::none_of(kFields.begin(), kFields.end(), [&](const char* k) { return key == k; })) {
      throw HttpError(400, "invalid_argument",
                      fmt::format("field '{}' is not known here (known: frame, tag_id, direction, min_confidence, "
                                  "flow, stop_on_review, refine)",
                                  key),
                      json{{"field", key}});
    }
  }
  app::PropagateMasksRequest request;
  request.series_id = series.id;
  request.frame = require_int(body, "frame");
  request.tag_id = require_int(body, "tag_id");
  if (const auto direction = optional_string(body, "direction")) {
    if (*direction != "both" && *direction != "forward" && *direction != "backward") {
      throw HttpError(400, "invalid_argument",
                      fmt::format("field 'direction' must be 'both', 'forward' or 'backward', got '{}'", *direction),
                      json{{"field", "direction"}});
    }
  }
  if (const auto confidence = optional_number(body, "min_confidence")) request.options.min_confidence = *confidence;
  // 404 for a tag of no project of the caller's, 400 for a frame outside the series or no source mask.
  app::check_propagation_request(ctx.services.workspace, request);
  const catalog::Actor actor{ctx.user().id, ctx.user().name};
  if (const auto lease = app::find_foreign_lease(ctx.services.workspace, series.id, actor)) {
    throw HttpError(423, "locked",
                    fmt::format("image {} of series '{}' is locked by '{}' until {}; propagation writes every frame",
                                lease->image_id, series.name, lease->holder, lease->expires_at),
                    lease_holder_json(*lease));
  }
  json params = body;
  params["series_id"] = series.id;
  ctx.queue_job(series.project_id, "masks.propagate", params);
}

}  // namespace

void add_propagation_routes(Router& router) { router.post(R"(/api/v1/series/(\d+)/masks:propagate)", propagate); }

}  // namespace tessera::server
