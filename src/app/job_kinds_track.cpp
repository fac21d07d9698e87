// The 'track.series' job: app::track_series on one series of the job's project, progress per frame.
#include <fmt/format.h>

#include "tessera/app/job_actor.hpp"
#include "tessera/app/job_kinds.hpp"
#include "tessera/app/track_series.hpp"
#include "tessera/core/error.hpp"

namespace tessera::app {
namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& field, const std::string& problem) {
  throw Error(ErrorCode::invalid_argument, fmt::format("job 'track.series': {}", problem), {{"field", field}});
}

std::int64_t positive_id(const json& params, const std::string& field) {
  const auto it = params.find(field);
  if (!it->is_number_integer() || it->get<std::int64_t>() < 1) {
    bad(field, fmt::format("parameter '{}' must be a positive integer id, got {}", field, it->dump()));
  }
  return it->get<std::int64_t>();
}

TrackSeriesRequest request_of(const json& params) {
  TrackSeriesRequest request;
  for (const auto& [key, value] : params.items()) {
    if (key != "series_id" && key != "run" && key != "max_gap" && key != "max_distance" && key != "divisions")
      bad(key, fmt::format("unknown parameter '{}' (known: series_id, run, max_gap, max_distance, divisions)", key));
  }
  if (!params.contains("series_id")) bad("series_id", "parameter 'series_id' is missing");
  request.series_id = positive_id(params, "series_id");
  if (params.contains("run") && !params["run"].is_null()) request.objects_run = positive_id(params, "run");
  if (params.contains("max_gap")) {
    const json& gap = params["max_gap"];
    if (!gap.is_number_integer() || gap.get<std::int64_t>() < 0 || gap.get<std::int64_t>() > 100)
      bad("max_gap", fmt::format("parameter 'max_gap' must be an integer in [0, 100], got {}", gap.dump()));
    request.options.max_gap = gap.get<int>();
  }
  if (params.contains("max_distance")) {
    if (!params["max_distance"].is_number()) bad("max_distance", "parameter 'max_distance' must be a number");
    request.options.max_distance = params["max_distance"].get<double>();
  }
  if (params.contains("divisions")) {
    if (!params["divisions"].is_boolean()) bad("divisions", "parameter 'divisions' must be true or false");
    request.options.divisions = params["divisions"].get<bool>();
  }
  try {
    track::validate(request.options);
  } catch (const Error& e) {
    // The tracker's own check names the option; the field follows it.
    const std::string message = e.what();
    std::string field = "options";
    for (const char* name : {"max_gap", "max_distance", "divisions"}) {
      if (message.find(name) != std::string::npos) field = name;
    }
    bad(field, message);
  }
  return request;
}

void validate_track_series(Workspace& workspace, const std::optional<catalog::Project>& project, const json& params) {
  const TrackSeriesRequest request = request_of(params);
  const catalog::Series series = [&] {
    try {
      return catalog::TrackStore(workspace.catalog()).get_series(request.series_id);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::not_found) bad("series_id", e.what());
      throw;
    }
  }();
  if (!project || series.project_id != project->id) {
    bad("series_id", fmt::format("series {} is not a series of project '{}'", request.series_id,
                                 project ? project->name : std::string("(none)")));
  }
}

json run_track_series(Workspace& workspace, const json& params, JobContext& context) {
  TrackSeriesRequest request = request_of(params);
  const catalog::Job& job = context.job();
  request.actor = job_actor(workspace, job);
  request.on_progress = [&](double fraction, const std::string& message) { context.progress(fraction, message); };
  context.progress(0, "reading the series");
  const TrackSeriesReport r = track_series(workspace, request);
  return {{"series_id", r.series_id},
          {"series", r.series},
          {"run_id", r.run_id},
          {"objects_run", r.objects_run ? json(*r.objects_run) : json()},
          {"frames", json::array({r.first_frame, r.last_frame})},
          {"images", r.images},
          {"objects", r.objects},
          {"tracks", r.tracks},
          {"divisions", r.divisions},
          {"replaced_tracks", r.replaced_tracks},
          {"seconds", r.seconds}};
}

}  // namespace

JobKind track_series_job_kind() {
  return {.name = "track.series",
          .summary =
              "Tracks the objects of one series (params: series_id, run, max_gap, max_distance, divisions) "
              "and replaces its tracks",
          .needs_project = true,
          .validate = validate_track_series,
          .run = run_track_series};
}

}  // namespace tessera::app
