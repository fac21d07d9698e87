#include "tessera/app/path_pattern.hpp"

#include <gtest/gtest.h>

#include "tessera/core/error.hpp"

namespace tessera::app {
namespace {

TEST(PathPattern, TurnsPathTokensIntoTypedFields) {
  PathPattern p("{experiment}/{well}/t{time:int}_c{channel}.tif");
  auto m = p.match("exp7/A01/t0012_cDAPI.tif");
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["experiment"], "exp7");
  EXPECT_EQ((*m)["well"], "A01");
  EXPECT_EQ((*m)["time"], 12);
  EXPECT_TRUE((*m)["time"].is_number_integer());
  EXPECT_EQ((*m)["channel"], "DAPI");
}

TEST(PathPattern, ParsesFloats) {
  PathPattern p("depth_{depth:float}m.png");
  auto m = p.match("depth_12.5m.png");
  ASSERT_TRUE(m);
  EXPECT_DOUBLE_EQ((*m)["depth"].get<double>(), 12.5);
}

TEST(PathPattern, DoesNotGuessNonMatchingPaths) {
  PathPattern p("{experiment}/{well}/t{time:int}_c{channel}.tif");
  EXPECT_FALSE(p.match("exp7/A01/tXX_c1.tif"));            // time is not an integer
  EXPECT_FALSE(p.match("exp7/A01/extra/t1_c1.tif"));       // a field never spans folders
  EXPECT_FALSE(p.match("exp7/A01/t1_c1.tif.bak"));         // the whole path must match
  EXPECT_FALSE(p.match("A01/t1_c1.tif"));
}

TEST(PathPattern, WildcardsMatchWithinOrAcrossFolders) {
  EXPECT_TRUE(PathPattern("*/{name}.png").match("any/cell.png"));
  EXPECT_FALSE(PathPattern("*/{name}.png").match("a/b/cell.png"));
  EXPECT_TRUE(PathPattern("**/{name}.png").match("a/b/cell.png"));
}

TEST(PathPattern, TreatsRegexCharactersLiterally) {
  PathPattern p("plate(1)/[{well}].png");
  EXPECT_TRUE(p.match("plate(1)/[B2].png"));
  EXPECT_FALSE(p.match("plate1/B2.png"));
}

TEST(PathPattern, IntegerOverflowDoesNotMatch) {
  EXPECT_FALSE(PathPattern("t{time:int}.png").match("t99999999999999999999999.png"));
}

TEST(PathPattern, MalformedPatternsNameThePosition) {
  for (const char* bad : {"{well", "well}", "{1abc}.png", "{a}/{a}.png", "{t:date}.png", ""}) {
    try {
      PathPattern p(bad);
      FAIL() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
      EXPECT_NE(std::string(e.what()).find("position"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace tessera::app
