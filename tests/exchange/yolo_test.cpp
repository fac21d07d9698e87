#include "tessera/exchange/yolo.hpp"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "tessera/core/error.hpp"

namespace tessera::exchange {
namespace {

TEST(Yolo, DetectLineOfTheDocumentedExample) {
  // formats.md 4.2: 640x480 image, box cols 100..299, rows 120..279.
  cv::Mat mask(160, 200, CV_8UC1, cv::Scalar(255));
  const auto lines = yolo_lines(YoloTask::detect, 0, mask, {100, 120}, {640, 480});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "0 0.312500 0.416667 0.312500 0.333333");
  const auto objects = parse_yolo_labels(lines[0] + "\n");
  ASSERT_EQ(objects.size(), 1u);
  const cv::Mat back = yolo_object_mask(objects[0], {640, 480});
  EXPECT_EQ(cv::boundingRect(back), cv::Rect(100, 120, 200, 160));
  EXPECT_EQ(cv::countNonZero(back), 200 * 160);
}

TEST(Yolo, SegmentLineOfTheDocumentedExampleUsesPixelIndices) {
  cv::Mat mask(160, 200, CV_8UC1, cv::Scalar(255));
  const auto lines = yolo_lines(YoloTask::segment, 1, mask, {100, 120}, {640, 480});
  ASSERT_EQ(lines.size(), 1u);
  // The same four vertices as the example; OpenCV starts at the top-left and runs the other way round.
  EXPECT_EQ(lines[0], "1 0.156250 0.250000 0.156250 0.581250 0.467187 0.581250 0.467187 0.250000");
  const cv::Mat back = yolo_object_mask(parse_yolo_labels(lines[0])[0], {640, 480});
  cv::Mat expected(480, 640, CV_8UC1, cv::Scalar(0));
  expected(cv::Rect(100, 120, 200, 160)).setTo(255);
  EXPECT_EQ(cv::countNonZero(back != expected), 0);
}

TEST(Yolo, SegmentWritesOneLinePerPart) {
  cv::Mat mask(20, 20, CV_8UC1, cv::Scalar(0));
  cv::circle(mask, {5, 5}, 3, cv::Scalar(255), cv::FILLED);
  cv::circle(mask, {14, 14}, 4, cv::Scalar(255), cv::FILLED);
  const auto lines = yolo_lines(YoloTask::segment, 2, mask, {0, 0}, {20, 20});
  ASSERT_EQ(lines.size(), 2u);
  cv::Mat back(20, 20, CV_8UC1, cv::Scalar(0));
  for (const auto& line : lines) back |= yolo_object_mask(parse_yolo_labels(line)[0], {20, 20});
  EXPECT_EQ(cv::countNonZero(back != mask), 0);
}

TEST(Yolo, BadLinesNameTheLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"0 0.5 0.5 0.1\n", "line 1"},
      {"\n0 0.5 0.5 0.1 0.1\nx 0.5 0.5 0.1 0.1\n", "line 3"},
      {"0 0.5 0.5 0.1 abc\n", "'abc'"},
      {"1 0.1 0.1 0.2 0.2 0.3\n", "5 numbers"},
      {"-1 0.5 0.5 0.1 0.1\n", "class '-1'"},
  };
  for (const auto& [text, expected] : cases) {
    try {
      parse_yolo_labels(text, "a.txt");
      ADD_FAILURE() << "no error for " << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::corrupt);
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("a.txt"), std::string::npos) << e.what();
    }
  }
  EXPECT_TRUE(parse_yolo_labels("").empty());
}

TEST(Yolo, DataYamlNamesReadBackIncludingAwkwardOnes) {
  const std::vector<std::string> names = {"nucleus", "mitotic cell", "yes", "a: b", "it's", "12", "#x"};
  const std::string yaml = write_yolo_data_yaml(names, true);
  EXPECT_NE(yaml.find("train: images/train\nval: images/val\nnc: 7\nnames:\n  0: nucleus\n"), std::string::npos)
      << yaml;
  EXPECT_EQ(read_yolo_names(yaml), names);
  EXPECT_EQ(read_yolo_names("names: [a, 'b c']\n"), (std::vector<std::string>{"a", "b c"}));
  EXPECT_EQ(read_yolo_names("path: x\nnames:\n  - a\n  - b\ntrain: t\n"), (std::vector<std::string>{"a", "b"}));
  EXPECT_THROW(read_yolo_names("names:\n  1: a\n"), Error);
  EXPECT_THROW(read_yolo_names("train: x\n"), Error);
  EXPECT_THROW(parse_yolo_task("classify"), Error);
}

}  // namespace
}  // namespace tessera::exchange
