#include "tessera/tiles/render_spec.hpp"

#include <gtest/gtest.h>

#include "tessera/core/error.hpp"
#include "test_util.hpp"

namespace tessera::tiles {
namespace {

using image::PixelType;

SourceImage source_of(PixelType type, int channels = 1, int frames = 1) {
  return SourceImage{std::string(64, 'a'), 300, 200, channels, frames, type};
}

TEST(RenderSpec, DefaultsShowEightBitImagesAsTheyAreAndWindowTheOthers) {
  const RenderSpec u8 = resolve_render_spec(source_of(PixelType::u8, 3), {}, TileFormat::png);
  EXPECT_EQ(u8.frame, 0);
  EXPECT_EQ(u8.channels, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(u8.window.mode, WindowSpec::Mode::identity);

  for (PixelType type : {PixelType::u16, PixelType::i16, PixelType::f32, PixelType::f64, PixelType::u32}) {
    const RenderSpec spec = resolve_render_spec(source_of(type), {}, TileFormat::png);
    EXPECT_EQ(spec.window.mode, WindowSpec::Mode::percentiles);
    EXPECT_EQ(spec.window.low, kDefaultLowPercentile);
    EXPECT_EQ(spec.window.high, kDefaultHighPercentile);
  }
}

TEST(RenderSpec, DefaultChannelsAreAllForGreyRgbRgbaElseTheFirst) {
  EXPECT_EQ(resolve_render_spec(source_of(PixelType::u8, 1), {}, TileFormat::png).channels, (std::vector<int>{0}));
  EXPECT_EQ(resolve_render_spec(source_of(PixelType::u8, 4), {}, TileFormat::png).channels,
            (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(resolve_render_spec(source_of(PixelType::u16, 2), {}, TileFormat::png).channels, (std::vector<int>{0}));
  EXPECT_EQ(resolve_render_spec(source_of(PixelType::u16, 5), {}, TileFormat::png).channels, (std::vector<int>{0}));
}

TEST(RenderSpec, ReadsFrameChannelsAndWindow) {
  RenderQuery query;
  query.frame = "2";
  query.channels = "4,0,1";
  query.min = "100";
  query.max = "4095.5";
  const RenderSpec spec = resolve_render_spec(source_of(PixelType::u16, 5, 3), query, TileFormat::webp);
  EXPECT_EQ(spec.frame, 2);
  EXPECT_EQ(spec.channels, (std::vector<int>{4, 0, 1}));
  EXPECT_EQ(spec.window.mode, WindowSpec::Mode::range);
  EXPECT_EQ(spec.window.min, 100);
  EXPECT_EQ(spec.window.max, 4095.5);
  EXPECT_EQ(spec.format, TileFormat::webp);

  RenderQuery auto_query;
  auto_query.percentiles = "1,99.9";
  const RenderSpec auto_spec = resolve_render_spec(source_of(PixelType::u8), auto_query, TileFormat::png);
  EXPECT_EQ(auto_spec.window.mode, WindowSpec::Mode::percentiles);
  EXPECT_EQ(auto_spec.window.low, 1);
  EXPECT_EQ(auto_spec.window.high, 99.9);
}

TEST(RenderSpec, BadParametersNameTheParameterAndWhatWasGiven) {
  const SourceImage source = source_of(PixelType::u16, 3, 2);
  struct Case {
    RenderQuery query;
    std::string expected;
  };
  std::vector<Case> cases;
  auto add = [&](auto fill, std::string expected) {
    RenderQuery q;
    fill(q);
    cases.push_back({q, std::move(expected)});
  };
  add([](RenderQuery& q) { q.frame = "2"; }, "'frame' must be an integer in [0, 1], got '2'");
  add([](RenderQuery& q) { q.frame = "-1"; }, "'frame'");
  add([](RenderQuery& q) { q.frame = "1x"; }, "got '1x'");
  add([](RenderQuery& q) { q.frame = ""; }, "'frame'");
  add([](RenderQuery& q) { q.channels = "3"; }, "'channels' must list 1, 3 or 4 channel indices in [0, 2]");
  add([](RenderQuery& q) { q.channels = "0,1"; }, "got '0,1'");
  add([](RenderQuery& q) { q.channels = "0,,1"; }, "'channels'");
  add([](RenderQuery& q) { q.channels = "0;1;2"; }, "'channels'");
  add([](RenderQuery& q) { q.min = "1"; }, "'max' is required with 'min'");
  add([](RenderQuery& q) { q.max = "1"; }, "'min' is required with 'max'");
  add(
      [](RenderQuery& q) {
        q.min = "abc";
        q.max = "1";
      },
      "'min' must be a finite number, got 'abc'");
  add(
      [](RenderQuery& q) {
        q.min = "0";
        q.max = "inf";
      },
      "'max' must be a finite number");
  add(
      [](RenderQuery& q) {
        q.min = "0";
        q.max = "nan";
      },
      "'max' must be a finite number");
  add(
      [](RenderQuery& q) {
        q.min = "10";
        q.max = "10";
      },
      "'max' must be greater than 'min'");
  add(
      [](RenderQuery& q) {
        q.min = "0";
        q.max = "9";
        q.percentiles = "1,99";
      },
      "cannot be combined");
  add([](RenderQuery& q) { q.percentiles = "99,1"; }, "'percentiles' must be two percentiles");
  add([](RenderQuery& q) { q.percentiles = "1"; }, "got '1'");
  add([](RenderQuery& q) { q.percentiles = "-1,50"; }, "'percentiles'");
  add([](RenderQuery& q) { q.percentiles = "1,101"; }, "'percentiles'");
  add([](RenderQuery& q) { q.percentiles = "1,2,3"; }, "'percentiles'");
  for (const Case& c : cases) {
    SCOPED_TRACE(c.expected);
    test::expect_invalid([&] { resolve_render_spec(source, c.query, TileFormat::png); }, c.expected);
  }
}

TEST(RenderSpec, EqualRequestsShareAKeyAndDifferentOnesDoNot) {
  const SourceImage source = source_of(PixelType::u16, 3, 2);
  auto key = [&](auto fill, TileFormat format = TileFormat::png) {
    RenderQuery q;
    fill(q);
    return pyramid_key(source, resolve_render_spec(source, q, format));
  };
  const std::string plain = key([](RenderQuery&) {});
  EXPECT_EQ(plain, key([](RenderQuery& q) {
              q.frame = "0";
              q.channels = "0,1,2";
            }));
  EXPECT_EQ(plain, key([](RenderQuery& q) { q.percentiles = "0.5,99.5"; }));
  EXPECT_EQ(key([](RenderQuery& q) {
              q.min = "100";
              q.max = "200";
            }),
            key([](RenderQuery& q) {
              q.min = "100.0";
              q.max = "2e2";
            }));
  EXPECT_NE(plain, key([](RenderQuery& q) { q.frame = "1"; }));
  EXPECT_NE(plain, key([](RenderQuery& q) { q.channels = "0"; }));
  EXPECT_NE(plain, key([](RenderQuery& q) { q.channels = "2,1,0"; }));
  EXPECT_NE(plain, key([](RenderQuery& q) { q.percentiles = "1,99"; }));
  EXPECT_NE(plain, key([](RenderQuery&) {}, TileFormat::jpg));
  SourceImage other = source;
  other.blob_hash = std::string(64, 'b');
  EXPECT_NE(plain, pyramid_key(other, resolve_render_spec(other, {}, TileFormat::png)));
  // The window does not depend on the format.
  EXPECT_EQ(window_key(source, resolve_render_spec(source, {}, TileFormat::png)),
            window_key(source, resolve_render_spec(source, {}, TileFormat::webp)));
}

TEST(RenderSpec, FormatsParseFromTheirExtensions) {
  EXPECT_EQ(parse_tile_format("png"), TileFormat::png);
  EXPECT_EQ(parse_tile_format("jpg"), TileFormat::jpg);
  EXPECT_EQ(parse_tile_format("jpeg"), TileFormat::jpg);
  EXPECT_EQ(parse_tile_format("webp"), TileFormat::webp);
  EXPECT_FALSE(parse_tile_format("gif"));
  EXPECT_FALSE(parse_tile_format("PNG"));
  EXPECT_EQ(media_type(TileFormat::jpg), "image/jpeg");
}

}  // namespace
}  // namespace tessera::tiles
