#include "exchange/npy_stream.hpp"

#include <cstring>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "tessera/core/error.hpp"

namespace tessera::exchange {
namespace {

bool is_integer_depth(int depth) {
  return depth == CV_8U || depth == CV_8S || depth == CV_16U || depth == CV_16S || depth == CV_32S;
}

// Range of values a depth holds, for "no value can change" checks.
std::pair<double, double> depth_range(int depth) {
  switch (depth) {
    case CV_8U: return {0, 255};
    case CV_8S: return {-128, 127};
    case CV_16U: return {0, 65535};
    case CV_16S: return {-32768, 32767};
    default: return {-2147483648.0, 2147483647.0};
  }
}

std::pair<double, double> type_range(NpyType type) {
  switch (type) {
    case NpyType::u8: return {0, 255};
    case NpyType::i8: return {-128, 127};
    case NpyType::u16: return {0, 65535};
    case NpyType::i16: return {-32768, 32767};
    case NpyType::u32: return {0, 4294967295.0};
    case NpyType::i32: return {-2147483648.0, 2147483647.0};
    case NpyType::u64: return {0, 1.8446744073709552e19};
    case NpyType::i64: return {-9.2233720368547758e18, 9.2233720368547758e18};
    default: return {0, 0};
  }
}

// Whether every value of `depth` converts to `type` unchanged (allowing int32 -> float32 rounding).
bool converts_losslessly(int depth, NpyType type) {
  if (type == NpyType::boolean) return depth == CV_8U;
  if (type == NpyType::f64) return depth != CV_16F;
  if (type == NpyType::f32) return is_integer_depth(depth) || depth == CV_32F;
  if (!is_integer_depth(depth)) return false;
  const auto [lo, hi] = depth_range(depth);
  const auto [tlo, thi] = type_range(type);
  return lo >= tlo && hi <= thi;
}

// The frame's values as items of `type`, C order.
std::string frame_items(const cv::Mat& frame, NpyType type) {
  cv::Mat src = frame.isContinuous() ? frame : frame.clone();
  const size_t count = src.total() * static_cast<size_t>(src.channels());
  if (type == NpyType::boolean) {
    std::string out(count, '\0');
    const auto* p = src.ptr<uint8_t>();
    for (size_t i = 0; i < count; ++i) out[i] = p[i] != 0 ? 1 : 0;
    return out;
  }
  if (type == NpyType::u32 || type == NpyType::u64 || type == NpyType::i64) {
    // No OpenCV depth: widen through int32 (lossless for every integer depth that is allowed here).
    cv::Mat wide;
    src.convertTo(wide, CV_MAKETYPE(CV_32S, src.channels()));
    std::string out(count * npy_item_size(type), '\0');
    const auto* p = wide.ptr<int32_t>();
    for (size_t i = 0; i < count; ++i) {
      if (type == NpyType::u32) {
        const auto v = static_cast<uint32_t>(p[i]);
        std::memcpy(out.data() + 4 * i, &v, 4);
      } else {
        const auto v = static_cast<int64_t>(p[i]);  // same bytes as uint64 for the non-negative values allowed
        std::memcpy(out.data() + 8 * i, &v, 8);
      }
    }
    return out;
  }
  cv::Mat converted;
  src.convertTo(converted, CV_MAKETYPE(npy_cv_depth(type), src.channels()));
  return std::string(reinterpret_cast<const char*>(converted.data), count * npy_item_size(type));
}

}  // namespace

NpyStream::NpyStream(std::unique_ptr<State> state) : state_(std::move(state)) {}

NpyStream::~NpyStream() = default;

void NpyStream::append(std::string_view bytes) {
  if (state_->closed) {
    throw Error(ErrorCode::invalid_argument, fmt::format("npz array '{}': append after finish()", state_->key));
  }
  state_->file->append(bytes);
  state_->data_bytes += bytes.size();
}

void NpyStream::append(const cv::Mat& frame) {
  const State& s = *state_;
  const auto& item = s.item_shape;
  const size_t n = item.size();
  const auto rows = static_cast<uint64_t>(frame.rows), cols = static_cast<uint64_t>(frame.cols),
             channels = static_cast<uint64_t>(frame.channels());
  const bool with_channels = n >= 3 && item[n - 3] == rows && item[n - 2] == cols && item[n - 1] == channels;
  const bool without_channels = channels == 1 && n >= 2 && item[n - 2] == rows && item[n - 1] == cols;
  if (frame.dims != 2 || (!with_channels && !without_channels)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("npz array '{}': a frame of {} rows x {} cols x {} channels does not end the item "
                            "shape ({})", s.key, rows, cols, channels, fmt::join(item, ", ")));
  }
  if (!converts_losslessly(frame.depth(), s.type)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("npz array '{}' is '{}': a frame of OpenCV depth {} would lose values", s.key,
                            npy_descr(s.type), frame.depth()));
  }
  // Same depth and contiguous: the frame's bytes are already the items (bool needs 0/1 normalising).
  const bool same = s.type != NpyType::boolean && s.type != NpyType::u32 && s.type != NpyType::u64 &&
                    s.type != NpyType::i64 && npy_cv_depth(s.type) == frame.depth();
  if (same && frame.isContinuous()) {
    append(std::string_view(reinterpret_cast<const char*>(frame.data), frame.total() * frame.elemSize()));
  } else {
    append(frame_items(frame, s.type));
  }
}

uint64_t NpyStream::length() const { return state_->data_bytes / state_->item_bytes; }

const std::vector<uint64_t>& NpyStream::item_shape() const { return state_->item_shape; }

NpyType NpyStream::type() const { return state_->type; }

void NpyStream::State::finalize() {
  if (data_bytes % item_bytes != 0) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("npz array '{}': {} bytes were appended, not a whole number of items of shape ({}) "
                            "({} bytes each)", key, data_bytes, fmt::join(item_shape, ", "), item_bytes));
  }
  std::vector<uint64_t> shape{data_bytes / item_bytes};
  shape.insert(shape.end(), item_shape.begin(), item_shape.end());
  const std::string header = npy_header(type, shape, header_size);
  if (header.size() != header_size) {
    throw Error(ErrorCode::internal, fmt::format("npz array '{}': header outgrew its reserved space", key));
  }
  file->flush();
  file->write_at(0, header);
  closed = true;
}

}  // namespace tessera::exchange
