#include "tessera/ops/regionprops.hpp"

#include <cmath>
#include <limits>
#include <numbers>

#include <gtest/gtest.h>

#include "tessera/core/error.hpp"
#include "tessera/ops/registry.hpp"

// Expected values are scikit-image 0.19.3's regionprops_table (repr of its float64 values), so the
// comparisons are exact unless noted.
namespace tessera::ops {
namespace {

cv::Mat labels_of(std::initializer_list<std::initializer_list<int>> rows) {
  cv::Mat m(static_cast<int>(rows.size()), static_cast<int>(rows.begin()->size()), CV_32SC1);
  int r = 0;
  for (const auto& row : rows) {
    int c = 0;
    for (int v : row) m.at<int>(r, c++) = v;
    ++r;
  }
  return m;
}

// formats.md 6.4: a 13-pixel blob (label 1) and a vertical 1x2 bar (label 2); intensity 7r + c.
cv::Mat worked_labels() {
  return labels_of({{0, 0, 0, 0, 0, 0, 0},
                    {0, 1, 1, 1, 1, 2, 0},
                    {0, 1, 1, 1, 1, 2, 0},
                    {0, 1, 1, 1, 1, 0, 0},
                    {0, 0, 1, 0, 0, 0, 0},
                    {0, 0, 0, 0, 0, 0, 0}});
}

cv::Mat worked_intensity() {
  cv::Mat m(6, 7, CV_8UC1);
  for (int r = 0; r < 6; ++r) {
    for (int c = 0; c < 7; ++c) m.at<uint8_t>(r, c) = static_cast<uint8_t>(7 * r + c);
  }
  return m;
}

RegionProps single(const cv::Mat& labels, const cv::Mat& intensity = cv::Mat()) {
  const auto props = regionprops(labels, intensity);
  EXPECT_EQ(props.size(), 1u);
  return props.empty() ? RegionProps{} : props[0];
}

TEST(Regionprops, WorkedExampleMatchesScikitImage) {
  const auto props = regionprops(worked_labels(), worked_intensity());
  ASSERT_EQ(props.size(), 2u);
  const RegionProps& a = props[0];
  EXPECT_EQ(a.label, 1);
  EXPECT_EQ(a.area, 13);
  EXPECT_EQ(a.bbox[0], 1);
  EXPECT_EQ(a.bbox[1], 1);
  EXPECT_EQ(a.bbox[2], 5);
  EXPECT_EQ(a.bbox[3], 5);
  EXPECT_EQ(a.centroid[0], 2.1538461538461537);
  EXPECT_EQ(a.centroid[1], 2.4615384615384617);
  EXPECT_EQ(a.perimeter, 10.828427124746192);  // 8 + 2 sqrt(2)
  EXPECT_EQ(a.perimeter_crofton, 12.947509714417134);
  EXPECT_EQ(a.eccentricity, 0.5081397159034496);
  EXPECT_EQ(a.solidity, 0.9285714285714286);
  EXPECT_EQ(a.extent, 0.8125);
  EXPECT_EQ(a.orientation, -1.3303526866972286);
  EXPECT_EQ(a.axis_major_length, 4.3616645597524775);
  EXPECT_EQ(a.axis_minor_length, 3.756591133295642);
  EXPECT_EQ(a.equivalent_diameter_area, 4.068428945128219);
  EXPECT_EQ(a.intensity_mean, 17.53846153846154);
  EXPECT_EQ(a.intensity_max, 30.0);
  EXPECT_EQ(a.intensity_min, 8.0);
  EXPECT_EQ(a.euler_number, 1);
  EXPECT_EQ(a.area_convex, 14);
  EXPECT_EQ(a.area_filled, 13);
  EXPECT_EQ(a.feret_diameter_max, 4.47213595499958);  // sqrt(20)
  // The inertia tensor eigenvalues of the worked example, through the axis lengths: 4 sqrt(lambda).
  EXPECT_NEAR(std::pow(a.axis_major_length / 4, 2), 1.189007358238, 1e-12);
  EXPECT_NEAR(std::pow(a.axis_minor_length / 4, 2), 0.881998558922, 1e-12);

  const RegionProps& b = props[1];  // 1x2 bar: scikit-image's perimeter gives 0 for it
  EXPECT_EQ(b.label, 2);
  EXPECT_EQ(b.area, 2);
  EXPECT_EQ(b.bbox[0], 1);
  EXPECT_EQ(b.bbox[1], 5);
  EXPECT_EQ(b.bbox[2], 3);
  EXPECT_EQ(b.bbox[3], 6);
  EXPECT_EQ(b.centroid[0], 1.5);
  EXPECT_EQ(b.centroid[1], 5.0);
  EXPECT_EQ(b.perimeter, 0.0);
  EXPECT_EQ(b.perimeter_crofton, 4.577635959271528);
  EXPECT_EQ(b.eccentricity, 1.0);
  EXPECT_EQ(b.solidity, 1.0);
  EXPECT_EQ(b.extent, 1.0);
  EXPECT_EQ(b.orientation, 0.0);
  EXPECT_EQ(b.axis_major_length, 2.0);
  EXPECT_EQ(b.axis_minor_length, 0.0);
  EXPECT_EQ(b.equivalent_diameter_area, 1.5957691216057308);
  EXPECT_EQ(b.intensity_mean, 15.5);
  EXPECT_EQ(b.intensity_max, 19.0);
  EXPECT_EQ(b.intensity_min, 12.0);
  EXPECT_EQ(b.euler_number, 1);
  EXPECT_EQ(b.area_convex, 2);
  EXPECT_EQ(b.area_filled, 2);
  EXPECT_EQ(b.feret_diameter_max, 2.0);
}

TEST(Regionprops, SinglePixelHasZeroPerimeterAndUnitFeretDiameter) {
  const RegionProps p = single(labels_of({{0, 0, 0}, {0, 1, 0}, {0, 0, 0}}));
  EXPECT_EQ(p.area, 1);
  EXPECT_EQ(p.perimeter, 0.0);
  EXPECT_EQ(p.perimeter_crofton, 2.681517061334488);
  EXPECT_EQ(p.eccentricity, 0.0);
  EXPECT_EQ(p.orientation, std::numbers::pi / 4);  // a == c: +pi/4, not 0
  EXPECT_EQ(p.axis_major_length, 0.0);
  EXPECT_EQ(p.axis_minor_length, 0.0);
  EXPECT_EQ(p.equivalent_diameter_area, 1.1283791670955126);
  EXPECT_EQ(p.area_convex, 1);
  EXPECT_EQ(p.feret_diameter_max, 1.0);  // measured on the hull's contour
  EXPECT_EQ(p.euler_number, 1);
}

TEST(Regionprops, OnePixelWideLines) {
  const RegionProps h = single(labels_of({{0, 0, 0, 0, 0, 0, 0}, {0, 1, 1, 1, 1, 1, 0}}));
  EXPECT_EQ(h.perimeter, 3.0);  // the line ends weigh 0
  EXPECT_EQ(h.perimeter_crofton, 10.265992653082646);
  EXPECT_EQ(h.eccentricity, 1.0);
  EXPECT_EQ(h.orientation, std::numbers::pi / 2);
  EXPECT_EQ(h.axis_major_length, 5.656854249492381);
  EXPECT_EQ(h.axis_minor_length, 0.0);
  EXPECT_EQ(h.area_convex, 5);
  EXPECT_EQ(h.feret_diameter_max, 5.0);

  const RegionProps d = single(cv::Mat::eye(4, 4, CV_32SC1));
  EXPECT_EQ(d.perimeter, 2.8284271247461903);
  EXPECT_EQ(d.perimeter_crofton, 9.059987143528565);
  EXPECT_EQ(d.orientation, -std::numbers::pi / 4);
  EXPECT_EQ(d.axis_major_length, 6.324555320336759);
  EXPECT_EQ(d.axis_minor_length, 0.0);
  EXPECT_EQ(d.extent, 0.25);
  EXPECT_EQ(d.area_convex, 4);  // the hull of a diagonal holds no pixel centre off it
  EXPECT_EQ(d.feret_diameter_max, 5.0);
  EXPECT_EQ(d.euler_number, 1);
}

TEST(Regionprops, HoleGivesEulerZeroAndIsFilled) {
  cv::Mat ring(7, 7, CV_32SC1, cv::Scalar(0));
  ring(cv::Rect(1, 1, 5, 5)).setTo(1);
  ring(cv::Rect(2, 2, 3, 3)).setTo(0);
  const RegionProps p = single(ring);
  EXPECT_EQ(p.area, 16);
  EXPECT_EQ(p.euler_number, 0);
  EXPECT_EQ(p.area_filled, 25);
  EXPECT_EQ(p.area_convex, 25);
  EXPECT_EQ(p.perimeter, 16.0);
  EXPECT_EQ(p.perimeter_crofton, 28.116460897913456);
  EXPECT_EQ(p.solidity, 0.64);
  EXPECT_EQ(p.feret_diameter_max, 6.4031242374328485);

  const RegionProps two =
      single(labels_of({{1, 1, 1, 1, 1, 1, 1}, {1, 0, 1, 1, 1, 0, 1}, {1, 1, 1, 1, 1, 1, 1}}));
  EXPECT_EQ(two.euler_number, -1);
  EXPECT_EQ(two.area_filled, 21);
}

TEST(Regionprops, HoleOpenThroughADiagonalIsNotFilled) {
  // The 8-connected ring encloses a 4-connected hole (Euler number 0), but 8-connected background
  // leaks out through the corners, so binary_fill_holes leaves it.
  const RegionProps p = single(labels_of({{0, 0, 0, 0, 0, 0, 0},
                                          {0, 0, 1, 1, 1, 0, 0},
                                          {0, 1, 0, 0, 0, 1, 0},
                                          {0, 1, 0, 0, 0, 1, 0},
                                          {0, 1, 0, 0, 0, 1, 0},
                                          {0, 0, 1, 1, 1, 0, 0},
                                          {0, 0, 0, 0, 0, 0, 0}}));
  EXPECT_EQ(p.euler_number, 0);
  EXPECT_EQ(p.area_filled, 12);
  EXPECT_EQ(p.area_convex, 21);
  EXPECT_EQ(p.perimeter, 13.65685424949238);
  EXPECT_EQ(p.feret_diameter_max, 5.385164807134504);

  const RegionProps open = single(labels_of(
      {{1, 1, 1, 1, 1}, {1, 0, 0, 0, 1}, {1, 0, 0, 0, 1}, {1, 0, 0, 0, 1}, {1, 1, 1, 0, 1}}));
  EXPECT_EQ(open.euler_number, 1);
  EXPECT_EQ(open.area_filled, 15);
  EXPECT_EQ(open.orientation, -1.10714871779409);
}

TEST(Regionprops, TouchingLabelsAreMeasuredSeparately) {
  const auto props = regionprops(labels_of({{1, 1, 2, 2}, {1, 1, 2, 2}}));
  ASSERT_EQ(props.size(), 2u);
  for (const RegionProps& p : props) {
    EXPECT_EQ(p.area, 4);
    EXPECT_EQ(p.perimeter, 4.0);
    EXPECT_EQ(p.perimeter_crofton, 6.473754857208568);
    EXPECT_EQ(p.euler_number, 1);
    EXPECT_EQ(p.feret_diameter_max, 2.23606797749979);
  }
  EXPECT_EQ(props[1].bbox[1], 2);
  EXPECT_EQ(props[1].centroid[1], 2.5);
}

TEST(Regionprops, ObjectsOnTheBorderAndGapsInIdsComeInAscendingLabelOrder) {
  const auto props = regionprops(labels_of({{9, 9, 0, 0}, {9, 0, 0, 3}, {0, 0, 3, 3}}));
  ASSERT_EQ(props.size(), 2u);
  EXPECT_EQ(props[0].label, 3);
  EXPECT_EQ(props[0].area, 3);
  EXPECT_EQ(props[0].bbox[0], 1);
  EXPECT_EQ(props[0].bbox[1], 2);
  EXPECT_EQ(props[0].bbox[2], 3);
  EXPECT_EQ(props[0].bbox[3], 4);
  EXPECT_EQ(props[0].centroid[0], 1.6666666666666667);
  EXPECT_EQ(props[0].centroid[1], 2.6666666666666665);
  EXPECT_EQ(props[0].perimeter, 3.414213562373095);
  EXPECT_EQ(props[0].eccentricity, 0.816496580927726);
  EXPECT_EQ(props[0].axis_major_length, 2.3094010767585034);
  EXPECT_EQ(props[0].axis_minor_length, 1.3333333333333333);
  EXPECT_EQ(props[0].extent, 0.75);
  EXPECT_EQ(props[1].label, 9);  // touches the top-left corner
  EXPECT_EQ(props[1].bbox[0], 0);
  EXPECT_EQ(props[1].bbox[1], 0);
  EXPECT_EQ(props[1].area_convex, 3);
}

TEST(Regionprops, HugeAndNegativeIdsAndNonContinuousLabels) {
  cv::Mat big(40, 50, CV_32SC1, cv::Scalar(0));
  big(cv::Rect(2, 2, 7, 3)).setTo(std::numeric_limits<int>::max());
  big(cv::Rect(3, 10, 3, 8)).setTo(1234567);
  big(cv::Rect(20, 20, 2, 2)).setTo(-4);  // negative ids are background, as in scikit-image
  const auto props = regionprops(big);
  ASSERT_EQ(props.size(), 2u);
  EXPECT_EQ(props[0].label, 1234567);
  EXPECT_EQ(props[0].area, 24);
  EXPECT_EQ(props[1].label, std::numeric_limits<int>::max());
  EXPECT_EQ(props[1].area, 21);

  const cv::Mat roi = worked_labels()(cv::Rect(1, 1, 5, 4));  // not continuous in memory
  const auto a = regionprops(roi, worked_intensity()(cv::Rect(1, 1, 5, 4)));
  const auto b = regionprops(roi.clone(), worked_intensity()(cv::Rect(1, 1, 5, 4)).clone());
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(format_row(a[0]), format_row(b[0]));
  EXPECT_EQ(format_row(a[1]), format_row(b[1]));
  EXPECT_EQ(a[0].bbox[0], 0);
}

TEST(Regionprops, Float32IntensityMeanIsAFloat32) {
  const cv::Mat intensity = (cv::Mat_<float>(2, 3) << 0.1f, 0.2f, 0.3f, 0.7f, 0.11f, 0.13f);
  const RegionProps p = single(labels_of({{1, 1, 1}, {1, 1, 0}}), intensity);
  EXPECT_EQ(p.intensity_mean,
            0.28200000524520874);  // float32; the float64 mean is 0.28200000077486037
  EXPECT_EQ(p.intensity_max, 0.699999988079071);
  EXPECT_EQ(p.intensity_min, 0.10000000149011612);
  EXPECT_EQ(p.orientation, -1.2490457723982544);

  cv::Mat wide;
  intensity.convertTo(wide, CV_64F);
  EXPECT_EQ(single(labels_of({{1, 1, 1}, {1, 1, 0}}), wide).intensity_mean, 0.28200000077486037);
}

TEST(Regionprops, WithoutIntensityTheIntensityColumnsAreNaNAndNull) {
  const RegionProps p = regionprops(worked_labels())[0];
  EXPECT_TRUE(std::isnan(p.intensity_mean));
  EXPECT_TRUE(std::isnan(p.intensity_max));
  EXPECT_TRUE(std::isnan(p.intensity_min));
  EXPECT_EQ(format_row(p)[17], "nan");
  const nlohmann::json j = to_json(p);
  EXPECT_TRUE(j["intensity_mean"].is_null());
  EXPECT_EQ(j["perimeter"].get<double>(), 10.828427124746192);
}

TEST(Regionprops, EmptyLabelImagesGiveNoRows) {
  EXPECT_TRUE(regionprops(cv::Mat(5, 4, CV_32SC1, cv::Scalar(0))).empty());
  EXPECT_TRUE(regionprops(cv::Mat(0, 0, CV_32SC1)).empty());
  EXPECT_TRUE(
      regionprops(cv::Mat(3, 3, CV_32SC1, cv::Scalar(0)), cv::Mat(3, 3, CV_8UC1, cv::Scalar(7)))
          .empty());
}

TEST(Regionprops, RejectsWrongTypesAndSizes) {
  EXPECT_THROW(regionprops(cv::Mat(3, 3, CV_8UC1, cv::Scalar(1))), Error);
  EXPECT_THROW(regionprops(cv::Mat(3, 3, CV_32SC2, cv::Scalar(1))), Error);
  EXPECT_THROW(regionprops(cv::Mat(3, 3, CV_32FC1, cv::Scalar(1))), Error);
  const cv::Mat labels(3, 3, CV_32SC1, cv::Scalar(1));
  EXPECT_THROW(regionprops(labels, cv::Mat(3, 4, CV_8UC1)), Error);
  EXPECT_THROW(regionprops(labels, cv::Mat(3, 3, CV_8UC3)), Error);
  try {
    regionprops(labels, cv::Mat(4, 3, CV_16UC1));
    FAIL() << "size mismatch accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("regionprops"), std::string::npos);
  }
}

TEST(Regionprops, RowsFollowTheColumnsWithSeventeenDigits) {
  const auto& columns = regionprops_columns();
  ASSERT_EQ(columns.size(), 24u);
  EXPECT_EQ(columns.front(), "label");
  EXPECT_EQ(columns[2], "bbox-0");
  EXPECT_EQ(columns[17], "intensity_mean");
  EXPECT_EQ(columns.back(), "feret_diameter_max");
  const RegionProps p = regionprops(worked_labels(), worked_intensity())[0];
  const auto row = format_row(p);
  ASSERT_EQ(row.size(), columns.size());
  EXPECT_EQ(row[0], "1");
  EXPECT_EQ(row[1], "13");
  EXPECT_EQ(row[6], "2.1538461538461537");
  EXPECT_EQ(row[12], "0.8125");
  EXPECT_EQ(row[20], "1");
  EXPECT_EQ(row[21], "14");
  const nlohmann::json j = to_json(p);
  for (const auto& column : columns) EXPECT_TRUE(j.contains(column)) << column;
  EXPECT_EQ(j["area"].get<long long>(), 13);
}

TEST(RegionpropsOp, IsRegisteredWithLabelsAndAnOptionalIntensity) {
  const OpRegistry& registry = builtin_ops();
  const OpDescriptor& op = registry.get("regionprops");
  ASSERT_EQ(op.inputs.size(), 2u);
  EXPECT_EQ(op.inputs[0].kind, FacetKind::labels);
  EXPECT_FALSE(op.inputs[0].optional);
  EXPECT_EQ(op.inputs[1].kind, FacetKind::image);
  EXPECT_TRUE(op.inputs[1].optional);
  EXPECT_TRUE(op.params.empty());

  FacetMap out = registry.run("regionprops", {{"labels", Facet::labels(worked_labels())}});
  const nlohmann::json& rows = out.at("table").table;
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1]["label"].get<int>(), 2);
  EXPECT_TRUE(rows[0]["intensity_mean"].is_null());

  out = registry.run("regionprops", {{"labels", Facet::labels(worked_labels())},
                                     {"intensity", Facet::image(worked_intensity())}});
  EXPECT_EQ(out.at("table").table[0]["intensity_mean"].get<double>(), 17.53846153846154);
}

}  // namespace
}  // namespace tessera::ops
