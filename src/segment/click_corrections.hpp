#pragma once

// Point prompts on the weight-free segmenter: which path a click takes (the blob watershed for a compact
// object on a plain grey ground, GrabCut over scales otherwise) and how clicks after the first change the
// mask. Kept apart from the cuts themselves (graph_cut_segmenter.cpp, blob_cut.cpp) so the correction policy
// reads in one place.

#include <functional>
#include <optional>

#include <opencv2/core.hpp>

#include "tessera/segment/segmenter.hpp"

namespace tessera::segment {

// The one-shot cuts the policy chooses between, supplied by the segmenter.
struct ClickPaths {
  // The blob watershed over all the prompts' points; nullopt when the first '+' click is no clean blob.
  std::function<std::optional<SegmentResult>(const Prompts&)> blob;
  // GrabCut over a series of assumed radii around the '+' clicks (the one-click cut for ONE '+'); '-' points are
  // sure background.
  std::function<SegmentResult(const Prompts&)> grabcut_one_click;
};

// `image8`: 8-bit, 1 or 3 channels; prompts validated (points only: no box, no prior mask; >= one '+').
SegmentResult segment_clicks(const cv::Mat& image8, const Prompts& prompts, const ClickPaths& paths);

}  // namespace tessera::segment
