#pragma once

// The structure tensor's eigenvalues in one pass per band of rows: the products of the first derivatives are
// made row by row as the blur's horizontal pass needs them, so the three product images and their three
// blurred copies never exist in memory. Pure and thread-safe.

#include <vector>

#include <opencv2/core.hpp>

#include "features_kernels.hpp"

namespace tessera::learn::features {

// Rows [first_row, end_row) of the eigenvalues (larger into `first`, smaller into `second`, times `scale`) of
// G * [[Ix Ix, Ix Iy], [Ix Iy, Iy Iy]], where Ix, Iy are the central differences of `smooth` (CV_32F) as
// derivative_row makes them and G is the blur of `half_kernel` (gaussian_half_kernel). The products are
// reflected at the image's edges before blurring, as cv::GaussianBlur of product images would.
void structure_tensor_rows(const cv::Mat& smooth, const std::vector<float>& half_kernel, float scale, cv::Mat& first,
                           cv::Mat& second, int first_row, int end_row, Simd simd);

}  // namespace tessera::learn::features
