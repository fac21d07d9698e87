#include "tessera/exchange/npz.hpp"

#include <cstring>

#include <gtest/gtest.h>

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
    EXPECT_EQ(files_in(dir.path()), 3u) << "three scratch files, no archive yet";
    npz.finish();
  }
  EXPECT_EQ(files_in(dir.path()), 1u);

  const std::string out = test::run_python(R"(
import sys, zipfile, numpy as np
z = zipfile.ZipFile(sys.argv[1])
assert [i.compress_type for i in z.infolist()] == [0, 0, 0], 'entries are stored'
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

}  // namespace
}  // namespace tessera::exchange
