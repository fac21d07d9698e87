#include "tessera/stitch/mosaic.hpp"

#include <gtest/gtest.h>

#include "stitch/stitch_fixture.hpp"
#include "tessera/image/encode.hpp"
#include "test_util.hpp"

namespace tessera::stitch {
namespace {

namespace fs = std::filesystem;
using test::cut_grid;
using test::max_placement_error;
using test::seam_residual;

cv::Mat read_image(const fs::path& path) {
  return image::decode(read_file(path), path.string()).frames.front();
}

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Mosaic, SeamsAreBelowTheNoiseOnASyntheticGrid) {
  const cv::Mat source = test::textured_image({1400, 1100}, 41);
  const auto grid = cut_grid(source, 3, 2, {500, 500}, 0.12, 7, 4.0, 42);
  const Placement p = register_tiles(grid.tiles);
  ASSERT_LE(max_placement_error(p, grid), 1.0);
  const cv::Mat mosaic = compose(p);
  ASSERT_EQ(mosaic.size(), p.mosaic_size());
  const auto r = seam_residual(mosaic, p, grid, source);
  RecordProperty("seam_rms_overlaps", std::to_string(r.overlaps));
  RecordProperty("seam_rms_worst_overlap", std::to_string(r.worst_overlap));
  RecordProperty("seam_rms_singles", std::to_string(r.singles));
  EXPECT_GT(r.overlap_pixels, 100000);
  // Blending averages two noisy copies, so overlaps are less noisy than single tiles (sqrt(2/3) of
  // the noise for a linear cross-fade); a 1 px slip costs more than the noise
  // (MisplacedTileShowsAsASeam).
  EXPECT_LT(r.worst_overlap, grid.noise);
  EXPECT_LT(r.overlaps, r.singles);
}

TEST(Mosaic, MisplacedTileShowsAsASeam) {
  // The converse of the seam check: moving one tile by 1 px must push the worst overlap above the
  // noise, or the check above could not fail.
  const cv::Mat source = test::textured_image({1400, 1100}, 41);
  const auto grid = cut_grid(source, 3, 2, {500, 500}, 0.12, 7, 4.0, 42);
  Placement p = register_tiles(grid.tiles);
  p.placed[4].position += cv::Point2d(1, 0);
  const auto r = seam_residual(compose(p), p, grid, source);
  EXPECT_GT(r.worst_overlap, grid.noise);
}

TEST(Mosaic, RealElectronMicrographHasNoVisibleSeams) {
  const cv::Mat source =
      test::shared_image("bh2019_kidney_em_nuclei/test/images/WideEM_x1024-R0574-000.png");
  if (source.empty()) GTEST_SKIP() << "shared data set not present";
  const auto grid = cut_grid(source, 3, 3, {360, 360}, 0.12, 5, 3.0, 43);
  const Placement p = register_tiles(grid.tiles);
  const double error = max_placement_error(p, grid);
  EXPECT_LE(error, 1.0);
  const auto r = seam_residual(compose(p), p, grid, source);
  RecordProperty("max_placement_error_px", std::to_string(error));
  RecordProperty("seam_rms_worst_overlap", std::to_string(r.worst_overlap));
  EXPECT_LT(r.worst_overlap, grid.noise);
}

TEST(Mosaic, RealColourCollageHasNoVisibleSeams) {
  const cv::Mat source = test::shared_image(
      "morphocut_flowcam_plankton/flowcam_COMICS_DY086_20171118_MSC019_t0_4x_000001.tif");
  if (source.empty()) GTEST_SKIP() << "shared data set not present";
  const auto grid = cut_grid(source, 2, 3, {560, 600}, 0.1, 6, 3.0, 44);
  const Placement p = register_tiles(grid.tiles);
  EXPECT_LE(max_placement_error(p, grid), 1.0);
  const cv::Mat mosaic = compose(p);
  EXPECT_EQ(mosaic.type(), CV_8UC3);
  const auto r = seam_residual(mosaic, p, grid, source);
  RecordProperty("seam_rms_worst_overlap", std::to_string(r.worst_overlap));
  EXPECT_LT(r.worst_overlap, grid.noise);
}

// The large case goes the way a microscope's tiles do: files on disk, registered two at a time,
// blended by libvips straight into a tiled TIFF, then compared with the source it was cut from.
TEST(Mosaic, LargeGridOfTileFilesIsWrittenAsTiledTiff) {
  const cv::Mat source = test::textured_image({3800, 3800}, 45);
  const auto grid = cut_grid(source, 4, 4, {1000, 1000}, 0.1, 9, 4.0, 46);
  tessera::test::TempDir dir;
  std::vector<Tile> files;
  for (const Tile& t : grid.tiles) {
    const fs::path path = dir / (t.name + ".tif");
    image::write_image(path, t.image);
    Tile f = Tile::from_file(path);
    f.nominal = t.nominal;
    files.push_back(f);
  }
  const Placement p = register_tiles(files, {.jobs = 2});
  const double error = max_placement_error(p, grid);
  RecordProperty("max_placement_error_px", std::to_string(error));
  EXPECT_LE(error, 1.0);
  EXPECT_EQ(p.fallbacks(), 0);
  const fs::path out = dir / "out" / "mosaic.tif";
  fs::create_directories(out.parent_path());
  const MosaicInfo info = render_mosaic(p, out);
  EXPECT_EQ(info.size, p.mosaic_size());
  // Each tile file is opened when the first mosaic row needs it and closed after its last one:
  // once.
  EXPECT_EQ(info.tile_opens, 16);
  EXPECT_EQ(files_in(out.parent_path()), std::vector<fs::path>{"mosaic.tif"});  // no temp file left
  const cv::Mat mosaic = read_image(out);
  ASSERT_EQ(mosaic.size(), info.size);
  const auto r = seam_residual(mosaic, p, grid, source);
  RecordProperty("seam_rms_worst_overlap", std::to_string(r.worst_overlap));
  EXPECT_LT(r.worst_overlap, grid.noise);
}

TEST(Mosaic, FileAndMemoryRenderingsAreIdentical) {
  const cv::Mat source = test::textured_image({900, 500}, 47);
  const auto grid = cut_grid(source, 3, 1, {300, 300}, 0.15, 4, 2.0, 48);
  const Placement p = register_tiles(grid.tiles);
  tessera::test::TempDir dir;
  for (const char* name : {"m.png", "m.tif"}) {
    render_mosaic(p, dir / name, {.compression = "lzw"});
    EXPECT_EQ(cv::norm(read_image(dir / name), compose(p), cv::NORM_INF), 0.0) << name;
  }
}

TEST(Mosaic, OverlapsCrossFadeLinearly) {
  // Two flat tiles (no signal: both stay at nominal) side by side with a 20 px overlap.
  std::vector<Tile> tiles = {
      Tile::from_image("dark", cv::Mat(50, 100, CV_16UC1, cv::Scalar(1000))),
      Tile::from_image("bright", cv::Mat(50, 100, CV_16UC1, cv::Scalar(3000)))};
  tiles[0].nominal = cv::Point2d(0, 0);
  tiles[1].nominal = cv::Point2d(80, 0);
  const Placement p = register_tiles(tiles);
  EXPECT_EQ(p.fallbacks(), 2);
  const cv::Mat m = compose(p);
  ASSERT_EQ(m.size(), cv::Size(180, 50));
  EXPECT_EQ(m.at<uint16_t>(25, 79), 1000);
  EXPECT_EQ(m.at<uint16_t>(25, 100), 3000);
  for (int k = 0; k < 20; ++k) {
    const double expected = 1000 + 2000 * (k + 0.5) / 20;
    EXPECT_NEAR(m.at<uint16_t>(25, 80 + k), expected, 0.51) << k;
    EXPECT_NEAR(m.at<uint16_t>(0, 80 + k), expected, 0.51)
        << k;  // the top edge blends the same way
  }
}

TEST(Mosaic, PyramidTiffHasReducedLevels) {
  const cv::Mat source = test::textured_image({1100, 600}, 49);
  const auto grid = cut_grid(source, 2, 1, {540, 540}, 0.1, 3, 2.0, 50);
  const Placement p = register_tiles(grid.tiles);
  tessera::test::TempDir dir;
  render_mosaic(p, dir / "pyramid.tif", {.pyramid = true});
  const image::ImageInfo info = image::probe(read_file(dir / "pyramid.tif"));
  EXPECT_EQ(cv::Size(info.width, info.height), p.mosaic_size());
  EXPECT_GE(info.frames, 2);
}

TEST(Mosaic, BadOutputIsAnErrorNamingThePathOrParameter) {
  using tessera::test::expect_invalid;
  const cv::Mat source = test::textured_image({700, 400}, 51);
  auto grid = cut_grid(source, 2, 1, {300, 300}, 0.1, 2, 0.0, 52);
  Placement p = register_tiles(grid.tiles);
  tessera::test::TempDir dir;
  expect_invalid([&] { render_mosaic(p, dir / "m.jpg"); },
                 "m.jpg': the mosaic is written as .tif, .tiff or .png");
  expect_invalid([&] { render_mosaic(p, dir / "m.tif", {.compression = "zip"}); },
                 "parameter 'compression' must be none, deflate or lzw, got 'zip'");
  expect_invalid([&] { render_mosaic(p, dir / "m.tif", {.feather = -2}); },
                 "parameter 'feather' must be >= 0");
  for (Tile& t : grid.tiles) t.image.convertTo(t.image, CV_32F);
  p = register_tiles(grid.tiles);
  expect_invalid([&] { render_mosaic(p, dir / "m.png"); },
                 "m.png': PNG holds 8- or 16-bit pixels, the tiles are CV_32FC1");
  try {
    render_mosaic(p, dir / "no" / "such" / "dir" / "m.tif");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::io);
    EXPECT_NE(std::string(e.what()).find("m.tif"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(files_in(dir.path()).empty());
}

}  // namespace
}  // namespace tessera::stitch
