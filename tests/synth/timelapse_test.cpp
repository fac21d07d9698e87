#include "tessera/synth/timelapse.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <numbers>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"

namespace tessera::synth {
namespace {

TimelapseOptions small_options() {
  TimelapseOptions options;
  options.positions = 2;
  options.frames = 12;
  options.size = 128;
  options.nuclei = 10;
  return options;
}

// A small, dense movie with a short cell cycle, so daughters divide again and nuclei crowd.
TimelapseOptions crowded_options() {
  TimelapseOptions options;
  options.positions = 2;
  options.frames = 48;
  options.size = 160;
  options.nuclei = 24;
  options.cycle_frames = 20;
  return options;
}

struct Movie {
  std::string name;
  TimelapseFrames frames;
};

// The movies the invariant tests walk, generated once per process: position 1 of the default movie
// that `make run` shows, and both positions of the crowded one.
const std::vector<Movie>& movies() {
  static const std::vector<Movie> all = [] {
    std::vector<Movie> out;
    out.push_back({"default pos01", generate_position({}, 1)});
    out.push_back({"crowded pos01", generate_position(crowded_options(), 1)});
    out.push_back({"crowded pos02", generate_position(crowded_options(), 2)});
    return out;
  }();
  return all;
}

const TimelapseFrames& default_movie() { return movies().front().frames; }

bool same_pixels(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::countNonZero(a != b) == 0;
}

std::set<int> labels_in(const cv::Mat& labels) {
  std::set<int> out;
  for (int y = 0; y < labels.rows; ++y) {
    const auto* row = labels.ptr<std::uint16_t>(y);
    for (int x = 0; x < labels.cols; ++x) {
      if (row[x] != 0) out.insert(row[x]);
    }
  }
  return out;
}

bool has_touching_pair(const cv::Mat1w& labels) {
  for (int y = 0; y < labels.rows; ++y) {
    for (int x = 0; x < labels.cols; ++x) {
      const int v = labels(y, x);
      if (v == 0) continue;
      if (x + 1 < labels.cols && labels(y, x + 1) != 0 && labels(y, x + 1) != v) return true;
      if (y + 1 < labels.rows && labels(y + 1, x) != 0 && labels(y + 1, x) != v) return true;
    }
  }
  return false;
}

bool touches_border(const cv::Mat1w& labels, int label) {
  const int last = labels.rows - 1;
  for (int i = 0; i <= last; ++i) {
    if (labels(0, i) == label || labels(last, i) == label || labels(i, 0) == label ||
        labels(i, last) == label) {
      return true;
    }
  }
  return false;
}

void expect_error(const std::function<void()>& call, const std::string& message) {
  try {
    call();
    ADD_FAILURE() << "no error, expected: " << message;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(Timelapse, SameSeedGivesIdenticalFrames) {
  const TimelapseFrames a = generate_position(small_options(), 2);
  const TimelapseFrames b = generate_position(small_options(), 2);
  ASSERT_EQ(a.images.size(), 12u);
  ASSERT_EQ(b.images.size(), 12u);
  for (size_t t = 0; t < a.images.size(); ++t) {
    EXPECT_TRUE(same_pixels(a.images[t], b.images[t])) << "image " << t;
    EXPECT_TRUE(same_pixels(a.labels[t], b.labels[t])) << "labels " << t;
  }
  EXPECT_EQ(a.tracks, b.tracks);
}

TEST(Timelapse, DifferentSeedOrPositionGivesDifferentFrames) {
  TimelapseOptions other = small_options();
  other.seed = 2;
  const TimelapseFrames a = generate_position(small_options(), 1);
  const TimelapseFrames b = generate_position(other, 1);
  const TimelapseFrames c = generate_position(small_options(), 2);
  EXPECT_FALSE(same_pixels(a.images[0], b.images[0]));
  EXPECT_FALSE(same_pixels(a.labels[0], b.labels[0]));
  EXPECT_FALSE(same_pixels(a.images[0], c.images[0]));
  EXPECT_FALSE(same_pixels(a.labels[0], c.labels[0]));
}

TEST(Timelapse, ShorterMovieIsPrefixOfLongerOne) {
  TimelapseOptions shorter = small_options();
  shorter.frames = 5;
  const TimelapseFrames a = generate_position(shorter, 1);
  const TimelapseFrames b = generate_position(small_options(), 1);
  ASSERT_EQ(a.images.size(), 5u);
  for (size_t t = 0; t < a.images.size(); ++t) {
    EXPECT_TRUE(same_pixels(a.images[t], b.images[t])) << "image " << t;
    EXPECT_TRUE(same_pixels(a.labels[t], b.labels[t])) << "labels " << t;
  }
}

TEST(Timelapse, FramesAreSixteenBitSquaresOfTheRequestedSize) {
  const TimelapseFrames f = generate_position(small_options(), 1);
  ASSERT_EQ(f.labels.size(), 12u);
  ASSERT_EQ(f.nuclei.size(), 12u);
  for (size_t t = 0; t < f.images.size(); ++t) {
    EXPECT_EQ(f.images[t].type(), CV_16UC1);
    EXPECT_EQ(f.labels[t].type(), CV_16UC1);
    EXPECT_EQ(f.images[t].size(), cv::Size(128, 128));
    EXPECT_EQ(f.labels[t].size(), cv::Size(128, 128));
  }
  EXPECT_EQ(labels_in(f.labels[0]).size(), 10u) << "all requested nuclei placed at frame 0";
}

// Redraws every reported ellipse independently of the generator: a pixel inside two ellipses would
// be an overlap, and a pixel whose label disagrees with the ellipses would be a mask that is not
// exact.
TEST(Timelapse, MasksAreExactlyTheReportedEllipsesAndNeverOverlap) {
  for (const auto& [name, f] : movies()) {
    for (size_t t = 0; t < f.labels.size(); ++t) {
      const cv::Mat1w labels = f.labels[t];
      cv::Mat1w expected(labels.size(), std::uint16_t{0});
      cv::Mat1b ambiguous(labels.size(), std::uint8_t{0});  // centre on the boundary to rounding
      int overlaps = 0;
      for (const NucleusGeometry& g : f.nuclei[t]) {
        ASSERT_GE(g.semi_major, g.semi_minor);
        ASSERT_GE(g.angle, 0.0);
        ASSERT_LT(g.angle, std::numbers::pi);
        const double c = std::cos(g.angle);
        const double s = std::sin(g.angle);
        const int reach = static_cast<int>(std::ceil(g.semi_major)) + 1;
        for (int y = std::max(0, int(g.y) - reach);
             y <= std::min(labels.rows - 1, int(g.y) + reach); ++y) {
          for (int x = std::max(0, int(g.x) - reach);
               x <= std::min(labels.cols - 1, int(g.x) + reach); ++x) {
            const double u = ((x - g.x) * c + (y - g.y) * s) / g.semi_major;
            const double v = (-(x - g.x) * s + (y - g.y) * c) / g.semi_minor;
            const double q = u * u + v * v;
            if (std::abs(q - 1.0) < 1e-6) {
              ambiguous(y, x) = 1;
            } else if (q < 1.0) {
              if (expected(y, x) != 0) ++overlaps;
              expected(y, x) = static_cast<std::uint16_t>(g.label);
            }
          }
        }
      }
      EXPECT_EQ(overlaps, 0) << name << " frame " << t;
      int mismatches = 0;
      for (int y = 0; y < labels.rows; ++y) {
        for (int x = 0; x < labels.cols; ++x) {
          if (!ambiguous(y, x) && expected(y, x) != labels(y, x)) ++mismatches;
        }
      }
      EXPECT_EQ(mismatches, 0) << name << " frame " << t;
      std::set<int> reported;
      for (const NucleusGeometry& g : f.nuclei[t]) reported.insert(g.label);
      EXPECT_EQ(reported, labels_in(labels)) << name << " frame " << t;
    }
  }
}

TEST(Timelapse, LabelsInEachFrameAreExactlyTheTracksAliveThen) {
  for (const auto& [name, f] : movies()) {
    std::set<int> ids;
    for (size_t i = 0; i < f.tracks.size(); ++i) {
      const TrackRecord& r = f.tracks[i];
      EXPECT_EQ(r.label, static_cast<int>(i) + 1) << "labels are dense, sorted, never reused";
      EXPECT_LE(r.begin, r.end);
      EXPECT_GE(r.begin, 0);
      EXPECT_LT(r.end, static_cast<int>(f.labels.size()));
      ids.insert(r.label);
    }
    EXPECT_EQ(ids.size(), f.tracks.size());
    for (size_t t = 0; t < f.labels.size(); ++t) {
      std::set<int> alive;
      for (const TrackRecord& r : f.tracks) {
        if (r.begin <= static_cast<int>(t) && static_cast<int>(t) <= r.end) alive.insert(r.label);
      }
      EXPECT_EQ(labels_in(f.labels[t]), alive) << name << " frame " << t;
    }
  }
}

TEST(Timelapse, EachDivisionGivesTwoDaughtersStartingTheFrameAfterTheMotherEnds) {
  std::map<std::string, int> divisions;
  for (const auto& [name, f] : movies()) {
    std::map<int, std::vector<TrackRecord>> daughters;
    for (const TrackRecord& r : f.tracks) {
      if (r.parent != 0) daughters[r.parent].push_back(r);
    }
    for (const auto& [parent, children] : daughters) {
      ASSERT_GE(parent, 1);
      ASSERT_LE(parent, static_cast<int>(f.tracks.size()));
      const TrackRecord& mother = f.tracks[static_cast<size_t>(parent - 1)];
      ASSERT_EQ(children.size(), 2u) << name << " mother " << parent;
      for (const TrackRecord& child : children) {
        EXPECT_EQ(mother.end, child.begin - 1)
            << name << " mother " << parent << " child " << child.label;
        EXPECT_GT(child.label, parent);
      }
      // The mother elongates before it splits.
      for (const NucleusGeometry& g : f.nuclei[static_cast<size_t>(mother.end)]) {
        if (g.label == parent) {
          EXPECT_GT(g.semi_major / g.semi_minor, 1.8) << name << " mother " << parent;
        }
      }
      ++divisions[name];
    }
  }
  EXPECT_GE(divisions["default pos01"], 1);
  EXPECT_GE(divisions["crowded pos01"] + divisions["crowded pos02"], 10);
}

TEST(Timelapse, TracksStartAndEndOnlyAtTheBorderOrByDivision) {
  int exits = 0;
  for (const auto& [name, f] : movies()) {
    const int last = static_cast<int>(f.labels.size()) - 1;
    std::set<int> mothers;
    for (const TrackRecord& r : f.tracks) mothers.insert(r.parent);
    for (const TrackRecord& r : f.tracks) {
      if (r.begin > 0 && r.parent == 0) {
        EXPECT_TRUE(touches_border(f.labels[static_cast<size_t>(r.begin)], r.label))
            << name << ": entered away from the border: " << r.label;
      }
      if (r.end < last && !mothers.contains(r.label)) {
        EXPECT_TRUE(touches_border(f.labels[static_cast<size_t>(r.end)], r.label))
            << name << ": left away from the border: " << r.label;
        ++exits;
      }
    }
  }
  EXPECT_GE(exits, 1) << "some nucleus should drift out of the field";
}

TEST(Timelapse, DefaultMovieHasTouchingNuclei) {
  const TimelapseFrames& f = default_movie();
  EXPECT_TRUE(has_touching_pair(f.labels[0]));
  int frames_with_contact = 0;
  for (const cv::Mat& labels : f.labels) frames_with_contact += has_touching_pair(labels);
  EXPECT_GE(frames_with_contact, 15) << "touching pairs should mostly stay together";
}

TEST(Timelapse, NucleiAreClearlyBrighterThanBackground) {
  const TimelapseFrames& f = default_movie();
  for (size_t t = 0; t < f.images.size(); t += 10) {
    const cv::Mat1w image = f.images[t];
    const cv::Mat nuclei = f.labels[t] != 0;
    cv::Mat near;
    cv::dilate(nuclei, near, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(21, 21)));
    const double inside = cv::mean(image, nuclei)[0];
    const double background = cv::mean(image, near == 0)[0];
    double lo = 0;
    double hi = 0;
    cv::minMaxLoc(image, &lo, &hi);
    EXPECT_GT(background, 500.0) << "frame " << t;
    EXPECT_LT(background, 1500.0) << "frame " << t;
    EXPECT_GT(inside, 5.0 * background) << "frame " << t;
    EXPECT_GT(hi, 15000.0) << "frame " << t;
    EXPECT_LT(hi, 45000.0) << "frame " << t;
  }
}

TEST(Timelapse, NoNucleiGivesBackgroundOnly) {
  TimelapseOptions options = small_options();
  options.nuclei = 0;
  const TimelapseFrames f = generate_position(options, 1);
  EXPECT_TRUE(f.tracks.empty());
  for (const cv::Mat& labels : f.labels) EXPECT_EQ(cv::countNonZero(labels), 0);
  EXPECT_LT(cv::mean(f.images[0])[0], 1500.0);
}

TEST(Timelapse, RejectsOptionsOutOfRange) {
  struct Case {
    std::function<void(TimelapseOptions&)> change;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](auto& o) { o.frames = 0; }, "synth timelapse: 'frames' must be in [1, 100000], got 0"},
      {[](auto& o) { o.frames = 100001; },
       "synth timelapse: 'frames' must be in [1, 100000], got 100001"},
      {[](auto& o) { o.positions = 0; },
       "synth timelapse: 'positions' must be in [1, 1000], got 0"},
      {[](auto& o) { o.positions = 1001; },
       "synth timelapse: 'positions' must be in [1, 1000], got 1001"},
      {[](auto& o) { o.size = 31; }, "synth timelapse: 'size' must be in [32, 16384], got 31"},
      {[](auto& o) { o.size = 16385; },
       "synth timelapse: 'size' must be in [32, 16384], got 16385"},
      {[](auto& o) { o.nuclei = -1; }, "synth timelapse: 'nuclei' must be in [0, 10000], got -1"},
      {[](auto& o) { o.nuclei = 10001; },
       "synth timelapse: 'nuclei' must be in [0, 10000], got 10001"},
      {[](auto& o) { o.cycle_frames = -1; },
       "synth timelapse: 'cycle_frames' must be in [0, 1000000], got -1"},
      {[](auto& o) { o.touching_fraction = 1.5; },
       "synth timelapse: 'touching_fraction' must be in [0, 1], got 1.5"},
      {[](auto& o) { o.experiment = "../up"; },
       "synth timelapse: 'experiment' must be 1 to 64 characters of [A-Za-z0-9._-] and not '.' "
       "or '..', got '../up'"},
      {[](auto& o) { o.experiment = ""; },
       "synth timelapse: 'experiment' must be 1 to 64 characters of [A-Za-z0-9._-] and not '.' "
       "or '..', got ''"},
  };
  for (const Case& c : cases) {
    TimelapseOptions options = small_options();
    c.change(options);
    expect_error([&] { validate(options); }, c.message);
    expect_error([&] { generate_position(options, 1); }, c.message);
    expect_error([&] { write_timelapse("/nonexistent/never-created", options); }, c.message);
  }
  EXPECT_NO_THROW(validate({}));
}

TEST(Timelapse, RejectsPositionOutsideTheMovie) {
  expect_error([] { generate_position(small_options(), 0); },
               "synth timelapse: 'position' must be in [1, 2], got 0");
  expect_error([] { generate_position(small_options(), 3); },
               "synth timelapse: 'position' must be in [1, 2], got 3");
}

class TempDir {
 public:
  TempDir() {
    std::random_device random;
    path_ = std::filesystem::temp_directory_path() /
            fmt::format("tessera-synth-test-{:08x}{:08x}", random(), random());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(Timelapse, WritesTheLayoutAndPngsReadBackWithTheSamePixels) {
  TimelapseOptions options;
  options.positions = 2;
  options.frames = 3;
  options.size = 64;
  options.nuclei = 4;
  options.experiment = "expA";
  const TempDir dir;
  const TimelapseSummary summary = write_timelapse(dir.path(), options);
  EXPECT_EQ(summary.images, 6);

  int tracks = 0;
  int divisions = 0;
  for (int p = 1; p <= 2; ++p) {
    const TimelapseFrames f = generate_position(options, p);
    for (int t = 0; t < 3; ++t) {
      const auto image_path =
          dir.path() / fmt::format("images/expA/pos{:02d}/t{:03d}_c0.png", p, t);
      const auto mask_path = dir.path() / fmt::format("masks/expA/pos{:02d}/t{:03d}.png", p, t);
      ASSERT_TRUE(std::filesystem::exists(image_path)) << image_path;
      ASSERT_TRUE(std::filesystem::exists(mask_path)) << mask_path;
      const cv::Mat image = cv::imread(image_path.string(), cv::IMREAD_UNCHANGED);
      const cv::Mat mask = cv::imread(mask_path.string(), cv::IMREAD_UNCHANGED);
      EXPECT_EQ(image.type(), CV_16UC1);
      EXPECT_EQ(mask.type(), CV_16UC1);
      EXPECT_TRUE(same_pixels(image, f.images[static_cast<size_t>(t)])) << image_path;
      EXPECT_TRUE(same_pixels(mask, f.labels[static_cast<size_t>(t)])) << mask_path;
    }
    std::string expected;
    for (const TrackRecord& r : f.tracks) {
      expected += fmt::format("{} {} {} {}\n", r.label, r.begin, r.end, r.parent);
      divisions += r.parent != 0 ? 1 : 0;
    }
    EXPECT_EQ(read_file(dir.path() / fmt::format("tracks/expA_pos{:02d}.txt", p)), expected);
    tracks += static_cast<int>(f.tracks.size());
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "images/expA/pos03"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "images/expA/pos01/t003_c0.png"));
  EXPECT_EQ(summary.tracks, tracks);
  EXPECT_EQ(summary.divisions, divisions / 2);

  const auto manifest = nlohmann::json::parse(read_file(dir.path() / "manifest.json"));
  EXPECT_EQ(manifest["options"]["frames"], 3);
  EXPECT_EQ(manifest["options"]["experiment"], "expA");
  EXPECT_EQ(manifest["options"]["seed"], 1u);
  EXPECT_EQ(manifest["summary"]["images"], 6);
  EXPECT_EQ(manifest["summary"]["tracks"], tracks);
  EXPECT_EQ(manifest["positions"].size(), 2u);
}

TEST(Timelapse, ReportsIoErrorWhenTheOutputFolderCannotBeCreated) {
  const TempDir dir;
  std::filesystem::create_directories(dir.path());
  write_file_atomic(dir.path() / "blocker", "a file, not a folder");
  TimelapseOptions options = small_options();
  options.frames = 1;
  try {
    write_timelapse(dir.path() / "blocker" / "out", options);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::io);
    EXPECT_NE(std::string(e.what()).find("blocker"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tessera::synth
