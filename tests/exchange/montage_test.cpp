#include "tessera/exchange/montage.hpp"

#include <gtest/gtest.h>

#include "tessera/core/error.hpp"

namespace tessera::exchange {
namespace {

cv::Mat counting(int rows, int cols, int type = CV_16UC1) {
  cv::Mat m(rows, cols, CV_32SC1);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) m.at<int>(r, c) = (r * cols + c) % 60000 + 1;
  cv::Mat out;
  m.convertTo(out, type);
  return out;
}

bool same(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::countNonZero(a != b) == 0;
}

TEST(NaturalSort, ComparesDigitRunsAsNumbersAndKeepsTies) {
  EXPECT_TRUE(natural_less("img2.png", "img10.png"));
  EXPECT_FALSE(natural_less("img10.png", "img2.png"));
  EXPECT_FALSE(natural_less("f007", "f7"));
  EXPECT_FALSE(natural_less("f7", "f007"));
  EXPECT_TRUE(natural_less("a", "ab"));
  EXPECT_TRUE(natural_less("9z", "a"));  // a leading digit run sorts before text, as Python's split gives
  std::vector<std::filesystem::path> files{"x/f10.png", "x/f007.png", "x/f2.png", "x/f7.png"};
  natural_sort(files);
  EXPECT_EQ(files, (std::vector<std::filesystem::path>{"x/f2.png", "x/f007.png", "x/f7.png", "x/f10.png"}));
}

TEST(Chopper, GeometryMatchesTheWorkedExample) {
  ChopperGeometry g = chopper_geometry(1024, 1024, {4, 4, 10});
  EXPECT_EQ(g.start_y, 256);
  EXPECT_EQ(g.overlap_y, 25);
  EXPECT_EQ(g.tile_rows(), 306);
  EXPECT_EQ(g.tile_cols(), 306);
  cv::Mat image = counting(1024, 1024);
  cv::Mat tile = chop_tile(image, g, 1, 3);  // rows 743..1023 then 25 padding rows, cols 231..536
  ASSERT_EQ(tile.size(), cv::Size(306, 306));
  EXPECT_TRUE(same(tile(cv::Rect(0, 0, 306, 281)), image(cv::Rect(231, 743, 306, 281))));
  EXPECT_EQ(cv::countNonZero(tile(cv::Rect(0, 281, 306, 25))), 0);
  cv::Mat corner = chop_tile(image, g, 0, 0);
  EXPECT_EQ(cv::countNonZero(corner(cv::Rect(0, 0, 306, 25))), 0);
  EXPECT_TRUE(same(corner(cv::Rect(25, 25, 281, 281)), image(cv::Rect(0, 0, 281, 281))));
}

TEST(Chopper, LogRoundTripsAndRejectsBadParameters) {
  ChopperGeometry g = chopper_geometry(500, 700, {3, 2, 15});
  nlohmann::json log = chopper_log(g, "exp", "2026-11-22", 8);
  EXPECT_EQ(log["x_start_indices"], nlohmann::json({0, 233, 466}));
  EXPECT_EQ(log["overlapping_y_pix"], 37);
  ChopperGeometry back = parse_chopper_log(log, "log.json");
  EXPECT_EQ(back.tile_rows(), g.tile_rows());
  EXPECT_EQ(back.tile_cols(), g.tile_cols());
  log.erase("original_x");
  try {
    parse_chopper_log(log, "log.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("original_x"), std::string::npos) << e.what();
  }
  EXPECT_THROW(chopper_geometry(100, 100, {0, 2, 10}), Error);
  EXPECT_THROW(chopper_geometry(100, 100, {2, 2, 101}), Error);
}

TEST(Montage, LayoutMatchesTheWorkedExampleAndSplitsBack) {
  MontageParams p{10, 5, 10, 10};
  std::vector<cv::Mat> frames;
  for (int k = 0; k < 10; ++k) frames.push_back(counting(306, 306) + k);
  cv::Mat montage = make_montage(frames, p);
  EXPECT_EQ(montage.size(), cv::Size(1590, 642));
  EXPECT_EQ(montage_slot(p, 306, 306, 7), cv::Rect(642, 326, 306, 306));
  EXPECT_TRUE(same(montage(cv::Rect(642, 326, 306, 306)), frames[7]));
  EXPECT_EQ(cv::countNonZero(montage(cv::Rect(0, 0, 1590, 10))), 0);
  auto back = split_montage(montage, p, 306, 306, "m.png");
  ASSERT_EQ(back.size(), 10u);
  for (int k = 0; k < 10; ++k) EXPECT_TRUE(same(back[static_cast<size_t>(k)], frames[static_cast<size_t>(k)])) << k;
}

TEST(Montage, SizeThatDisagreesWithTheLogIsNamed) {
  MontageParams p{4, 2, 5, 5};
  cv::Mat wrong = cv::Mat::zeros(100, 100, CV_8UC1);
  try {
    split_montage(wrong, p, 40, 40, "exp_x_0_y_1_montage_0_annotation.png");
    FAIL();
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("exp_x_0_y_1_montage_0_annotation.png"), std::string::npos) << m;
    EXPECT_NE(m.find("logs give 95x95"), std::string::npos) << m;  // 2*40 + 3*5 both ways
  }
  EXPECT_THROW(validate(MontageParams{5, 2, 0, 0}), Error);  // not a multiple of row_length
}

TEST(MontageNames, FollowBothSidesOfTheCrowdJob) {
  EXPECT_EQ(montage_name("exp", 1, 12, 3), "exp_x_1_y_12_montage_3.png");
  EXPECT_EQ(chopped_frame_name("exp", 1, 2, 7, ".png"), "exp_x_01_y_02_frame_007.png");
  EXPECT_EQ(annotated_frame_name("exp", 1, 2, 7), "exp_x_01_y_02_frame_007.png");
  EXPECT_EQ(raw_frame_name("exp", 1, 2, 7), "exp_raw_x_01_y_02_frame_007.tif");
  EXPECT_EQ(position_folder(0, 3), "x_00_y_03");
  EXPECT_EQ(parse_montage_stem("set_x_1_x_3_y_2_montage_10"), (MontageKey{"set_x_1", 3, 2, 10}));
  EXPECT_FALSE(parse_montage_stem("set_x_a_y_2_montage_1"));
  EXPECT_FALSE(parse_montage_stem("photo"));
}

}  // namespace
}  // namespace tessera::exchange
