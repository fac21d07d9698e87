#include "tessera/track/ctc.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tessera/core/file.hpp"
#include "tessera/image/encode.hpp"
#include "tessera/track/tracker.hpp"
#include "test_util.hpp"
#include "track/synth_fixture.hpp"

namespace tessera::track {
namespace {

using tessera::test::expect_invalid;
using tessera::test::TempDir;

std::vector<std::string> listing(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

void expect_same_files(const std::filesystem::path& a, const std::filesystem::path& b) {
  ASSERT_EQ(listing(a), listing(b));
  for (const std::string& name : listing(a)) EXPECT_EQ(read_file(a / name), read_file(b / name)) << name;
}

synth::TimelapseOptions small_movie() {
  synth::TimelapseOptions o;
  o.positions = 1;
  o.frames = 24;
  o.size = 192;
  o.nuclei = 16;
  o.seed = 4;
  o.cycle_frames = 15;
  return o;
}

TEST(Ctc, ExportImportExportIsByteIdentical) {
  const auto s = test::synth_series(small_movie(), 1);
  const TrackSet tracked = track(s.objects, {}, s.size);
  const TrackedMovie movie = make_movie(s.frames.labels, tracked, s.frames.images);
  TempDir dir;
  write_ctc(dir / "first", movie);
  const TrackedMovie back = read_ctc(dir / "first");
  write_ctc(dir / "second", back);
  expect_same_files(dir / "first", dir / "second");
  EXPECT_TRUE(std::filesystem::exists(dir / "first" / "mask023.tif"));
  EXPECT_TRUE(std::filesystem::exists(dir / "first" / "t000.tif"));
  EXPECT_EQ(back.tracks, movie.tracks) << "no gaps: the lineage comes back unchanged";
  ASSERT_EQ(back.labels.size(), movie.labels.size());
  for (size_t t = 0; t < back.labels.size(); ++t)
    EXPECT_EQ(cv::norm(back.labels[t], movie.labels[t], cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(back.raw[3], movie.raw[3], cv::NORM_INF), 0.0);
}

TEST(Ctc, GroundTruthRoundTripsAsManTrack) {
  const auto s = test::synth_series(small_movie(), 1);
  const TrackedMovie truth = make_movie(s.frames.labels, s.truth);
  TempDir dir;
  write_ctc(dir.path(), truth, {"man_track", "man_track.txt"});
  const TrackedMovie back = read_ctc(dir.path());
  ASSERT_EQ(back.tracks.size(), s.frames.tracks.size());
  for (size_t k = 0; k < back.tracks.size(); ++k) {
    const synth::TrackRecord& r = s.frames.tracks[k];
    EXPECT_EQ(back.tracks[k].id, r.label);
    EXPECT_EQ(back.tracks[k].begin, r.begin);
    EXPECT_EQ(back.tracks[k].end, r.end);
    EXPECT_EQ(back.tracks[k].parent, r.parent);
  }
  EXPECT_EQ(read_file(dir / "man_track.txt").substr(0, 4), "1 0 ");
}

// Three 4x4 frames: label 1 in frames 0-2, label 2 in frames 1-2, drawn as given.
std::vector<cv::Mat> three_frames() {
  std::vector<cv::Mat> frames;
  for (int t = 0; t < 3; ++t) {
    cv::Mat m(4, 4, CV_32S, cv::Scalar(0));
    m.at<std::int32_t>(0, 0) = 1;
    if (t > 0) m.at<std::int32_t>(3, 3) = 2;
    frames.push_back(m);
  }
  return frames;
}

void write_folder(const std::filesystem::path& dir, const std::vector<cv::Mat>& frames, const std::string& lineage) {
  std::filesystem::create_directories(dir);
  for (size_t t = 0; t < frames.size(); ++t) {
    cv::Mat m;
    frames[t].convertTo(m, CV_16U);
    image::write_image(dir / fmt::format("mask{:03d}.tif", t), m);
  }
  write_file_atomic(dir / "man_track.txt", lineage);
}

TEST(Ctc, ReadingRejectsInconsistentFolders) {
  TempDir dir;
  write_folder(dir / "ok", three_frames(), "1 0 2 0\n2 1 2 0\n");
  EXPECT_EQ(read_ctc(dir / "ok").tracks.size(), 2u);

  write_folder(dir / "ghost", three_frames(), "1 0 2 0\n2 1 2 0\n9 0 1 1\n");
  expect_invalid([&] { read_ctc(dir / "ghost"); }, "man_track.txt: label 9 (frames 0-1) does not appear in any frame");

  write_folder(dir / "early", three_frames(), "1 1 2 0\n2 1 2 0\n");
  expect_invalid([&] { read_ctc(dir / "early"); },
                 "frame 0 (mask000.tif): label 1 is present, but man_track.txt says label 1 spans frames 1-2");

  write_folder(dir / "late", three_frames(), "1 0 2 0\n2 0 2 0\n");
  expect_invalid([&] { read_ctc(dir / "late"); }, "frame 0 (mask000.tif): label 2 is missing");

  write_folder(dir / "unlisted", three_frames(), "1 0 2 0\n");
  expect_invalid([&] { read_ctc(dir / "unlisted"); }, "frame 1 (mask001.tif): label 2 is not in man_track.txt");

  auto gap = three_frames();
  gap[1].at<std::int32_t>(0, 0) = 0;
  write_folder(dir / "gap", gap, "1 0 2 0\n2 1 2 0\n");
  expect_invalid([&] { read_ctc(dir / "gap"); }, "frame 1 (mask001.tif): label 1 is missing");

  auto resized = three_frames();
  resized[2] = cv::Mat(5, 4, CV_32S, cv::Scalar(0));
  resized[2].at<std::int32_t>(0, 0) = 1;
  resized[2].at<std::int32_t>(3, 3) = 2;
  write_folder(dir / "resized", resized, "1 0 2 0\n2 1 2 0\n");
  expect_invalid([&] { read_ctc(dir / "resized"); }, "frame 2 (mask002.tif): label image is 4x5, but frame 0 is 4x4");

  write_folder(dir / "orphan", three_frames(), "1 0 2 0\n2 1 2 7\n");
  expect_invalid([&] { read_ctc(dir / "orphan"); }, "man_track.txt: label 2 has parent 7, which is not a track");

  write_folder(dir / "bad", three_frames(), "1 0 2 0\n2 1 x 0\n");
  expect_invalid([&] { read_ctc(dir / "bad"); }, "man_track.txt: line 2: expected four integers");

  write_folder(dir / "hole", three_frames(), "1 0 2 0\n2 1 2 0\n");
  std::filesystem::remove(dir / "hole" / "mask001.tif");
  expect_invalid([&] { read_ctc(dir / "hole"); }, "frame 1 is missing");

  std::filesystem::create_directories(dir / "empty");
  EXPECT_THROW(read_ctc(dir / "empty"), Error);
}

TEST(Ctc, GapsBecomeANewLabelWhoseParentIsTheTrackBeforeTheGap) {
  auto frames = three_frames();
  frames[1].at<std::int32_t>(0, 0) = 0;  // track 1 is missed in frame 1
  TrackSet set;
  set.tracks = {{1, 0, 2, 0, false}, {2, 1, 2, 0, false}};
  set.frames = {{{1, 1}}, {{2, 2}}, {{1, 1}, {2, 2}}};
  validate(set);
  TempDir dir;
  write_ctc(dir.path(), make_movie(frames, set));
  EXPECT_EQ(read_file(dir / "res_track.txt"), "1 0 0 0\n2 1 2 0\n3 2 2 1\n");
  const TrackedMovie back = read_ctc(dir.path());
  EXPECT_EQ(back.labels[2].at<std::int32_t>(0, 0), 3);
}

TEST(Ctc, WritingRefusesLabelsBeyondSixteenBitsAndStaleFrames) {
  auto frames = three_frames();
  TrackedMovie movie;
  movie.labels = frames;
  movie.labels[1].at<std::int32_t>(0, 0) = 70000;
  movie.labels[2].at<std::int32_t>(0, 0) = 70000;
  movie.tracks = {{1, 0, 0, 0, false}, {2, 1, 2, 0, false}, {70000, 1, 2, 0, false}};
  TempDir dir;
  expect_invalid([&] { write_ctc(dir.path(), movie); }, "frame 1: label 70000 does not fit a 16-bit mask");

  movie.labels = three_frames();
  movie.tracks = {{1, 0, 2, 0, false}, {2, 1, 2, 0, false}};
  write_ctc(dir / "long", movie);
  movie.labels.pop_back();
  movie.tracks = {{1, 0, 1, 0, false}, {2, 1, 1, 0, false}};
  try {
    write_ctc(dir / "long", movie);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict);
    EXPECT_NE(std::string(e.what()).find("mask002.tif"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tessera::track
