#include "tessera/catalog/tracks.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog_fixture.hpp"
#include "catalog/db.hpp"
#include "tessera/core/error.hpp"

namespace tessera::catalog {
namespace {

using fixture::PostgresBackend;
using fixture::SqliteBackend;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

template <typename Fn>
Error expect_error(ErrorCode code, Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    return e;
  }
  ADD_FAILURE() << "did not throw";
  return Error(ErrorCode::internal, "did not throw");
}

// A series "movie" of three frames with two objects each (a and b), and one image of another series.
template <typename Backend>
class TrackStoreTest : public fixture::CatalogOn<Backend> {
 protected:
  using fixture::CatalogOn<Backend>::catalog_;
  using fixture::CatalogOn<Backend>::backend_;
  using fixture::CatalogOn<Backend>::count_rows;

  void SetUp() override {
    fixture::CatalogOn<Backend>::SetUp();
    if (this->IsSkipped()) return;
    project_ = catalog_->ensure_project("lab").id;
    run_ = catalog_->start_run(project_, {{"kind", "pipeline"}}, "test", {}, {});
    for (int t = 0; t < 3; ++t) {
      frames_.push_back(add_image(fmt::format("movie/t{}.png", t), "movie", t));
      a_.push_back(add_object(frames_.back(), run_, 1));
      b_.push_back(add_object(frames_.back(), run_, 2));
    }
    elsewhere_ = add_image("other/t0.png", "other", 0);
    foreign_object_ = add_object(elsewhere_, run_, 1);
    series_ = store().find_series(project_, "movie")->id;
    alice_ = Actor{std::nullopt, "alice"};
  }

  Id add_image(const std::string& path, const std::string& series, std::optional<std::int64_t> frame) {
    NewImage image = fixture::named_image(path);
    image.series = SeriesRef{series};
    image.frame_index = frame;
    return catalog_->add_images(project_, {image}).added.at(0);
  }

  Id add_object(Id image, std::optional<Id> run, std::int64_t label, std::optional<Id> parent = std::nullopt) {
    NewObject o;
    o.label = label;
    o.bbox_x0 = 10 * label;
    o.bbox_y0 = 5;
    o.bbox_x1 = 10 * label + 4;
    o.bbox_y1 = 9;
    o.features = {{"area", 16}};
    o.mask_blob = "ab" + std::string(62, '0');
    o.parent_id = parent;
    return catalog_->add_objects(project_, run, image, {o}).at(0);
  }

  // Tracks a (frames 0-2), b (frame 0) and c (frames 1-2, daughter of b, holding b's later objects).
  std::vector<Id> track_abc() {
    return store()
        .replace_tracks(series_, std::nullopt,
                        {NewTrack{0, 2, std::nullopt, a_}, NewTrack{0, 0, std::nullopt, {b_[0]}},
                         NewTrack{1, 2, 1, {b_[1], b_[2]}}},
                        alice_, {{"divisions", 0}})
        .ids;
  }

  std::optional<Id> track_of(Id object) {
    return backend_.raw()->query("SELECT track_id FROM objects WHERE id = ?", {object}).opt_i64(0, 0);
  }

  std::vector<Event> events(const std::string& prefix) {
    std::vector<Event> out;
    for (const Event& e : catalog_->list_events(project_, 0, 1000)) {
      if (e.kind.starts_with(prefix)) out.push_back(e);
    }
    return out;
  }

  TrackStore store() { return TrackStore(*catalog_); }

  Id project_ = 0, run_ = 0, series_ = 0, elsewhere_ = 0, foreign_object_ = 0;
  std::vector<Id> frames_, a_, b_;
  Actor alice_;
};

using Backends = ::testing::Types<SqliteBackend, PostgresBackend>;
TYPED_TEST_SUITE(TrackStoreTest, Backends, fixture::BackendNames);

// --- Reading a series ----------------------------------------------------------------------------

TYPED_TEST(TrackStoreTest, SeriesImagesComeInFrameOrderWithUnnumberedOnesLast) {
  const Id late = this->add_image("movie/late.png", "movie", 7);
  const Id unnumbered = this->add_image("movie/x.png", "movie", std::nullopt);
  const Id early = this->add_image("movie/early.png", "movie", -1);
  std::vector<Id> ids;
  for (const SeriesImage& image : this->store().series_images(this->series_)) ids.push_back(image.id);
  EXPECT_THAT(ids, ElementsAre(early, this->frames_[0], this->frames_[1], this->frames_[2], late, unnumbered));
  EXPECT_EQ(this->store().get_series(this->series_).name, "movie");
  EXPECT_EQ(this->store().get_series(this->series_).frame_count, 6);
  expect_error(ErrorCode::not_found, [&] { this->store().get_series(999999); });
  EXPECT_FALSE(this->store().find_series(this->project_, "nope"));
}

TYPED_TEST(TrackStoreTest, ObjectRunsListNewestRunFirstAndObjectsWithoutARunLast) {
  const Id later = this->catalog_->start_run(this->project_, {{"kind", "measure"}}, "test", {}, {});
  this->add_object(this->frames_[1], later, 1);
  this->add_object(this->frames_[1], std::nullopt, 1);
  // A region nested in another is not tracked, so it counts nowhere.
  this->add_object(this->frames_[2], later, 9, this->a_[2]);
  const auto runs = this->store().object_runs(this->series_);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].run_id, later);
  EXPECT_EQ(runs[0].objects, 1);
  EXPECT_EQ(runs[1].run_id, this->run_);
  EXPECT_EQ(runs[1].objects, 6);
  EXPECT_EQ(runs[1].images, 3);
  EXPECT_FALSE(runs[2].run_id.has_value());
  EXPECT_EQ(runs[2].objects, 1);

  const auto objects = this->store().image_objects(this->frames_[1], this->run_);
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[0].id, this->a_[1]);
  EXPECT_EQ(objects[0].frame, 1);
  EXPECT_EQ(objects[0].features["area"], 16);
  EXPECT_EQ(objects[1].bbox_x0, 20);
  EXPECT_TRUE(objects[1].mask_blob.has_value());
  EXPECT_EQ(this->store().image_objects(this->frames_[1], std::nullopt).size(), 1u);
  EXPECT_TRUE(this->store().image_objects(this->frames_[2], later).empty());
}

// --- Replacing a series' tracks ------------------------------------------------------------------

TYPED_TEST(TrackStoreTest, ReplaceTracksStoresLineageAndTheObjectsTracks) {
  const auto ids = this->track_abc();
  ASSERT_EQ(ids.size(), 3u);
  const auto tracks = this->store().list(this->series_);
  ASSERT_EQ(tracks.size(), 3u);
  EXPECT_EQ(tracks[0].id, ids[0]);
  EXPECT_EQ(tracks[0].objects, 3);
  EXPECT_EQ(tracks[1].id, ids[1]);
  EXPECT_EQ(tracks[2].id, ids[2]);
  EXPECT_EQ(tracks[2].parent_id, ids[1]);
  EXPECT_EQ(tracks[2].start_frame, 1);
  EXPECT_EQ(tracks[2].end_frame, 2);
  EXPECT_EQ(this->track_of(this->a_[2]), ids[0]);
  EXPECT_EQ(this->track_of(this->b_[2]), ids[2]);
  EXPECT_EQ(this->store().tracked_objects(this->series_).size(), 6u);
  const auto tracked = this->events("series.tracked");
  ASSERT_EQ(tracked.size(), 1u);
  EXPECT_EQ(tracked[0].subject_id, this->series_);
  EXPECT_EQ(tracked[0].actor, "alice");
  EXPECT_EQ(tracked[0].payload["tracks"], 3);
  EXPECT_EQ(tracked[0].payload["divisions"], 0);
}

TYPED_TEST(TrackStoreTest, TrackingAgainReplacesEveryTrackOfTheSeries) {
  this->track_abc();
  const auto replaced = this->store().replace_tracks(this->series_, this->run_,
                                                     {NewTrack{0, 2, std::nullopt, this->a_}}, this->alice_, {});
  EXPECT_EQ(replaced.replaced, 3);
  const auto& ids = replaced.ids;
  const auto tracks = this->store().list(this->series_);
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_EQ(tracks[0].id, ids[0]);
  EXPECT_EQ(tracks[0].run_id, this->run_);
  EXPECT_FALSE(this->track_of(this->b_[1]).has_value());
  EXPECT_EQ(this->count_rows("tracks"), 1);
  EXPECT_EQ(this->events("series.tracked").back().payload["replaced_tracks"], 3);
}

TYPED_TEST(TrackStoreTest, ReplaceRefusesBadTracksAndLeavesTheOldOnes) {
  const auto old = this->track_abc();
  const std::string foreign =
      expect_error(ErrorCode::invalid_argument, [&] {
        this->store().replace_tracks(this->series_, std::nullopt,
                                     {NewTrack{0, 0, std::nullopt, {this->foreign_object_}}}, this->alice_, {});
      }).what();
  EXPECT_THAT(foreign, HasSubstr(fmt::format("object {}", this->foreign_object_)));
  expect_error(ErrorCode::invalid_argument, [&] {
    this->store().replace_tracks(
        this->series_, std::nullopt,
        {NewTrack{0, 1, std::nullopt, {this->a_[0]}}, NewTrack{0, 1, std::nullopt, {this->a_[0]}}}, this->alice_, {});
  });
  expect_error(ErrorCode::invalid_argument, [&] {
    this->store().replace_tracks(this->series_, std::nullopt, {NewTrack{0, 1, 0, {this->a_[0]}}}, this->alice_, {});
  });
  expect_error(ErrorCode::invalid_argument, [&] {
    this->store().replace_tracks(this->series_, std::nullopt, {NewTrack{2, 1, std::nullopt, {}}}, this->alice_, {});
  });
  expect_error(ErrorCode::not_found, [&] { this->store().replace_tracks(999999, std::nullopt, {}, this->alice_, {}); });
  EXPECT_EQ(this->store().list(this->series_).size(), 3u);
  EXPECT_EQ(this->track_of(this->a_[0]), old[0]);
}

// --- Edits ---------------------------------------------------------------------------------------

TYPED_TEST(TrackStoreTest, AnEditSeesTheNamedTracksTheirParentsAndChildren) {
  const auto ids = this->track_abc();
  TrackSnapshot seen;
  expect_error(ErrorCode::conflict, [&] {
    this->store().edit({ids[2]}, this->alice_, [&](const TrackSnapshot& s) -> TrackPlan {
      seen = s;
      throw Error(ErrorCode::conflict, "refused");
    });
  });
  EXPECT_EQ(seen.series_id, this->series_);
  EXPECT_EQ(seen.project_id, this->project_);
  ASSERT_EQ(seen.tracks.size(), 2u);  // c and its parent b; a is unrelated
  EXPECT_EQ(seen.tracks[0].id, ids[1]);
  EXPECT_EQ(seen.tracks[1].id, ids[2]);
  ASSERT_EQ(seen.objects.size(), 3u);
  EXPECT_EQ(seen.objects[0].id, this->b_[0]);
  EXPECT_EQ(seen.objects[0].frame, 0);
  EXPECT_EQ(seen.objects[2].track_id, ids[2]);
  // A refused plan writes nothing.
  EXPECT_EQ(this->count_rows("track_edits"), 0);
  EXPECT_TRUE(this->events("track.").empty());
}

TYPED_TEST(TrackStoreTest, AMergeLikeEditMovesObjectsDeletesATrackAndIsJournaled) {
  const auto ids = this->track_abc();
  const Actor bob{std::nullopt, "bob"};
  // c joins b: b covers frames 0-2, c is gone.
  const TrackEditResult r = this->store().edit({ids[1], ids[2]}, bob, [&](const TrackSnapshot&) {
    TrackPlan plan;
    plan.action = "merge";
    plan.track_id = ids[1];
    plan.other_track_id = ids[2];
    plan.rows = {TrackPlan::Row{ids[1], 0, 2, std::nullopt, std::nullopt}};
    plan.moves = {{this->b_[1], 0}, {this->b_[2], 0}};
    return plan;
  });
  ASSERT_EQ(r.tracks.size(), 1u);
  EXPECT_EQ(r.tracks[0].end_frame, 2);
  EXPECT_EQ(r.tracks[0].objects, 3);
  EXPECT_FALSE(this->store().find(ids[2]));
  EXPECT_EQ(this->track_of(this->b_[2]), ids[1]);
  EXPECT_EQ(r.edit.action, "merge");
  EXPECT_EQ(r.edit.actor, "bob");
  EXPECT_EQ(r.edit.after["deleted"], nlohmann::json::array({ids[2]}));
  EXPECT_EQ(r.edit.after["moved_objects"].size(), 2u);
  ASSERT_EQ(r.edit.before["tracks"].size(), 2u);  // b (shorter then) and c
  EXPECT_EQ(r.edit.before["tracks"][0]["end_frame"], 0);
  ASSERT_EQ(r.edit.after["tracks"].size(), 1u);
  EXPECT_EQ(r.edit.after["tracks"][0]["end_frame"], 2);
  // Both tracks' histories hold the entry, the merged-away one too.
  ASSERT_EQ(this->store().history(ids[1]).size(), 1u);
  ASSERT_EQ(this->store().history(ids[2]).size(), 1u);
  EXPECT_EQ(this->store().history(ids[2])[0].id, r.edit.id);
  EXPECT_TRUE(this->store().history(ids[0]).empty());
  const auto merged = this->events("track.merged");
  ASSERT_EQ(merged.size(), 1u);
  EXPECT_EQ(merged[0].subject_id, ids[1]);
  EXPECT_EQ(merged[0].payload["edit_id"], r.edit.id);
}

TYPED_TEST(TrackStoreTest, ASplitLikeEditCreatesATrackWhoseIdTheJournalNames) {
  const auto ids = this->track_abc();
  // a's frames 1-2 become a new track, parent of nothing; c becomes the new track's child.
  const TrackEditResult r = this->store().edit({ids[0]}, this->alice_, [&](const TrackSnapshot& s) {
    EXPECT_EQ(s.tracks.size(), 1u);
    TrackPlan plan;
    plan.action = "split";
    plan.track_id = ids[0];
    plan.other_track_row = 1;
    plan.arguments = {{"frame", 1}};
    plan.rows = {TrackPlan::Row{ids[0], 0, 0, std::nullopt, std::nullopt},
                 TrackPlan::Row{std::nullopt, 1, 2, std::nullopt, std::nullopt}};
    plan.moves = {{this->a_[1], 1}, {this->a_[2], 1}};
    return plan;
  });
  ASSERT_EQ(r.tracks.size(), 2u);
  const Id created = r.tracks[1].id;
  EXPECT_GT(created, ids[2]);
  EXPECT_EQ(r.tracks[1].objects, 2);
  EXPECT_EQ(r.tracks[0].end_frame, 0);
  EXPECT_EQ(this->track_of(this->a_[2]), created);
  EXPECT_EQ(r.edit.other_track_id, created);
  EXPECT_EQ(r.edit.after["frame"], 1);
  EXPECT_EQ(this->store().history(created).size(), 1u);
  EXPECT_EQ(this->store().list(this->series_).size(), 4u);
}

TYPED_TEST(TrackStoreTest, EditsNameMissingTracksAndRefuseTracksOfTwoSeries) {
  const auto ids = this->track_abc();
  const Id other_series = this->store().find_series(this->project_, "other")->id;
  const auto other = this->store()
                         .replace_tracks(other_series, std::nullopt,
                                         {NewTrack{0, 0, std::nullopt, {this->foreign_object_}}}, this->alice_, {})
                         .ids;
  auto no_plan = [](const TrackSnapshot&) -> TrackPlan { return {}; };
  const std::string missing = expect_error(ErrorCode::not_found, [&] {
                                this->store().edit({ids[0], 424242}, this->alice_, no_plan);
                              }).what();
  EXPECT_THAT(missing, HasSubstr("424242"));
  const std::string mixed = expect_error(ErrorCode::invalid_argument, [&] {
                              this->store().edit({ids[0], other[0]}, this->alice_, no_plan);
                            }).what();
  EXPECT_THAT(mixed, HasSubstr("different series"));
  // A parent from another series is refused too.
  expect_error(ErrorCode::invalid_argument, [&] {
    this->store().edit({ids[0]}, this->alice_, [&](const TrackSnapshot&) {
      TrackPlan plan;
      plan.action = "set_parent";
      plan.track_id = ids[0];
      plan.rows = {TrackPlan::Row{ids[0], 0, 2, other[0], std::nullopt}};
      return plan;
    });
  });
  EXPECT_EQ(this->count_rows("track_edits"), 0);
  EXPECT_EQ(this->store().get(ids[0]).parent_id, std::nullopt);
  expect_error(ErrorCode::not_found, [&] { this->store().get(424242); });
}

TYPED_TEST(TrackStoreTest, DeletingTheSeriesDeletesItsTracksAndJournal) {
  const auto ids = this->track_abc();
  this->store().edit({ids[2]}, this->alice_, [&](const TrackSnapshot&) {
    TrackPlan plan;
    plan.action = "unset_parent";
    plan.track_id = ids[2];
    plan.rows = {TrackPlan::Row{ids[1], 0, 0, std::nullopt, std::nullopt},
                 TrackPlan::Row{ids[2], 1, 2, std::nullopt, std::nullopt}};
    return plan;
  });
  EXPECT_EQ(this->store().get(ids[2]).parent_id, std::nullopt);
  EXPECT_EQ(this->events("track.parent_unset").size(), 1u);
  this->backend_.raw()->execute("DELETE FROM series WHERE id = ?", {this->series_});
  EXPECT_EQ(this->count_rows("track_edits"), 0);
  EXPECT_TRUE(this->store().list(this->series_).empty());
}

}  // namespace
}  // namespace tessera::catalog
