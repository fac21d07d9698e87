#include <gtest/gtest.h>

#include <cstdlib>

#include "stitch/stitch_fixture.hpp"
#include "tessera/app/tags_csv.hpp"
#include "tessera/image/encode.hpp"
#include "test_util.hpp"

namespace tessera::stitch {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int status = -1;
  std::string out;
  std::string err;
};

CliRun tessera(const std::string& args, const tessera::test::TempDir& dir) {
  const std::string cmd = fmt::format("cd '{}' && '{}' {} >stdout.txt 2>stderr.txt",
                                      dir.path().string(), TESSERA_BINARY, args);
  const int raw = std::system(cmd.c_str());
  CliRun r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = read_file(dir / "stdout.txt");
  r.err = read_file(dir / "stderr.txt");
  return r;
}

// Tiles named by grid position, one of them flat (no overlap signal).
test::CutGrid write_tiles(const tessera::test::TempDir& dir, int flat) {
  const cv::Mat source = test::textured_image({1000, 700}, 71);
  auto grid = test::cut_grid(source, 3, 2, {330, 330}, 0.1, 5, 3.0, 72);
  fs::create_directories(dir / "tiles");
  for (size_t i = 0; i < grid.tiles.size(); ++i) {
    if (static_cast<int>(i) == flat) grid.tiles[i].image.setTo(100);
    const auto& t = grid.tiles[i];
    image::write_image(dir / fmt::format("tiles/scan_r{}_c{}.png", t.row, t.col), t.image);
  }
  image::write_image(dir / "tiles/overview.png",
                     grid.tiles[0].image);  // not a tile: the pattern skips it
  return grid;
}

TEST(StitchCli, PatternRunWritesTheMosaicAndReportAndNamesTheFallback) {
  tessera::test::TempDir dir;
  const auto grid = write_tiles(dir, 5);
  const CliRun r = tessera(
      "stitch tiles --pattern 'scan_r{row}_c{col}.png' --out m.tif --report p.csv --pairs "
      "pairs.csv "
      "--jobs 2",
      dir);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("stitched 6 tiles (330x330) into m.tif"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 tile(s) fell back to nominal"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("fell back: tiles/scan_r1_c2.png"), std::string::npos) << r.err;
  const image::Image mosaic = image::decode(read_file(dir / "m.tif"));
  EXPECT_EQ(mosaic.info.channels, 1);
  EXPECT_GT(mosaic.info.width, 900);
  const std::string csv = read_file(dir / "p.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 7);
  EXPECT_NE(csv.find("tiles/scan_r1_c2.png,1,2,594.0,297.0,594.0,297.0,0.0,0.0,"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find(",0,0.0,true\n"), std::string::npos) << csv;
  // 3x2 grid: 7 side-by-side and 4 diagonal pairs; those of the flat corner tile (2 side-by-side, 1
  // diagonal) lack signal.
  const auto pairs = app::parse_csv(read_file(dir / "pairs.csv"), "pairs.csv");
  ASSERT_EQ(pairs.size(), 12u);
  EXPECT_EQ(pairs[0][10], "status");
  const auto no_signal =
      std::count_if(pairs.begin(), pairs.end(), [](const auto& r) { return r[10] == "no_signal"; });
  EXPECT_EQ(no_signal, 3);

  // The report places the tiles of a second run: the same tiles land on the same mosaic pixels.
  // (Pixels may differ by a grey level or two: the feather follows the slightly different nominal
  // overlaps.)
  const CliRun again = tessera("stitch --positions p.csv --out m2.tif --report p2.csv", dir);
  ASSERT_EQ(again.status, 0) << again.err;
  const auto mosaic_xy = [](const std::string& text) {
    std::vector<std::string> out;
    for (const auto& rec : app::parse_csv(text, "report"))
      out.push_back(rec[0] + " " + rec[9] + " " + rec[10]);
    return out;
  };
  EXPECT_EQ(mosaic_xy(read_file(dir / "p2.csv")), mosaic_xy(csv));
  const cv::Mat second = image::decode(read_file(dir / "m2.tif")).frames[0];
  ASSERT_EQ(second.size(), mosaic.frames[0].size());
  cv::Mat diff;
  cv::absdiff(second, mosaic.frames[0], diff);
  EXPECT_LT(cv::mean(diff)[0], 0.5);
}

TEST(StitchCli, BadInputExitsWithAMessageNamingTheOption) {
  tessera::test::TempDir dir;
  write_tiles(dir, -1);
  const struct {
    const char* args;
    const char* message;
  } cases[] = {
      {"stitch tiles --pattern 'tile_{row}_{col}.png' --out m.tif",
       "--pattern 'tile_{row}_{col}.png' matches none of the 7 file(s)"},
      {"stitch tiles --pattern 'scan_r{row}.png' --out m.tif", "needs the fields {row} and {col}"},
      {"stitch tiles --grid 3x2 --out m.tif", "--grid 3x2 needs 6 tiles, got 7"},
      {"stitch tiles --grid 3by2 --out m.tif", "--grid must be COLUMNSxROWS"},
      {"stitch tiles --out m.tif", "give exactly one of --pattern, --grid or --positions"},
      {"stitch tiles --pattern 'scan_r{row}_c{col}.png' --out m.jpg",
       "the mosaic is written as .tif, .tiff or .png"},
      {"stitch tiles/missing.png --grid 1x1 --out m.tif", "cannot read tile 'tiles/missing.png'"},
      {"stitch tiles/overview.png --pattern 'scan_r{row}_c{col}.png' --out m.tif",
       "does not match 'tiles/overview.png'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args);
    const CliRun r = tessera(c.args, dir);
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "m.tif"));
  }
}

}  // namespace
}  // namespace tessera::stitch
