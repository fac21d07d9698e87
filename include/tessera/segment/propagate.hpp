#pragma once

// Propagation of an object's mask from one frame of a sequence to the next (or previous): dense optical
// flow warps the mask, the segmenter refines the warped mask as a prior, and a confidence says how much
// the result can be trusted, so a frame where the object changed too much (a division, a drift, a
// disappearance) is flagged for review instead of silently kept.

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "tessera/segment/segmenter.hpp"

namespace tessera::segment {

// Dense optical flow algorithm. DIS (OpenCV's DISOpticalFlow) is the default: on the synthetic
// time-lapse it matches Farneback's warped-mask IoU at a fraction of its time (docs/api/propagation.md).
enum class FlowMethod { dis, farneback };

// "dis" / "farneback"; Error{invalid_argument} naming `field` and the known names otherwise.
FlowMethod parse_flow_method(const std::string& text, const std::string& field = "flow");
std::string to_string(FlowMethod method);

// One frame as the flow sees it: 8-bit, one channel, contrast stretched between the frame's 0.5 and
// 99.5 percentiles so that 16-bit or float frames of different brightness compare. `image`: 8/16-bit or
// float, 1, 3 or 4 channels (colour is averaged). Error{invalid_argument} for an empty image or another
// depth.
cv::Mat flow_frame(const cv::Mat& image);

// Dense flow from `from` to `to` (flow_frame() images of one size): CV_32FC2 (dx, dy) such that the pixel p
// of `from` is found at p + flow(p) in `to`.
cv::Mat dense_flow(const cv::Mat& from, const cv::Mat& to, FlowMethod method);

// The mask of frame `source` carried to frame `target`: target_mask(p) = source_mask(p + back_flow(p)),
// nearest neighbour (no new labels, no blur), where back_flow = dense_flow(target, source). Pixels mapped
// outside the frame are background. CV_8U 0/255.
cv::Mat warp_mask(const cv::Mat& source_mask, const cv::Mat& back_flow);

struct PropagateOptions {
  FlowMethod flow = FlowMethod::dis;
  // Refine the warped mask with the segmenter (prior_mask); false keeps the warped mask.
  bool refine = true;
  // Below this confidence (or on a split into two or more parts) a frame is flagged needs_review.
  double min_confidence = 0.6;
  // A second connected part holding at least this share of the mask counts as a split (a division).
  double split_share = 0.15;
};

// Error{invalid_argument} naming the option (min_confidence and split_share in [0, 1]).
void validate(const PropagateOptions& options);

// The flow between two frames in both directions, computed once and shared by every object of the pair.
struct FramePair {
  cv::Mat target_image;  // the frame the masks go to, as given (the segmenter sees it)
  cv::Mat back_flow;     // target -> source: where each target pixel came from
  cv::Mat forward_flow;  // source -> target: for the forward/backward consistency check
};

// How one mask fared on its way to the next frame; every measure in [0, 1], 1 = no doubt.
struct PropagatedMask {
  cv::Mat mask;              // CV_8U 0/255 in the target frame; empty when the object vanished
  cv::Mat warped;            // the flow-warped mask before refinement
  double confidence = 0;     // min of the measures below; 0 when the object vanished (a split is flagged anyway)
  double warp_iou = 0;       // IoU between warped and refined mask (1 without refinement)
  double area_ratio = 0;     // min(area before, area after) / max(...)
  double flow_consistency = 0;  // share of warped pixels whose forward and backward flow agree within 1 px
  int parts = 0;             // connected parts of the refined mask holding >= split_share of it
  bool needs_review = false;
  std::string reason;        // why it was flagged ("" when not): "split into 2 parts", "confidence 0.41 < 0.6"
};

// Carries masks from one frame to the next. Thread-compatible: one per thread (the flow objects keep
// state); the segmenter must outlive it.
class MaskPropagator {
 public:
  MaskPropagator(const Segmenter& segmenter, PropagateOptions options);

  // Flow between `source` and `target` (same size; Error{invalid_argument} naming both sizes otherwise),
  // computed inside `region` only (an empty rect: the whole frame) and zero outside it: masks far from the
  // frame's other content need not pay for a full-frame flow (see flow_region()).
  FramePair pair(const cv::Mat& source, const cv::Mat& target, cv::Rect region = {}) const;
  // The source frame's mask (CV_8U, frame size, non-zero = object) in the pair's target frame.
  // Error{invalid_argument} when the mask's size differs from the frames' or it is empty.
  PropagatedMask propagate(const FramePair& pair, const cv::Mat& source_mask) const;

  const PropagateOptions& options() const { return options_; }

 private:
  const Segmenter& segmenter_;
  PropagateOptions options_;
};

// The part of a frame of `frame` size the flow must cover to carry these masks: their boxes grown by
// their own size (at least 32 px) on each side, so motion up to about an object's diameter per frame is
// seen with context around it. Empty when every mask is empty.
cv::Rect flow_region(const std::vector<cv::Mat>& masks, cv::Size frame);

// Intersection over union of two masks (non-zero = inside); 1 when both are empty.
double mask_iou(const cv::Mat& a, const cv::Mat& b);

}  // namespace tessera::segment
