#pragma once

// One graph cut (OpenCV's GrabCut: colour GMMs + contrast-sensitive smoothness, min-cut) on a working-scale ROI,
// and the boundary contrast that ranks cuts of different assumed scales and feeds the confidence.

#include <vector>

#include <opencv2/core.hpp>

#include "segment/roi.hpp"

namespace tessera::segment {

// The ROI of the 8-bit image at working scale as three 8-bit channels for the colour models. Grey images get
// the grey level smoothed at three scales (1, 2.5, 5 working pixels): three copies of one channel make GrabCut's
// covariances singular and it then drops the object, and the coarser scales carry texture (EM nuclei); the
// scales grow with `object_radius` (the assumed radius in working pixels; 0: unknown, the scales above). Colour
// images are smoothed at `colour_sigma` working pixels (the scale search and propagation: 1).
cv::Mat working_features(const cv::Mat& image8, const WorkRegion& region, double object_radius = 0.0,
                         double colour_sigma = 1.0);

struct CutInput {
  cv::Mat features;                // CV_8UC3, working size
  cv::Mat trimap;                  // CV_8U, cv::GC_BGD / GC_FGD / GC_PR_BGD / GC_PR_FGD, working size
  std::vector<cv::Point> anchors;  // working pixels the object holds; empty: keep the largest component
  int iterations = 3;
};

struct CutOutcome {
  cv::Mat mask;         // CV_8U 0/255, working size: anchored components, holes filled
  double contrast = 0;  // mean-colour distance of the bands just inside and outside the boundary, in pooled SDs
  int area = 0;
};

CutOutcome run_cut(const CutInput& input);

// Distance between the mean colours of the bands just inside and just outside the mask's boundary (4 px wide),
// in pooled standard deviations; 0 when either band is nearly empty. `features`: any depth, 1-3 channels.
double band_contrast(const cv::Mat& features, const cv::Mat& mask);

// Fills holes of a 0/255 mask in place (background not reachable from the border).
void fill_holes(cv::Mat& mask);

}  // namespace tessera::segment
