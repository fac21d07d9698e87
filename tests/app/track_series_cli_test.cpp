// The real CLI over a catalog series: a synthetic time-lapse imported, segmented by `tessera run` into
// the catalog, tracked by `tessera track --series`, listed, edited, its journal read, exported (and the
// export equal to the .trk conversion of itself), and the errors a user meets.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tessera/core/file.hpp"
#include "test_util.hpp"

namespace tessera::app {
namespace {

namespace fs = std::filesystem;
using tessera::test::TempDir;
using ::testing::HasSubstr;

struct CliRun {
  int status;
  std::string out;
  std::string err;
};

// Runs the real CLI in `dir` on its workspace ws/.
CliRun tessera(const TempDir& dir, const std::string& args) {
  const auto out = dir / "stdout.txt";
  const auto err = dir / "stderr.txt";
  const std::string command = fmt::format("cd {} && {} --dir ws {} >{} 2>{}", dir.path().string(), TESSERA_BINARY, args,
                                          out.string(), err.string());
  const int raw = std::system(command.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read_file(out), read_file(err)};
}

constexpr const char* kSegmentation = R"({"name": "nuclei", "nodes": [
  {"op": "threshold_otsu", "in": {"image": "raw"}, "out": {"mask": "mask"}},
  {"op": "label", "in": {"mask": "mask"}, "out": {"labels": "labels"}},
  {"op": "remove_small_objects", "in": {"labels": "labels"}, "out": {"labels": "labels"}, "params": {"min_size": 20}},
  {"op": "regionprops", "in": {"labels": "labels", "intensity": "raw"}, "out": {"table": "features"}},
  {"split": "extract_regions", "labels": "labels", "crop": ["raw"], "padding": 0, "features": "features", "nested": "ignore"},
  {"write": "catalog", "mask": "mask"}]})";

TEST(TrackSeriesCli, TracksEditsAndExportsACatalogSeries) {
  TempDir dir("tessera-track-cli");
  ASSERT_EQ(tessera(dir, "init ws").status, 0);
  ASSERT_EQ(tessera(dir, "synth timelapse syn --positions 1 --frames 12 --size 192 --nuclei 10 --seed 5").status, 0);
  const CliRun imported = tessera(dir,
                                  "import syn/images --pattern '{experiment}/{pos}/t{t:int}_c{channel}.png' "
                                  "--series-by experiment,pos --frame-by t --set frames");
  ASSERT_EQ(imported.status, 0) << imported.err;
  // Before any segmentation there is nothing to track.
  const CliRun early = tessera(dir, "track --series exp1/pos01");
  EXPECT_EQ(early.status, 2);
  EXPECT_THAT(early.err, HasSubstr("has no objects"));
  { std::ofstream(dir / "seg.json") << kSegmentation; }
  const CliRun run = tessera(dir, "run seg.json --set frames");
  ASSERT_EQ(run.status, 0) << run.err;

  const CliRun tracked = tessera(dir, "track --series exp1/pos01 --max-gap 1");
  ASSERT_EQ(tracked.status, 0) << tracked.err;
  EXPECT_THAT(tracked.out, HasSubstr("tracked series 'exp1/pos01' (frames 0-11, 12 images)"));
  EXPECT_THAT(tracked.out, HasSubstr("of run 1"));

  const CliRun listed = tessera(dir, "track list --series exp1/pos01 --json");
  ASSERT_EQ(listed.status, 0) << listed.err;
  std::istringstream lines(listed.out);
  std::string line;
  nlohmann::json longest;
  int tracks = 0;
  while (std::getline(lines, line)) {
    const auto t = nlohmann::json::parse(line);
    ++tracks;
    if (longest.is_null() || t["objects"].get<int>() > longest["objects"].get<int>()) longest = t;
  }
  ASSERT_GE(tracks, 8);
  ASSERT_GE(longest["objects"].get<int>(), 6);
  const auto id = longest["id"].get<std::int64_t>();
  const auto frame = longest["start_frame"].get<std::int64_t>() + 3;

  const CliRun split = tessera(dir, fmt::format("track edit split {} --frame {}", id, frame));
  ASSERT_EQ(split.status, 0) << split.err;
  EXPECT_THAT(split.out, HasSubstr(fmt::format("split (edit 1): track {} frames", id)));
  const CliRun history = tessera(dir, fmt::format("track history {} --json", id));
  ASSERT_EQ(history.status, 0) << history.err;
  const auto entry = nlohmann::json::parse(history.out.substr(0, history.out.find('\n')));
  EXPECT_EQ(entry["action"], "split");
  EXPECT_EQ(entry["after"]["frame"], frame);
  const auto piece = entry["other_track_id"].get<std::int64_t>();
  ASSERT_EQ(tessera(dir, fmt::format("track edit merge {} {}", id, piece)).status, 0);
  const CliRun refused = tessera(dir, fmt::format("track edit parent {} {}", id, id));
  EXPECT_EQ(refused.status, 2);
  EXPECT_THAT(refused.err, HasSubstr("its own parent"));
  EXPECT_EQ(tessera(dir, "track edit unparent 987654").status, 3);

  const CliRun ctc = tessera(dir, "track export --series exp1/pos01 --format ctc ctc");
  ASSERT_EQ(ctc.status, 0) << ctc.err;
  EXPECT_THAT(ctc.out, HasSubstr("12 frames"));
  ASSERT_EQ(tessera(dir, "track export --series exp1/pos01 --format trk movie.trk").status, 0);
  ASSERT_EQ(tessera(dir, "track convert movie.trk back").status, 0);
  for (const auto& e : fs::directory_iterator(dir / "ctc")) {
    EXPECT_EQ(read_file(e.path()), read_file(dir / "back" / e.path().filename())) << e.path().filename();
  }

  EXPECT_EQ(tessera(dir, "track --series nope").status, 3);
  EXPECT_EQ(tessera(dir, "track --series exp1/pos01 --run 99").status, 3);
  EXPECT_EQ(tessera(dir, "track --series exp1/pos01 --max-gap 500").status, 2);
  const CliRun bare = tessera(dir, "track");
  EXPECT_EQ(bare.status, 2);
  EXPECT_THAT(bare.err, HasSubstr("--series"));
}

}  // namespace
}  // namespace tessera::app
