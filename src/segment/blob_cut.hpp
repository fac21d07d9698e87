#pragma once

// The weight-free segmenter's path for compact objects on a plain ground (fluorescent nuclei, spots): the
// click's blob scale sizes the ROI, the object's own core level and the local ground set a half-way level
// below which pixels are sure background, blob centres found at the object's scale mark the neighbours, and a
// marker watershed on the gradient gives each pixel to the click, a neighbour or the ground. Measured against
// GrabCut on the DSB nuclei (docs/api/masks.md) it is both better and ~50x cheaper; on textured objects (EM
// nuclei) it is worse, which the blobness below tells apart.

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
};

// Below this blobness the click does not sit on a clean blob and GrabCut does better (measured: EM nuclei
// median 0.29, 95th percentile 0.43; DSB nuclei 5th percentile 0.34, median 0.50).
inline constexpr double kMinBlobness = 0.35;

// `gray8`: CV_8UC1; prompts validated, at least one positive point (the first one is the object's core).
// Cheap enough (a few ms) to run first and keep only when blobness >= kMinBlobness.
BlobCut blob_cut(const cv::Mat& gray8, const BlobScale& scales, const Prompts& prompts);

}  // namespace tessera::segment
