#include "tessera/app/measure.hpp"

#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "tessera/app/import.hpp"
#include "tessera/core/error.hpp"
#include "tessera/image/encode.hpp"
#include "test_util.hpp"

namespace tessera::app {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Dark background, three bright discs (one touching the border) and one 3-pixel speck.
cv::Mat disc_image() {
  cv::Mat m(64, 80, CV_8UC1, cv::Scalar(10));
  cv::circle(m, cv::Point(15, 15), 6, cv::Scalar(200), cv::FILLED);
  cv::circle(m, cv::Point(50, 30), 9, cv::Scalar(180), cv::FILLED);
  cv::circle(m, cv::Point(78, 60), 5, cv::Scalar(220), cv::FILLED);
  m(cv::Rect(30, 55, 3, 1)).setTo(250);
  return m;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(Measure, FindsObjectsAndDropsSmallOnesInRasterOrder) {
  const MeasuredImage all = measure_image(disc_image(), {});
  ASSERT_EQ(all.regions.size(), 4u);
  MeasureOptions opts;
  opts.min_area = 4;
  const MeasuredImage kept = measure_image(disc_image(), opts);
  ASSERT_EQ(kept.regions.size(), 3u);
  for (size_t i = 0; i < kept.regions.size(); ++i) EXPECT_EQ(kept.regions[i].label, static_cast<int>(i) + 1);
  EXPECT_LT(kept.regions[0].bbox[0], kept.regions[1].bbox[0]);  // first pixel rows ascend
  EXPECT_EQ(kept.regions[2].bbox[3], 80);                       // border object, half-open bbox
}

TEST(Measure, DarkObjectsInvertTheComparison) {
  cv::Mat inverted = 255 - disc_image();
  MeasureOptions opts;
  opts.dark_objects = true;
  EXPECT_EQ(measure_image(inverted, opts).regions.size(), 4u);
}

TEST(Measure, FixedAndQuantileThresholds) {
  MeasureOptions opts;
  opts.threshold = "215";
  EXPECT_EQ(measure_image(disc_image(), opts).regions.size(), 2u);  // the 220 disc and the 250 speck
  opts.threshold = "quantile:0.5";
  EXPECT_EQ(measure_image(disc_image(), opts).threshold, 10.0);
}

TEST(Measure, ConstantImageHasNoObjects) {
  EXPECT_TRUE(measure_image(cv::Mat(8, 8, CV_16UC1, cv::Scalar(300)), {}).regions.empty());
}

TEST(Measure, BadOptionsNameTheOption) {
  for (const char* t : {"otsuu", "quantile:2", "quantile:x", ""}) {
    MeasureOptions o;
    o.threshold = t;
    EXPECT_THROW(validate_measure_options(o), Error) << t;
  }
  MeasureOptions o;
  o.connectivity = 4;
  try {
    validate_measure_options(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("--connectivity"));
  }
}

TEST(Measure, FilesGiveOneCsvAndBadFilesAreReportedNotFatal) {
  test::TempDir dir;
  image::write_image(dir / "a.png", disc_image());
  cv::Mat sixteen;
  disc_image().convertTo(sixteen, CV_16U, 200.0);
  image::write_image(dir / "b.png", sixteen);
  image::write_image(dir / "empty.png", cv::Mat(16, 16, CV_8UC1, cv::Scalar(0)));
  std::ofstream(dir / "broken.png") << "not a png";
  std::ostringstream csv;
  MeasureOptions opts;
  opts.jobs = 2;
  const MeasureReport r =
      measure_files({dir / "a.png", dir / "broken.png", dir / "empty.png", dir / "b.png"}, opts, csv);
  EXPECT_EQ(r.images, 3);
  EXPECT_EQ(r.objects, 8);
  ASSERT_EQ(r.failed.size(), 1u);
  EXPECT_THAT(r.failed[0].source, HasSubstr("broken.png"));
  const auto lines = lines_of(csv.str());
  ASSERT_EQ(lines.size(), 9u);
  EXPECT_EQ(lines[0] + "\n", measure_csv_header());
  EXPECT_THAT(lines[1], ::testing::StartsWith("a.png,1,"));
  EXPECT_THAT(lines[5], ::testing::StartsWith("b.png,1,"));  // file order kept with two workers
  // The same objects at 8 and 16 bits: identical geometry columns.
  EXPECT_EQ(lines[1].substr(6, 40), lines[5].substr(6, 40));
}

TEST(Measure, SetMeasurementStoresObjectsUnderARun) {
  test::TempDir dir;
  fs::create_directories(dir / "data");
  image::write_image(dir / "data" / "x.png", disc_image());
  Workspace ws = Workspace::init(dir / "ws", "");
  ImportOptions io;
  io.sources = {dir / "data"};
  io.set = "s";
  io.progress = false;
  import_images(ws, io);
  MeasureOptions opts;
  opts.min_area = 4;
  std::ostringstream csv;
  const MeasureReport r = measure_set(ws, "default", "s", opts, &csv);
  EXPECT_EQ(r.objects, 3);
  ASSERT_TRUE(r.run_id);
  const auto project = ws.catalog().get_project("default");
  const auto runs = ws.catalog().list_runs(project.id);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, "succeeded");
  EXPECT_EQ(runs[0].kind, "measure");
  EXPECT_EQ(runs[0].counts["objects"], 3);
  catalog::ImageQuery q;
  q.project_id = project.id;
  const auto image = ws.catalog().list_images(q).at(0);
  const auto objects = ws.catalog().list_objects(image.id, *r.run_id);
  ASSERT_EQ(objects.size(), 3u);
  EXPECT_EQ(objects[2].bbox_x1, 80);
  EXPECT_EQ(objects[0].features["label"], 1);
  EXPECT_GT(objects[0].features["area"].get<double>(), 100);
  EXPECT_EQ(ws.catalog().summary().objects, 3);
  EXPECT_THROW(measure_set(ws, "default", "missing", opts, nullptr), Error);
}

}  // namespace
}  // namespace tessera::app
