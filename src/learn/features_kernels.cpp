// Row kernels of the pixel features. The portable path is plain scalar code; the AVX2 path does the same
// operations eight pixels at a time. Both avoid fused multiply-add (the build uses -ffp-contract=off through
// ISO C++ mode, and the AVX2 code calls separate multiplies and adds), so they agree bit for bit and a model
// trained on one CPU predicts the same on another.

#include "features_kernels.hpp"

#include <cmath>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TESSERA_FEATURES_X86 1
#else
#define TESSERA_FEATURES_X86 0
#endif

namespace tessera::learn::features {
namespace {

// Larger eigenvalue first of [[a, b], [b, c]], times scale.
inline void eigenvalues(float a, float b, float c, float scale, float& first, float& second) {
  const float mean = 0.5f * (a + c);
  const float half_diff = 0.5f * (a - c);
  const float radius = std::sqrt(half_diff * half_diff + b * b);
  first = (mean + radius) * scale;
  second = (mean - radius) * scale;
}

// Pixel x of the row, its horizontal neighbours at `left` and `right` (x itself at a reflected border).
inline void derivative_pixel(const DerivativeRow& r, int x, int left, int right) {
  const float c = r.center[x];
  const float gx = (r.center[right] - r.center[left]) * 0.5f;
  const float gy = (r.below[x] - r.above[x]) * 0.5f;
  const float gxx = (r.center[right] + r.center[left]) - (c + c);
  const float gyy = (r.below[x] + r.above[x]) - (c + c);
  const float gxy = ((r.below[right] - r.below[left]) - (r.above[right] - r.above[left])) * 0.25f;
  if (r.laplacian) r.laplacian[x] = r.sigma_squared * (gxx + gyy);
  if (r.gradient) r.gradient[x] = r.sigma * std::sqrt(gx * gx + gy * gy);
  if (r.hessian1) eigenvalues(gxx, gxy, gyy, r.sigma_squared, r.hessian1[x], r.hessian2[x]);
  if (r.structure_xx) {
    r.structure_xx[x] = gx * gx;
    r.structure_yy[x] = gy * gy;
    r.structure_xy[x] = gx * gy;
  }
}

// The interior pixels [begin, end) of a row (both neighbours inside it).
void derivative_interior_portable(const DerivativeRow& r, int begin, int end) {
  for (int x = begin; x < end; ++x) derivative_pixel(r, x, x - 1, x + 1);
}

void eigenvalue_range_portable(const float* xx, const float* xy, const float* yy, int begin, int end,
                               float scale, float* first, float* second) {
  for (int x = begin; x < end; ++x) {
    const float a = xx[x], b = xy[x], c = yy[x];  // read before writing: first/second may alias xx/yy
    eigenvalues(a, b, c, scale, first[x], second[x]);
  }
}

#if TESSERA_FEATURES_X86

__attribute__((target("avx2"))) inline void eigenvalues_avx2(__m256 a, __m256 b, __m256 c, __m256 scale,
                                                              float* first, float* second) {
  const __m256 half = _mm256_set1_ps(0.5f);
  const __m256 mean = _mm256_mul_ps(half, _mm256_add_ps(a, c));
  const __m256 half_diff = _mm256_mul_ps(half, _mm256_sub_ps(a, c));
  const __m256 radius =
      _mm256_sqrt_ps(_mm256_add_ps(_mm256_mul_ps(half_diff, half_diff), _mm256_mul_ps(b, b)));
  _mm256_storeu_ps(first, _mm256_mul_ps(_mm256_add_ps(mean, radius), scale));
  _mm256_storeu_ps(second, _mm256_mul_ps(_mm256_sub_ps(mean, radius), scale));
}

// Eight pixels per step over [begin, end); returns where it stopped (the scalar tail starts there).
__attribute__((target("avx2"))) int derivative_interior_avx2(const DerivativeRow& r, int begin, int end) {
  const __m256 half = _mm256_set1_ps(0.5f), quarter = _mm256_set1_ps(0.25f);
  const __m256 sigma = _mm256_set1_ps(r.sigma), sigma_squared = _mm256_set1_ps(r.sigma_squared);
  int x = begin;
  for (; x + 8 <= end; x += 8) {
    const __m256 c = _mm256_loadu_ps(r.center + x);
    const __m256 c_left = _mm256_loadu_ps(r.center + x - 1), c_right = _mm256_loadu_ps(r.center + x + 1);
    const __m256 a = _mm256_loadu_ps(r.above + x), b = _mm256_loadu_ps(r.below + x);
    const __m256 gx = _mm256_mul_ps(_mm256_sub_ps(c_right, c_left), half);
    const __m256 gy = _mm256_mul_ps(_mm256_sub_ps(b, a), half);
    const __m256 twice_c = _mm256_add_ps(c, c);
    const __m256 gxx = _mm256_sub_ps(_mm256_add_ps(c_right, c_left), twice_c);
    const __m256 gyy = _mm256_sub_ps(_mm256_add_ps(b, a), twice_c);
    if (r.laplacian) _mm256_storeu_ps(r.laplacian + x, _mm256_mul_ps(sigma_squared, _mm256_add_ps(gxx, gyy)));
    if (r.gradient) {
      const __m256 squared = _mm256_add_ps(_mm256_mul_ps(gx, gx), _mm256_mul_ps(gy, gy));
      _mm256_storeu_ps(r.gradient + x, _mm256_mul_ps(sigma, _mm256_sqrt_ps(squared)));
    }
    if (r.hessian1) {
      const __m256 below_diff =
          _mm256_sub_ps(_mm256_loadu_ps(r.below + x + 1), _mm256_loadu_ps(r.below + x - 1));
      const __m256 above_diff =
          _mm256_sub_ps(_mm256_loadu_ps(r.above + x + 1), _mm256_loadu_ps(r.above + x - 1));
      const __m256 gxy = _mm256_mul_ps(_mm256_sub_ps(below_diff, above_diff), quarter);
      eigenvalues_avx2(gxx, gxy, gyy, sigma_squared, r.hessian1 + x, r.hessian2 + x);
    }
    if (r.structure_xx) {
      _mm256_storeu_ps(r.structure_xx + x, _mm256_mul_ps(gx, gx));
      _mm256_storeu_ps(r.structure_yy + x, _mm256_mul_ps(gy, gy));
      _mm256_storeu_ps(r.structure_xy + x, _mm256_mul_ps(gx, gy));
    }
  }
  return x;
}

__attribute__((target("avx2"))) int eigenvalue_range_avx2(const float* xx, const float* xy, const float* yy,
                                                           int width, float scale, float* first, float* second) {
  const __m256 scale8 = _mm256_set1_ps(scale);
  int x = 0;
  for (; x + 8 <= width; x += 8) {
    eigenvalues_avx2(_mm256_loadu_ps(xx + x), _mm256_loadu_ps(xy + x), _mm256_loadu_ps(yy + x), scale8, first + x,
                     second + x);
  }
  return x;
}

#endif

}  // namespace

Simd best_simd() {
#if TESSERA_FEATURES_X86
  static const Simd best = __builtin_cpu_supports("avx2") ? Simd::avx2 : Simd::portable;
  return best;
#else
  return Simd::portable;
#endif
}

void derivative_row(const DerivativeRow& row, Simd simd) {
  const int last = row.width - 1;
  derivative_pixel(row, 0, 0, last > 0 ? 1 : 0);
  if (last == 0) return;
  int x = 1;
#if TESSERA_FEATURES_X86
  if (simd == Simd::avx2) x = derivative_interior_avx2(row, 1, last);
#else
  (void)simd;
#endif
  derivative_interior_portable(row, x, last);
  derivative_pixel(row, last, last - 1, last);
}

void eigenvalue_row(const float* xx, const float* xy, const float* yy, int width, float scale, float* first,
                    float* second, Simd simd) {
  int x = 0;
#if TESSERA_FEATURES_X86
  if (simd == Simd::avx2) x = eigenvalue_range_avx2(xx, xy, yy, width, scale, first, second);
#else
  (void)simd;
#endif
  eigenvalue_range_portable(xx, xy, yy, x, width, scale, first, second);
}

}  // namespace tessera::learn::features
