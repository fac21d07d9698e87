#include "tessera/blob/blob_store.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "tessera/core/error.hpp"
#include "tessera/core/sha256.hpp"
#include "test_util.hpp"

namespace tessera::blob {
namespace {

TEST(BlobStore, PutIsIdempotentForSameBytes) {
  test::TempDir dir;
  BlobStore store(dir.path());
  const std::string a = store.put("hello pixels");
  const std::string b = store.put("hello pixels");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, sha256_hex(std::string_view("hello pixels")));
  int count = 0;
  store.for_each([&](const std::string&) { ++count; });
  EXPECT_EQ(count, 1);
  EXPECT_EQ(store.get(a), "hello pixels");
}

TEST(BlobStore, LaysBlobsOutByHashPrefix) {
  test::TempDir dir;
  BlobStore store(dir.path());
  const std::string h = store.put("x");
  EXPECT_EQ(store.path_of(h), dir.path() / "blobs" / h.substr(0, 2) / h.substr(2, 2) / h);
  EXPECT_TRUE(std::filesystem::exists(store.path_of(h)));
  EXPECT_TRUE(store.temp_files().empty());
}

TEST(BlobStore, DamagedBlobIsReportedNeverServed) {
  test::TempDir dir;
  BlobStore store(dir.path());
  const std::string h = store.put("original bytes");
  {
    std::ofstream f(store.path_of(h), std::ios::binary | std::ios::trunc);
    f << "tampered bytes";
  }
  EXPECT_FALSE(store.verify(h));
  try {
    store.get(h);
    FAIL() << "a damaged blob was served";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::corrupt);
    EXPECT_NE(std::string(e.what()).find(h), std::string::npos);
  }
}

TEST(BlobStore, DamagedCopyIsRepairedByPuttingTheBytesAgain) {
  test::TempDir dir;
  BlobStore store(dir.path());
  const std::string h = store.put("0123456789");
  {
    std::ofstream f(store.path_of(h), std::ios::binary | std::ios::trunc);
    f << "01234";  // truncated, as by a disk problem
  }
  store.put("0123456789");
  EXPECT_TRUE(store.verify(h));
}

TEST(BlobStore, MissingBlobIsNotFound) {
  test::TempDir dir;
  BlobStore store(dir.path());
  const std::string h = sha256_hex(std::string_view("never stored"));
  EXPECT_FALSE(store.find(h).has_value());
  EXPECT_FALSE(store.contains(h));
  try {
    store.get(h);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
}

TEST(BlobStore, RejectsNamesThatAreNotHashes) {
  test::TempDir dir;
  BlobStore store(dir.path());
  EXPECT_THROW(store.path_of("../../etc/passwd"), Error);
  EXPECT_THROW(store.find("abc"), Error);
}

TEST(BlobStore, OpeningRemovesTempFilesOfDeadWritersOnly) {
  test::TempDir dir;
  { BlobStore store(dir.path()); }
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  // pid 2^22+1 exceeds Linux's pid_max default: no such process can be alive.
  const auto dead = dir.path() / "tmp" / fmt::format("4194305-00000000deadbeef-{}", host);
  const auto alive = dir.path() / "tmp" / fmt::format("{}-00000000cafebabe-{}", getpid(), host);
  std::ofstream(dead) << "half a blob";
  std::ofstream(alive) << "being written";
  BlobStore reopened(dir.path());
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_TRUE(std::filesystem::exists(alive));
}

}  // namespace
}  // namespace tessera::blob
