#pragma once

// The separable Gaussian blur of the pixel features: the kernel's symmetry halves the multiplies, and on AVX2
// each pair of taps is an add, a multiply and an add over eight pixels. The portable path does the same
// operations one pixel at a time, so both paths agree bit for bit. Same kernel, border and pass order (rows,
// then columns) as cv::GaussianBlur, whose results it matches to float rounding. Pure and thread-safe.

#include <cstddef>
#include <vector>

#include <opencv2/core.hpp>

#include "features_kernels.hpp"

namespace tessera::learn::features {

constexpr double kTruncate = 4.0;  // kernels reach 4 sigma, as scipy.ndimage's default

// Kernel radius in pixels for `sigma` (at least 1).
int gaussian_radius(double sigma);

// The index that cv::BORDER_REFLECT ("fedcba|abcdefgh|hgfedcb") reads for i in a line of n, reflected again
// when a kernel is wider than the line.
int reflect_index(int i, int n);

// The kernel's centre weight and one side: weights[k] for offsets +-k, k = 0..radius, summing to 1 over
// both sides, as cv::getGaussianKernel(2 radius + 1, sigma, CV_32F).
std::vector<float> gaussian_half_kernel(double sigma, int radius);

// padded[radius + x] = row[x] for x < width, and `radius` reflected pixels on each side. `row` may be
// padded + radius (the row is then only padded).
void pad_reflected(const float* row, int width, int radius, float* padded);

// out[x] = w[0] c[x] + sum_k w[k] (c[x - k step] + c[x + k step]) for x < width, k = 1..radius, with
// c = center: step 1 blurs along a padded row, step = row length blurs down a column of rows.
void symmetric_sum(const float* center, std::ptrdiff_t step, const float* weights, int radius, int width, float* out,
                   Simd simd);

// A blur's horizontal pass is buffered per thread for a band and its margins, this many floats (4 MB) unless
// the image is so wide that a piece of 2 kernel radii needs more (4 radii of rows: 12.8 MB for a 20,000-wide
// image at sigma 10): wider images are blurred in thinner pieces, so the scratch kept by each thread stays
// bounded without the margins' recomputation outweighing the piece.
constexpr int kScratchFloats = 1 << 20;

// Rows of a band done in one piece for images `width` wide and a kernel of `radius` (at least 1).
int rows_per_scratch(int width, int radius);

// Rows [first_row, end_row) of G * input into the same rows of `output` (both CV_32F, same size), for the
// kernel `half_kernel`, with rows beyond the band read from `input` and its edges reflected. Output must not
// alias input.
void gaussian_blur_rows(const cv::Mat& input, cv::Mat& output, const std::vector<float>& half_kernel, int first_row,
                        int end_row, Simd simd);

}  // namespace tessera::learn::features
