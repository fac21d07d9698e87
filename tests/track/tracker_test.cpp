#include "tessera/track/tracker.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "tessera/track/evaluate.hpp"
#include "test_util.hpp"
#include "track/synth_fixture.hpp"

namespace tessera::track {
namespace {

using test::synth_series;

synth::TimelapseOptions movie(std::uint64_t seed, int frames = 60) {
  synth::TimelapseOptions o;
  o.positions = 2;
  o.frames = frames;
  o.size = 384;
  o.nuclei = 40;
  o.seed = seed;
  o.cycle_frames = 30;  // many divisions in a short movie
  o.touching_fraction = 0.4;
  return o;
}

TEST(Tracker, SyntheticTimelapsesMeetTheLinkAndDivisionGoals) {
  TrackingScore total;
  for (const std::uint64_t seed : {1u, 7u, 42u}) {
    for (int position = 1; position <= 2; ++position) {
      const auto s = synth_series(movie(seed), position);
      const TrackSet result = track(s.objects, {}, s.size);
      validate(result);
      const TrackingScore score = score_tracking(s.truth, result);
      fmt::print("seed {} position {}: links {}/{} (precision {:.4f}), divisions {}/{} found, {} reported\n", seed,
                 position, score.found_links, score.true_links, score.link_precision(), score.matched_divisions,
                 score.true_divisions, score.result_divisions);
      total.true_links += score.true_links;
      total.found_links += score.found_links;
      total.result_links += score.result_links;
      total.true_divisions += score.true_divisions;
      total.result_divisions += score.result_divisions;
      total.matched_divisions += score.matched_divisions;
    }
  }
  fmt::print(
      "total: link accuracy {:.4f} ({} of {}), link precision {:.4f}, division precision {:.3f} recall {:.3f} "
      "F1 {:.3f} ({} true, {} reported)\n",
      total.link_recall(), total.found_links, total.true_links, total.link_precision(), total.division_precision(),
      total.division_recall(), total.division_f1(), total.true_divisions, total.result_divisions);
  EXPECT_GE(total.true_divisions, 20);  // the movies do exercise divisions
  EXPECT_GE(total.link_recall(), 0.99);
  EXPECT_GE(total.link_precision(), 0.99);
  EXPECT_GE(total.division_f1(), 0.9);
}

TEST(Tracker, TouchingNucleiKeepTheirIdentity) {
  int touching_checked = 0;
  for (const std::uint64_t seed : {3u, 11u}) {
    auto options = movie(seed, 40);
    options.touching_fraction = 1.0;  // every frame-0 nucleus has a touching partner
    options.cycle_frames = 0;         // no divisions: identity is the only question
    const auto s = synth_series(options, 1);
    const TrackSet result = track(s.objects, {}, s.size);
    const auto touching = test::touching_labels(s.frames.labels);
    ASSERT_GE(touching.size(), 10u);
    // One result track per touching nucleus over its whole life, and no result track shared by two.
    std::map<std::int32_t, std::set<std::int32_t>> tracks_of;
    std::map<std::int32_t, std::set<std::int32_t>> labels_of;
    for (size_t t = 0; t < result.frames.size(); ++t) {
      for (const ObjectTrack& o : result.frames[t]) {
        tracks_of[o.label].insert(o.track);
        labels_of[o.track].insert(o.label);
      }
    }
    for (const std::int32_t label : touching) {
      ++touching_checked;
      EXPECT_EQ(tracks_of[label].size(), 1u) << "seed " << seed << ": nucleus " << label << " switched tracks";
      for (const std::int32_t t : tracks_of[label]) {
        EXPECT_EQ(labels_of[t].size(), 1u) << "seed " << seed << ": track " << t << " holds several nuclei";
      }
    }
  }
  fmt::print("touching nuclei checked: {}\n", touching_checked);
}

TEST(Tracker, GapClosingBridgesMissedDetections) {
  auto s = synth_series(movie(5, 40), 1);
  // Drop ~4% of the objects that are neither the first nor the last of their track, never two in a row
  // of the same track.
  std::mt19937 rng(17);
  std::map<std::int32_t, int> last_drop;
  int dropped = 0;
  for (size_t t = 1; t + 1 < s.objects.size(); ++t) {
    auto& objects = s.objects[t];
    std::erase_if(objects, [&](const ObjectDesc& o) {
      const Track* tr = s.truth.find_track(o.label);
      if (tr->begin == static_cast<int>(t) || tr->end == static_cast<int>(t)) return false;
      if (last_drop.contains(o.label) && last_drop[o.label] + 1 >= static_cast<int>(t)) return false;
      if (rng() % 25 != 0) return false;
      last_drop[o.label] = static_cast<int>(t);
      ++dropped;
      return true;
    });
    std::erase_if(s.truth.frames[t], [&](const ObjectTrack& o) {
      return std::none_of(objects.begin(), objects.end(), [&](const ObjectDesc& d) { return d.label == o.label; });
    });
  }
  ASSERT_GT(dropped, 50);
  const TrackSet result = track(s.objects, {.max_gap = 2}, s.size);
  const TrackingScore score = score_tracking(s.truth, result);
  fmt::print("gap closing: {} objects dropped, link accuracy {:.4f}, precision {:.4f}\n", dropped, score.link_recall(),
             score.link_precision());
  EXPECT_GE(score.link_recall(), 0.98);
  EXPECT_GE(score.link_precision(), 0.98);

  // Without gap closing each dropped object breaks its track.
  const TrackingScore no_gaps = score_tracking(s.truth, track(s.objects, {.max_gap = 0}, s.size));
  EXPECT_LE(no_gaps.found_links, score.found_links - dropped * 9 / 10);
}

TEST(Tracker, AnEmptyFrameIsBridgedByGapClosing) {
  auto s = synth_series(movie(9, 12), 1);
  s.objects[5].clear();
  s.truth.frames[5].clear();
  const TrackSet result = track(s.objects, {.max_gap = 1}, s.size);
  validate(result);
  // Every nucleus of frame 4 that is still there in frame 6 keeps its track across the empty frame.
  int bridged = 0;
  for (const ObjectTrack& o : result.frames[4]) {
    const auto later = s.truth.find_object(6, o.label);
    if (!later) continue;
    EXPECT_EQ(result.find_object(6, o.label), o.track) << "label " << o.label;
    ++bridged;
  }
  EXPECT_GT(bridged, 20);
  EXPECT_TRUE(result.frames[5].empty());
}

TEST(Tracker, RejectsBadInput) {
  auto one = [] {
    ObjectDesc o;
    o.label = 1;
    o.area = 10;
    return o;
  };
  tessera::test::expect_invalid([&] { track({{one()}}); }, "1 frame");
  tessera::test::expect_invalid([&] { track({}); }, "0 frames");
  auto twice = one();
  tessera::test::expect_invalid([&] { track({{one()}, {one(), twice}}); }, "frame 1: label 1 appears twice");
  auto zero = one();
  zero.label = 0;
  tessera::test::expect_invalid([&] { track({{one()}, {zero}}); }, "frame 1: label 0");
  auto empty = one();
  empty.area = 0;
  tessera::test::expect_invalid([&] { track({{empty}, {one()}}); }, "frame 0, label 1: area 0");
  tessera::test::expect_invalid([&] { Tracker({.max_gap = -1}); }, "'max_gap'");
}

TEST(Tracker, DescriptorsWithoutPixelsStillLink) {
  // What the catalog may hold: centroids and areas only; overlap comes from equivalent discs.
  auto s = synth_series(movie(21, 40), 1);
  for (auto& frame : s.objects) {
    for (auto& o : frame) o.runs.clear();
  }
  const TrackingScore score = score_tracking(s.truth, track(s.objects, {}, s.size));
  fmt::print("descriptors only: link accuracy {:.4f}, division F1 {:.3f}\n", score.link_recall(), score.division_f1());
  EXPECT_GE(score.link_recall(), 0.98);
  EXPECT_GE(score.division_f1(), 0.8);
}

}  // namespace
}  // namespace tessera::track
