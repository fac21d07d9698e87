// Responses are compressed with gzip even when the client offers brotli: Debian's httplib would otherwise
// brotli-compress at quality 11, which costs seconds per page (see src/server/server.cpp).

#include <gtest/gtest.h>

#include "server/server_fixture.hpp"

namespace tessera::server::testing {
namespace {

class CompressionTest : public ServerFixture {};

TEST_F(CompressionTest, ABrowserOfferingBrotliGetsGzipAndTheSameJson) {
  for (int seed = 0; seed < 30; ++seed) add_image(lab(), seed);
  const std::string path = "/api/v1/projects/" + std::to_string(lab()) + "/images?limit=100";
  const httplib::Result plain = get(path);
  ASSERT_TRUE(plain);
  ASSERT_EQ(plain->status, 200) << plain->body;
  EXPECT_FALSE(plain->has_header("Content-Encoding")) << "no compression unless asked for";

  for (const char* offered : {"gzip, deflate, br, zstd", "br;q=1.0, gzip;q=0.8", "gzip, br"}) {
    httplib::Headers headers = auth(token("alice"));
    headers.emplace("Accept-Encoding", offered);
    const httplib::Result compressed = client().Get(path, headers);
    ASSERT_TRUE(compressed);
    ASSERT_EQ(compressed->status, 200);
    EXPECT_EQ(compressed->get_header_value("Content-Encoding"), "gzip") << "offered: " << offered;
    EXPECT_EQ(body(compressed), body(plain)) << "the client decompressed the same answer";
  }

  httplib::Headers only_brotli = auth(token("alice"));
  only_brotli.emplace("Accept-Encoding", "br");
  const httplib::Result uncompressed = client().Get(path, only_brotli);
  ASSERT_TRUE(uncompressed);
  EXPECT_FALSE(uncompressed->has_header("Content-Encoding")) << "brotli only: sent as it is";
  EXPECT_EQ(body(uncompressed), body(plain));
}

}  // namespace
}  // namespace tessera::server::testing
