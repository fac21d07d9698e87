#include "tessera/tiles/tile_cache.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "image/fixtures.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/image/encode.hpp"
#include "test_util.hpp"

namespace tessera::tiles {
namespace {

class TileCacheTest : public ::testing::Test {
 protected:
  test::TempDir dir{"tessera-tiles"};
  blob::BlobStore blobs{dir.path() / "store"};

  SourceImage store(const std::string& bytes) {
    const image::ImageInfo info = image::probe(bytes);
    return SourceImage{blobs.put(bytes), info.width, info.height, info.channels, info.frames, info.pixel_type};
  }

  static RenderSpec spec_for(const SourceImage& source, RenderQuery query = {}, TileFormat format = TileFormat::png) {
    return resolve_render_spec(source, query, format);
  }
};

cv::Mat decode_tile(const std::string& bytes) {
  const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
  return cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
}

// 16-bit gradient along x: value(x) = offset + x * step, the same on every row.
cv::Mat u16_gradient(int width, int height, int step, int offset = 0) {
  cv::Mat out(height, width, CV_16UC1);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) out.at<std::uint16_t>(y, x) = static_cast<std::uint16_t>(offset + x * step);
  }
  return out;
}

int windowed(double v, double min, double max) {
  return static_cast<int>(std::clamp(std::floor(255.0 * (v - min) / (max - min) + 0.5), 0.0, 255.0));
}

TEST_F(TileCacheTest, FullResolutionTilesHoldTheSourcePixelsAndEdgeTilesArePaddedTransparent) {
  const cv::Mat source_pixels = test::pattern_image(600, 300, CV_8UC1);
  const SourceImage source = store(image::encode(source_pixels, ".png"));
  TileCache cache(blobs);
  const RenderSpec spec = spec_for(source);

  const cv::Mat inner = decode_tile(cache.get_tile(source, spec, 2, 0, 0));
  ASSERT_EQ(inner.type(), CV_8UC1);
  EXPECT_EQ(cv::norm(inner, source_pixels(cv::Rect(0, 0, 256, 256)), cv::NORM_INF), 0);

  // Tile (2, 1) covers x 512..599 and y 256..299: 88 x 44 pixels of image, the rest transparent.
  const cv::Mat edge = decode_tile(cache.get_tile(source, spec, 2, 2, 1));
  ASSERT_EQ(edge.type(), CV_8UC4);
  ASSERT_EQ(edge.size(), cv::Size(256, 256));
  for (int y = 0; y < 256; ++y) {
    for (int x = 0; x < 256; ++x) {
      const cv::Vec4b px = edge.at<cv::Vec4b>(y, x);
      if (x < 88 && y < 44) {
        const std::uint8_t expected = source_pixels.at<std::uint8_t>(256 + y, 512 + x);
        ASSERT_EQ(px, cv::Vec4b(expected, expected, expected, 255)) << x << "," << y;
      } else {
        ASSERT_EQ(px[3], 0) << x << "," << y;
      }
    }
  }
}

TEST_F(TileCacheTest, LowerLevelsAverageTwoByTwoBlocks) {
  const cv::Mat source_pixels = test::pattern_image(600, 300, CV_8UC1, 3);
  const SourceImage source = store(image::encode(source_pixels, ".png"));
  TileCache cache(blobs);
  // Zoom 1 is 300 x 150: one tile, 256 x 150 of it image.
  const cv::Mat tile = decode_tile(cache.get_tile(source, spec_for(source), 1, 0, 0));
  ASSERT_EQ(tile.type(), CV_8UC4);
  for (int y = 0; y < 150; ++y) {
    for (int x = 0; x < 256; ++x) {
      const double mean = cv::mean(source_pixels(cv::Rect(2 * x, 2 * y, 2, 2)))[0];
      ASSERT_LE(std::abs(tile.at<cv::Vec4b>(y, x)[0] - mean), 1.0) << x << "," << y;
    }
  }
  // Zoom 0 is 150 x 75, each pixel the mean of 4 x 4.
  const cv::Mat top = decode_tile(cache.get_tile(source, spec_for(source), 0, 0, 0));
  for (int y = 0; y < 75; y += 7) {
    for (int x = 0; x < 150; x += 7) {
      const double mean = cv::mean(source_pixels(cv::Rect(4 * x, 4 * y, 4, 4)))[0];
      ASSERT_LE(std::abs(top.at<cv::Vec4b>(y, x)[0] - mean), 1.0) << x << "," << y;
    }
  }
}

TEST_F(TileCacheTest, SixteenBitWindowMapsMinToBlackAndMaxToWhite) {
  const cv::Mat gradient = u16_gradient(512, 8, 100);  // 0 .. 51100
  const SourceImage source = store(image::encode(gradient, ".png"));
  TileCache cache(blobs);
  RenderQuery query;
  query.min = "1000";
  query.max = "41000";
  const RenderSpec spec = spec_for(source, query);
  const Window window = cache.window(source, spec);
  EXPECT_EQ(window.min, 1000);
  EXPECT_EQ(window.max, 41000);
  for (int tx = 0; tx < 2; ++tx) {
    const cv::Mat tile = decode_tile(cache.get_tile(source, spec, 1, tx, 0));
    for (int x = 0; x < 256; ++x) {
      const double v = (tx * 256 + x) * 100.0;
      const int expected = windowed(v, 1000, 41000);
      const int got = tile.at<cv::Vec4b>(0, x)[0];
      if (v <= 1000 || v >= 41000) {
        ASSERT_EQ(got, expected) << "v=" << v;
      }
      ASSERT_LE(std::abs(got - expected), 1) << "v=" << v;
    }
  }
}

TEST_F(TileCacheTest, AutoWindowIsThePercentilesOfTheFrame) {
  // 1000 columns x 10 rows, value(x) = 100 + 60 x: each value occurs 10 times among 10000 samples.
  const SourceImage source = store(image::encode(u16_gradient(1000, 10, 60, 100), ".png"));
  TileCache cache(blobs);
  // Rank ceil(0.005 * 10000) = 50 is the 10th sample of x = 4; rank 9950 the last of x = 994.
  const Window by_default = cache.window(source, spec_for(source));
  EXPECT_EQ(by_default.min, 100 + 60 * 4);
  EXPECT_EQ(by_default.max, 100 + 60 * 994);

  RenderQuery wide;
  wide.percentiles = "0,100";
  const Window full = cache.window(source, spec_for(source, wide));
  EXPECT_EQ(full.min, 100);
  EXPECT_EQ(full.max, 100 + 60 * 999);

  RenderQuery tenth;
  tenth.percentiles = "10,90";  // ranks 1000 and 9000: the last samples of x = 99 and x = 899
  const Window middle = cache.window(source, spec_for(source, tenth));
  EXPECT_EQ(middle.min, 100 + 60 * 99);
  EXPECT_EQ(middle.max, 100 + 60 * 899);

  // The tile uses it: x = 4 is black, x = 994 white.
  const cv::Mat tile = decode_tile(cache.get_tile(source, spec_for(source), 2, 0, 0));
  EXPECT_EQ(tile.at<cv::Vec4b>(0, 4)[0], 0);
  const cv::Mat last = decode_tile(cache.get_tile(source, spec_for(source), 2, 3, 0));
  EXPECT_EQ(last.at<cv::Vec4b>(0, 994 - 768)[0], 255);
  EXPECT_EQ(last.at<cv::Vec4b>(0, 984 - 768)[0], windowed(100 + 60 * 984, 340, 59740));
}

TEST_F(TileCacheTest, EightBitAutoWindowIsExactToo) {
  cv::Mat ramp(4, 200, CV_8UC1);
  for (int x = 0; x < 200; ++x) ramp.col(x).setTo(x + 20);  // 20 .. 219, 4 samples each
  const SourceImage source = store(image::encode(ramp, ".png"));
  TileCache cache(blobs);
  RenderQuery query;
  query.percentiles = "5,95";  // ranks 40 and 760 of 800: x = 9 and x = 189
  const Window window = cache.window(source, spec_for(source, query));
  EXPECT_EQ(window.min, 29);
  EXPECT_EQ(window.max, 209);
}

TEST_F(TileCacheTest, FloatImagesAreWindowedWithinOneHistogramBin) {
  cv::Mat values(10, 1000, CV_32FC1);
  for (int x = 0; x < 1000; ++x) values.col(x).setTo(x / 1000.0 - 0.25);
  const SourceImage source = store(test::write_tiff({values}));
  ASSERT_EQ(source.pixel_type, image::PixelType::f32);
  TileCache cache(blobs);
  const Window window = cache.window(source, spec_for(source));
  const double bin = 0.999 / 65535;
  EXPECT_NEAR(window.min, 0.004 - 0.25, bin);
  EXPECT_NEAR(window.max, 0.994 - 0.25, bin);

  RenderQuery query;
  query.min = "0";
  query.max = "0.5";
  const RenderSpec spec = spec_for(source, query);
  const cv::Mat first = decode_tile(cache.get_tile(source, spec, 2, 0, 0));
  const cv::Mat third = decode_tile(cache.get_tile(source, spec, 2, 2, 0));
  EXPECT_EQ(first.at<cv::Vec4b>(0, 100)[0], 0);                           // -0.15
  EXPECT_NEAR(third.at<cv::Vec4b>(0, 0)[0], windowed(0.262, 0, 0.5), 1);  // x = 512
  EXPECT_EQ(third.at<cv::Vec4b>(0, 250)[0], 255);                         // 0.512
}

TEST_F(TileCacheTest, FrameSelectionPicksThePage) {
  std::vector<cv::Mat> pages;
  for (int k = 0; k < 3; ++k) pages.push_back(u16_gradient(300, 20, 10, 10000 * k));
  const SourceImage source = store(test::write_tiff(pages));
  ASSERT_EQ(source.frames, 3);
  TileCache cache(blobs);
  RenderQuery first;
  first.frame = "0";
  RenderQuery last;
  last.frame = "2";
  const Window w0 = cache.window(source, spec_for(source, first));
  const Window w2 = cache.window(source, spec_for(source, last));
  EXPECT_EQ(w2.min, w0.min + 20000);
  EXPECT_EQ(w2.max, w0.max + 20000);

  RenderQuery middle;
  middle.frame = "1";
  middle.min = "10000";
  middle.max = "13000";
  const cv::Mat tile = decode_tile(cache.get_tile(source, spec_for(source, middle), 1, 0, 0));
  for (int x = 0; x < 256; x += 5) {
    ASSERT_NEAR(tile.at<cv::Vec4b>(3, x)[0], windowed(10000 + 10 * x, 10000, 13000), 1) << x;
  }
}

TEST_F(TileCacheTest, ChannelSelectionPicksAndReordersChannels) {
  const cv::Mat rgb = test::pattern_image(200, 100, CV_8UC3, 5);  // channels in file order: R, G, B
  const SourceImage source = store(image::encode(rgb, ".png"));
  const image::Image decoded = image::decode(read_file(blobs.path_of(source.blob_hash)));
  const cv::Mat& file_order = decoded.frames.front();
  std::vector<cv::Mat> planes;
  cv::split(file_order, planes);
  TileCache cache(blobs);

  RenderQuery blue;
  blue.channels = "2";
  const cv::Mat one = decode_tile(cache.get_tile(source, spec_for(source, blue), 0, 0, 0));
  ASSERT_EQ(one.type(), CV_8UC4);  // grey + alpha padding
  std::vector<cv::Mat> one_planes;
  cv::split(one(cv::Rect(0, 0, 200, 100)), one_planes);
  EXPECT_EQ(cv::norm(one_planes[0], planes[2], cv::NORM_INF), 0);

  RenderQuery reversed;
  reversed.channels = "2,1,0";
  const cv::Mat swapped = decode_tile(cache.get_tile(source, spec_for(source, reversed), 0, 0, 0));
  std::vector<cv::Mat> swapped_planes;  // B, G, R, A as decoded = R, G, B of the source
  cv::split(swapped(cv::Rect(0, 0, 200, 100)), swapped_planes);
  EXPECT_EQ(cv::norm(swapped_planes[0], planes[0], cv::NORM_INF), 0);
  EXPECT_EQ(cv::norm(swapped_planes[2], planes[2], cv::NORM_INF), 0);
}

TEST_F(TileCacheTest, CachedTilesAreServedWithoutReadingTheSource) {
  const SourceImage source = store(image::encode(test::pattern_image(600, 300, CV_8UC1), ".png"));
  const RenderSpec spec = spec_for(source);
  TileCache cache(blobs);
  EXPECT_FALSE(cache.find_tile(cache.address(source, spec, 2, 1, 1), TileFormat::png));

  cache.get_tile(source, spec, 2, 1, 1);
  EXPECT_EQ(cache.stats().source_reads, 1u);
  EXPECT_EQ(cache.stats().tiles_written, 6u);  // the whole 3 x 2 level came from that one read
  for (int x = 0; x < 3; ++x) {
    for (int y = 0; y < 2; ++y) {
      EXPECT_TRUE(cache.find_tile(cache.address(source, spec, 2, x, y), TileFormat::png));
      cache.get_tile(source, spec, 2, x, y);
    }
  }
  TileCache other_handle(blobs);
  other_handle.get_tile(source, spec, 2, 0, 1);
  EXPECT_EQ(cache.stats().source_reads, 1u);
  EXPECT_EQ(cache.stats().tiles_written, 6u);

  cache.get_tile(source, spec, 1, 0, 0);
  EXPECT_EQ(cache.stats().source_reads, 2u);
}

TEST_F(TileCacheTest, AutoWindowIsComputedOnceAndKeptOnDisk) {
  const SourceImage source = store(image::encode(u16_gradient(600, 30, 50), ".png"));
  const RenderSpec spec = spec_for(source);
  Window first;
  {
    TileCache cache(blobs);
    cache.get_tile(source, spec, 0, 0, 0);
    EXPECT_EQ(cache.stats().windows_computed, 1u);
    EXPECT_EQ(cache.stats().source_reads, 2u);  // the histogram, then the level
    cache.get_tile(source, spec, 1, 0, 0);
    cache.get_tile(source, spec_for(source, {}, TileFormat::webp), 1, 0, 0);
    EXPECT_EQ(cache.stats().windows_computed, 1u);
    EXPECT_EQ(cache.stats().source_reads, 4u);
    first = cache.window(source, spec);
  }
  // Another process reads the window from the cache folder. (The same folder under another name is
  // another cache state in this process, as in a second process.)
  std::filesystem::create_directory_symlink(dir.path() / "store", dir.path() / "alias");
  blob::BlobStore same_store(dir.path() / "alias");
  TileCache later(same_store);
  const Window again = later.window(source, spec);
  EXPECT_EQ(again.min, first.min);
  EXPECT_EQ(again.max, first.max);
  EXPECT_EQ(later.stats().windows_computed, 0u);
  EXPECT_EQ(later.stats().source_reads, 0u);
}

TEST_F(TileCacheTest, ATileCutShortIsRenderedAgain) {
  const SourceImage source = store(image::encode(test::pattern_image(300, 300, CV_8UC1), ".png"));
  const RenderSpec spec = spec_for(source);
  TileCache cache(blobs);
  const std::string whole = cache.get_tile(source, spec, 1, 0, 0);
  const TileAddress address = cache.address(source, spec, 1, 0, 0);
  {
    std::ofstream cut(address.file, std::ios::binary | std::ios::trunc);
    cut.write(whole.data(), static_cast<std::streamsize>(whole.size() / 2));
  }
  EXPECT_FALSE(cache.find_tile(address, TileFormat::png));
  EXPECT_EQ(cache.get_tile(source, spec, 1, 0, 0), whole);
  EXPECT_EQ(cache.stats().source_reads, 2u);
  EXPECT_EQ(read_file(address.file), whole);
}

TEST_F(TileCacheTest, MissesRenderOnlyTheBlockAroundTheTile) {
  // 2100 px: zoom 4 is 9 tiles across, blocks of 8 + 1.
  const SourceImage source = store(image::encode(test::pattern_image(2100, 300, CV_8UC1), ".png"));
  TileCache cache(blobs);
  cache.get_tile(source, spec_for(source), 4, 8, 0);
  EXPECT_EQ(cache.stats().tiles_written, 2u);  // column 8, rows 0 and 1
  cache.get_tile(source, spec_for(source), 4, 3, 1);
  EXPECT_EQ(cache.stats().tiles_written, 18u);
  EXPECT_EQ(cache.stats().source_reads, 2u);
}

// PNG is read from the top down (blocks stream past the rows above), TIFF where asked: both must give
// the bytes a whole-pyramid build gives.
class PyramidEquality : public TileCacheTest, public ::testing::WithParamInterface<std::string> {};

INSTANTIATE_TEST_SUITE_P(Formats, PyramidEquality, ::testing::Values(".png", ".tif"),
                         [](const auto& info) { return info.param.substr(1); });

TEST_P(PyramidEquality, PyramidBuiltAheadEqualsTilesRenderedOnDemand) {
  const cv::Mat pixels = u16_gradient(2100, 600, 31);
  const std::string bytes = image::encode(pixels, GetParam());
  const SourceImage source = store(bytes);
  const RenderSpec spec = spec_for(source);
  TileCache cache(blobs);
  std::int64_t last_done = 0;
  std::int64_t last_total = 0;
  const std::int64_t written = cache.build_pyramid(source, spec, [&](std::int64_t done, std::int64_t total) {
    EXPECT_GE(done, last_done);
    last_done = done;
    last_total = total;
  });
  const TileGrid grid(2100, 600);
  std::int64_t expected_total = 0;
  for (int z = 0; z <= grid.max_zoom(); ++z) expected_total += grid.level(z).tiles_x * grid.level(z).tiles_y;
  EXPECT_EQ(written, expected_total);
  EXPECT_EQ(last_done, expected_total);
  EXPECT_EQ(last_total, expected_total);
  EXPECT_EQ(cache.stats().source_reads, 1u + static_cast<std::uint64_t>(grid.level_count()));  // window + levels

  test::TempDir other_dir{"tessera-tiles-ondemand"};
  blob::BlobStore other_blobs(other_dir.path() / "store");
  other_blobs.put(bytes);
  TileCache on_demand(other_blobs);
  for (int z = 0; z <= grid.max_zoom(); ++z) {
    for (int x = 0; x < grid.level(z).tiles_x; ++x) {
      for (int y = 0; y < grid.level(z).tiles_y; ++y) {
        const auto built = cache.find_tile(cache.address(source, spec, z, x, y), TileFormat::png);
        ASSERT_TRUE(built) << z << "/" << x << "/" << y;
        ASSERT_EQ(*built, on_demand.get_tile(source, spec, z, x, y)) << z << "/" << x << "/" << y;
      }
    }
  }
  const auto reads = cache.stats().source_reads;
  EXPECT_EQ(cache.build_pyramid(source, spec), 0);
  EXPECT_EQ(cache.stats().source_reads, reads);
}

TEST_F(TileCacheTest, EveryFormatDecodesToAFullTile) {
  const SourceImage source = store(image::encode(test::pattern_image(300, 200, CV_8UC3), ".png"));
  TileCache cache(blobs);
  const cv::Mat png = decode_tile(cache.get_tile(source, spec_for(source), 1, 0, 0));
  for (TileFormat format : {TileFormat::jpg, TileFormat::webp}) {
    const std::string bytes = cache.get_tile(source, spec_for(source, {}, format), 1, 0, 0);
    const cv::Mat tile = decode_tile(bytes);
    ASSERT_FALSE(tile.empty()) << to_string(format);
    EXPECT_EQ(tile.size(), cv::Size(256, 256));
    cv::Mat png_bgr;
    cv::cvtColor(png, png_bgr, cv::COLOR_BGRA2BGR);
    cv::Mat tile_bgr = tile;
    if (tile.channels() == 4) cv::cvtColor(tile, tile_bgr, cv::COLOR_BGRA2BGR);
    const cv::Rect image_part(0, 0, 256, 200);
    EXPECT_LT(cv::norm(png_bgr(image_part), tile_bgr(image_part), cv::NORM_L1) / (256.0 * 200 * 3), 3.0)
        << to_string(format);
  }
}

TEST_F(TileCacheTest, AbsurdCoordinatesAreNotFound) {
  const SourceImage source = store(image::encode(test::pattern_image(300, 200, CV_8UC1), ".png"));
  TileCache cache(blobs);
  for (auto [z, x, y] : std::vector<std::array<std::int64_t, 3>>{
           {2, 0, 0}, {1, 2, 0}, {1, 0, 1}, {-1, 0, 0}, {0, -1, 0}, {1LL << 40, 0, 0}, {0, 1LL << 50, 0}}) {
    try {
      cache.get_tile(source, spec_for(source), z, x, y);
      ADD_FAILURE() << "no error for " << z << "/" << x << "/" << y;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::not_found) << e.what();
    }
  }
  EXPECT_EQ(cache.stats().source_reads, 0u);
}

TEST_F(TileCacheTest, DamagedSourceIsAnErrorAndLeavesNoTiles) {
  const std::string whole = image::encode(test::pattern_image(600, 600, CV_8UC1), ".png");
  const SourceImage claimed = [&] {
    SourceImage s = store(whole);
    s.blob_hash = blobs.put(whole.substr(0, whole.size() / 2));
    return s;
  }();
  TileCache cache(blobs);
  try {
    cache.get_tile(claimed, spec_for(claimed), 2, 0, 0);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::corrupt) << e.what();
  }
  EXPECT_FALSE(cache.find_tile(cache.address(claimed, spec_for(claimed), 2, 0, 0), TileFormat::png));
  EXPECT_EQ(cache.stats().tiles_written, 0u);

  SourceImage wrong_size = store(whole);
  wrong_size.width = 700;
  try {
    cache.get_tile(wrong_size, spec_for(wrong_size), 0, 0, 0);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::corrupt);
    EXPECT_NE(std::string(e.what()).find("600x600 but the catalog says 700x600"), std::string::npos) << e.what();
  }
}

TEST_F(TileCacheTest, DescriptionListsLevelsAndTheResolvedWindow) {
  const SourceImage source = store(image::encode(u16_gradient(1000, 10, 60, 100), ".png"));
  TileCache cache(blobs);
  const nlohmann::json d = cache.describe(source, spec_for(source));
  EXPECT_EQ(d["width"], 1000);
  EXPECT_EQ(d["height"], 10);
  EXPECT_EQ(d["tile_size"], 256);
  EXPECT_EQ(d["max_zoom"], 2);
  ASSERT_EQ(d["levels"].size(), 3u);
  EXPECT_EQ(d["levels"][0]["width"], 250);
  EXPECT_EQ(d["levels"][2]["tiles_x"], 4);
  EXPECT_EQ(d["resolutions"], nlohmann::json({4, 2, 1}));
  EXPECT_EQ(d["pixel_type"], "u16");
  EXPECT_EQ(d["formats"], nlohmann::json({"png", "jpg", "webp"}));
  EXPECT_EQ(d["window"]["mode"], "percentiles");
  EXPECT_EQ(d["window"]["min"], 340);
  EXPECT_EQ(d["window"]["max"], 59740);
}

TEST_F(TileCacheTest, EtagsAreStablePerTileAndDifferAcrossKeys) {
  const SourceImage source = store(image::encode(test::pattern_image(600, 300, CV_8UC1), ".png"));
  TileCache cache(blobs);
  const RenderSpec spec = spec_for(source);
  EXPECT_EQ(cache.address(source, spec, 2, 1, 0).etag, TileCache(blobs).address(source, spec, 2, 1, 0).etag);
  std::set<std::string> tags;
  tags.insert(cache.address(source, spec, 2, 1, 0).etag);
  tags.insert(cache.address(source, spec, 2, 0, 1).etag);
  tags.insert(cache.address(source, spec_for(source, {}, TileFormat::jpg), 2, 1, 0).etag);
  RenderQuery windowed_query;
  windowed_query.min = "10";
  windowed_query.max = "20";
  tags.insert(cache.address(source, spec_for(source, windowed_query), 2, 1, 0).etag);
  EXPECT_EQ(tags.size(), 4u);
}

}  // namespace
}  // namespace tessera::tiles
