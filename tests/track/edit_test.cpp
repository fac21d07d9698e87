#include "tessera/track/edit.hpp"

#include <gtest/gtest.h>

#include "tessera/core/error.hpp"
#include "test_util.hpp"

namespace tessera::track {
namespace {

using tessera::test::expect_invalid;

// Track 1 (frames 0-2) divides into 2 (3-5) and 4 (3-4); track 3 runs through all six frames.
TrackSet lineage() {
  TrackSet s;
  s.tracks = {{1, 0, 2, 0, true}, {2, 3, 5, 1, false}, {3, 0, 5, 0, false}, {4, 3, 4, 1, false}};
  s.frames = {{{1, 1}, {2, 3}},         {{1, 1}, {2, 3}},         {{1, 1}, {2, 3}},
              {{2, 3}, {5, 2}, {6, 4}}, {{2, 3}, {5, 2}, {6, 4}}, {{2, 3}, {5, 2}}};
  validate(s);
  return s;
}

TEST(Edit, MergeJoinsTwoTracksAndKeepsTheEarlierParent) {
  const TrackSet s = unset_parent(lineage(), 4);
  const TrackSet merged = merge_tracks(s, 1, 2);
  validate(merged);
  EXPECT_EQ(merged.find_track(2), nullptr);
  EXPECT_EQ(*merged.find_track(1), (Track{1, 0, 5, 0, true}));
  EXPECT_EQ(merged.find_object(4, 5), 1);
  EXPECT_EQ(lineage().find_object(4, 5), 2) << "the input is unchanged";
}

TEST(Edit, MergeRejectsOverlapsAndChildrenThatWouldStartTooEarly) {
  expect_invalid([] { merge_tracks(lineage(), 1, 3); }, "frame 0 holds both track 1 (label 1) and track 3 (label 2)");
  expect_invalid([] { merge_tracks(lineage(), 1, 2); }, "track 4, a child of track 1, begins at frame 3");
  expect_invalid([] { merge_tracks(lineage(), 1, 1); }, "with itself");
  try {
    merge_tracks(lineage(), 1, 99);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_NE(std::string(e.what()).find("track 99"), std::string::npos);
  }
  // A later track whose parent is another track cannot be merged into an unrelated earlier one.
  TrackSet s = lineage();
  s.tracks = {{1, 0, 2, 0, true}, {2, 3, 5, 1, false}, {3, 0, 5, 0, false}, {4, 3, 4, 1, false}};
  const SplitResult split = split_track(s, 3, 3);  // 3: frames 0-2, 5: frames 3-5
  expect_invalid([&] { merge_tracks(split.set, 5, 2); }, "frame 3 holds both track 5 (label 2) and track 2 (label 5)");
  expect_invalid([&] { merge_tracks(unset_parent(split.set, 4), 1, 4); }, "track 2, a child of track 1");
}

TEST(Edit, SplitMovesTheRestToANewTrackWithTheChildren) {
  const SplitResult r = split_track(lineage(), 1, 1);
  validate(r.set);
  EXPECT_EQ(r.new_track, 5);
  EXPECT_EQ(*r.set.find_track(1), (Track{1, 0, 0, 0, false}));
  EXPECT_EQ(*r.set.find_track(5), (Track{5, 1, 2, 0, true}));
  EXPECT_EQ(r.set.find_track(2)->parent, 5);
  EXPECT_EQ(r.set.find_track(4)->parent, 5);
  EXPECT_EQ(r.set.find_object(2, 1), 5);
  expect_invalid([] { split_track(lineage(), 1, 0); }, "track 1 spans frames 0-2; a split frame must be in 1-2");
  expect_invalid([] { split_track(lineage(), 1, 3); }, "a split frame must be in 1-2");
}

TEST(Edit, SetAndUnsetParent) {
  const TrackSet s = unset_parent(lineage(), 2);
  EXPECT_EQ(s.find_track(2)->parent, 0);
  const TrackSet back = set_parent(s, 2, 1);
  EXPECT_EQ(back, lineage());
  expect_invalid([] { set_parent(lineage(), 3, 1); }, "track 1 ends at frame 2, not before track 3 begins at frame 0");
  expect_invalid([] { set_parent(lineage(), 2, 2); }, "its own parent");
  EXPECT_THROW(set_parent(lineage(), 2, 42), Error);
}

TEST(TrackSet, ValidateNamesTheBrokenInvariant) {
  TrackSet s = lineage();
  s.frames[1].push_back({9, 1});
  expect_invalid([&] { validate(s); }, "frame 1: track 1 holds both label 1 and label 9");
  s = lineage();
  s.frames[4][0].track = 77;
  expect_invalid([&] { validate(s); }, "frame 4, label 2: track 77 does not exist");
  s = lineage();
  s.tracks[0].end = 3;
  expect_invalid([&] { validate(s); }, "track 1 says frames 0-3 but its objects are in frames 0-2");
}

}  // namespace
}  // namespace tessera::track
