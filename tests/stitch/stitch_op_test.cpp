#include <gtest/gtest.h>

#include "stitch/stitch_fixture.hpp"
#include "tessera/ops/registry.hpp"
#include "tessera/stitch/mosaic.hpp"
#include "test_util.hpp"

namespace tessera::stitch {
namespace {

using ops::builtin_ops;
using ops::Facet;
using ops::FacetMap;
using tessera::test::expect_invalid;
using test::cut_grid;

std::vector<cv::Mat> mats_of(const test::CutGrid& grid) {
  std::vector<cv::Mat> out;
  for (const Tile& t : grid.tiles) out.push_back(t.image);
  return out;
}

// Placement error of the op's table rows against the truth, relative to tile 0.
double table_error(const nlohmann::json& rows, const test::CutGrid& grid) {
  double worst = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const cv::Point2d placed(rows[i]["x"].get<double>() - rows[0]["x"].get<double>(),
                             rows[i]["y"].get<double>() - rows[0]["y"].get<double>());
    worst = std::max(worst, cv::norm(placed - cv::Point2d(grid.truth[i] - grid.truth[0])));
  }
  return worst;
}

TEST(StitchOp, TableRowsGivePositionsAndThePlacementComesBackAsATable) {
  const cv::Mat source = test::textured_image({1300, 900}, 61);
  const auto grid = cut_grid(source, 3, 2, {450, 420}, 0.1, 6, 3.0, 62);
  nlohmann::json rows = nlohmann::json::array();
  for (const Tile& t : grid.tiles)
    rows.push_back({{"name", t.name}, {"x", t.nominal->x}, {"y", t.nominal->y}});
  const FacetMap out = builtin_ops().run("stitch", {{"images", Facet::list(mats_of(grid), rows)}});
  const nlohmann::json& table = out.at("table").table;
  ASSERT_EQ(table.size(), 6u);
  EXPECT_EQ(table[4]["tile"], "r1_c1");
  EXPECT_LE(table_error(table, grid), 1.0);
  for (const auto& row : table) EXPECT_EQ(row["fell_back"], false);
  const Placement p = register_tiles(grid.tiles);
  EXPECT_EQ(cv::norm(out.at("image").mat, compose(p), cv::NORM_INF), 0.0);
}

TEST(StitchOp, WithoutRowsTheTilesFillAGridRowByRow) {
  const cv::Mat source = test::textured_image({1300, 900}, 63);
  const auto grid = cut_grid(source, 3, 2, {450, 420}, 0.15, 5, 3.0, 64);
  const FacetMap out = builtin_ops().run("stitch", {{"images", Facet::list(mats_of(grid))}},
                                         {{"columns", 3}, {"overlap", 0.15}});
  const nlohmann::json& table = out.at("table").table;
  EXPECT_EQ(table[5]["row"], 1);
  EXPECT_EQ(table[5]["col"], 2);
  EXPECT_LE(table_error(table, grid), 1.0);
}

TEST(StitchOp, RowAndColumnRowsUseTheOverlapParameter) {
  const cv::Mat source = test::textured_image({1000, 600}, 65);
  const auto grid = cut_grid(source, 2, 1, {500, 500}, 0.2, 4, 2.0, 66);
  // Listed right to left: the rows, not the order, say where each tile goes.
  nlohmann::json rows = {{{"row", "0"}, {"col", "1"}}, {{"row", 0}, {"col", 0}}};
  const FacetMap out = builtin_ops().run(
      "stitch", {{"images", Facet::list({grid.tiles[1].image, grid.tiles[0].image}, rows)}},
      {{"overlap", 0.2}});
  const nlohmann::json& table = out.at("table").table;
  EXPECT_EQ(table[0]["nominal_x"], 400.0);
  EXPECT_NEAR(table[0]["x"].get<double>() - table[1]["x"].get<double>(),
              grid.truth[1].x - grid.truth[0].x, 1.0);
}

TEST(StitchOp, TinyTilesWithoutOverlapAllFallBack) {
  cv::Mat tiny(32, 32, CV_8UC1, cv::Scalar(40));
  const FacetMap out =
      builtin_ops().run("stitch", {{"images", Facet::list({tiny, tiny + 5, tiny + 10})}});
  EXPECT_EQ(out.at("image").mat.size(), cv::Size(61, 61));  // 2 columns, 29 px apart
  for (const auto& row : out.at("table").table) EXPECT_EQ(row["fell_back"], true);
}

TEST(StitchOp, BadInputNamesTheParameterOrRow) {
  const cv::Mat tile(64, 64, CV_8UC1, cv::Scalar(1));
  const FacetMap two{{"images", Facet::list({tile, tile})}};
  expect_invalid(
      [&] {
        builtin_ops().run("stitch", two, {{"overlap", 0.95}});
      },
      "stitch: parameter 'overlap' must be in [0, 0.9], got 0.95");
  expect_invalid(
      [&] {
        builtin_ops().run("stitch", two, {{"anchor", 5}});
      },
      "parameter 'anchor' must be a tile index in [0, 1], got 5");
  expect_invalid(
      [&] {
        builtin_ops().run("stitch", {{"images", Facet::list({})}});
      },
      "stitch: no tiles given");
  expect_invalid(
      [&] {
        builtin_ops().run("stitch",
                          {{"images", Facet::list({tile, tile}, {{{"x", 0}, {"y", 0}}})}});
      },
      "input 'images' has 2 images but 1 table rows");
  expect_invalid(
      [&] {
        builtin_ops().run("stitch", {{"images", Facet::list({tile}, {{{"x", "left"}, {"y", 0}}})}});
      },
      "stitch: input 'images' row 0: field 'x' must be a number, got \"left\"");
  expect_invalid(
      [&] {
        builtin_ops().run("stitch", {{"images", Facet::list({tile}, {{{"label", 3}}})}});
      },
      "row 0: needs 'x' and 'y' (pixels) or 'row' and 'col' (grid indices)");
  expect_invalid(
      [&] {
        builtin_ops().run("stitch", {{"images", Facet::list({tile, cv::Mat(64, 64, CV_8UC3)})}});
      },
      "tile 'images[1]' is 64x64 CV_8UC3, but 'images[0]' is 64x64 CV_8UC1");
}

}  // namespace
}  // namespace tessera::stitch
