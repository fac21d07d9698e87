// The Gaussian blur: a horizontal pass over the band's rows plus `radius` rows above and below into a
// per-thread buffer, then a vertical pass from that buffer. The AVX2 path accumulates four vectors (32 pixels)
// at once so that consecutive adds do not wait on each other; each lane does exactly what the portable loop
// does for its pixel. Sums run from the kernel's tails inward and add the centre last, small terms before
// large ones, which rounds least. Separate multiplies and adds rather than fused multiply-adds: they measured no slower
// here, keep the paths bitwise equal, and keep the portable path fast on CPUs without FMA (where std::fma is
// a library call).

#include "features_gaussian.hpp"

#include <algorithm>
#include <cmath>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TESSERA_GAUSSIAN_X86 1
#else
#define TESSERA_GAUSSIAN_X86 0
#endif

namespace tessera::learn::features {
namespace {

void symmetric_sum_portable(const float* center, std::ptrdiff_t step, const float* weights, int radius, int begin,
                            int end, float* out) {
  for (int x = begin; x < end; ++x) {
    float sum = 0;
    for (int k = radius; k >= 1; --k) sum += weights[k] * (center[x - k * step] + center[x + k * step]);
    out[x] = sum + weights[0] * center[x];
  }
}

#if TESSERA_GAUSSIAN_X86

// Returns where it stopped; the portable loop finishes the row.
__attribute__((target("avx2"))) int symmetric_sum_avx2(const float* center, std::ptrdiff_t step,
                                                           const float* weights, int radius, int width, float* out) {
  const __m256 w0 = _mm256_set1_ps(weights[0]);
  int x = 0;
  for (; x + 32 <= width; x += 32) {
    const float* c = center + x;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (int k = radius; k >= 1; --k) {
      const __m256 w = _mm256_set1_ps(weights[k]);
      const float* m = c - k * step;
      const float* p = c + k * step;
      a0 = _mm256_add_ps(a0, _mm256_mul_ps(w, _mm256_add_ps(_mm256_loadu_ps(m), _mm256_loadu_ps(p))));
      a1 = _mm256_add_ps(a1, _mm256_mul_ps(w, _mm256_add_ps(_mm256_loadu_ps(m + 8), _mm256_loadu_ps(p + 8))));
      a2 = _mm256_add_ps(a2, _mm256_mul_ps(w, _mm256_add_ps(_mm256_loadu_ps(m + 16), _mm256_loadu_ps(p + 16))));
      a3 = _mm256_add_ps(a3, _mm256_mul_ps(w, _mm256_add_ps(_mm256_loadu_ps(m + 24), _mm256_loadu_ps(p + 24))));
    }
    _mm256_storeu_ps(out + x, _mm256_add_ps(a0, _mm256_mul_ps(w0, _mm256_loadu_ps(c))));
    _mm256_storeu_ps(out + x + 8, _mm256_add_ps(a1, _mm256_mul_ps(w0, _mm256_loadu_ps(c + 8))));
    _mm256_storeu_ps(out + x + 16, _mm256_add_ps(a2, _mm256_mul_ps(w0, _mm256_loadu_ps(c + 16))));
    _mm256_storeu_ps(out + x + 24, _mm256_add_ps(a3, _mm256_mul_ps(w0, _mm256_loadu_ps(c + 24))));
  }
  for (; x + 8 <= width; x += 8) {
    const float* c = center + x;
    __m256 a = _mm256_setzero_ps();
    for (int k = radius; k >= 1; --k) {
      const __m256 sum = _mm256_add_ps(_mm256_loadu_ps(c - k * step), _mm256_loadu_ps(c + k * step));
      a = _mm256_add_ps(a, _mm256_mul_ps(_mm256_set1_ps(weights[k]), sum));
    }
    _mm256_storeu_ps(out + x, _mm256_add_ps(a, _mm256_mul_ps(w0, _mm256_loadu_ps(c))));
  }
  return x;
}

#endif

// Per-thread scratch, kept between calls so that repeated blurs do not fault in fresh pages.
struct BlurScratch {
  std::vector<float> padded;      // one input row with `radius` reflected pixels each side
  std::vector<float> horizontal;  // the horizontal pass of the band and its margins
};

}  // namespace

int gaussian_radius(double sigma) { return std::max(1, static_cast<int>(std::lround(kTruncate * sigma))); }

int reflect_index(int i, int n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
  return i;
}

std::vector<float> gaussian_half_kernel(double sigma, int radius) {
  // As cv::getGaussianKernel: weights in double, normalised over the whole kernel, then rounded to float.
  std::vector<double> weights(static_cast<size_t>(radius) + 1);
  double sum = 0;
  for (int k = 0; k <= radius; ++k) {
    weights[k] = std::exp(-0.5 * k * k / (sigma * sigma));
    sum += k == 0 ? weights[k] : 2 * weights[k];
  }
  std::vector<float> half(weights.size());
  for (size_t k = 0; k < half.size(); ++k) half[k] = static_cast<float>(weights[k] / sum);
  return half;
}

void pad_reflected(const float* row, int width, int radius, float* padded) {
  if (row != padded + radius) std::copy(row, row + width, padded + radius);
  for (int k = 1; k <= radius; ++k) {
    padded[radius - k] = row[reflect_index(-k, width)];
    padded[radius + width - 1 + k] = row[reflect_index(width - 1 + k, width)];
  }
}

void symmetric_sum(const float* center, std::ptrdiff_t step, const float* weights, int radius, int width, float* out,
                   Simd simd) {
  int x = 0;
#if TESSERA_GAUSSIAN_X86
  if (simd == Simd::avx2) x = symmetric_sum_avx2(center, step, weights, radius, width, out);
#else
  (void)simd;
#endif
  symmetric_sum_portable(center, step, weights, radius, x, width, out);
}

// At least 2 radii of rows a piece: each piece recomputes the horizontal pass of its 2 radii of margin rows, so
// thinner pieces multiply the work (1-row pieces on 20,000-wide images made the sigma-10 blur 10x slower).
int rows_per_scratch(int width, int radius) { return std::max(2 * radius, kScratchFloats / width - 2 * radius); }

namespace {

void blur_piece(const cv::Mat& input, cv::Mat& output, const std::vector<float>& half_kernel, int first_row,
                int end_row, Simd simd) {
  thread_local BlurScratch scratch;
  const int radius = static_cast<int>(half_kernel.size()) - 1;
  const int width = input.cols, height = input.rows;
  const int band_rows = end_row - first_row + 2 * radius;
  scratch.padded.resize(static_cast<size_t>(width + 2 * radius));
  scratch.horizontal.resize(static_cast<size_t>(band_rows) * width);
  for (int r = 0; r < band_rows; ++r) {
    pad_reflected(input.ptr<float>(reflect_index(first_row - radius + r, height)), width, radius,
                  scratch.padded.data());
    symmetric_sum(scratch.padded.data() + radius, 1, half_kernel.data(), radius, width,
                  scratch.horizontal.data() + static_cast<size_t>(r) * width, simd);
  }
  for (int y = first_row; y < end_row; ++y) {
    const float* center = scratch.horizontal.data() + static_cast<size_t>(y - first_row + radius) * width;
    symmetric_sum(center, width, half_kernel.data(), radius, width, output.ptr<float>(y), simd);
  }
}

}  // namespace

void gaussian_blur_rows(const cv::Mat& input, cv::Mat& output, const std::vector<float>& half_kernel, int first_row,
                        int end_row, Simd simd) {
  const int piece = rows_per_scratch(input.cols, static_cast<int>(half_kernel.size()) - 1);
  for (int first = first_row; first < end_row; first += piece) {
    blur_piece(input, output, half_kernel, first, std::min(end_row, first + piece), simd);
  }
}

}  // namespace tessera::learn::features
