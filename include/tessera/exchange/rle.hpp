#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

namespace tessera::exchange {

// A binary mask as COCO run lengths (formats.md 5.2): the height x width mask flattened column-major
// (down the first column, then the next), runs alternating 0s and 1s, starting with a run of 0s (of
// length 0 when the first pixel is set). The counts add up to height * width.
struct CocoRle {
  int height = 0;
  int width = 0;
  std::vector<std::uint32_t> counts;

  std::uint64_t area() const;  // set pixels: the sum of the odd-indexed counts
  bool operator==(const CocoRle&) const = default;
};

// The runs of an 8-bit single-channel mask (non-zero = set). Error{invalid_argument} for another type.
CocoRle rle_encode(const cv::Mat& mask);

// The mask (CV_8UC1, 255 = set). Error{corrupt} naming `name` when the counts do not add up to
// height * width or the size is negative.
cv::Mat rle_decode(const CocoRle& rle, std::string_view name = "rle");

// pycocotools' compressed counts string (LEB128-like 5-bit groups, deltas from the count two back for
// i >= 3, characters from '0'): "5220012" for counts [5, 2, 2, 2, 2, 3, 4].
std::string rle_compress(const std::vector<std::uint32_t>& counts);

// The opposite; Error{corrupt} naming `name` for a character outside the alphabet, a string that ends
// inside a number or a negative count.
std::vector<std::uint32_t> rle_decompress(std::string_view text, std::string_view name = "rle");

}  // namespace tessera::exchange
