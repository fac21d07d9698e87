#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tessera/core/file.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/track/evaluate.hpp"
#include "tessera/track/tracker.hpp"

namespace tessera::track {
namespace {

const std::filesystem::path kData = TESSERA_SOURCE_DIR "/../shared/data";

std::vector<cv::Mat> read_stack(const std::filesystem::path& path) {
  return image::decode(read_file(path), path.filename().string()).frames;
}

std::vector<std::vector<ObjectDesc>> objects_of(const std::vector<cv::Mat>& labels,
                                                const std::vector<cv::Mat>& images = {}) {
  std::vector<std::vector<ObjectDesc>> out;
  for (size_t t = 0; t < labels.size(); ++t) {
    out.push_back(objects_from_labels(labels[t], images.empty() ? cv::Mat() : images[t], fmt::format("frame {}", t)));
  }
  return out;
}

// DeepCell Label's one-division fixture: cells 23 and 31 in frame 0; 23, 134 and 135 in frame 1, where
// 31 divided into 134 and 135 (divisions.json).
TEST(SharedData, DeepcellOneDivisionIsFound) {
  const auto dir = kData / "deepcell_label_one_division";
  if (!std::filesystem::exists(dir / "y.ome.tiff")) GTEST_SKIP() << "no " << dir;
  const auto labels = read_stack(dir / "y.ome.tiff");
  const auto images = read_stack(dir / "X.ome.tiff");
  ASSERT_EQ(labels.size(), 2u);
  const auto objects = objects_of(labels, images);

  // The truth, from cells.json and divisions.json: cell id = track, one parent per daughter.
  TrackSet truth;
  truth.frames.resize(2);
  for (const auto& c : nlohmann::json::parse(read_file(dir / "cells.json"))) {
    truth.frames[c["t"].get<size_t>()].push_back({c["value"].get<std::int32_t>(), c["cell"].get<std::int32_t>()});
  }
  std::map<std::int32_t, std::int32_t> parent;
  for (const auto& d : nlohmann::json::parse(read_file(dir / "divisions.json"))) {
    for (const auto& kid : d["daughters"]) parent[kid.get<std::int32_t>()] = d["parent"].get<std::int32_t>();
  }
  std::map<std::int32_t, std::pair<int, int>> span;
  for (int t = 0; t < 2; ++t) {
    std::sort(truth.frames[static_cast<size_t>(t)].begin(), truth.frames[static_cast<size_t>(t)].end(),
              [](const ObjectTrack& a, const ObjectTrack& b) { return a.label < b.label; });
    for (const ObjectTrack& o : truth.frames[static_cast<size_t>(t)]) {
      auto [it, fresh] = span.emplace(o.track, std::pair{t, t});
      if (!fresh) it->second.second = t;
    }
  }
  for (const auto& [id, s] : span) truth.tracks.push_back({id, s.first, s.second, parent[id], false});
  validate(truth);

  const TrackSet result = track(objects, {}, labels[0].size());
  const TrackingScore score = score_tracking(truth, result);
  fmt::print("deepcell one division: links {}/{}, divisions {}/{} (reported {})\n", score.found_links,
             score.true_links, score.matched_divisions, score.true_divisions, score.result_divisions);
  EXPECT_EQ(score.found_links, 1);
  EXPECT_EQ(score.matched_divisions, 1);
  EXPECT_EQ(score.result_divisions, 1);
}

// LapTrack's napari example: 6 frames of ~45 nuclei whose ids mostly persist across frames (the README
// says this is likely but not guaranteed), so persistent ids serve as an approximate truth. The nuclei
// move ~14 px per frame (median; up to ~30) at ~24 px nearest-neighbour spacing, a hard case for
// frame-to-frame linking: the floor guards against regressions, it is not a quality goal.
TEST(SharedData, LaptrackNapariExampleAgreesWithItsPersistentIds) {
  const auto dir = kData / "laptrack_timelapse" / "napari_interactive_fix_data";
  if (!std::filesystem::exists(dir / "example_label.tif")) GTEST_SKIP() << "no " << dir;
  const auto labels = read_stack(dir / "example_label.tif");
  const auto images = read_stack(dir / "example_images.tif");
  ASSERT_EQ(labels.size(), 6u);
  const auto objects = objects_of(labels, images);
  TrackSet ids;  // label = track where a label is present in consecutive frames
  std::map<std::int32_t, std::pair<int, int>> span;
  for (size_t t = 0; t < objects.size(); ++t) {
    std::vector<ObjectTrack> frame;
    for (const ObjectDesc& o : objects[t]) frame.push_back({o.label, o.label});
    ids.frames.push_back(frame);
  }
  const TrackSet result = track(objects, {.max_gap = 0}, labels[0].size());
  // Links the ids imply (same label in consecutive frames) that the tracker also made.
  int implied = 0;
  int agreed = 0;
  for (size_t t = 0; t + 1 < objects.size(); ++t) {
    for (const ObjectTrack& o : ids.frames[t]) {
      if (!ids.find_object(static_cast<int>(t + 1), o.label)) continue;
      ++implied;
      agreed += result.find_object(static_cast<int>(t), o.label) == result.find_object(static_cast<int>(t + 1), o.label);
    }
  }
  int objects_total = 0;
  for (const auto& f : objects) objects_total += static_cast<int>(f.size());
  fmt::print("laptrack napari example: {} objects, {} tracks, {} of {} id-implied links agree ({:.3f})\n", objects_total,
             result.tracks.size(), agreed, implied, static_cast<double>(agreed) / implied);
  EXPECT_GE(implied, 150);
  EXPECT_GE(static_cast<double>(agreed) / implied, 0.70);
}

}  // namespace
}  // namespace tessera::track
