#pragma once

#include <opencv2/core.hpp>
#include <optional>

namespace tessera::stitch::detail {

// The nominal overlap of tile b, whose top-left sits at `offset` from tile a's, in each tile's own
// coordinates (same size). Empty when either side is narrower than min_overlap.
struct OverlapWindows {
  cv::Rect in_a;
  cv::Rect in_b;
};
std::optional<OverlapWindows> overlap_windows(cv::Point offset, cv::Size tile, int min_overlap);

// How far window a's content sits from window b's, and how sure that is.
struct ShiftEstimate {
  cv::Point2d shift;  // s with a(q) ~ b(q - s), sub-pixel
  double quality =
      0;  // normalised cross-correlation of the common part at round(shift); 0 for flat content
  double response = 0;  // phase-correlation peak height
};

// a, b: single-channel CV_32F windows of equal size cut at the nominal overlap. Phase correlation
// (Hann window) proposes a shift; a hill climb on normalised cross-correlation from that proposal
// and from zero (the nominal) settles it, so one wrong phase-correlation peak does not lose a pair
// whose stage position was nearly right. Shifts are limited to half the window on each axis.
ShiftEstimate estimate_shift(const cv::Mat& a, const cv::Mat& b);

// Normalised cross-correlation of a(q) and b(q - s) over their common part; 0 when either is flat
// or the common part is empty.
double ncc_at(const cv::Mat& a, const cv::Mat& b, cv::Point s);

}  // namespace tessera::stitch::detail
