#include <sys/resource.h>

#include <gtest/gtest.h>

#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/exchange/zip_reader.hpp"
#include "tessera/exchange/zip_writer.hpp"
#include "exchange/python.hpp"
#include "test_util.hpp"

namespace tessera::exchange {
namespace {

size_t files_in(const std::filesystem::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

TEST(ZipWriter, WritesStoredAndDeflatedEntriesFromBytesAndFileRanges) {
  test::TempDir dir;
  const auto source = dir / "source.bin";
  write_file_atomic(source, "0123456789abcdef");
  const auto zip = dir / "out.zip";
  {
    ZipWriter writer(zip);
    writer.add_bytes("a.txt", std::string(1000, 'x'), ZipMethod::deflate);
    writer.add_bytes("dir/b.bin", "raw", ZipMethod::store);
    writer.add_file("c.bin", source, ZipMethod::store, 10, 6);
    writer.add_file("d.bin", source, ZipMethod::deflate);
    writer.add_file("empty.bin", source, ZipMethod::store, 16, 0);
    EXPECT_EQ(files_in(dir.path()), 1u) << "nothing on disk before finish()";
    EXPECT_TRUE(writer.contains("dir/b.bin"));
    EXPECT_EQ(writer.entry_count(), 5u);
    writer.finish();
  }
  EXPECT_EQ(files_in(dir.path()), 2u) << "no temporary file is left";
  ZipReader reader(zip);
  ASSERT_EQ(reader.entries().size(), 5u);
  EXPECT_EQ(reader.entries()[0].name, "a.txt");
  EXPECT_EQ(reader.entries()[0].method, ZipMethod::deflate);
  EXPECT_LT(reader.entries()[0].compressed_size, 100u);
  EXPECT_EQ(reader.entries()[1].method, ZipMethod::store);
  EXPECT_EQ(reader.read("a.txt"), std::string(1000, 'x'));
  EXPECT_EQ(reader.read("dir/b.bin"), "raw");
  EXPECT_EQ(reader.read("c.bin"), "abcdef");
  EXPECT_EQ(reader.read("d.bin"), "0123456789abcdef");
  EXPECT_EQ(reader.read("empty.bin"), "");
  EXPECT_FALSE(reader.find("missing").has_value());
  try {
    reader.read("missing");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_NE(std::string(e.what()).find("out.zip"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos);
  }
  // Python's zipfile (what EcoTaxa and numpy use) agrees, including the CRCs.
  const auto out = test::run_python(R"(
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(sorted(z.namelist()), z.read('c.bin'), z.getinfo('a.txt').compress_type)
)", {zip.string()});
  EXPECT_NE(out.find("['a.txt', 'c.bin', 'd.bin', 'dir/b.bin', 'empty.bin'] b'abcdef' 8"), std::string::npos) << out;
}

TEST(ZipWriter, AbandonedWriterLeavesNoArchiveAndKeepsAnOldOne) {
  test::TempDir dir;
  const auto zip = dir / "out.zip";
  {
    ZipWriter writer(zip);
    writer.add_bytes("a.txt", "a");
  }
  EXPECT_EQ(files_in(dir.path()), 0u);
  write_file_atomic(zip, "old content");
  {
    ZipWriter writer(zip);
    writer.add_bytes("a.txt", "a");
  }
  EXPECT_EQ(read_file(zip), "old content");
  EXPECT_EQ(files_in(dir.path()), 1u);
}

TEST(ZipWriter, FailingFinishLeavesNoHalfArchive) {
  test::TempDir dir;
  const auto source = dir / "source.bin";
  write_file_atomic(source, std::string(100000, 'y'));
  const auto zip = dir / "out.zip";
  ZipWriter writer(zip);
  writer.add_bytes("first.txt", "first");
  writer.add_file("second.bin", source, ZipMethod::store);
  std::filesystem::remove(source);  // the source vanishes before finish() reads it
  try {
    writer.finish();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::io);
    EXPECT_NE(std::string(e.what()).find("out.zip"), std::string::npos) << e.what();
  }
  EXPECT_EQ(files_in(dir.path()), 0u);
}

TEST(ZipWriter, RejectsBadAndDuplicateNames) {
  test::TempDir dir;
  ZipWriter writer(dir / "out.zip");
  writer.add_bytes("ok/name.txt", "x");
  for (const std::string bad : {"", "/abs", "a/../b", "a//b", "./a", "dir/", "back\\slash", "tab\tname"}) {
    test::expect_invalid([&] { writer.add_bytes(bad, "x"); }, "out.zip");
  }
  test::expect_invalid([&] { writer.add_bytes("ok/name.txt", "y"); }, "already in the archive");
  write_file_atomic(dir / "four.bin", "1234");
  test::expect_invalid([&] { writer.add_file("range.bin", dir / "four.bin", ZipMethod::store, 2, 10); },
                       "range.bin");
}

TEST(ZipWriter, EmptyArchiveIsAValidZip) {
  test::TempDir dir;
  const auto zip = dir / "empty.zip";
  ZipWriter writer(zip);
  writer.finish();
  EXPECT_TRUE(ZipReader(zip).entries().empty());
  test::expect_invalid([&] { writer.add_bytes("late.txt", "x"); }, "after finish()");
}

TEST(ZipWriter, ManyFileRangeEntriesNeedNoOpenFilePerEntry) {
  // 3,000 ranges of one file under a 64-descriptor limit: libzip must open sources one at a time.
  test::TempDir dir;
  const auto source = dir / "spool.bin";
  std::string data;
  for (int i = 0; i < 3000; ++i) data += fmt::format("{:08d}", i);
  write_file_atomic(source, data);
  rlimit old{};
  ::getrlimit(RLIMIT_NOFILE, &old);
  rlimit low = old;
  low.rlim_cur = 64;
  ::setrlimit(RLIMIT_NOFILE, &low);
  {
    ZipWriter writer(dir / "many.zip");
    for (int i = 0; i < 3000; ++i) {
      writer.add_file(fmt::format("e/{}.txt", i), source, ZipMethod::store, static_cast<uint64_t>(i) * 8, 8);
    }
    writer.finish();
  }
  ::setrlimit(RLIMIT_NOFILE, &old);
  ZipReader reader(dir / "many.zip");
  ASSERT_EQ(reader.entries().size(), 3000u);
  EXPECT_EQ(reader.read("e/2999.txt"), "00002999");
}

TEST(ZipReader, DamagedDataIsReportedAsCorrupt) {
  test::TempDir dir;
  const auto zip = dir / "bad.zip";
  {
    ZipWriter writer(zip);
    writer.add_bytes("data.bin", std::string(4000, 'z'), ZipMethod::store);
    writer.finish();
  }
  std::string bytes = read_file(zip);
  const size_t at = bytes.find(std::string(100, 'z'));
  ASSERT_NE(at, std::string::npos);
  bytes[at + 50] = 'Q';
  write_file_atomic(zip, bytes);
  ZipReader reader(zip);
  try {
    reader.read("data.bin");
    FAIL() << "expected a CRC error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::corrupt);
    EXPECT_NE(std::string(e.what()).find("data.bin"), std::string::npos) << e.what();
  }
  write_file_atomic(dir / "not.zip", "this is not a zip archive at all");
  EXPECT_THROW(ZipReader(dir / "not.zip"), Error);
  try {
    ZipReader missing(dir / "absent.zip");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
}

}  // namespace
}  // namespace tessera::exchange
