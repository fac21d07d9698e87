#include "tessera/app/import.hpp"

#include <signal.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tessera/app/summary.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/image/encode.hpp"
#include "test_util.hpp"

extern char** environ;

namespace tessera::app {
namespace {
namespace fs = std::filesystem;

// A distinct 8-bit image per (seed): gradient, checkerboard and noise.
cv::Mat make_image(int seed, int size = 64) {
  cv::Mat m(size, size, CV_8UC1);
  cv::RNG rng(static_cast<uint64_t>(seed) * 7919 + 1);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) m.at<uchar>(y, x) = static_cast<uchar>((x + y + seed * 13) % 200 + rng.uniform(0, 40));
  }
  return m;
}

void write_png(const fs::path& path, int seed, int size = 64) {
  fs::create_directories(path.parent_path());
  image::write_image(path, make_image(seed, size));
}

// exp1/A1/t0_c0.png ... : wells x times x 1 channel
void write_tree(const fs::path& root, const std::vector<std::string>& wells, int times) {
  int seed = 0;
  for (const auto& well : wells) {
    for (int t = 0; t < times; ++t) write_png(root / "exp1" / well / fmt::format("t{}_c0.png", t), ++seed);
  }
}

ImportOptions tree_options(const fs::path& root) {
  ImportOptions o;
  o.sources = {root};
  o.pattern = "{experiment}/{well}/t{time:int}_c{channel:int}.png";
  o.series_by = {"experiment", "well"};
  o.frame_by = "time";
  o.progress = false;
  o.jobs = 2;
  return o;
}

class ImportTest : public ::testing::Test {
 protected:
  test::TempDir dir;
  fs::path data() const { return dir / "data"; }
  Workspace open() { return Workspace::init(dir / "ws", ""); }
};

TEST_F(ImportTest, PathTokensBecomeMetadataAndSeriesAreOrderedByFrame) {
  write_tree(data(), {"A1", "B2"}, 3);
  Workspace ws = open();
  const ImportReport r = import_images(ws, tree_options(data()));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.imported, 6);
  const auto project = ws.catalog().get_project("default");
  catalog::ImageQuery q;
  q.project_id = project.id;
  q.where = "well = 'B2' and time >= 1";
  const auto images = ws.catalog().list_images(q);
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(images[0].metadata["time"], 1);
  EXPECT_EQ(images[0].metadata["experiment"], "exp1");
  EXPECT_EQ(images[0].series_name, "exp1/B2");
  EXPECT_EQ(images[0].frame_index, 1);
  EXPECT_EQ(images[1].frame_index, 2);
  EXPECT_EQ(images[0].width, 64);
  EXPECT_EQ(images[0].pixel_type, "u8");
  EXPECT_GT(images[0].focus.value_or(0), 0.0);
  EXPECT_TRUE(ws.blobs().verify(images[0].blob_hash));
  const auto series = ws.catalog().list_series(project.id);
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].frame_count, 3);
  EXPECT_EQ(series[0].key["well"], "A1");
}

TEST_F(ImportTest, ReRunAddsOnlyWhatIsNew) {
  write_tree(data(), {"A1"}, 4);
  Workspace ws = open();
  EXPECT_EQ(import_images(ws, tree_options(data())).imported, 4);
  const ImportReport again = import_images(ws, tree_options(data()));
  EXPECT_EQ(again.imported, 0);
  EXPECT_EQ(again.skipped, 4);
  write_png(data() / "exp1" / "A1" / "t4_c0.png", 99);
  const ImportReport third = import_images(ws, tree_options(data()));
  EXPECT_EQ(third.imported, 1);
  EXPECT_EQ(third.skipped, 4);
  EXPECT_EQ(ws.catalog().summary().images, 5);
}

TEST_F(ImportTest, ChangedContentAtTheSamePathIsANewImage) {
  write_tree(data(), {"A1"}, 1);
  Workspace ws = open();
  import_images(ws, tree_options(data()));
  write_png(data() / "exp1" / "A1" / "t0_c0.png", 1234);
  EXPECT_EQ(import_images(ws, tree_options(data())).imported, 1);
  EXPECT_EQ(ws.catalog().summary().images, 2);
}

TEST_F(ImportTest, IdenticalFilesAtTwoPathsShareOneBlob) {
  write_png(data() / "a.png", 5);
  fs::copy_file(data() / "a.png", data() / "b.png");
  Workspace ws = open();
  ImportOptions o;
  o.sources = {data()};
  o.progress = false;
  EXPECT_EQ(import_images(ws, o).imported, 2);
  int blobs = 0;
  ws.blobs().for_each([&](const std::string&) { ++blobs; });
  EXPECT_EQ(blobs, 1);
}

TEST_F(ImportTest, BadFilesAreListedWithReasonsAndTheRestIsImported) {
  write_tree(data(), {"A1"}, 3);
  const fs::path well = data() / "exp1" / "A1";
  {
    const std::string good = read_file(well / "t0_c0.png");
    std::ofstream(well / "t7_c0.png", std::ios::binary) << good.substr(0, good.size() / 2);  // truncated
    std::ofstream(well / "t8_c0.png", std::ios::binary) << "plain text, not a PNG";
    std::ofstream(well / "t9_c0.png", std::ios::binary);                                      // empty
  }
  write_png(data() / "exp1" / "stray.png", 77);  // does not match the pattern
  Workspace ws = open();
  const ImportReport r = import_images(ws, tree_options(data()));
  EXPECT_EQ(r.imported, 3);
  ASSERT_EQ(r.failed.size(), 3u);
  std::set<std::string> failed_names;
  for (const auto& f : r.failed) {
    failed_names.insert(fs::path(f.path).filename().string());
    EXPECT_FALSE(f.reason.empty());
  }
  EXPECT_EQ(failed_names, (std::set<std::string>{"t7_c0.png", "t8_c0.png", "t9_c0.png"}));
  ASSERT_EQ(r.unmatched.size(), 1u);
  EXPECT_NE(r.unmatched[0].find("stray.png"), std::string::npos);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(ws.catalog().summary().images, 3);
}

TEST_F(ImportTest, SetCollectsNewAndAlreadyPresentImages) {
  write_tree(data(), {"A1"}, 2);
  Workspace ws = open();
  import_images(ws, tree_options(data()));
  ImportOptions o = tree_options(data());
  o.set = "batch1";
  import_images(ws, o);
  const auto project = ws.catalog().get_project("default");
  EXPECT_EQ(ws.catalog().get_set(project.id, "batch1").image_count, 2);
}

TEST_F(ImportTest, OptionsAreCheckedAgainstThePattern) {
  write_tree(data(), {"A1"}, 1);
  auto expect_error = [&](ImportOptions o, const std::string& fragment) {
    try {
      validate_import_options(o);
      FAIL() << "accepted options; expected " << fragment;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  ImportOptions o = tree_options(data());
  o.frame_by = "channel_name";
  expect_error(o, "--frame-by names 'channel_name'");
  o = tree_options(data());
  o.pattern = "{experiment}/{well}/t{time}_c{channel:int}.png";
  expect_error(o, "must be an integer");
  o = tree_options(data());
  o.series_by = {"plate"};
  expect_error(o, "--series-by names 'plate'");
  o = tree_options(data());
  o.sources = {dir / "missing"};
  try {
    validate_import_options(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
}

TEST_F(ImportTest, ImportedImagesAppearInTheActivityFeed) {
  write_tree(data(), {"A1"}, 2);
  Workspace ws = open();
  import_images(ws, tree_options(data()));
  const auto project = ws.catalog().get_project("default");
  int imported_events = 0;
  for (const auto& e : ws.catalog().list_events(project.id)) {
    if (e.kind == "image.imported") {
      ++imported_events;
      EXPECT_TRUE(e.payload.contains("focus"));
      EXPECT_EQ(e.payload["series"], "exp1/A1");
    }
  }
  EXPECT_EQ(imported_events, 2);
}

TEST_F(ImportTest, WatchImportsFilesAsTheyAppearOnceStable) {
  fs::create_directories(data() / "exp1" / "A1");
  Workspace ws = open();
  std::atomic<bool> stop{false};
  std::atomic<int> imported{0};
  ImportOptions o = tree_options(data());
  std::thread watcher([&] {
    watch_images(ws, o, stop, std::chrono::milliseconds(60),
                 [&](const ImportReport& r) { imported += static_cast<int>(r.imported); });
  });
  for (int t = 0; t < 3; ++t) {
    write_png(data() / "exp1" / "A1" / fmt::format("t{}_c0.png", t), t + 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (int waited = 0; imported < 3 && waited < 100; ++waited) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop = true;
  watcher.join();
  EXPECT_EQ(imported.load(), 3);
  EXPECT_EQ(ws.catalog().summary().images, 3);
}

// kill -9 during an import, then the same import again: consistent catalog, no duplicate, no orphan
// record, no half blob. Runs the real CLI in a child process and kills it at several points.
TEST_F(ImportTest, KillNineDuringImportThenRerunLeavesAConsistentCatalog) {
  constexpr int kImages = 240;
  for (int i = 0; i < kImages; ++i) write_png(data() / "exp1" / "A1" / fmt::format("t{}_c0.png", i), i + 1, 256);
  Workspace::init(dir / "ws", "");
  const std::string ws_dir = (dir / "ws").string();
  const std::string src = data().string();
  auto spawn_import = [&]() {
    std::vector<std::string> args = {TESSERA_BINARY, "--dir", ws_dir, "import", src, "--pattern",
                                     "{experiment}/{well}/t{time:int}_c{channel:int}.png", "--series-by",
                                     "experiment,well", "--frame-by", "time", "--jobs", "2"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    return pid;
  };
  std::int64_t previous = 0;
  for (int delay_ms : {150, 400, 700}) {
    const pid_t pid = spawn_import();
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    Workspace ws = Workspace::open(dir / "ws");
    const std::int64_t count = ws.catalog().summary().images;
    EXPECT_GE(count, previous);  // committed work survives
    previous = count;
    const CheckReport check = check_workspace(ws, true);
    EXPECT_TRUE(check.missing.empty()) << "a record points at a blob that was never written";
    EXPECT_TRUE(check.damaged.empty()) << "a half-written blob is in the store";
    EXPECT_EQ(check.temp_files, 0) << "temp files of the killed import were not cleaned";
  }
  // The re-run completes the import: every file once, none twice.
  const pid_t pid = spawn_import();
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  Workspace ws = Workspace::open(dir / "ws");
  const auto project = ws.catalog().get_project("default");
  catalog::ImageQuery q;
  q.project_id = project.id;
  const auto images = ws.catalog().list_images(q);
  EXPECT_EQ(images.size(), static_cast<size_t>(kImages));
  std::set<std::string> paths;
  for (const auto& image : images) paths.insert(image.source_path);
  EXPECT_EQ(paths.size(), static_cast<size_t>(kImages)) << "duplicate records";
  const CheckReport check = check_workspace(ws, true);
  EXPECT_TRUE(check.ok());
  EXPECT_EQ(check.blobs_referenced, kImages);
  EXPECT_EQ(ws.catalog().list_series(project.id).at(0).frame_count, kImages);
}

}  // namespace
}  // namespace tessera::app
