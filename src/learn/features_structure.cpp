// The fused structure tensor: for each input row of the band and its margins, the three products (from
// derivative_row) are padded and blurred horizontally into three band buffers; each output row then blurs
// the three buffers vertically into row buffers and takes their eigenvalues. Memory traffic, not arithmetic,
// was what the separate product and blur images cost.

#include "features_structure.hpp"

#include "features_gaussian.hpp"

namespace tessera::learn::features {
namespace {

// Per-thread scratch, kept between calls so that repeated bands do not fault in fresh pages.
struct StructureScratch {
  std::vector<float> padded[3];      // xx, yy, xy of one input row, `radius` reflected pixels each side
  std::vector<float> horizontal[3];  // their horizontal blurs over the band and its margins
  std::vector<float> vertical[3];    // one output row of each, fully blurred
};

void structure_piece(const cv::Mat& smooth, const std::vector<float>& half_kernel, float scale, cv::Mat& first,
                     cv::Mat& second, int first_row, int end_row, Simd simd) {
  thread_local StructureScratch scratch;
  const int radius = static_cast<int>(half_kernel.size()) - 1;
  const int width = smooth.cols, height = smooth.rows;
  const int band_rows = end_row - first_row + 2 * radius;
  for (int c = 0; c < 3; ++c) {
    scratch.padded[c].resize(static_cast<size_t>(width + 2 * radius));
    scratch.horizontal[c].resize(static_cast<size_t>(band_rows) * width);
    scratch.vertical[c].resize(static_cast<size_t>(width));
  }
  for (int r = 0; r < band_rows; ++r) {
    const int y = reflect_index(first_row - radius + r, height);
    DerivativeRow row;
    row.above = smooth.ptr<float>(y > 0 ? y - 1 : 0);
    row.center = smooth.ptr<float>(y);
    row.below = smooth.ptr<float>(y + 1 < height ? y + 1 : height - 1);
    row.width = width;
    row.structure_xx = scratch.padded[0].data() + radius;
    row.structure_yy = scratch.padded[1].data() + radius;
    row.structure_xy = scratch.padded[2].data() + radius;
    derivative_row(row, simd);
    for (int c = 0; c < 3; ++c) {
      float* padded = scratch.padded[c].data();
      pad_reflected(padded + radius, width, radius, padded);
      symmetric_sum(padded + radius, 1, half_kernel.data(), radius, width,
                    scratch.horizontal[c].data() + static_cast<size_t>(r) * width, simd);
    }
  }
  for (int y = first_row; y < end_row; ++y) {
    const size_t offset = static_cast<size_t>(y - first_row + radius) * width;
    for (int c = 0; c < 3; ++c) {
      symmetric_sum(scratch.horizontal[c].data() + offset, width, half_kernel.data(), radius, width,
                    scratch.vertical[c].data(), simd);
    }
    eigenvalue_row(scratch.vertical[0].data(), scratch.vertical[2].data(), scratch.vertical[1].data(), width, scale,
                   first.ptr<float>(y), second.ptr<float>(y), simd);
  }
}

}  // namespace

void structure_tensor_rows(const cv::Mat& smooth, const std::vector<float>& half_kernel, float scale, cv::Mat& first,
                           cv::Mat& second, int first_row, int end_row, Simd simd) {
  const int piece = rows_per_scratch(smooth.cols, static_cast<int>(half_kernel.size()) - 1);
  for (int row = first_row; row < end_row; row += piece) {
    structure_piece(smooth, half_kernel, scale, first, second, row, std::min(end_row, row + piece), simd);
  }
}

}  // namespace tessera::learn::features
