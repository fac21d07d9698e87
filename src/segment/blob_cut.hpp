#pragma once

// The weight-free segmenter's path for compact objects on a plain ground (fluorescent nuclei, spots): the
// click's blob scale sizes the ROI, the object's own core level and the local ground set a half-way level
// below which pixels are sure background, the distance from the click to that ground sizes the object, blob
// centres found at the object's scale and all foreground too far from the click mark the neighbours, and a
// marker watershed on the gradient gives each pixel to the click, a neighbour or the ground; a neighbour
// flooded in alongside is cut off at the two concavities where they meet (blob_split.hpp). Later clicks edit
// that object (blob_corrections.hpp). Measured against GrabCut on the DSB nuclei (docs/api/masks.md) it is
// both better and ~50x cheaper; on textured objects (EM nuclei) it is worse, which the blobness below tells
// apart.

#include <opencv2/core.hpp>

#include "segment/blob_scale.hpp"
#include "tessera/segment/segmenter.hpp"

namespace tessera::segment {

struct BlobCut {
  cv::Rect roi;           // image pixels
  cv::Mat mask;           // CV_8U 0/255 of roi's size: the clicked object, holes filled
  double blobness = 0;    // LoG response at the click / contrast of its core to the ground: ~0.5 for a clean
                          // blob, ~0.3 inside texture
  double contrast = 0;    // boundary contrast of the mask (band_contrast on the smoothed ROI)
  double ground_contrast = 0;  // core-to-ground contrast in standard deviations of the ground (texture: low)
};

// The blob path is taken on a clean ground only: core-to-ground contrast >= this many ground SDs. Measured at
// the 143 grey-image clicks (tests/segment/quality_test.cpp): DSB nuclei min 6.9, 5th percentile 7.3, median
// 8.7; EM nuclei median 5.0, max 6.6 (a thin margin: a wider set of images should re-check it). Blobness
// alone overlaps (EM up to 0.48, DSB down to 0.30), and the wrong path loses badly: on the 11 DSB clicks below
// the old blobness bar of 0.35 the blob path scores 0.60 vs GrabCut's 0.26, on the EM nuclei 0.14 vs 0.67.
inline constexpr double kMinGroundContrast = 6.75;
// A click that is no blob at all (an edge, a ridge) still takes GrabCut.
inline constexpr double kMinBlobness = 0.25;

// `gray8`: CV_8UC1; prompts validated, at least one positive point (the first one is the object's core; the
// blobness and ground contrast depend on it alone and on the ROI around the '+' clicks).
// Cheap enough (a few ms) to run first and keep only when blobness >= kMinBlobness.
BlobCut blob_cut(const cv::Mat& gray8, const BlobScale& scales, const Prompts& prompts);

}  // namespace tessera::segment
