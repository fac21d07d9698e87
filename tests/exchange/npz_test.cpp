#include "tessera/exchange/npz.hpp"

#include <cstring>
#include <fstream>

#include <gtest/gtest.h>

#include "exchange/npz_zip.hpp"
#include "exchange/python.hpp"
#include "tessera/core/error.hpp"
#include "tessera/exchange/zip_reader.hpp"
#include "test_util.hpp"

namespace tessera::exchange {
namespace {

size_t files_in(const std::filesystem::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

// Frame k of a movie set: raw = k*100 + 7r + c (uint16), labels = k*1000 + 7r + c (int32); the Python
// checks below use the same formulas.
cv::Mat raw_frame(int k, int rows, int cols) {
  cv::Mat m(rows, cols, CV_16UC1);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) m.at<uint16_t>(r, c) = static_cast<uint16_t>(k * 100 + 7 * r + c);
  return m;
}

cv::Mat label_frame(int k, int rows, int cols) {
  cv::Mat m(rows, cols, CV_32SC1);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) m.at<int32_t>(r, c) = k * 1000 + 7 * r + c;
  return m;
}

template <typename T>
T item(const NpyArray& a, size_t i) {
  T v;
  std::memcpy(&v, a.data.data() + i * sizeof(T), sizeof(T));
  return v;
}

TEST(Npz, StreamedDeepCellMoviesLoadInNumpy) {
  test::TempDir dir;
  const auto path = dir / "train.npz";
  constexpr int kMovies = 3, kFrames = 2, kRows = 6, kCols = 7;
  {
    NpzWriter npz(path);
    NpyStream& x = npz.begin("X", NpyType::f32, {kFrames, kRows, kCols, 1});
    NpyStream& y = npz.begin("y", NpyType::i32, {kFrames, kRows, kCols, 1});
    for (int k = 0; k < kMovies * kFrames; ++k) {
      x.append(raw_frame(k, kRows, kCols));    // uint16 -> float32, converted
      y.append(label_frame(k, kRows, kCols));  // int32 as is
      EXPECT_EQ(x.length(), static_cast<uint64_t>((k + 1) / kFrames));
    }
    npz.add("channels", NpyArray{NpyType::u8, {3}, "abc"});
    EXPECT_EQ(files_in(dir.path()), 3u) << "the archive being written (holding X), two scratch files; none at path";
    EXPECT_FALSE(std::filesystem::exists(path));
    npz.finish();
  }
  EXPECT_EQ(files_in(dir.path()), 1u);

  const std::string out = test::run_python(R"(
import sys, zipfile, numpy as np
z = zipfile.ZipFile(sys.argv[1])
assert [i.compress_type for i in z.infolist()] == [0, 0, 0], 'entries are stored'
assert z.testzip() is None, 'CRCs match'
assert z.namelist() == ['X.npy', 'y.npy', 'channels.npy']
d = np.load(sys.argv[1])
X, y = d['X'], d['y']
assert X.dtype == np.float32 and X.shape == (3, 2, 6, 7, 1), (X.dtype, X.shape)
assert y.dtype == np.int32 and y.shape == (3, 2, 6, 7, 1), (y.dtype, y.shape)
k = np.arange(6).reshape(3, 2, 1, 1, 1)
r = np.arange(6).reshape(1, 1, 6, 1, 1)
c = np.arange(7).reshape(1, 1, 1, 7, 1)
assert np.array_equal(X, (k * 100 + 7 * r + c).astype(np.float32))
assert np.array_equal(y, (k * 1000 + 7 * r + c).astype(np.int32))
assert d['channels'].tobytes() == b'abc'
print('numpy ok')
)", {path.string()});
  EXPECT_NE(out.find("numpy ok"), std::string::npos) << out;

  NpzReader reader(path);
  EXPECT_EQ(reader.keys(), (std::vector<std::string>{"X", "y", "channels"}));
  const NpyArray x = reader.read("X");
  EXPECT_EQ(x.shape, (std::vector<uint64_t>{3, 2, 6, 7, 1}));
  EXPECT_EQ(item<float>(x, 5 * 42 + 3 * 7 + 4), 5 * 100 + 7 * 3 + 4);
  const NpyArray y = reader.read("y");
  EXPECT_EQ(item<int32_t>(y, 5 * 42 + 3 * 7 + 4), 5 * 1000 + 7 * 3 + 4);
}

TEST(Npz, ReadsWhatNumpySavezAndSavezCompressedWrite) {
  test::TempDir dir;
  test::run_python(R"(
import sys, numpy as np
d = sys.argv[1]
a = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 8
b = np.asfortranarray(np.arange(12, dtype=np.int64).reshape(3, 4) - 6)
m = (np.arange(10) % 2 == 0)
np.savez(d + '/plain.npz', X=a, y=b, mask=m)
np.savez_compressed(d + '/compressed.npz', X=a, y=b, mask=m)
np.savez(d + '/legacy.npz', a, b)  # arr_0, arr_1
np.savez(d + '/objects.npz', X=np.array([None, 1], dtype=object))
np.savez(d + '/swapped.npz', X=np.arange(3, dtype='>f8'))
)", {dir.path().string()});
  for (const char* name : {"plain.npz", "compressed.npz"}) {
    SCOPED_TRACE(name);
    NpzReader reader(dir / name);
    EXPECT_EQ(ZipReader(dir / name).entries()[0].method,
              std::string(name) == "plain.npz" ? ZipMethod::store : ZipMethod::deflate);
    const NpyArray x = reader.read("X");
    EXPECT_EQ(x.type, NpyType::f32);
    EXPECT_EQ(x.shape, (std::vector<uint64_t>{2, 3, 4}));
    for (size_t i = 0; i < 24; ++i) EXPECT_EQ(item<float>(x, i), static_cast<float>(i) / 8);
    const NpyArray y = reader.read("y");  // written in Fortran order, read in C order
    EXPECT_EQ(y.type, NpyType::i64);
    EXPECT_EQ(y.shape, (std::vector<uint64_t>{3, 4}));
    for (size_t i = 0; i < 12; ++i) EXPECT_EQ(item<int64_t>(y, i), static_cast<int64_t>(i) - 6);
    const NpyArray mask = reader.read("mask");
    EXPECT_EQ(mask.type, NpyType::boolean);
    EXPECT_EQ(mask.data, std::string("\1\0\1\0\1\0\1\0\1\0", 10));
  }
  EXPECT_EQ(NpzReader(dir / "legacy.npz").keys(), (std::vector<std::string>{"arr_0", "arr_1"}));
  try {
    NpzReader(dir / "plain.npz").read("raw");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_NE(std::string(e.what()).find("plain.npz' has no array 'raw'"), std::string::npos) << e.what();
  }
  for (const auto& [name, text] : {std::pair{"objects.npz", "object array"}, {"swapped.npz", "big-endian"}}) {
    try {
      NpzReader(dir / name).read("X");
      ADD_FAILURE() << name;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::unsupported);
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(std::string(name) + ":X.npy"), std::string::npos) << e.what();
    }
  }
}

TEST(Npz, FrameConversionsKeepEveryValue) {
  test::TempDir dir;
  NpzWriter npz(dir / "c.npz");
  NpyStream& f = npz.begin("f", NpyType::f64, {2, 2});
  cv::Mat f32 = (cv::Mat_<float>(2, 2) << 0.1f, -2.5f, 3e38f, 1e-40f);
  f.append(f32);
  NpyStream& mask = npz.begin("mask", NpyType::boolean, {2, 2, 1});
  mask.append(cv::Mat((cv::Mat_<uint8_t>(2, 2) << 0, 255, 1, 0)));
  NpyStream& wide = npz.begin("wide", NpyType::i64, {1, 3});
  wide.append(cv::Mat((cv::Mat_<int32_t>(1, 3) << -2147483647 - 1, 0, 2147483647)));
  NpyStream& rgb = npz.begin("rgb", NpyType::u8, {2, 3, 3});
  cv::Mat big(4, 5, CV_8UC3);
  cv::randu(big, 0, 255);
  rgb.append(big(cv::Rect(1, 1, 3, 2)));  // a non-contiguous region, channels kept in order
  NpyStream& labels = npz.begin("labels", NpyType::i32, {2, 2, 1});
  test::expect_invalid([&] { labels.append(cv::Mat(2, 2, CV_32FC1, cv::Scalar(1.5))); }, "would lose values");
  test::expect_invalid([&] { labels.append(cv::Mat(2, 2, CV_64FC1)); }, "'labels' is '<i4'");
  test::expect_invalid([&] { labels.append(cv::Mat(3, 2, CV_32SC1)); }, "3 rows x 2 cols x 1 channels");
  test::expect_invalid([&] { labels.append(cv::Mat(2, 2, CV_32SC2)); }, "does not end the item shape (2, 2, 1)");
  test::expect_invalid([&] { npz.begin("mask", NpyType::u8, {1}); }, "'mask' is used twice");
  test::expect_invalid([&] { npz.begin("../evil", NpyType::u8, {1}); }, "key '../evil'");
  test::expect_invalid([&] { npz.begin("zero", NpyType::u8, {0, 3}); }, "item dimensions > 0");
  test::expect_invalid([&] { npz.add("short", NpyArray{NpyType::i32, {2}, "1234"}); }, "'short' has 4 bytes of data");
  npz.finish();

  NpzReader reader(dir / "c.npz");
  const NpyArray fa = reader.read("f");
  EXPECT_EQ(fa.shape, (std::vector<uint64_t>{1, 2, 2}));
  EXPECT_EQ(item<double>(fa, 0), static_cast<double>(0.1f));
  EXPECT_EQ(item<double>(fa, 3), static_cast<double>(1e-40f));
  EXPECT_EQ(reader.read("mask").data, std::string("\0\1\1\0", 4));
  const NpyArray w = reader.read("wide");
  EXPECT_EQ(item<int64_t>(w, 0), -2147483648LL);
  EXPECT_EQ(item<int64_t>(w, 2), 2147483647LL);
  const auto frames = npy_to_mats(reader.read("rgb"));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(cv::norm(frames[0], big(cv::Rect(1, 1, 3, 2)), cv::NORM_INF), 0.0);
  EXPECT_EQ(reader.read("labels").shape, (std::vector<uint64_t>{0, 2, 2, 1})) << "no frame appended";
}

TEST(Npz, StreamEndingInsideAnItemFailsAndLeavesNothing) {
  test::TempDir dir;
  {
    NpzWriter npz(dir / "half.npz");
    NpyStream& x = npz.begin("X", NpyType::f32, {3, 4, 4, 1});  // movies of 3 frames
    for (int k = 0; k < 4; ++k) x.append(cv::Mat(4, 4, CV_32FC1, cv::Scalar(k)));
    test::expect_invalid([&] { npz.finish(); }, "npz array 'X': 256 bytes were appended, not a whole number");
  }
  EXPECT_EQ(files_in(dir.path()), 0u);
}

TEST(Npz, Crc32MatchesZlib) {
  EXPECT_EQ(npz_crc32(0, "123456789", 9), 0xCBF43926u);
  EXPECT_EQ(npz_crc32(0, "", 0), 0u);
  std::string bytes(1000, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 37 + 11);
  // In pieces of any size (the tail loop and the 8-byte loop) it is the same.
  EXPECT_EQ(npz_crc32(npz_crc32(0, bytes.data(), 333), bytes.data() + 333, 667), npz_crc32(0, bytes.data(), 1000));
  const std::string out = test::run_python(R"(
import sys, zlib
b = bytes((i * 37 + 11) % 256 for i in range(1000))
print('%08x' % zlib.crc32(b))
)");
  EXPECT_EQ(out, fmt::format("{:08x}\n", npz_crc32(0, bytes.data(), 1000)));
}

// Arrays added before, between and after streams, several streams interleaved: every entry is in the
// archive in the order given, CRCs check, numpy loads each one, and no scratch file stays behind.
TEST(Npz, ManyEntriesInOrderLoadInNumpy) {
  test::TempDir dir;
  const auto path = dir / "many.npz";
  {
    NpzWriter npz(path);
    npz.add("first", NpyArray{NpyType::u8, {2, 2}, std::string("\1\2\3\4", 4)});
    npz.add("second", NpyArray{NpyType::i16, {3}, std::string("\1\0\2\0\3\0", 6)});
    NpyStream& a = npz.begin("a", NpyType::i32, {2, 3, 1});
    npz.add("middle", NpyArray{NpyType::u8, {1}, "m"});
    NpyStream& b = npz.begin("b", NpyType::f64, {3, 2});
    NpyStream& c = npz.begin("c", NpyType::u16, {4});
    for (int k = 0; k < 5; ++k) {
      a.append(label_frame(k, 2, 3));
      b.append(cv::Mat(3, 2, CV_32FC1, cv::Scalar(k + 0.5)));
      c.append(std::string_view("\1\0\2\0\3\0\4\0", 8));
    }
    npz.add("last", NpyArray{NpyType::f32, {}, std::string("\0\0\x80\x3f", 4)});
    npz.finish();
  }
  EXPECT_EQ(files_in(dir.path()), 1u);
  {
    std::ofstream plain(dir / "plain");  // permissions of any new file (0666 less the umask), not the scratch 0600
  }
  EXPECT_EQ(std::filesystem::status(path).permissions(), std::filesystem::status(dir / "plain").permissions());
  const std::string out = test::run_python(R"(
import sys, zipfile, numpy as np
z = zipfile.ZipFile(sys.argv[1])
assert z.namelist() == ['first.npy', 'second.npy', 'a.npy', 'middle.npy', 'b.npy', 'c.npy', 'last.npy'], z.namelist()
assert all(i.compress_type == 0 for i in z.infolist())
assert z.testzip() is None, 'CRCs match'
d = np.load(sys.argv[1])
assert d['first'].tolist() == [[1, 2], [3, 4]]
assert d['second'].dtype == np.int16 and d['second'].tolist() == [1, 2, 3]
a = d['a']
k = np.arange(5).reshape(5, 1, 1, 1); r = np.arange(2).reshape(1, 2, 1, 1); c = np.arange(3).reshape(1, 1, 3, 1)
assert a.dtype == np.int32 and np.array_equal(a, k * 1000 + 7 * r + c), a
assert d['middle'].tobytes() == b'm'
b = d['b']
assert b.dtype == np.float64 and b.shape == (5, 3, 2) and np.array_equal(b[:, 0, 0], np.arange(5) + 0.5)
assert d['c'].dtype == np.uint16 and d['c'].shape == (5, 4) and (d['c'] == [1, 2, 3, 4]).all()
assert d['last'].shape == () and d['last'] == 1.0
print('numpy ok')
)", {path.string()});
  EXPECT_NE(out.find("numpy ok"), std::string::npos) << out;
  NpzReader reader(path);
  EXPECT_EQ(reader.keys(), (std::vector<std::string>{"first", "second", "a", "middle", "b", "c", "last"}));
  EXPECT_EQ(reader.read("a").shape, (std::vector<uint64_t>{5, 2, 3, 1}));
  EXPECT_EQ(reader.read("middle").data, "m");
}

TEST(Npz, EmptyWriterAndAbandonedWriter) {
  test::TempDir dir;
  {
    NpzWriter npz(dir / "empty.npz");
    npz.finish();
  }
  EXPECT_TRUE(NpzReader(dir / "empty.npz").keys().empty());
  {
    NpzWriter npz(dir / "gone.npz");
    npz.add("a", NpyArray{NpyType::u8, {1}, "a"});
    npz.begin("X", NpyType::u8, {2}).append(std::string_view("xy"));
  }
  EXPECT_EQ(files_in(dir.path()), 1u) << "only empty.npz";
  const std::string out = test::run_python(R"(
import sys, numpy as np
assert list(np.load(sys.argv[1]).keys()) == []
print('numpy ok')
)", {(dir / "empty.npz").string()});
  EXPECT_NE(out.find("numpy ok"), std::string::npos) << out;
}

// The ZIP64 records (files over 4 GiB) on a small archive with them forced: zipfile and libzip read
// the ZIP64 end record, locator and per-entry extra fields. (A real 4 GiB file takes too long here.)
TEST(Npz, ForcedZip64RecordsAreRead) {
  test::TempDir dir;
  const NpzDosTime when = npz_dos_time(1700000000);
  std::string archive;
  std::vector<NpzZipEntry> entries;
  for (const auto& [key, value] : {std::pair{"X", uint8_t{7}}, {"y", uint8_t{9}}}) {
    const std::string npy = encode_npy(NpyArray{NpyType::u8, {3}, std::string(3, static_cast<char>(value))});
    NpzZipEntry e{std::string(key) + ".npy", archive.size(), npy.size(), npz_crc32(0, npy.data(), npy.size())};
    archive += npz_local_header(e, when);
    archive += npy;
    entries.push_back(e);
  }
  const std::string central = npz_central_directory(entries, archive.size(), when, true);
  EXPECT_NE(central.find("PK\x06\x06"), std::string::npos);
  EXPECT_NE(central.find("PK\x06\x07"), std::string::npos);
  archive += central;
  const auto path = dir / "zip64.npz";
  write_file_atomic(path, archive);
  const std::string out = test::run_python(R"(
import sys, zipfile, numpy as np
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
assert [i.file_size for i in z.infolist()] == [131, 131], [i.file_size for i in z.infolist()]
assert [i.header_offset for i in z.infolist()][0] == 0
assert [i.date_time for i in z.infolist()][0][0] == 2023
d = np.load(sys.argv[1])
assert d['X'].tolist() == [7, 7, 7] and d['y'].tolist() == [9, 9, 9]
print('numpy ok')
)", {path.string()});
  EXPECT_NE(out.find("numpy ok"), std::string::npos) << out;
  NpzReader reader(path);
  EXPECT_EQ(reader.keys(), (std::vector<std::string>{"X", "y"}));
  EXPECT_EQ(reader.read("y").data, "\t\t\t");
}

}  // namespace
}  // namespace tessera::exchange
