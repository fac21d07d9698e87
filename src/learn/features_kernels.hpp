#pragma once

// The per-pixel arithmetic of the multiscale pixel features, one image row at a time: derivatives by central
// differences of a smoothed image and the eigenvalues of symmetric 2x2 matrices. Each kernel has a portable
// path and an AVX2 path chosen at run time; both do the same float operations in the same order (no fused
// multiply-add), so their results are bitwise equal. Pure and thread-safe.

namespace tessera::learn::features {

// Which instruction set a kernel runs on.
enum class Simd { portable, avx2 };

// The best path this CPU runs. Cheap after the first call.
Simd best_simd();

// One row y of one scale. Inputs: rows y-1, y and y+1 of the smoothed image, borders already reflected by the
// caller (above == center on the first row, below == center on the last), `width` >= 1 pixels each; the row's
// own ends are reflected here (pixel -1 is pixel 0, pixel width is pixel width-1), as scipy.ndimage's
// 'reflect'. Outputs: null when the feature is off; hessian1 and hessian2 are both set or both null, as are
// the three structure products. No output may alias an input.
struct DerivativeRow {
  const float* above = nullptr;
  const float* center = nullptr;
  const float* below = nullptr;
  int width = 0;
  float sigma = 1;          // gradient scale normalisation
  float sigma_squared = 1;  // Laplacian and Hessian scale normalisation
  float* laplacian = nullptr;     // sigma^2 (Ixx + Iyy)
  float* gradient = nullptr;      // sigma |(Ix, Iy)|
  float* hessian1 = nullptr;      // sigma^2 x the larger Hessian eigenvalue
  float* hessian2 = nullptr;      // sigma^2 x the smaller one
  float* structure_xx = nullptr;  // Ix Ix, Iy Iy, Ix Iy: the structure tensor before its outer blur
  float* structure_yy = nullptr;
  float* structure_xy = nullptr;
};
void derivative_row(const DerivativeRow& row, Simd simd);

// first[x], second[x] = scale x the larger and smaller eigenvalue of [[xx, xy], [xy, yy]] for x < width.
// `first` may be `xx` and `second` may be `yy` (computed in place); nothing else may alias.
void eigenvalue_row(const float* xx, const float* xy, const float* yy, int width, float scale, float* first,
                    float* second, Simd simd);

}  // namespace tessera::learn::features
