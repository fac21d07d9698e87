// The 'masks.propagate' job: app::propagate_masks on one series of the job's project, progress per frame.
#include <fmt/format.h>

#include <set>

#include "tessera/app/job_actor.hpp"
#include "tessera/app/job_kinds.hpp"
#include "tessera/app/propagate_masks.hpp"
#include "tessera/core/error.hpp"

namespace tessera::app {
namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& field, const std::string& problem) {
  throw Error(ErrorCode::invalid_argument, fmt::format("job 'masks.propagate': {}", problem), {{"field", field}});
}

std::int64_t integer(const json& params, const std::string& field, std::int64_t min) {
  const auto it = params.find(field);
  if (it == params.end()) bad(field, fmt::format("parameter '{}' is missing", field));
  if (!it->is_number_integer() || it->get<std::int64_t>() < min) {
    bad(field, fmt::format("parameter '{}' must be an integer >= {}, got {}", field, min, it->dump()));
  }
  return it->get<std::int64_t>();
}

double unit_number(const json& params, const std::string& field, double fallback) {
  const auto it = params.find(field);
  if (it == params.end()) return fallback;
  if (!it->is_number() || it->get<double>() < 0.0 || it->get<double>() > 1.0) {
    bad(field, fmt::format("parameter '{}' must be a number in [0, 1], got {}", field, it->dump()));
  }
  return it->get<double>();
}

bool flag(const json& params, const std::string& field, bool fallback) {
  const auto it = params.find(field);
  if (it == params.end()) return fallback;
  if (!it->is_boolean()) bad(field, fmt::format("parameter '{}' must be true or false, got {}", field, it->dump()));
  return it->get<bool>();
}

PropagateMasksRequest request_of(const json& params) {
  static const std::set<std::string> known = {"series_id", "frame",        "tag_id",         "direction",
                                              "min_confidence", "flow",   "stop_on_review", "refine"};
  for (const auto& [key, value] : params.items()) {
    if (known.count(key) == 0) {
      bad(key, fmt::format("unknown parameter '{}' (known: series_id, frame, tag_id, direction, min_confidence, "
                           "flow, stop_on_review, refine)",
                           key));
    }
  }
  PropagateMasksRequest request;
  request.series_id = integer(params, "series_id", 1);
  request.frame = integer(params, "frame", 0);
  request.tag_id = integer(params, "tag_id", 1);
  const std::string direction = params.value("direction", json("both")).is_string()
                                    ? params.value("direction", std::string("both"))
                                    : std::string("?");
  if (direction != "both" && direction != "forward" && direction != "backward") {
    bad("direction", fmt::format("parameter 'direction' must be 'both', 'forward' or 'backward', got {}",
                                 params["direction"].dump()));
  }
  request.forward = direction != "backward";
  request.backward = direction != "forward";
  request.options.min_confidence = unit_number(params, "min_confidence", request.options.min_confidence);
  request.options.refine = flag(params, "refine", true);
  request.stop_on_review = flag(params, "stop_on_review", false);
  if (params.contains("flow")) {
    if (!params["flow"].is_string()) bad("flow", "parameter 'flow' must be 'dis' or 'farneback'");
    try {
      request.options.flow = segment::parse_flow_method(params["flow"].get<std::string>(), "flow");
    } catch (const Error& e) {
      bad("flow", e.what());
    }
  }
  return request;
}

void validate_propagate(Workspace& workspace, const std::optional<catalog::Project>& project, const json& params) {
  const PropagateMasksRequest request = request_of(params);
  catalog::Series series;
  try {
    series = catalog::TrackStore(workspace.catalog()).get_series(request.series_id);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::not_found) bad("series_id", e.what());
    throw;
  }
  if (!project || series.project_id != project->id) {
    bad("series_id", fmt::format("series {} is not a series of project '{}'", request.series_id,
                                 project ? project->name : std::string("(none)")));
  }
  try {
    check_propagation_request(workspace, request);
  } catch (const Error& e) {
    // At enqueue time every refusal is a bad parameter; the field comes from the use case's details.
    const std::string field = e.details().is_object() ? e.details().value("field", std::string("params")) : "params";
    bad(field, e.what());
  }
}

json run_propagate(Workspace& workspace, const json& params, JobContext& context) {
  PropagateMasksRequest request = request_of(params);
  const catalog::Job& job = context.job();
  request.actor = job_actor(workspace, job);
  request.on_progress = [&](double fraction, const std::string& message) { context.progress(fraction, message); };
  context.progress(0, "reading the source masks");
  return report_json(propagate_masks(workspace, request));
}

}  // namespace

JobKind masks_propagate_job_kind() {
  return {.name = "masks.propagate",
          .summary = "Propagates the masks of one tag on one frame through a series (params: series_id, frame, "
                     "tag_id, direction, min_confidence, flow, stop_on_review, refine)",
          .needs_project = true,
          .validate = validate_propagate,
          .run = run_propagate};
}

}  // namespace tessera::app
