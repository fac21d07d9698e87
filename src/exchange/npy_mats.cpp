// cv::Mat <-> NpyArray: the bridge between tessera's images and NumPy stacks.
#include <cstring>

#include <fmt/format.h>

#include "tessera/core/error.hpp"
#include "tessera/exchange/npy.hpp"

namespace tessera::exchange {

int npy_cv_depth(NpyType type) {
  switch (type) {
    case NpyType::u8: return CV_8U;
    case NpyType::boolean: return CV_8U;
    case NpyType::i8: return CV_8S;
    case NpyType::u16: return CV_16U;
    case NpyType::i16: return CV_16S;
    case NpyType::i32: return CV_32S;
    case NpyType::f32: return CV_32F;
    case NpyType::f64: return CV_64F;
    case NpyType::u32:
    case NpyType::u64:
    case NpyType::i64: break;
  }
  throw Error(ErrorCode::unsupported,
              fmt::format("dtype '{}' has no OpenCV pixel type (convert it to int32 or float first)", npy_descr(type)));
}

NpyType npy_type_of_depth(int cv_depth) {
  switch (cv_depth) {
    case CV_8U: return NpyType::u8;
    case CV_8S: return NpyType::i8;
    case CV_16U: return NpyType::u16;
    case CV_16S: return NpyType::i16;
    case CV_32S: return NpyType::i32;
    case CV_32F: return NpyType::f32;
    case CV_64F: return NpyType::f64;
    default: break;
  }
  throw Error(ErrorCode::unsupported, fmt::format("OpenCV depth {} has no NumPy dtype here", cv_depth));
}

NpyArray npy_from_mats(std::span<const cv::Mat> frames) {
  if (frames.empty()) throw Error(ErrorCode::invalid_argument, "cannot stack an empty list of frames");
  const cv::Mat& first = frames.front();
  NpyArray array;
  array.type = npy_type_of_depth(first.depth());
  array.shape = {frames.size(), static_cast<uint64_t>(first.rows), static_cast<uint64_t>(first.cols),
                 static_cast<uint64_t>(first.channels())};
  const size_t row_bytes = static_cast<size_t>(first.cols) * first.elemSize();
  array.data.reserve(frames.size() * row_bytes * static_cast<size_t>(first.rows));
  for (size_t i = 0; i < frames.size(); ++i) {
    const cv::Mat& f = frames[i];
    if (f.dims != 2 || f.size() != first.size() || f.type() != first.type()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("frame {} is {}x{} type {}, frame 0 is {}x{} type {}", i, f.cols, f.rows, f.type(),
                              first.cols, first.rows, first.type()));
    }
    for (int y = 0; y < f.rows; ++y) array.data.append(f.ptr<char>(y), row_bytes);
  }
  return array;
}

std::vector<cv::Mat> npy_to_mats(const NpyArray& array, bool channels_last) {
  const size_t n = array.shape.size();
  const size_t image_axes = channels_last ? 3 : 2;
  if (n < image_axes) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("an array of {} axes has no ({}) image axes", n, channels_last ? "rows, cols, channels"
                                                                                           : "rows, cols"));
  }
  const uint64_t rows = array.shape[n - image_axes];
  const uint64_t cols = array.shape[n - image_axes + 1];
  const uint64_t channels = channels_last ? array.shape[n - 1] : 1;
  if (channels < 1 || channels > CV_CN_MAX || rows > INT32_MAX || cols > INT32_MAX) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{} rows x {} cols x {} channels cannot be a cv::Mat", rows, cols, channels));
  }
  uint64_t count = 1;
  for (size_t k = 0; k + image_axes < n; ++k) count *= array.shape[k];
  const int type = CV_MAKETYPE(npy_cv_depth(array.type), static_cast<int>(channels));
  const size_t bytes = static_cast<size_t>(rows * cols * channels) * npy_item_size(array.type);
  if (array.data.size() != bytes * count) {
    throw Error(ErrorCode::invalid_argument, "array data does not match its shape");
  }
  std::vector<cv::Mat> out;
  out.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    cv::Mat m(static_cast<int>(rows), static_cast<int>(cols), type);
    if (bytes > 0) std::memcpy(m.data, array.data.data() + i * bytes, bytes);
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace tessera::exchange
