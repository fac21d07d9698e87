#include "tessera/tiles/tile_grid.hpp"

#include <gtest/gtest.h>

#include "tessera/core/error.hpp"
#include "test_util.hpp"

namespace tessera::tiles {
namespace {

TEST(TileGrid, ImageOfOneTileHasOneLevel) {
  const TileGrid grid(256, 100);
  EXPECT_EQ(grid.max_zoom(), 0);
  EXPECT_EQ(grid.level_count(), 1);
  const Level level = grid.level(0);
  EXPECT_EQ(level.scale, 1);
  EXPECT_EQ(level.width, 256);
  EXPECT_EQ(level.height, 100);
  EXPECT_EQ(level.tiles_x, 1);
  EXPECT_EQ(level.tiles_y, 1);
}

TEST(TileGrid, LevelsHalveFromFullResolutionDownToOneTile) {
  // 1000 px needs 4 tiles across at full resolution: zooms 0 (1 tile), 1, 2 (full).
  const TileGrid grid(1000, 300);
  ASSERT_EQ(grid.max_zoom(), 2);
  struct Expected {
    int z, scale, width, height, tiles_x, tiles_y;
  };
  for (const Expected& e :
       {Expected{0, 4, 250, 75, 1, 1}, Expected{1, 2, 500, 150, 2, 1}, Expected{2, 1, 1000, 300, 4, 2}}) {
    const Level level = grid.level(e.z);
    EXPECT_EQ(level.scale, e.scale) << "z=" << e.z;
    EXPECT_EQ(level.width, e.width) << "z=" << e.z;
    EXPECT_EQ(level.height, e.height) << "z=" << e.z;
    EXPECT_EQ(level.tiles_x, e.tiles_x) << "z=" << e.z;
    EXPECT_EQ(level.tiles_y, e.tiles_y) << "z=" << e.z;
  }
}

TEST(TileGrid, OddSidesRoundUpAtEveryLevel) {
  // 257 px: full resolution is 2 tiles (the second 1 px wide); zoom 0 holds ceil(257 / 2) = 129 px.
  const TileGrid grid(257, 3);
  ASSERT_EQ(grid.max_zoom(), 1);
  EXPECT_EQ(grid.level(0).width, 129);
  EXPECT_EQ(grid.level(0).height, 2);
  EXPECT_EQ(grid.level(1).tiles_x, 2);
  EXPECT_EQ(grid.level(1).tiles_y, 1);
}

TEST(TileGrid, HugeImagesHaveTheirLevels) {
  const TileGrid grid(100000, 100000);
  EXPECT_EQ(grid.max_zoom(), 9);  // 256 * 2^9 = 131072 >= 100000 > 65536
  EXPECT_EQ(grid.level(9).tiles_x, 391);
  EXPECT_EQ(grid.level(0).width, 196);
}

TEST(TileGrid, AbsurdCoordinatesAreNotTiles) {
  const TileGrid grid(1000, 300);
  EXPECT_TRUE(grid.contains(2, 3, 1));
  EXPECT_FALSE(grid.contains(2, 4, 0));
  EXPECT_FALSE(grid.contains(2, 0, 2));
  EXPECT_FALSE(grid.contains(3, 0, 0));
  EXPECT_FALSE(grid.contains(-1, 0, 0));
  EXPECT_FALSE(grid.contains(0, -1, 0));
  EXPECT_FALSE(grid.contains(0, 0, -1));
  EXPECT_FALSE(grid.contains(63, 0, 0));
  EXPECT_FALSE(grid.contains(1LL << 40, 1LL << 40, 1LL << 40));
  EXPECT_FALSE(grid.contains(0, 1, 0));
}

TEST(TileGrid, RejectsSizesWithoutPixels) {
  test::expect_invalid([] { TileGrid(0, 10); }, "image size");
  test::expect_invalid([] { TileGrid(10, -1); }, "image size");
  test::expect_invalid([] { TileGrid(10, (1LL << 30) + 1); }, "image size");
  test::expect_invalid([] { TileGrid(10, 10).level(1); }, "zoom 1");
}

}  // namespace
}  // namespace tessera::tiles
