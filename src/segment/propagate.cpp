// MaskPropagator: warp by flow, refine with the segmenter, measure how far to trust the result.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "tessera/core/error.hpp"
#include "tessera/segment/propagate.hpp"

namespace tessera::segment {
namespace {

// Share of the warped mask's pixels whose backward flow, followed by the forward flow from where it
// lands, comes back within a pixel. Occlusions, objects leaving the field and flow that guessed across
// a textureless nucleus all break that round trip.
double flow_consistency(const cv::Mat& warped, const cv::Mat& back_flow, const cv::Mat& forward_flow) {
  const cv::Rect box = cv::boundingRect(warped);
  std::int64_t total = 0;
  std::int64_t agree = 0;
  for (int r = box.y; r < box.y + box.height; ++r) {
    const auto* m = warped.ptr<std::uint8_t>(r);
    const auto* b = back_flow.ptr<cv::Vec2f>(r);
    for (int c = box.x; c < box.x + box.width; ++c) {
      if (m[c] == 0) continue;
      ++total;
      const int sx = static_cast<int>(std::lround(c + b[c][0]));
      const int sy = static_cast<int>(std::lround(r + b[c][1]));
      if (sx < 0 || sy < 0 || sx >= forward_flow.cols || sy >= forward_flow.rows) continue;
      const cv::Vec2f f = forward_flow.at<cv::Vec2f>(sy, sx);
      const double dx = b[c][0] + f[0];
      const double dy = b[c][1] + f[1];
      if (dx * dx + dy * dy <= 1.0) ++agree;
    }
  }
  return total == 0 ? 0.0 : static_cast<double>(agree) / static_cast<double>(total);
}

// Connected parts holding at least `share` of the mask's pixels.
int significant_parts(const cv::Mat& mask, double share) {
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8, CV_32S);
  double total = 0;
  for (int i = 1; i < n; ++i) total += stats.at<int>(i, cv::CC_STAT_AREA);
  int parts = 0;
  for (int i = 1; i < n; ++i) {
    if (stats.at<int>(i, cv::CC_STAT_AREA) >= share * total) ++parts;
  }
  return parts;
}

}  // namespace

void validate(const PropagateOptions& options) {
  const auto in_unit = [](double v) { return v >= 0.0 && v <= 1.0; };
  if (!in_unit(options.min_confidence)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("propagation: 'min_confidence' must be in [0, 1], got {}", options.min_confidence),
                {{"field", "min_confidence"}});
  }
  if (!in_unit(options.split_share) || options.split_share == 0.0) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("propagation: 'split_share' must be in (0, 1], got {}", options.split_share),
                {{"field", "split_share"}});
  }
}

MaskPropagator::MaskPropagator(const Segmenter& segmenter, PropagateOptions options)
    : segmenter_(segmenter), options_(options) {
  validate(options_);
}

cv::Rect flow_region(const std::vector<cv::Mat>& masks, cv::Size frame) {
  cv::Rect region;
  for (const cv::Mat& mask : masks) {
    if (mask.empty()) continue;
    const cv::Rect box = cv::boundingRect(mask);
    if (box.area() == 0) continue;
    const int grow_x = std::max(32, box.width);
    const int grow_y = std::max(32, box.height);
    const cv::Rect grown(box.x - grow_x, box.y - grow_y, box.width + 2 * grow_x, box.height + 2 * grow_y);
    region = region.area() == 0 ? grown : (region | grown);
  }
  return region & cv::Rect(0, 0, frame.width, frame.height);
}

FramePair MaskPropagator::pair(const cv::Mat& source, const cv::Mat& target, cv::Rect region) const {
  if (source.size() != target.size()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("propagation: frames of different sizes ({}x{} and {}x{})", source.cols, source.rows,
                            target.cols, target.rows));
  }
  const cv::Rect frame(0, 0, source.cols, source.rows);
  region = region.area() == 0 ? frame : (region & frame);
  const cv::Mat from = flow_frame(source(region));
  const cv::Mat to = flow_frame(target(region));
  FramePair pair;
  pair.target_image = target;
  if (region == frame) {
    pair.back_flow = dense_flow(to, from, options_.flow);
    pair.forward_flow = dense_flow(from, to, options_.flow);
    return pair;
  }
  // Zero flow outside the region: a mask that reaches there stays put, and the consistency check sees
  // agreement only where the flow was computed.
  pair.back_flow = cv::Mat::zeros(source.size(), CV_32FC2);
  pair.forward_flow = cv::Mat::zeros(source.size(), CV_32FC2);
  dense_flow(to, from, options_.flow).copyTo(pair.back_flow(region));
  dense_flow(from, to, options_.flow).copyTo(pair.forward_flow(region));
  return pair;
}

PropagatedMask MaskPropagator::propagate(const FramePair& pair, const cv::Mat& source_mask) const {
  if (source_mask.empty() || source_mask.size() != pair.back_flow.size() || source_mask.channels() != 1) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("propagation: the source mask ({}x{}, {} channels) must be one channel of the frame's "
                            "size ({}x{})",
                            source_mask.cols, source_mask.rows, source_mask.channels(), pair.back_flow.cols,
                            pair.back_flow.rows));
  }
  PropagatedMask out;
  const double source_area = cv::countNonZero(source_mask);
  if (source_area == 0) throw Error(ErrorCode::invalid_argument, "propagation: the source mask is empty");
  out.warped = warp_mask(source_mask, pair.back_flow);
  if (cv::countNonZero(out.warped) == 0) {
    out.needs_review = true;
    out.reason = "the object vanished (moved out of the frame?)";
    return out;
  }
  out.flow_consistency = flow_consistency(out.warped, pair.back_flow, pair.forward_flow);
  out.mask = out.warped;
  out.warp_iou = 1.0;
  if (options_.refine) {
    Prompts prompts;
    prompts.prior_mask = out.warped;
    try {
      out.mask = segmenter_.segment(pair.target_image, prompts).mask;
      out.warp_iou = mask_iou(out.warped, out.mask);
    } catch (const Error& e) {
      // A prior too thin to erode into a seed, say: the warped mask stays, for a person to judge.
      out.needs_review = true;
      out.reason = fmt::format("not refined: {}", e.what());
      out.warp_iou = 0.0;
    }
  }
  const double area = cv::countNonZero(out.mask);
  if (area == 0) {
    out.mask = cv::Mat();
    out.needs_review = true;
    out.reason = "the refined mask is empty";
    return out;
  }
  out.area_ratio = std::min(area, source_area) / std::max(area, source_area);
  out.parts = significant_parts(out.mask, options_.split_share);
  out.confidence = std::min({out.warp_iou, out.area_ratio, out.flow_consistency});
  if (out.parts >= 2) {
    out.needs_review = true;
    out.reason = fmt::format("split into {} parts (a division?)", out.parts);
  } else if (out.confidence < options_.min_confidence) {
    out.needs_review = true;
    if (out.reason.empty()) out.reason = fmt::format("confidence {:.2f} < {}", out.confidence, options_.min_confidence);
  }
  return out;
}

}  // namespace tessera::segment
