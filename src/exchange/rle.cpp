#include "tessera/exchange/rle.hpp"

#include <fmt/format.h>

#include "tessera/core/error.hpp"

namespace tessera::exchange {

std::uint64_t CocoRle::area() const {
  std::uint64_t sum = 0;
  for (size_t i = 1; i < counts.size(); i += 2) sum += counts[i];
  return sum;
}

CocoRle rle_encode(const cv::Mat& mask) {
  if (mask.type() != CV_8UC1) {
    throw Error(ErrorCode::invalid_argument, "rle_encode: the mask must be 8-bit single-channel");
  }
  CocoRle rle{mask.rows, mask.cols, {}};
  // Column-major walk: transposing first makes each column a contiguous row.
  cv::Mat columns = mask.t();
  bool current = false;
  std::uint32_t run = 0;
  for (int c = 0; c < columns.rows; ++c) {
    const std::uint8_t* p = columns.ptr<std::uint8_t>(c);
    for (int r = 0; r < columns.cols; ++r) {
      const bool set = p[r] != 0;
      if (set != current) {
        rle.counts.push_back(run);
        run = 0;
        current = set;
      }
      ++run;
    }
  }
  if (run > 0 || rle.counts.empty()) rle.counts.push_back(run);
  return rle;
}

cv::Mat rle_decode(const CocoRle& rle, std::string_view name) {
  if (rle.height < 0 || rle.width < 0) {
    throw Error(ErrorCode::corrupt, fmt::format("{}: size [{}, {}] is negative", name, rle.height, rle.width));
  }
  const std::uint64_t total = std::uint64_t(rle.height) * std::uint64_t(rle.width);
  std::uint64_t sum = 0;
  for (auto count : rle.counts) sum += count;
  if (sum != total) {
    throw Error(ErrorCode::corrupt, fmt::format("{}: counts add up to {} but size [{}, {}] needs {}", name, sum,
                                                rle.height, rle.width, total));
  }
  cv::Mat columns(rle.width, rle.height, CV_8UC1, cv::Scalar(0));
  std::uint8_t* data = columns.ptr<std::uint8_t>(0);  // freshly allocated: continuous
  std::uint64_t at = 0;
  for (size_t i = 0; i < rle.counts.size(); ++i) {
    if (i % 2 == 1) std::fill(data + at, data + at + rle.counts[i], std::uint8_t(255));
    at += rle.counts[i];
  }
  return columns.t();
}

std::string rle_compress(const std::vector<std::uint32_t>& counts) {
  std::string out;
  for (size_t i = 0; i < counts.size(); ++i) {
    std::int64_t d = counts[i];
    if (i > 2) d -= std::int64_t(counts[i - 2]);
    bool more = true;
    while (more) {
      std::int64_t c = d & 0x1f;
      d >>= 5;  // arithmetic shift on signed values, as pycocotools relies on
      more = (c & 0x10) ? d != -1 : d != 0;
      if (more) c |= 0x20;
      out.push_back(static_cast<char>(c + 48));
    }
  }
  return out;
}

std::vector<std::uint32_t> rle_decompress(std::string_view text, std::string_view name) {
  std::vector<std::uint32_t> counts;
  size_t p = 0;
  while (p < text.size()) {
    std::int64_t x = 0;
    int k = 0;
    bool more = true;
    while (more) {
      if (p >= text.size()) {
        throw Error(ErrorCode::corrupt, fmt::format("{}: compressed counts end inside a number", name));
      }
      const int ch = static_cast<unsigned char>(text[p]);
      if (ch < 48 || ch > 48 + 63) {
        throw Error(ErrorCode::corrupt,
                    fmt::format("{}: character '{}' at {} is not a compressed RLE digit", name, text[p], p));
      }
      if (k > 12) throw Error(ErrorCode::corrupt, fmt::format("{}: a count at {} is too long", name, p));
      const std::int64_t c = ch - 48;
      x |= (c & 0x1f) << (5 * k);
      more = (c & 0x20) != 0;
      ++p;
      ++k;
      if (!more && (c & 0x10)) x |= -(std::int64_t(1) << (5 * k));
    }
    if (counts.size() > 2) x += counts[counts.size() - 2];
    if (x < 0 || x > std::int64_t(UINT32_MAX)) {
      throw Error(ErrorCode::corrupt, fmt::format("{}: count {} is {}", name, counts.size(), x));
    }
    counts.push_back(static_cast<std::uint32_t>(x));
  }
  return counts;
}

}  // namespace tessera::exchange
