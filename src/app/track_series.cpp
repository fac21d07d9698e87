#include "tessera/app/track_series.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "tessera/app/job_kinds.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/parallel.hpp"
#include "tessera/version.hpp"
#include "track_series_frames.hpp"

namespace tessera::app {
namespace {

using json = nlohmann::json;

// Frame numbers a tracking may span: a series numbered by timestamps would otherwise walk millions of
// empty frames.
constexpr std::int64_t kMaxFrameSpan = 10'000'000;

std::string describe_runs(const std::vector<catalog::ObjectRunCount>& runs) {
  std::string out;
  for (const auto& r : runs) {
    out += fmt::format("{}{} ({} objects)", out.empty() ? "" : ", ",
                       r.run_id ? fmt::format("run {}", *r.run_id) : "no run", r.objects);
  }
  return out;
}

// The run whose objects are tracked (nullopt: objects stored without a run); see TrackSeriesRequest.
std::optional<catalog::Id> choose_objects_run(catalog::TrackStore& store, const catalog::Series& series,
                                              const std::optional<catalog::Id>& asked) {
  const auto runs = store.object_runs(series.id);
  if (runs.empty()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("series '{}' has no objects to track: segment it first (e.g. a pipeline ending in "
                            "{{\"write\": \"catalog\"}})",
                            series.name));
  }
  if (!asked) return runs.front().run_id;
  if (std::none_of(runs.begin(), runs.end(), [&](const auto& r) { return r.run_id == asked; })) {
    throw Error(ErrorCode::not_found, fmt::format("run {} stored no objects in series '{}' (objects here: {})", *asked,
                                                  series.name, describe_runs(runs)));
  }
  return asked;
}

json options_json(const track::TrackOptions& o) {
  return {{"max_gap", o.max_gap}, {"max_distance", o.max_distance}, {"divisions", o.divisions}};
}

// The tracker's result as catalog tracks: ids become list positions, frames go back to frame numbers.
std::vector<catalog::NewTrack> new_tracks(const track::TrackSet& set, std::int64_t first_frame) {
  std::map<std::int32_t, std::size_t> index;
  std::vector<catalog::NewTrack> out;
  for (const track::Track& t : set.tracks) {
    index[t.id] = out.size();
    out.push_back({first_frame + t.begin, first_frame + t.end, std::nullopt, {}});
  }
  for (size_t k = 0; k < set.tracks.size(); ++k) {
    if (set.tracks[k].parent != 0) out[k].parent = index.at(set.tracks[k].parent);
  }
  for (const auto& frame : set.frames) {
    for (const track::ObjectTrack& o : frame) out[index.at(o.track)].objects.push_back(o.label);
  }
  return out;
}

std::int64_t count_divisions(const track::TrackSet& set) {
  std::map<std::int32_t, int> daughters;
  for (const track::Track& t : set.tracks) {
    if (t.parent != 0) ++daughters[t.parent];
  }
  return std::count_if(daughters.begin(), daughters.end(), [](const auto& d) { return d.second >= 2; });
}

}  // namespace

catalog::Series find_project_series(Workspace& workspace, const std::string& project, const std::string& name_or_id) {
  const catalog::Project p = workspace.catalog().get_project(project);
  catalog::TrackStore store(workspace.catalog());
  if (auto found = store.find_series(p.id, name_or_id)) return *found;
  const bool number = !name_or_id.empty() && name_or_id.size() < 19 &&
                      std::all_of(name_or_id.begin(), name_or_id.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (number) {
    try {
      catalog::Series s = store.get_series(std::stoll(name_or_id));
      if (s.project_id == p.id) return s;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::not_found) throw;
    }
  }
  throw Error(ErrorCode::not_found, fmt::format("project '{}' has no series '{}'", project, name_or_id));
}

TrackSeriesReport track_series(Workspace& workspace, const TrackSeriesRequest& request) {
  track::validate(request.options);
  catalog::Catalog& catalog = workspace.catalog();
  catalog::TrackStore store(catalog);
  const SeriesFrames frames = checked_series_frames(store, request.series_id);
  const catalog::Series& series = frames.series;
  const std::optional<catalog::Id> objects_run = choose_objects_run(store, series, request.objects_run);
  const std::int64_t first = *frames.images.front().frame_index;
  const std::int64_t last = *frames.images.back().frame_index;
  if (last - first + 1 > kMaxFrameSpan) {
    throw Error(ErrorCode::unsupported, fmt::format("series '{}' spans frames {} to {}; tracking handles at most {} "
                                                    "frame numbers",
                                                    series.name, first, last, kMaxFrameSpan));
  }

  TrackSeriesReport report;
  report.series_id = series.id;
  report.series = series.name;
  report.objects_run = objects_run;
  report.first_frame = first;
  report.last_frame = last;
  report.images = static_cast<std::int64_t>(frames.images.size());
  const json spec = {{"kind", "track"}, {"name", fmt::format("track {}", series.name)}, {"series", series.name}};
  const json inputs = {{"series_id", series.id}, {"objects_run", objects_run ? json(*objects_run) : json()}};
  report.run_id = catalog.start_run(series.project_id, spec, kTesseraVersion, options_json(request.options), inputs);
  const auto start = std::chrono::steady_clock::now();
  try {
    track::Tracker tracker(request.options, frames.size);
    // Reading and decoding a frame's objects runs ahead on worker threads; frames reach the tracker in
    // order, and only a window of them is held at once.
    const int jobs = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
    std::int64_t next_frame = first;
    ordered_parallel_for<std::vector<track::ObjectDesc>>(
        frames.images.size(), jobs,
        [&](size_t i) {
          std::vector<track::ObjectDesc> objects;
          for (const catalog::SeriesObject& o : store.image_objects(frames.images[i].id, objects_run)) {
            objects.push_back(describe_object(workspace.blobs(), o));
          }
          return objects;
        },
        [&](size_t i, std::vector<track::ObjectDesc>&& objects) {
          const std::int64_t frame = *frames.images[i].frame_index;
          for (; next_frame < frame; ++next_frame) tracker.add_frame({});  // a frame number without an image
          report.objects += static_cast<std::int64_t>(objects.size());
          tracker.add_frame(std::move(objects));
          ++next_frame;
          if (request.on_progress) {
            request.on_progress(static_cast<double>(i + 1) / static_cast<double>(frames.images.size()),
                                fmt::format("frame {} of {}", i + 1, frames.images.size()));
          }
        },
        16);
    const track::TrackSet set = tracker.finish();
    report.tracks = static_cast<std::int64_t>(set.tracks.size());
    report.divisions = count_divisions(set);
    const json summary = {{"run_id", report.run_id},
                          {"objects", report.objects},
                          {"divisions", report.divisions},
                          {"objects_run", inputs["objects_run"]},
                          {"frames", json::array({first, last})}};
    report.replaced_tracks =
        store.replace_tracks(series.id, report.run_id, new_tracks(set, first), request.actor, summary).replaced;
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    catalog.finish_run(report.run_id, "succeeded",
                       {{"images", report.images},
                        {"objects", report.objects},
                        {"tracks", report.tracks},
                        {"divisions", report.divisions},
                        {"replaced_tracks", report.replaced_tracks}},
                       std::nullopt, report.seconds);
  } catch (const std::exception& e) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // A job stopped from outside (cancelled, or its worker shutting down) did not fail.
    const bool stopped =
        dynamic_cast<const JobCancelled*>(&e) != nullptr || dynamic_cast<const JobInterrupted*>(&e) != nullptr;
    try {
      catalog.finish_run(report.run_id, stopped ? "cancelled" : "failed", {{"objects", report.objects}},
                         std::string(e.what()), seconds);
    } catch (const std::exception&) {
      // The tracking's own error says more than a failure to record it.
    }
    throw;
  }
  return report;
}

}  // namespace tessera::app
