#include "track_series_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "tessera/app/track_series.hpp"
#include "tessera/core/error.hpp"

namespace tessera::app {
namespace {

using json = nlohmann::json;

// Problems with the node's tracking options (empty when none), and the options.
std::vector<std::string> read_options(const json& node, track::TrackOptions& options) {
  std::vector<std::string> problems;
  if (node.contains("max_gap")) {
    const json& v = node["max_gap"];
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > 100)
      problems.push_back(fmt::format("'max_gap' must be an integer in [0, 100], got {}", v.dump()));
    else
      options.max_gap = v.get<int>();
  }
  if (node.contains("max_distance")) {
    const json& v = node["max_distance"];
    if (!v.is_number() || !(v.get<double>() >= 0 && v.get<double>() <= 1e6))
      problems.push_back(
          fmt::format("'max_distance' must be a number of pixels in [0, 1e6] (0: automatic), got {}", v.dump()));
    else
      options.max_distance = v.get<double>();
  }
  if (node.contains("divisions")) {
    if (!node["divisions"].is_boolean())
      problems.push_back(fmt::format("'divisions' must be true or false, got {}", node["divisions"].dump()));
    else
      options.divisions = node["divisions"].get<bool>();
  }
  return problems;
}

struct SeenSeries : pipeline::Prepared {
  std::vector<std::string> series;  // of the batch's root, when it has one
};

class TracksWriter : public pipeline::Writer {
 public:
  TracksWriter(std::shared_ptr<CatalogTarget> target, const json& node) : target_(std::move(target)) {
    read_options(node, options_);  // checked when the pipeline was parsed
  }

  std::unique_ptr<pipeline::Prepared> prepare(const pipeline::Batch& batch, int) const override {
    auto out = std::make_unique<SeenSeries>();
    for (const pipeline::Object& o : batch.objects) {
      if (o.parent >= 0) continue;
      if (!o.metadata.contains("image_id")) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("tracks writer: {} was not loaded from the catalog", o.id));
      }
      const json& fields = o.metadata.value("fields", json::object());
      if (fields.contains("series") && fields["series"].is_string())
        out->series.push_back(fields["series"].get<std::string>());
    }
    return out;
  }

  void write(const pipeline::Batch&, int, std::unique_ptr<pipeline::Prepared> prepared) override {
    for (std::string& name : static_cast<SeenSeries*>(prepared.get())->series) {
      if (seen_.insert(name).second) order_.push_back(std::move(name));
    }
  }

  void finish() override {
    if (!target_->run_id) throw Error(ErrorCode::internal, "tracks writer: the run was not recorded");
    if (order_.empty()) {
      throw Error(ErrorCode::invalid_argument,
                  "tracks writer: no image of the run belongs to a series (import time-lapses with --series-by and "
                  "--frame-by)");
    }
    catalog::TrackStore store(target_->workspace->catalog());
    for (const std::string& name : order_) {
      const std::optional<catalog::Series> series = store.find_series(target_->project_id, name);
      if (!series) throw Error(ErrorCode::not_found, fmt::format("tracks writer: series '{}' no longer exists", name));
      TrackSeriesRequest request;
      request.series_id = series->id;
      request.objects_run = *target_->run_id;
      request.options = options_;
      request.actor = {std::nullopt, fmt::format("run {}", *target_->run_id)};
      const auto runs = store.object_runs(series->id);
      if (std::none_of(runs.begin(), runs.end(), [&](const auto& r) { return r.run_id == target_->run_id; })) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("tracks writer: run {} stored no objects in series '{}': the objects it tracks are "
                                "those a {{\"write\": \"catalog\"}} node of the same pipeline stores",
                                *target_->run_id, name));
      }
      try {
        const TrackSeriesReport r = track_series(*target_->workspace, request);
        summary_.push_back({{"series", r.series},
                            {"series_id", r.series_id},
                            {"run_id", r.run_id},
                            {"objects", r.objects},
                            {"tracks", r.tracks},
                            {"divisions", r.divisions}});
      } catch (const Error& e) {
        throw Error(e.code(), fmt::format("tracks writer: {}", e.what()), e.details());
      }
    }
  }

  json summary() const override { return {{"writer", "tracks"}, {"series", summary_}}; }

 private:
  std::shared_ptr<CatalogTarget> target_;
  track::TrackOptions options_;
  std::set<std::string> seen_;
  std::vector<std::string> order_;
  json summary_ = json::array();
};

}  // namespace

pipeline::WriterKind tracks_writer_kind(std::shared_ptr<CatalogTarget> target) {
  return {.name = "tracks",
          .summary = "After the run, tracks the objects it stored in the catalog, per series, replacing their tracks",
          .fields = {"max_gap", "max_distance", "divisions"},
          .check =
              [](const json& node, const std::map<std::string, ops::FacetKind>&, int stage) {
                track::TrackOptions options;
                std::vector<std::string> problems = read_options(node, options);
                if (stage == 0)
                  problems.insert(problems.begin(),
                                  "tracks objects: put it after a split node (extract_regions) "
                                  "and a {\"write\": \"catalog\"} node");
                return problems;
              },
          .create = [target](const json& node) -> std::unique_ptr<pipeline::Writer> {
            return std::make_unique<TracksWriter>(target, node);
          }};
}

}  // namespace tessera::app
