#include "tessera/exchange/npy.hpp"

#include <cstring>

#include <gtest/gtest.h>

#include "exchange/python.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "test_util.hpp"

namespace tessera::exchange {
namespace {

constexpr NpyType kAllTypes[] = {NpyType::u8,  NpyType::i8,  NpyType::u16, NpyType::i16, NpyType::u32, NpyType::i32,
                                 NpyType::u64, NpyType::i64, NpyType::f32, NpyType::f64, NpyType::boolean};

// Item i of a test array, the same formula as expected_values() in Python below.
template <typename T>
T value_at(uint64_t i, NpyType type) {
  const bool is_signed = type == NpyType::i8 || type == NpyType::i16 || type == NpyType::i32 || type == NpyType::i64;
  if (type == NpyType::boolean) return static_cast<T>(i % 3 == 0);
  if (type == NpyType::f32 || type == NpyType::f64) return static_cast<T>(static_cast<double>(i) * 0.25 - 3.0);
  return static_cast<T>(static_cast<int64_t>((i * 37) % 101) - (is_signed ? 50 : 0));
}

NpyArray test_array(NpyType type, std::vector<uint64_t> shape) {
  NpyArray a;
  a.type = type;
  a.shape = std::move(shape);
  const uint64_t n = a.item_count();
  a.data.resize(n * npy_item_size(type));
  for (uint64_t i = 0; i < n; ++i) {
    char* p = a.data.data() + i * npy_item_size(type);
    switch (type) {
      case NpyType::u8: case NpyType::boolean: { const auto v = value_at<uint8_t>(i, type); std::memcpy(p, &v, 1); break; }
      case NpyType::i8: { const auto v = value_at<int8_t>(i, type); std::memcpy(p, &v, 1); break; }
      case NpyType::u16: { const auto v = value_at<uint16_t>(i, type); std::memcpy(p, &v, 2); break; }
      case NpyType::i16: { const auto v = value_at<int16_t>(i, type); std::memcpy(p, &v, 2); break; }
      case NpyType::u32: { const auto v = value_at<uint32_t>(i, type); std::memcpy(p, &v, 4); break; }
      case NpyType::i32: { const auto v = value_at<int32_t>(i, type); std::memcpy(p, &v, 4); break; }
      case NpyType::u64: { const auto v = value_at<uint64_t>(i, type); std::memcpy(p, &v, 8); break; }
      case NpyType::i64: { const auto v = value_at<int64_t>(i, type); std::memcpy(p, &v, 8); break; }
      case NpyType::f32: { const auto v = value_at<float>(i, type); std::memcpy(p, &v, 4); break; }
      case NpyType::f64: { const auto v = value_at<double>(i, type); std::memcpy(p, &v, 8); break; }
    }
  }
  return a;
}

// A hand-made .npy: version, dict text (padded to `align`) and data.
std::string handmade(int major, const std::string& dict, const std::string& data, size_t align = 64) {
  const size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((prefix + header.size() + 1) % align != 0) header += ' ';
  header += '\n';
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += '\0';
  for (size_t i = 0; i < prefix - 8; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  return out + header + data;
}

std::string floats(std::initializer_list<float> values) {
  std::string out(values.size() * 4, '\0');
  std::memcpy(out.data(), values.begin(), out.size());
  return out;
}

TEST(Npy, HeaderIsVersion1AlignedTo64Bytes) {
  const uint64_t shape[] = {2, 3, 4, 1};
  const std::string h = npy_header(NpyType::f32, shape);
  EXPECT_EQ(h.size() % 64, 0u);
  EXPECT_EQ(h.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_NE(h.find("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4, 1), }"), std::string::npos);
  EXPECT_EQ(h.back(), '\n');
  const uint64_t one[] = {5};
  EXPECT_NE(npy_header(NpyType::u8, one).find("'shape': (5,)"), std::string::npos);
  EXPECT_NE(npy_header(NpyType::boolean, {}).find("'descr': '|b1', 'fortran_order': False, 'shape': ()"),
            std::string::npos);
  EXPECT_EQ(npy_header(NpyType::u8, one, 300).size(), 320u) << "padded to the reserve, still 64-aligned";
  // A header that cannot fit in 65535 bytes switches to version 2.0 with a 4-byte length.
  const std::vector<uint64_t> many(30000, 1);
  const std::string big = npy_header(NpyType::u8, many);
  EXPECT_EQ(big[6], 2);
  EXPECT_EQ(big.size() % 64, 0u);
  EXPECT_EQ(parse_npy_header(big).shape.size(), 30000u);
}

TEST(Npy, EveryTypeRoundTrips) {
  for (const NpyType type : kAllTypes) {
    SCOPED_TRACE(std::string(npy_descr(type)));
    const NpyArray a = test_array(type, {2, 3, 5});
    const std::string bytes = encode_npy(a);
    EXPECT_EQ(parse_npy_header(bytes).data_offset % 64, 0u);
    const NpyArray b = decode_npy(bytes);
    EXPECT_EQ(b.type, type);
    EXPECT_EQ(b.shape, a.shape);
    EXPECT_EQ(b.data, a.data);
  }
  const NpyArray scalar = decode_npy(encode_npy(test_array(NpyType::f64, {})));
  EXPECT_TRUE(scalar.shape.empty());
  EXPECT_EQ(scalar.data.size(), 8u);
  const NpyArray empty = decode_npy(encode_npy(test_array(NpyType::i32, {0, 4})));
  EXPECT_EQ(empty.shape, (std::vector<uint64_t>{0, 4}));
}

TEST(Npy, ReadsHeaderVariationsNumpyAndOthersWrite) {
  const std::string data = floats({1, 2, 3, 4, 5, 6});
  for (const auto& [major, dict, align] : std::vector<std::tuple<int, std::string, size_t>>{
           {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 64},
           {1, "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}", 64},
           {1, "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2L, 3L)}", 16},  // Python 2, old numpy
           {2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3,), }", 64},
           {3, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 64},
       }) {
    SCOPED_TRACE(dict);
    const NpyArray a = decode_npy(handmade(major, dict, data, align));
    EXPECT_EQ(a.type, NpyType::f32);
    EXPECT_EQ(a.shape, (std::vector<uint64_t>{2, 3}));
    EXPECT_EQ(a.data, data);
  }
}

TEST(Npy, FortranOrderIsTransposedToCOrder) {
  // a[i][j][k] = 100i + 10j + k for shape (2, 3, 4), stored with i fastest.
  std::string fortran;
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 3; ++j)
      for (int i = 0; i < 2; ++i) fortran += static_cast<char>(100 * i + 10 * j + k);
  const NpyArray a = decode_npy(handmade(1, "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3, 4), }", fortran));
  ASSERT_EQ(a.data.size(), 24u);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) EXPECT_EQ(static_cast<unsigned char>(a.data[i * 12 + j * 4 + k]), 100 * i + 10 * j + k);
}

TEST(Npy, RejectsWhatItCannotReadWithClearErrors) {
  auto expect = [](const std::string& bytes, ErrorCode code, const std::string& text) {
    try {
      decode_npy(bytes, "labels.npy");
      ADD_FAILURE() << "no error; expected " << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("labels.npy"), std::string::npos) << e.what();
    }
  };
  const std::string data = floats({1, 2});
  expect(handmade(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", data), ErrorCode::unsupported,
         "big-endian");
  expect(handmade(1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", data), ErrorCode::unsupported,
         "object array");
  expect(handmade(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", data), ErrorCode::unsupported,
         "'<c8' is not supported");
  expect(handmade(1, "{'descr': '<U4', 'fortran_order': False, 'shape': (1,), }", data), ErrorCode::unsupported,
         "'<U4'");
  expect(handmade(1, "{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (2,), }", data),
         ErrorCode::unsupported, "structured");
  expect(handmade(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", data), ErrorCode::corrupt,
         "needs 12 bytes of data, the file has 8");
  expect(handmade(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", data), ErrorCode::corrupt,
         "needs 4 bytes");
  expect(handmade(1, "{'descr': '<f4', 'shape': (2,), }", data), ErrorCode::corrupt, "needs 'descr'");
  expect(handmade(1, "{'descr': '<f4', 'fortran_order': Nope, 'shape': (2,), }", data), ErrorCode::corrupt,
         "True or False");
  expect(handmade(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", data), ErrorCode::corrupt,
         "non-negative integer");
  expect("PK\x03\x04 a zip, not an npy", ErrorCode::corrupt, "magic");
  std::string v9 = handmade(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data);
  v9[6] = 9;
  expect(v9, ErrorCode::unsupported, "version 9");
  std::string truncated = handmade(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data);
  expect(truncated.substr(0, 40), ErrorCode::corrupt, "header is longer than the data");
  NpyArray bad = test_array(NpyType::i32, {2, 2});
  bad.data.pop_back();
  test::expect_invalid([&] { encode_npy(bad); }, "needs 16 bytes of data, has 15");
}

TEST(Npy, MatStacksRoundTrip) {
  std::vector<cv::Mat> frames;
  for (int i = 0; i < 3; ++i) {
    cv::Mat m(4, 5, CV_16UC3);
    cv::randu(m, 0, 65535);
    frames.push_back(m);
  }
  const NpyArray a = npy_from_mats(frames);
  EXPECT_EQ(a.type, NpyType::u16);
  EXPECT_EQ(a.shape, (std::vector<uint64_t>{3, 4, 5, 3}));
  const auto back = npy_to_mats(decode_npy(encode_npy(a)));
  ASSERT_EQ(back.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(cv::norm(back[i], frames[i], cv::NORM_INF), 0.0);
  // A region of a larger Mat (not contiguous) stacks by rows.
  cv::Mat big(10, 10, CV_32FC1);
  cv::randu(big, -1, 1);
  const cv::Mat roi = big(cv::Rect(2, 3, 4, 5));
  const NpyArray r = npy_from_mats(std::vector<cv::Mat>{roi});
  EXPECT_EQ(r.shape, (std::vector<uint64_t>{1, 5, 4, 1}));
  EXPECT_EQ(cv::norm(npy_to_mats(r)[0], roi, cv::NORM_INF), 0.0);
  const NpyArray gray = test_array(NpyType::i32, {2, 3, 4});
  const auto g = npy_to_mats(gray, false);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[1].type(), CV_32SC1);
  EXPECT_EQ(g[1].at<int32_t>(2, 3), value_at<int32_t>(12 + 11, NpyType::i32));
  test::expect_invalid([&] { npy_from_mats(std::vector<cv::Mat>{frames[0], roi}); }, "frame 1");
  EXPECT_THROW(npy_to_mats(test_array(NpyType::i64, {1, 2, 2, 1})), Error);
}

TEST(Npy, NumpyLoadsWhatWeWriteAndWeReadWhatNumpyWrites) {
  test::TempDir dir;
  for (const NpyType type : kAllTypes) {
    write_file_atomic(dir / fmt::format("ours_{}.npy", npy_descr(type).substr(1)), encode_npy(test_array(type, {3, 4, 5})));
  }
  const std::string out = test::run_python(R"(
import sys, numpy as np
d = sys.argv[1]
def expected(dt, shape):
    i = np.arange(int(np.prod(shape)), dtype=np.int64)
    k = np.dtype(dt).kind
    if k == 'b': v = (i % 3 == 0)
    elif k == 'f': v = i * 0.25 - 3.0
    else: v = (i * 37) % 101 - (50 if k == 'i' else 0)
    return v.astype(dt).reshape(shape)
for code in ['u1', 'i1', 'u2', 'i2', 'u4', 'i4', 'u8', 'i8', 'f4', 'f8', 'b1']:
    a = np.load(f'{d}/ours_{code}.npy')
    e = expected(code, (3, 4, 5))
    assert a.dtype == e.dtype and a.shape == e.shape and np.array_equal(a, e), code
    # and numpy's own files for us to read, C and Fortran order
    np.save(f'{d}/theirs_{code}.npy', e)
    np.save(f'{d}/theirs_f_{code}.npy', np.asfortranarray(e))
np.save(f'{d}/big_endian.npy', np.arange(4, dtype='>i4'))
np.save(f'{d}/objects.npy', np.array([{'a': 1}, None], dtype=object), allow_pickle=True)
print('numpy ok')
)", {dir.path().string()});
  EXPECT_NE(out.find("numpy ok"), std::string::npos) << out;
  for (const NpyType type : kAllTypes) {
    const std::string code(npy_descr(type).substr(1));
    SCOPED_TRACE(code);
    const NpyArray want = test_array(type, {3, 4, 5});
    for (const char* prefix : {"theirs_", "theirs_f_"}) {
      const NpyArray got = decode_npy(read_file(dir / fmt::format("{}{}.npy", prefix, code)));
      EXPECT_EQ(got.type, type);
      EXPECT_EQ(got.shape, want.shape);
      EXPECT_EQ(got.data, want.data) << prefix;
    }
  }
  EXPECT_EQ(parse_npy_header(read_file(dir / "theirs_f_f4.npy")).fortran_order, true);
  try {
    decode_npy(read_file(dir / "big_endian.npy"), "big_endian.npy");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find("'>i4' is big-endian"), std::string::npos) << e.what();
  }
  try {
    decode_npy(read_file(dir / "objects.npy"), "objects.npy");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find("object array"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tessera::exchange
