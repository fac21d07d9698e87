#include "tessera/stitch/register.hpp"

#include <gtest/gtest.h>

#include "stitch/stitch_fixture.hpp"
#include "tessera/stitch/mosaic.hpp"
#include "test_util.hpp"

namespace tessera::stitch {
namespace {

using test::cut_grid;
using test::max_placement_error;

TEST(RegisterTiles, SyntheticGridPlacesEveryTileWithinOnePixel) {
  const cv::Mat source = test::textured_image({1800, 1400}, 7);
  const auto grid = cut_grid(source, 4, 3, {480, 480}, 0.12, 8, 4.0, 11);
  const Placement p = register_tiles(grid.tiles);
  const double error = max_placement_error(p, grid);
  RecordProperty("max_placement_error_px", std::to_string(error));
  EXPECT_LE(error, 1.0);
  EXPECT_EQ(p.fallbacks(), 0);
  // 4x3 grid: 17 side-by-side pairs and 12 diagonal ones.
  EXPECT_EQ(p.pairs.size(), 29u);
  EXPECT_EQ(p.pairs_used(), 29);
  EXPECT_EQ(p.placed[0].position, *grid.tiles[0].nominal);  // the anchor stays put
}

TEST(RegisterTiles, MeasuredOffsetsMatchTheTruthWithinOnePixel) {
  const cv::Mat source = test::textured_image({1200, 700}, 3);
  // Jitter of up to 10 px per tile: pairs are up to 20 px per axis off nominal in a 48-60 px
  // overlap, beyond the automatic limit (30% of the overlap), so the limit is raised to what a
  // window can measure.
  const auto grid = cut_grid(source, 3, 2, {400, 320}, 0.15, 10, 2.0, 5);
  const Placement p = register_tiles(grid.tiles, {.max_shift = 30});
  for (const PairMeasurement& m : p.pairs) {
    SCOPED_TRACE(grid.tiles[m.a].name + " -> " + grid.tiles[m.b].name);
    const cv::Point2d truth = grid.truth[m.b] - grid.truth[m.a];
    EXPECT_LE(cv::norm(m.measured - truth), 1.0)
        << m.measured << truth << m.nominal << ' ' << m.quality;
    EXPECT_GT(m.quality, 0.9);
    EXPECT_EQ(m.status, PairStatus::used);
  }
}

TEST(RegisterTiles, JobsDoNotChangeTheResult) {
  const cv::Mat source = test::textured_image({1300, 1300}, 9);
  const auto grid = cut_grid(source, 3, 3, {460, 460}, 0.1, 6, 3.0, 2);
  RegisterOptions one, two;
  two.jobs = 2;
  const Placement a = register_tiles(grid.tiles, one);
  const Placement b = register_tiles(grid.tiles, two);
  ASSERT_EQ(a.placed.size(), b.placed.size());
  for (size_t i = 0; i < a.placed.size(); ++i)
    EXPECT_EQ(a.placed[i].position, b.placed[i].position);
}

TEST(RegisterTiles, RealElectronMicrographPlacesEveryTileWithinOnePixel) {
  const cv::Mat source =
      test::shared_image("bh2019_kidney_em_nuclei/test/images/WideEM_x1024-R0090-000.png");
  if (source.empty()) GTEST_SKIP() << "shared data set not present";
  const auto grid = cut_grid(source, 3, 3, {360, 360}, 0.12, 5, 3.0, 21);
  const Placement p = register_tiles(grid.tiles);
  const double error = max_placement_error(p, grid);
  RecordProperty("max_placement_error_px", std::to_string(error));
  EXPECT_LE(error, 1.0);
  EXPECT_EQ(p.fallbacks(), 0);
}

TEST(RegisterTiles, RealFlowCamCollagePlacesEveryTileWithinOnePixel) {
  const cv::Mat source = test::shared_image(
      "morphocut_flowcam_plankton/flowcam_COMICS_DY086_20171118_MSC019_t0_4x_000001.tif");
  if (source.empty()) GTEST_SKIP() << "shared data set not present";
  ASSERT_EQ(source.channels(), 3);
  const auto grid = cut_grid(source, 3, 4, {420, 500}, 0.1, 6, 3.0, 4);
  const Placement p = register_tiles(grid.tiles);
  const double error = max_placement_error(p, grid);
  RecordProperty("max_placement_error_px", std::to_string(error));
  EXPECT_LE(error, 1.0);
  EXPECT_EQ(p.fallbacks(), 0);
}

TEST(RegisterTiles, TileWithoutOverlapSignalFallsBackToNominalAndIsReported) {
  const cv::Mat source = test::textured_image({1300, 1300}, 13);
  for (const char* content : {"flat", "random"}) {
    SCOPED_TRACE(content);
    auto grid = cut_grid(source, 3, 3, {460, 460}, 0.1, 6, 3.0, 8);
    const int bad =
        4;  // the centre tile: four side neighbours and four diagonal ones, none of them alike
    cv::Mat& m = grid.tiles[bad].image;
    if (std::string(content) == "flat")
      m.setTo(128);
    else
      cv::randu(m, 0, 256);
    const Placement p = register_tiles(grid.tiles);
    EXPECT_TRUE(p.placed[bad].fell_back);
    EXPECT_EQ(p.placed[bad].position, *grid.tiles[bad].nominal);
    EXPECT_EQ(p.placed[bad].pairs_used, 0);
    EXPECT_EQ(p.fallbacks(), 1);
    for (const PairMeasurement& pair : p.pairs) {
      if (pair.a == bad || pair.b == bad) {
        EXPECT_EQ(pair.status, PairStatus::no_signal);
      }
    }
    EXPECT_LE(max_placement_error(p, grid, {bad}), 1.0);
    const nlohmann::json rows = placement_rows(p);
    EXPECT_EQ(rows[bad]["fell_back"], true);
    EXPECT_EQ(rows[0]["fell_back"], false);
    EXPECT_NE(placement_csv(p).find("r1_c1,1,1,"), std::string::npos);
  }
}

TEST(RegisterTiles, AnchorWithoutSignalLeavesTheOthersPinnedByTheirFirstTile) {
  const cv::Mat source = test::textured_image({1000, 1000}, 17);
  auto grid = cut_grid(source, 2, 2, {500, 500}, 0.1, 5, 2.0, 3);
  grid.tiles[0].image.setTo(90);
  const Placement p = register_tiles(grid.tiles);
  EXPECT_TRUE(p.placed[0].fell_back);
  EXPECT_EQ(p.placed[1].position, *grid.tiles[1].nominal);
  for (int i : {2, 3}) {
    const cv::Point2d placed = p.placed[i].position - p.placed[1].position;
    EXPECT_LE(cv::norm(placed - cv::Point2d(grid.truth[i] - grid.truth[1])), 1.0) << i;
  }
}

TEST(RegisterTiles, PairFurtherFromNominalThanMaxShiftIsDropped) {
  const cv::Mat source = test::textured_image({1200, 600}, 19);
  auto grid = cut_grid(source, 2, 1, {500, 500}, 0.2, 0, 1.0, 3);
  grid.tiles[1].nominal->x += 12;  // the stage claims 12 px more than the truth
  RegisterOptions o;
  o.max_shift = 8;
  Placement p = register_tiles(grid.tiles, o);
  ASSERT_EQ(p.pairs.size(), 1u);
  EXPECT_EQ(p.pairs[0].status, PairStatus::beyond_max_shift);
  EXPECT_EQ(p.fallbacks(), 2);
  o.max_shift = 20;
  p = register_tiles(grid.tiles, o);
  EXPECT_EQ(p.pairs[0].status, PairStatus::used);
  EXPECT_LE(max_placement_error(p, grid), 1.0);
}

TEST(RegisterTiles, BadInputIsAnErrorNamingTheTileOrParameter) {
  using tessera::test::expect_invalid;
  expect_invalid([] { register_tiles({}); }, "no tiles given");
  const cv::Mat source = test::textured_image({700, 700}, 1);
  auto grid = cut_grid(source, 2, 1, {300, 300}, 0.1, 0, 0.0, 1);
  {
    auto tiles = grid.tiles;
    tiles[1].image = tiles[1].image(cv::Rect(0, 0, 300, 290)).clone();
    expect_invalid([&] { register_tiles(tiles); },
                   "tile 'r0_c1' is 300x290 CV_8UC1, but 'r0_c0' is 300x300 CV_8UC1");
  }
  {
    auto tiles = grid.tiles;
    tiles[1].image.convertTo(tiles[1].image, CV_16U);
    expect_invalid([&] { register_tiles(tiles); }, "tile 'r0_c1' is 300x300 CV_16UC1");
  }
  {
    auto tiles = grid.tiles;
    tiles[1].nominal.reset();
    expect_invalid([&] { register_tiles(tiles); }, "tile 'r0_c1' has no nominal position");
  }
  const std::pair<RegisterOptions, const char*> options[] = {
      {{.max_shift = -1}, "parameter 'max_shift' must be >= 0, got -1"},
      {{.min_quality = 2}, "parameter 'min_quality' must be in [-1, 1], got 2"},
      {{.max_residual = 0}, "parameter 'max_residual' must be > 0, got 0"},
      {{.min_overlap = 2}, "parameter 'min_overlap' must be at least 4, got 2"},
      {{.anchor = 2}, "parameter 'anchor' must be a tile index in [0, 1], got 2"},
      {{.jobs = 0}, "parameter 'jobs' must be at least 1, got 0"},
  };
  for (const auto& [o, message] : options)
    expect_invalid([&] { register_tiles(grid.tiles, o); }, message);
}

TEST(RegisterTiles, UnreadableTileFileIsAnErrorNamingTheFile) {
  tessera::test::TempDir dir;
  const auto missing = dir / "missing.png";
  try {
    register_tiles({Tile::from_file(missing)});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::io);
    EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos) << e.what();
  }
  const auto junk = dir / "junk.png";
  write_file_atomic(junk, "not an image at all");
  try {
    register_tiles({Tile::from_file(junk)});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::corrupt);
    EXPECT_NE(std::string(e.what()).find(junk.string()), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tessera::stitch
