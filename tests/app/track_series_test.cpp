// Tracking catalog series end to end: a synthetic time-lapse (exact lineage known) imported as a series,
// its nuclei measured into the catalog, tracked from there and scored against the truth; the run choice,
// bad series, edits with their journal, a segmentation pipeline ending in the tracks writer, and exports.
#include "tessera/app/track_series.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tessera/app/import.hpp"
#include "tessera/app/job_kinds.hpp"
#include "tessera/app/pipeline_run.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/image/encode.hpp"
#include "tessera/synth/timelapse.hpp"
#include "tessera/track/ctc.hpp"
#include "tessera/track/evaluate.hpp"
#include "tessera/track/objects.hpp"
#include "tessera/track/trk.hpp"
#include "test_util.hpp"

namespace tessera::app {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
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

synth::TimelapseOptions movie_options() {
  synth::TimelapseOptions o;
  o.positions = 1;
  o.frames = 40;
  o.size = 320;
  o.nuclei = 30;
  o.seed = 11;
  o.cycle_frames = 30;  // divisions within a short movie
  o.touching_fraction = 0.4;
  return o;
}

// A per-frame segmentation of the camera images (Otsu, labels, regionprops on the raw intensities), its
// nuclei stored in the catalog (without masks: tracked by their features), optionally tracked by the
// pipeline's tracks writer.
json segmentation(bool with_tracks_writer) {
  json nodes = json::array({
      {{"op", "threshold_otsu"}, {"in", {{"image", "raw"}}}, {"out", {{"mask", "mask"}}}},
      {{"op", "label"}, {"in", {{"mask", "mask"}}}, {"out", {{"labels", "labels"}}}},
      {{"op", "remove_small_objects"},
       {"in", {{"labels", "labels"}}},
       {"out", {{"labels", "labels"}}},
       {"params", {{"min_size", 20}}}},
      {{"op", "regionprops"}, {"in", {{"labels", "labels"}, {"intensity", "raw"}}}, {"out", {{"table", "features"}}}},
      {{"split", "extract_regions"},
       {"labels", "labels"},
       {"crop", {"raw"}},
       {"padding", 0},
       {"features", "features"},
       {"nested", "ignore"}},
      {{"write", "catalog"}, {"mask", false}},
  });
  if (with_tracks_writer) nodes.push_back({{"write", "tracks"}, {"max_gap", 2}});
  return {{"name", "nuclei"}, {"nodes", nodes}};
}

// Stores the truth's nuclei as the objects of a "measure" run: label = truth label, box, mask PNG and
// the features tracking reads (area, centroid, mean camera intensity), as a segmentation that got every
// nucleus right would.
catalog::Id measure_truth(Workspace& ws, const synth::TimelapseFrames& truth) {
  catalog::Catalog& catalog = ws.catalog();
  const catalog::Id project = catalog.get_project("default").id;
  const catalog::Id run = catalog.start_run(project, {{"kind", "measure"}}, "test", {}, {});
  catalog::TrackStore store(catalog);
  for (const catalog::SeriesImage& image : store.series_images(store.find_series(project, "exp1/pos01")->id)) {
    const size_t t = static_cast<size_t>(*image.frame_index);
    cv::Mat labels;
    truth.labels[t].convertTo(labels, CV_32S);
    std::vector<catalog::NewObject> objects;
    for (const track::ObjectDesc& d : track::objects_from_labels(labels, truth.images[t])) {
      catalog::NewObject o;
      o.label = d.label;
      o.bbox_x0 = d.bbox[1];
      o.bbox_y0 = d.bbox[0];
      o.bbox_x1 = d.bbox[3];
      o.bbox_y1 = d.bbox[2];
      o.features = {
          {"area", d.area}, {"centroid-0", d.row}, {"centroid-1", d.col}, {"intensity_mean", d.intensity_mean}};
      const cv::Rect box(d.bbox[1], d.bbox[0], d.bbox[3] - d.bbox[1], d.bbox[2] - d.bbox[0]);
      o.mask_blob = ws.blobs().put(image::encode(labels(box) == d.label, ".png"));
      objects.push_back(std::move(o));
    }
    catalog.add_objects(project, run, image.id, objects);
  }
  catalog.finish_run(run, "succeeded", {}, std::nullopt, 0.0);
  return run;
}

// The movie's camera images imported as series "exp1/pos01" (set "frames") and the truth measured into
// the catalog: made once per test binary (blob writes are synced, and slow), copied for each test.
struct Prepared {
  tessera::test::TempDir dir{"tessera-track-series-base"};
  synth::TimelapseFrames truth = synth::generate_position(movie_options(), 1);
  catalog::Id measured = 0;

  Prepared() {
    synth::write_timelapse(dir / "syn", movie_options());
    Workspace ws = Workspace::init(dir / "ws", "");
    ImportOptions import;
    import.sources = {dir / "syn" / "images"};
    import.pattern = "{experiment}/{pos}/t{t:int}_c{channel}.png";
    import.series_by = {"experiment", "pos"};
    import.frame_by = "t";
    import.set = "frames";
    import.progress = false;
    import.jobs = 2;
    EXPECT_EQ(import_images(ws, import).imported, movie_options().frames);
    measured = measure_truth(ws, truth);
  }
};

const Prepared& prepared() {
  static const Prepared p;
  return p;
}

// A workspace of its own holding the prepared movie.
struct Movie {
  tessera::test::TempDir dir{"tessera-track-series"};
  Workspace ws = copy_of(prepared(), dir / "ws");
  const synth::TimelapseFrames& truth = prepared().truth;
  catalog::Id measured = prepared().measured;

  static Workspace copy_of(const Prepared& p, const fs::path& to) {
    fs::copy(p.dir / "ws", to, fs::copy_options::recursive);
    return Workspace::open(to);
  }

  catalog::Series series() { return find_project_series(ws, "default", "exp1/pos01"); }

  TrackSeriesReport track(std::optional<catalog::Id> run = std::nullopt) {
    TrackSeriesRequest request;
    request.series_id = series().id;
    request.objects_run = run;
    return track_series(ws, request);
  }

  // The catalog's tracks as a track set over the truth's objects, and the truth itself.
  std::pair<track::TrackSet, track::TrackSet> result_and_truth() {
    catalog::TrackStore store(ws.catalog());
    const catalog::Series s = series();
    track::TrackSet result;
    std::map<catalog::Id, std::int32_t> local;
    for (const catalog::TrackRecord& t : store.list(s.id))
      local.emplace(t.id, static_cast<std::int32_t>(local.size() + 1));
    for (const catalog::TrackRecord& t : store.list(s.id)) {
      result.tracks.push_back({local.at(t.id), static_cast<std::int32_t>(t.start_frame),
                               static_cast<std::int32_t>(t.end_frame), t.parent_id ? local.at(*t.parent_id) : 0,
                               false});
    }
    std::sort(result.tracks.begin(), result.tracks.end(), [](auto& a, auto& b) { return a.id < b.id; });
    result.frames.resize(truth.labels.size());
    for (const catalog::SeriesObject& o : store.tracked_objects(s.id)) {
      result.frames[static_cast<size_t>(o.frame)].push_back(
          {static_cast<std::int32_t>(o.label), local.at(*o.track_id)});
    }
    track::TrackSet expected;
    expected.frames.resize(truth.labels.size());
    for (auto& frame : result.frames) {
      std::sort(frame.begin(), frame.end(), [](auto& a, auto& b) { return a.label < b.label; });
    }
    for (size_t t = 0; t < truth.nuclei.size(); ++t) {
      std::set<int> present;
      const cv::Mat& labels = truth.labels[t];
      for (auto it = labels.begin<std::uint16_t>(); it != labels.end<std::uint16_t>(); ++it) {
        if (*it != 0) present.insert(*it);
      }
      for (int label : present) expected.frames[t].push_back({label, label});
    }
    for (const synth::TrackRecord& r : truth.tracks)
      expected.tracks.push_back({r.label, r.begin, r.end, r.parent, false});
    return {result, expected};
  }
};

TEST(TrackSeries, TracksASynthTimelapseFromTheCatalogAsTheTruthLinksIt) {
  Movie m;
  const catalog::Id measured = m.measured;
  const TrackSeriesReport report = m.track();
  EXPECT_EQ(report.objects_run, measured);
  EXPECT_EQ(report.images, 40);
  EXPECT_EQ(report.first_frame, 0);
  EXPECT_EQ(report.last_frame, 39);
  EXPECT_GT(report.objects, 40 * 20);
  EXPECT_GT(report.divisions, 3);
  auto [result, truth] = m.result_and_truth();
  const track::TrackingScore score = track::score_tracking(truth, result);
  fmt::print(
      "catalog tracking: {} objects in {:.2f} s; links {}/{} ({:.4f}), precision {:.4f}; divisions "
      "true {} found {} F1 {:.3f}\n",
      report.objects, report.seconds, score.found_links, score.true_links, score.link_recall(), score.link_precision(),
      score.true_divisions, score.result_divisions, score.division_f1());
  EXPECT_GE(score.link_recall(), 0.99);
  EXPECT_GE(score.division_f1(), 0.9);

  // Recorded as a run, and every object of the segmentation has a track.
  const catalog::Run run = m.ws.catalog().get_run(report.run_id);
  EXPECT_EQ(run.kind, "track");
  EXPECT_EQ(run.status, "succeeded");
  EXPECT_EQ(run.inputs["objects_run"], measured);
  EXPECT_EQ(run.counts["tracks"], report.tracks);
  catalog::TrackStore store(m.ws.catalog());
  EXPECT_EQ(static_cast<std::int64_t>(store.tracked_objects(m.series().id).size()), report.objects);
  EXPECT_EQ(static_cast<std::int64_t>(store.list(m.series().id).size()), report.tracks);

  // Tracking again replaces the tracks rather than adding to them.
  const TrackSeriesReport again = m.track();
  EXPECT_EQ(again.replaced_tracks, report.tracks);
  EXPECT_EQ(static_cast<std::int64_t>(store.list(m.series().id).size()), again.tracks);
  for (const catalog::TrackRecord& t : store.list(m.series().id)) EXPECT_EQ(t.run_id, again.run_id);
}

TEST(TrackSeries, TracksTheLatestSegmentationUnlessARunIsNamed) {
  Movie m;
  const catalog::Id first = m.measured;
  const catalog::Id second = measure_truth(m.ws, m.truth);
  catalog::TrackStore store(m.ws.catalog());
  EXPECT_EQ(m.track().objects_run, second);
  for (const catalog::SeriesObject& o : store.tracked_objects(m.series().id)) ASSERT_EQ(o.run_id, second);
  EXPECT_EQ(m.track(first).objects_run, first);
  for (const catalog::SeriesObject& o : store.tracked_objects(m.series().id)) ASSERT_EQ(o.run_id, first);
  const std::string message = expect_error(ErrorCode::not_found, [&] { m.track(second + 1000); }).what();
  EXPECT_THAT(message, HasSubstr(fmt::format("run {}", second + 1000)));
  EXPECT_THAT(message, HasSubstr(fmt::format("run {} (", first)));
}

TEST(TrackSeries, ThePipelinesTracksWriterTracksTheObjectsItsRunStored) {
  Movie m;
  PipelineInput input;
  input.set = "frames";
  PipelineRunOptions options;
  options.progress = false;
  const PipelineRunReport report = run_pipeline(m.ws, "default", segmentation(true), input, options);
  EXPECT_EQ(report.status, "succeeded");
  ASSERT_EQ(report.outputs.size(), 2u);
  const json& tracked = report.outputs[1];
  EXPECT_EQ(tracked["writer"], "tracks");
  ASSERT_EQ(tracked["series"].size(), 1u);
  EXPECT_EQ(tracked["series"][0]["series"], "exp1/pos01");
  EXPECT_GT(tracked["series"][0]["tracks"].get<int>(), 20);
  const catalog::Run run = m.ws.catalog().get_run(tracked["series"][0]["run_id"].get<catalog::Id>());
  EXPECT_EQ(run.inputs["objects_run"], report.run_id);
  catalog::TrackStore store(m.ws.catalog());
  const auto objects = store.tracked_objects(m.series().id);
  EXPECT_EQ(static_cast<std::int64_t>(objects.size()), tracked["series"][0]["objects"].get<std::int64_t>());
  for (const catalog::SeriesObject& o : objects) ASSERT_EQ(o.run_id, report.run_id);

  // Without a catalog writer there is nothing to track, and the error says what to add.
  json pipeline = segmentation(true);
  pipeline["nodes"].erase(5);
  const std::string message = expect_error(ErrorCode::invalid_argument, [&] {
                                run_pipeline(m.ws, "default", pipeline, input, options);
                              }).what();
  EXPECT_THAT(message, HasSubstr("{\"write\": \"catalog\"}"));
  // Bad options are found before anything runs.
  pipeline = segmentation(true);
  pipeline["nodes"][6]["max_gap"] = 500;
  const std::string check =
      expect_error(ErrorCode::invalid_argument, [&] { check_pipeline(m.ws, "default", pipeline); }).what();
  EXPECT_THAT(check, HasSubstr("max_gap"));
}

// --- Bad series ----------------------------------------------------------------------------------

// A project "bad" with hand-made series: images at given frames and sizes, each with one object
// described by features only (no mask).
struct HandMade {
  tessera::test::TempDir dir{"tessera-track-series-bad"};
  Workspace ws = Workspace::init(dir / "ws", "");
  catalog::Id project = ws.catalog().ensure_project("bad").id;
  int images = 0;

  catalog::Id image(const std::string& series, std::optional<std::int64_t> frame, int width = 64, int height = 64,
                    int pages = 1) {
    catalog::NewImage image;
    image.source_path = fmt::format("{}/{}.png", series, images++);
    image.blob_hash = fmt::format("{:064x}", std::hash<std::string>{}(image.source_path));
    image.format = "png";
    image.width = width;
    image.height = height;
    image.channels = 1;
    image.pixel_type = "u8";
    image.frames = pages;
    image.series = catalog::SeriesRef{series};
    image.frame_index = frame;
    return ws.catalog().add_images(project, {image}).added.at(0);
  }

  void object(catalog::Id image, double x, double y, std::optional<catalog::Id> run = std::nullopt) {
    catalog::NewObject o;
    o.label = 1;
    o.bbox_x0 = static_cast<std::int64_t>(x) - 3;
    o.bbox_y0 = static_cast<std::int64_t>(y) - 3;
    o.bbox_x1 = static_cast<std::int64_t>(x) + 4;
    o.bbox_y1 = static_cast<std::int64_t>(y) + 4;
    o.features = {{"area", 37}, {"centroid-0", y}, {"centroid-1", x}};
    ws.catalog().add_objects(project, run, image, {o});
  }

  Error track_error(ErrorCode code, const std::string& series) {
    return expect_error(code, [&] {
      TrackSeriesRequest request;
      request.series_id = find_project_series(ws, "bad", series).id;
      track_series(ws, request);
    });
  }
};

TEST(TrackSeries, BadSeriesAreRefusedWithTheFrameAndImageNamed) {
  HandMade h;
  h.object(h.image("one", 0), 10, 10);
  EXPECT_THAT(h.track_error(ErrorCode::invalid_argument, "one").what(), HasSubstr("series 'one' has 1 frame"));

  h.image("empty", 0);
  h.image("empty", 1);
  EXPECT_THAT(h.track_error(ErrorCode::invalid_argument, "empty").what(), HasSubstr("series 'empty' has no objects"));

  h.object(h.image("twice", 3), 10, 10);
  h.object(h.image("twice", 3), 12, 10);
  EXPECT_THAT(h.track_error(ErrorCode::invalid_argument, "twice").what(), HasSubstr("are both frame 3"));

  h.object(h.image("resized", 0), 10, 10);
  h.object(h.image("resized", 1, 80, 64), 10, 10);
  const std::string resized = h.track_error(ErrorCode::invalid_argument, "resized").what();
  EXPECT_THAT(resized, HasSubstr("frame 1"));
  EXPECT_THAT(resized, HasSubstr("80x64"));

  h.object(h.image("unnumbered", 0), 10, 10);
  h.object(h.image("unnumbered", std::nullopt), 10, 10);
  EXPECT_THAT(h.track_error(ErrorCode::invalid_argument, "unnumbered").what(), HasSubstr("has no frame index"));

  h.image("stack", 0, 64, 64, 5);
  h.image("stack", 1);
  EXPECT_THAT(h.track_error(ErrorCode::unsupported, "stack").what(), HasSubstr("holds 5 frames"));

  expect_error(ErrorCode::not_found, [&] { find_project_series(h.ws, "bad", "nope"); });
  // Nothing was recorded as a run for series refused before tracking began.
  EXPECT_TRUE(h.ws.catalog().list_runs(h.project).empty());
}

TEST(TrackSeries, AMissingOrMisshapenMaskFailsTheRunNamingTheObjectAndKeepsTheTracks) {
  HandMade h;
  std::vector<catalog::Id> images;
  for (int t = 0; t < 3; ++t) {
    images.push_back(h.image("masked", t));
    h.object(images.back(), 20 + t, 20);
  }
  TrackSeriesRequest request;
  request.series_id = find_project_series(h.ws, "bad", "masked").id;
  const TrackSeriesReport first = track_series(h.ws, request);
  ASSERT_EQ(first.tracks, 1);

  auto add_masked = [&](const std::string& blob) {
    catalog::NewObject o;
    o.label = 2;
    o.bbox_x0 = 40;
    o.bbox_y0 = 40;
    o.bbox_x1 = 48;
    o.bbox_y1 = 48;
    o.mask_blob = blob;
    return h.ws.catalog().add_objects(h.project, std::nullopt, images[1], {o}).at(0);
  };
  const catalog::Id missing = add_masked(std::string(64, 'a'));
  const std::string gone = expect_error(ErrorCode::not_found, [&] { track_series(h.ws, request); }).what();
  EXPECT_THAT(gone, HasSubstr(fmt::format("object {}", missing)));
  EXPECT_THAT(gone, HasSubstr("missing from the blob store"));
  const auto runs = h.ws.catalog().list_runs(h.project);
  EXPECT_EQ(runs.back().status, "failed");
  EXPECT_THAT(runs.back().error.value_or(""), HasSubstr(fmt::format("object {}", missing)));

  HandMade other;
  const catalog::Id a = other.image("s", 0);
  other.image("s", 1);
  catalog::NewObject o;
  o.bbox_x0 = 10;
  o.bbox_y0 = 10;
  o.bbox_x1 = 20;
  o.bbox_y1 = 20;
  o.mask_blob = other.ws.blobs().put(image::encode(cv::Mat(4, 4, CV_8UC1, cv::Scalar(255)), ".png"));
  const catalog::Id misshapen = other.ws.catalog().add_objects(other.project, std::nullopt, a, {o}).at(0);
  request.series_id = find_project_series(other.ws, "bad", "s").id;
  const std::string wrong = expect_error(ErrorCode::corrupt, [&] { track_series(other.ws, request); }).what();
  EXPECT_THAT(wrong, HasSubstr(fmt::format("object {}: its mask is 4x4", misshapen)));

  // The first tracking is still there.
  const auto tracks = catalog::TrackStore(h.ws.catalog()).list(find_project_series(h.ws, "bad", "masked").id);
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_EQ(tracks[0].run_id, first.run_id);
}

TEST(TrackSeries, ObjectsWithoutMasksAreTrackedByTheirFeaturesAndMissingFramesAreGaps) {
  HandMade h;
  // Two cells drifting right; frame numbers 0, 1, 3 (2 has no image), and frame 3 misses the second cell.
  for (std::int64_t t : {0, 1, 3}) {
    const catalog::Id image = h.image("drift", t, 128, 64);
    h.object(image, 20 + 2.0 * static_cast<double>(t), 20);
    if (t != 3) h.object(image, 80 + 2.0 * static_cast<double>(t), 40);
  }
  TrackSeriesRequest request;
  request.series_id = find_project_series(h.ws, "bad", "drift").id;
  const TrackSeriesReport report = track_series(h.ws, request);
  EXPECT_EQ(report.tracks, 2);
  EXPECT_EQ(report.objects, 5);
  EXPECT_EQ(report.objects_run, std::nullopt);
  const auto tracks = catalog::TrackStore(h.ws.catalog()).list(request.series_id);
  ASSERT_EQ(tracks.size(), 2u);
  EXPECT_EQ(tracks[0].start_frame, 0);
  EXPECT_EQ(tracks[0].end_frame, 3);  // across the missing frame 2
  EXPECT_EQ(tracks[0].objects, 3);
  EXPECT_EQ(tracks[1].end_frame, 1);
}

TEST(TrackSeries, AStopFromProgressRecordsTheRunCancelledAndStoresNothing) {
  HandMade h;
  for (std::int64_t t = 0; t < 6; ++t) h.object(h.image("long", t), 20 + static_cast<double>(t), 20);
  TrackSeriesRequest request;
  request.series_id = find_project_series(h.ws, "bad", "long").id;
  int reports = 0;
  request.on_progress = [&](double fraction, const std::string& message) {
    EXPECT_GT(fraction, 0.0);
    EXPECT_THAT(message, HasSubstr("of 6"));
    if (++reports == 3) throw JobCancelled("cancel requested");
  };
  EXPECT_THROW(track_series(h.ws, request), JobCancelled);
  const auto runs = h.ws.catalog().list_runs(h.project);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, "cancelled");
  EXPECT_TRUE(catalog::TrackStore(h.ws.catalog()).list(request.series_id).empty());
}

// --- Edits ---------------------------------------------------------------------------------------

// The first track running at least `frames` frames with no children, of the tracks listed.
const catalog::TrackRecord* long_track(const std::vector<catalog::TrackRecord>& tracks, int frames,
                                       const std::set<catalog::Id>& parents) {
  for (const auto& t : tracks) {
    if (t.end_frame - t.start_frame + 1 >= frames && t.objects == t.end_frame - t.start_frame + 1 &&
        !parents.count(t.id))
      return &t;
  }
  return nullptr;
}

TEST(TrackSeries, EditsSplitMergeAndReparentTracksWithAJournal) {
  Movie m;
  m.track();
  catalog::TrackStore store(m.ws.catalog());
  const catalog::Id series = m.series().id;
  auto tracks = store.list(series);
  std::set<catalog::Id> parents;
  for (const auto& t : tracks) {
    if (t.parent_id) parents.insert(*t.parent_id);
  }
  const catalog::TrackRecord* picked = long_track(tracks, 10, parents);
  ASSERT_NE(picked, nullptr);
  const catalog::TrackRecord original = *picked;
  const catalog::Actor bob{std::nullopt, "bob"};

  // Split in the middle: a new track takes the later objects.
  const std::int64_t middle = original.start_frame + 5;
  const catalog::TrackEditResult split = split_track(m.ws, original.id, middle, bob);
  ASSERT_TRUE(split.edit.other_track_id.has_value());
  const catalog::Id created = *split.edit.other_track_id;
  EXPECT_EQ(store.get(original.id).end_frame, middle - 1);
  EXPECT_EQ(store.get(created).start_frame, middle);
  EXPECT_EQ(store.get(created).end_frame, original.end_frame);
  EXPECT_EQ(store.get(created).objects + store.get(original.id).objects, original.objects);
  EXPECT_EQ(split.edit.after["frame"], middle);

  // The earlier half may be the later one's parent (as after a gap).
  const catalog::TrackEditResult parent = set_track_parent(m.ws, created, original.id, bob);
  EXPECT_EQ(store.get(created).parent_id, original.id);
  EXPECT_EQ(parent.edit.other_track_id, original.id);
  unset_track_parent(m.ws, created, bob);
  EXPECT_EQ(store.get(created).parent_id, std::nullopt);

  // Merging them back restores the track.
  merge_tracks(m.ws, original.id, created, bob);
  const catalog::TrackRecord merged = store.get(original.id);
  EXPECT_EQ(merged.start_frame, original.start_frame);
  EXPECT_EQ(merged.end_frame, original.end_frame);
  EXPECT_EQ(merged.objects, original.objects);
  EXPECT_EQ(merged.parent_id, original.parent_id);
  EXPECT_FALSE(store.find(created));

  const auto history = store.history(original.id);
  ASSERT_EQ(history.size(), 4u);
  EXPECT_EQ(history[0].action, "split");
  EXPECT_EQ(history[1].action, "set_parent");
  EXPECT_EQ(history[2].action, "unset_parent");
  EXPECT_EQ(history[3].action, "merge");
  EXPECT_EQ(history[3].actor, "bob");
  EXPECT_EQ(store.history(created).size(), 4u);  // every edit named it

  // Refused edits name what is wrong and change nothing.
  const catalog::TrackRecord* other = nullptr;
  for (const auto& t : store.list(series)) {
    if (t.id != original.id && t.start_frame <= original.start_frame && t.end_frame >= original.end_frame) other = &t;
  }
  const auto before = store.list(series);
  if (other != nullptr) {
    const std::string overlap =
        expect_error(ErrorCode::invalid_argument, [&] { merge_tracks(m.ws, original.id, other->id, bob); }).what();
    EXPECT_THAT(overlap, HasSubstr("frame"));
  }
  EXPECT_THAT(
      expect_error(ErrorCode::invalid_argument, [&] { split_track(m.ws, original.id, original.start_frame, bob); })
          .what(),
      HasSubstr("split frame"));
  expect_error(ErrorCode::invalid_argument, [&] { merge_tracks(m.ws, original.id, original.id, bob); });
  expect_error(ErrorCode::not_found, [&] { merge_tracks(m.ws, original.id, 987654, bob); });
  EXPECT_EQ(store.list(series).size(), before.size());
  EXPECT_EQ(store.history(original.id).size(), 4u);

  // The edits are on the activity feed.
  std::vector<std::string> kinds;
  for (const auto& e : m.ws.catalog().list_events(m.series().project_id, 0, 100000)) {
    if (e.kind.starts_with("track.")) kinds.push_back(e.kind);
  }
  EXPECT_THAT(kinds, ::testing::ElementsAre("track.split", "track.parent_set", "track.parent_unset", "track.merged"));
}

// --- Export --------------------------------------------------------------------------------------

TEST(TrackSeries, ExportsTheTracksAsCellTrackingChallengeAndTrkFiles) {
  Movie m;
  const TrackSeriesReport report = m.track();
  const catalog::Id series = m.series().id;
  const track::TrackedMovie movie = series_movie(m.ws, series, false);
  ASSERT_EQ(movie.labels.size(), 40u);
  EXPECT_EQ(static_cast<std::int64_t>(movie.tracks.size()), report.tracks);
  EXPECT_TRUE(movie.raw.empty());

  const TrackExportSummary ctc = export_series_tracks(m.ws, series, m.dir / "ctc", track::SeriesFormat::ctc, true);
  EXPECT_EQ(ctc.frames, 40);
  EXPECT_EQ(ctc.objects, report.objects);
  const track::TrackedMovie back = track::read_ctc(m.dir / "ctc");
  ASSERT_EQ(back.labels.size(), 40u);
  ASSERT_EQ(back.raw.size(), 40u);
  EXPECT_EQ(cv::countNonZero(back.raw[7] != image::decode(read_file(m.dir / "ctc" / "t007.tif")).frames[0]), 0);
  for (size_t t = 0; t < 40; ++t) {
    // Same objects, painted with the same tracks (the CTC reader sees gaps as new labels).
    EXPECT_EQ(cv::countNonZero((back.labels[t] != 0) != (movie.labels[t] != 0)), 0) << "frame " << t;
  }

  export_series_tracks(m.ws, series, m.dir / "movie.trk", track::SeriesFormat::trk, true);
  const track::TrackedMovie trk = track::read_trk(m.dir / "movie.trk");
  EXPECT_EQ(trk.tracks, movie.tracks);
  for (size_t t = 0; t < 40; ++t) EXPECT_EQ(cv::countNonZero(trk.labels[t] != movie.labels[t]), 0) << "frame " << t;
  // Exported again, the same bytes.
  export_series_tracks(m.ws, series, m.dir / "again.trk", track::SeriesFormat::trk, true);
  EXPECT_EQ(read_file(m.dir / "again.trk"), read_file(m.dir / "movie.trk"));

  expect_error(ErrorCode::invalid_argument,
               [&] { export_series_tracks(m.ws, series, m.dir / "x.trk", track::SeriesFormat::ctc, false); });
  HandMade h;
  h.object(h.image("s", 0), 10, 10);
  h.object(h.image("s", 1), 11, 10);
  const catalog::Id untracked = find_project_series(h.ws, "bad", "s").id;
  EXPECT_THAT(expect_error(ErrorCode::not_found, [&] { series_movie(h.ws, untracked, false); }).what(),
              HasSubstr("has no tracks"));
  TrackSeriesRequest request;
  request.series_id = untracked;
  track_series(h.ws, request);
  EXPECT_THAT(expect_error(ErrorCode::unsupported, [&] { series_movie(h.ws, untracked, false); }).what(),
              HasSubstr("has no mask"));
}

}  // namespace
}  // namespace tessera::app
