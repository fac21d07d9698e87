#include "tessera/pipeline/engine.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeline_fixtures.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "test_util.hpp"

namespace tessera::pipeline {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using test::Item;
using test::RecordingWriter;
using test::VectorSource;

// Item i: a frame of varying size with 1..4 separate rectangles of different sizes (so items take different
// times and make different numbers of objects).
std::vector<Item> varied_items(int n) {
  std::vector<Item> items;
  for (int i = 0; i < n; ++i) {
    const cv::Size size(40 + 7 * (i % 5), 30 + 5 * (i % 3));
    std::vector<cv::Rect> rects;
    for (int k = 0; k <= i % 4; ++k) rects.emplace_back(2 + 9 * k, 3 + (k % 2) * 10, 3 + k + i % 3, 4 + (i + k) % 5);
    items.push_back({fmt::format("item{:02}", i), test::rects_image(size, rects), "", {{"plate", fmt::format("p{}", i % 2)}}});
  }
  return items;
}

std::vector<std::string> expected_ids(const std::vector<Item>& items) {
  std::vector<std::string> ids;
  for (int i = 0; i < static_cast<int>(items.size()); ++i) {
    for (int k = 0; k <= i % 4; ++k) ids.push_back(fmt::format("{}_{}", items[i].id, k + 1));
  }
  return ids;
}

struct Outcome {
  RunStats stats;
  std::vector<std::string> written;
  int finished = 0;
};

// Runs the split pipeline (plus `more` nodes at stage 1) with a recording writer at the end.
Outcome run_recorded(const std::vector<Item>& items, const json& more, RunOptions options) {
  json tail = more;
  tail.push_back({{"write", "record"}});
  const PipelineSpec spec = test::parse(test::with_nodes(test::split_nodes(2), tail));
  RecordingWriter writer;
  VectorSource source(items);
  Outcome out;
  out.stats = run_pipeline(spec, ops::builtin_ops(), source, {&writer}, options);
  out.written = writer.written;
  out.finished = writer.finished;
  return out;
}

TEST(PipelineEngine, CsvIsByteIdenticalWithOneOrFourJobsAndInSourceOrder) {
  tessera::test::TempDir dir;
  const auto items = varied_items(16);
  std::string texts[2];
  for (int j = 0; j < 2; ++j) {
    // Same layout under two folders: the rows name images by paths relative to the CSV.
    const fs::path path = dir / fmt::format("run{}", j) / "objects.csv";
    fs::create_directories(path.parent_path());
    const json writer = {{"write", "csv"}, {"path", path.string()}, {"images", "mask"}};
    const json tail = json::array({writer});
    const PipelineSpec spec = test::parse(test::with_nodes(test::split_nodes(2), tail));
    auto writers = test::create_writers(spec);
    VectorSource source(items);
    RunOptions options;
    options.jobs = j == 0 ? 1 : 4;
    const RunStats stats = run_pipeline(spec, ops::builtin_ops(), source, test::raw_pointers(writers), options);
    EXPECT_EQ(stats.failed, 0);
    EXPECT_EQ(stats.items, 16);
    EXPECT_EQ(stats.roots, 16);
    EXPECT_EQ(stats.objects.at(1), static_cast<std::int64_t>(expected_ids(items).size()));
    texts[j] = read_file(path);
  }
  EXPECT_EQ(texts[0], texts[1]);
  // Rows follow the source order, regions in label order; the row names its files, which exist.
  std::vector<std::string> ids;
  std::istringstream in(texts[0]);
  std::string line;
  std::getline(in, line);
  EXPECT_THAT(line, ::testing::StartsWith("object_id,parent_id,source,frame,label,bbox_x0,bbox_y0,bbox_x1,bbox_y1,nested_count,plate"));
  while (std::getline(in, line)) ids.push_back(line.substr(0, line.find(',')));
  EXPECT_THAT(ids, ElementsAreArray(expected_ids(items)));
  for (const std::string& id : expected_ids(items)) {
    const fs::path image = fs::path("objects_images") / (id + "_mask.png");
    EXPECT_THAT(texts[0], HasSubstr("," + image.string() + "\n"));
    ASSERT_TRUE(fs::exists(dir / "run0" / image)) << id;
    EXPECT_EQ(read_file(dir / "run0" / image), read_file(dir / "run1" / image)) << id;
  }
}

TEST(PipelineEngine, WritersSeeBatchesInSourceOrderWhateverTheJobs) {
  const auto items = varied_items(40);
  for (int jobs : {1, 2, 4, 8}) {
    RunOptions options;
    options.jobs = jobs;
    int calls = 0;
    options.on_item = [&] { ++calls; };
    const Outcome out = run_recorded(items, json::array(), options);
    EXPECT_THAT(out.written, ElementsAreArray(expected_ids(items))) << jobs << " jobs";
    EXPECT_EQ(out.finished, 1);
    EXPECT_EQ(calls, 40);
  }
}

// A frame no op can threshold (three channels) fails at node 1; the others are processed and written,
// and the failure is counted and named.
TEST(PipelineEngine, ANodeFailingOnOneObjectIsRecordedAndTheOthersGoOn) {
  auto items = varied_items(6);
  cv::cvtColor(items[2].raw, items[2].raw, cv::COLOR_GRAY2RGB);
  cv::cvtColor(items[4].raw, items[4].raw, cv::COLOR_GRAY2RGB);
  for (int jobs : {1, 4}) {
    RunOptions options;
    options.jobs = jobs;
    const Outcome out = run_recorded(items, json::array(), options);
    EXPECT_EQ(out.stats.items, 6);
    EXPECT_EQ(out.stats.roots, 6);
    EXPECT_EQ(out.stats.failed, 2);
    ASSERT_EQ(out.stats.errors.size(), 2u);
    EXPECT_EQ(out.stats.errors[0].object, "item02");  // source order, whatever finished first
    EXPECT_EQ(out.stats.errors[1].object, "item04");
    EXPECT_EQ(out.stats.errors[0].node, "node 1 (threshold_fixed)");
    EXPECT_THAT(out.stats.errors[0].message, HasSubstr("one-channel"));
    EXPECT_EQ(out.stats.objects.at(0), 4) << "roots that went through every node";
    std::vector<std::string> want;
    for (const std::string& id : expected_ids(items)) {
      if (id.rfind("item02", 0) != 0 && id.rfind("item04", 0) != 0) want.push_back(id);
    }
    EXPECT_THAT(out.written, ElementsAreArray(want));
    EXPECT_EQ(out.stats.objects.at(1), static_cast<std::int64_t>(want.size()));
    EXPECT_EQ(out.finished, 1);
    const json counts = out.stats.counts();
    EXPECT_EQ(counts["failed"], 2);
    EXPECT_EQ(counts["items"], 6);
  }
}

// A node failing on one region stops that region only: its siblings and the other frames are written.
TEST(PipelineEngine, ANodeFailingOnOneRegionKeepsItsSiblings) {
  // Crops (padding 2) are 18+4 and 3+4 pixels wide: cropping from x = 10 fails on the narrow one.
  std::vector<Item> items = {
      {"a", test::rects_image({60, 30}, {{5, 5, 18, 6}, {40, 5, 3, 6}}), "", {}},
      {"b", test::rects_image({60, 30}, {{5, 5, 18, 6}}), "", {}},
  };
  const json more = json::array({{{"op", "crop"}, {"in", "raw"}, {"out", "cut"}, {"params", {{"x", 10}}}}});
  const Outcome out = run_recorded(items, more, {});
  EXPECT_EQ(out.stats.failed, 1);
  ASSERT_EQ(out.stats.errors.size(), 1u);
  EXPECT_EQ(out.stats.errors[0].object, "a_2");
  EXPECT_EQ(out.stats.errors[0].node, "node 5 (crop)");
  EXPECT_THAT(out.written, ElementsAre("a_1", "b_1"));
  EXPECT_EQ(out.stats.objects.at(0), 2);
  EXPECT_EQ(out.stats.objects.at(1), 2);
}

TEST(PipelineEngine, FailFastStopsWithTheObjectAndNodeNamed) {
  auto items = varied_items(12);
  cv::cvtColor(items[3].raw, items[3].raw, cv::COLOR_GRAY2RGB);
  for (int jobs : {1, 4}) {
    RunOptions options;
    options.jobs = jobs;
    options.fail_fast = true;
    const PipelineSpec spec = test::parse(test::with_nodes(test::split_nodes(2), json::array({{{"write", "record"}}})));
    RecordingWriter writer;
    VectorSource source(items);
    try {
      run_pipeline(spec, ops::builtin_ops(), source, {&writer}, options);
      ADD_FAILURE() << "fail_fast run went through";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr("item03"));
      EXPECT_THAT(e.what(), HasSubstr("node 1 (threshold_fixed)"));
      EXPECT_THAT(e.what(), HasSubstr("one-channel"));
    }
    EXPECT_EQ(writer.finished, 0) << "a stopped run leaves its outputs unfinished";
    for (const std::string& id : writer.written) EXPECT_LT(id, "item03") << "written after the failure with " << jobs << " jobs";
    if (jobs == 1) {
      EXPECT_LE(source.loads(), 3 + 4) << "items past the failure (and the window) were not even loaded";
    }
  }
}

TEST(PipelineEngine, LoadErrorsAreCountedAndNamedAndTheRunGoesOn) {
  auto items = varied_items(4);
  items[1] = {"broken", {}, "truncated PNG (read 300 of 1200 bytes)", {}};
  const Outcome out = run_recorded(items, json::array(), {});
  EXPECT_EQ(out.stats.items, 4);
  EXPECT_EQ(out.stats.roots, 3);
  EXPECT_EQ(out.stats.failed, 1);
  ASSERT_EQ(out.stats.errors.size(), 1u);
  EXPECT_EQ(out.stats.errors[0].object, "broken.png");
  EXPECT_EQ(out.stats.errors[0].node, "load");
  EXPECT_THAT(out.stats.errors[0].message, HasSubstr("truncated"));
  EXPECT_EQ(out.finished, 1);
  EXPECT_EQ(out.written.size(), 1u + 3u + 4u);  // items 0, 2, 3 make 1, 3 and 4 regions
}

TEST(PipelineEngine, FailFastStopsAtALoadErrorNamingTheSource) {
  auto items = varied_items(4);
  items[2] = {"broken", {}, "not an image", {}};
  RunOptions options;
  options.fail_fast = true;
  try {
    run_recorded(items, json::array(), options);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("broken.png"));
    EXPECT_THAT(e.what(), HasSubstr("not an image"));
  }
}

TEST(PipelineEngine, FramesWithoutObjectsAreNotFailures) {
  std::vector<Item> items = {{"empty", test::rects_image({30, 20}, {}), "", {}},
                             {"one", test::rects_image({30, 20}, {{4, 4, 5, 5}}), "", {}}};
  const Outcome out = run_recorded(items, json::array(), {});
  EXPECT_EQ(out.stats.failed, 0);
  EXPECT_EQ(out.stats.objects.at(0), 2);
  EXPECT_THAT(out.written, ElementsAre("one_1"));
}

TEST(PipelineEngine, WriterCountMustMatchWriteNodes) {
  const PipelineSpec spec = test::parse(test::with_nodes(test::split_nodes(2), json::array({{{"write", "record"}}})));
  VectorSource source(varied_items(1));
  EXPECT_THROW(run_pipeline(spec, ops::builtin_ops(), source, {}, {}), Error);
}

}  // namespace
}  // namespace tessera::pipeline
