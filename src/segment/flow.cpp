// Dense optical flow and mask warping for propagation (include/tessera/segment/propagate.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/ops/metrics.hpp"
#include "tessera/segment/propagate.hpp"

namespace tessera::segment {

FlowMethod parse_flow_method(const std::string& text, const std::string& field) {
  if (text == "dis") return FlowMethod::dis;
  if (text == "farneback") return FlowMethod::farneback;
  throw Error(ErrorCode::invalid_argument,
              fmt::format("'{}' must be 'dis' or 'farneback', got '{}'", field, text), {{"field", field}});
}

std::string to_string(FlowMethod method) { return method == FlowMethod::dis ? "dis" : "farneback"; }

cv::Mat flow_frame(const cv::Mat& image) {
  if (image.empty()) throw Error(ErrorCode::invalid_argument, "flow: the frame is empty");
  const int depth = image.depth();
  if (depth != CV_8U && depth != CV_16U && depth != CV_32F && depth != CV_64F) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("flow: frames must be 8- or 16-bit or float, got OpenCV depth {}", depth));
  }
  cv::Mat gray;
  if (image.channels() == 1) {
    gray = image;
  } else if (image.channels() == 3 || image.channels() == 4) {
    // Channel order does not matter for a plain mean, so RGB and BGR frames give the same gray.
    cv::Mat as_float;
    image.convertTo(as_float, CV_32F);
    std::vector<cv::Mat> planes;
    cv::split(as_float, planes);
    gray = (planes[0] + planes[1] + planes[2]) / 3.0;
  } else {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("flow: frames must have 1, 3 or 4 channels, got {}", image.channels()));
  }
  // Percentiles from a sparse sample: a hot pixel or a saturated spot must not squash the contrast the
  // flow matches on, and a full sort of a 512x512 frame would cost more than the flow itself.
  cv::Mat as_float;
  gray.convertTo(as_float, CV_32F);
  std::vector<float> sample;
  const int step = std::max(1, static_cast<int>(std::sqrt(static_cast<double>(as_float.total()) / 4096.0)));
  sample.reserve(static_cast<size_t>((as_float.rows / step + 1) * (as_float.cols / step + 1)));
  for (int r = 0; r < as_float.rows; r += step) {
    const float* row = as_float.ptr<float>(r);
    for (int c = (r / step) % step; c < as_float.cols; c += step) sample.push_back(row[c]);
  }
  const auto at = [&](double q) {
    auto it = sample.begin() + static_cast<std::ptrdiff_t>(q * static_cast<double>(sample.size() - 1));
    std::nth_element(sample.begin(), it, sample.end());
    return static_cast<double>(*it);
  };
  const double lo = at(0.005);
  double hi = at(0.995);
  if (hi <= lo) hi = lo + 1;
  cv::Mat out;
  as_float.convertTo(out, CV_8U, 255.0 / (hi - lo), -lo * 255.0 / (hi - lo));
  return out;
}

cv::Mat dense_flow(const cv::Mat& from, const cv::Mat& to, FlowMethod method) {
  if (from.size() != to.size() || from.type() != CV_8UC1 || to.type() != CV_8UC1) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("flow: frames must be two 8-bit one-channel images of one size, got {}x{} and {}x{}",
                            from.cols, from.rows, to.cols, to.rows));
  }
  cv::Mat flow;
  try {
    if (method == FlowMethod::dis) {
      // One instance per thread: DIS keeps its pyramids between calls, and creating it per frame would
      // reallocate them every time.
      thread_local cv::Ptr<cv::DISOpticalFlow> dis = cv::DISOpticalFlow::create(cv::DISOpticalFlow::PRESET_MEDIUM);
      dis->calc(from, to, flow);
    } else {
      cv::calcOpticalFlowFarneback(from, to, flow, 0.5, 4, 15, 3, 5, 1.1, 0);
    }
  } catch (const cv::Exception& e) {
    throw Error(ErrorCode::internal, fmt::format("flow ({}): OpenCV failed: {}", to_string(method), e.what()));
  }
  return flow;
}

cv::Mat warp_mask(const cv::Mat& source_mask, const cv::Mat& back_flow) {
  if (back_flow.type() != CV_32FC2 || back_flow.size() != source_mask.size()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("warp: the flow ({}x{}) must be CV_32FC2 of the mask's size ({}x{})", back_flow.cols,
                            back_flow.rows, source_mask.cols, source_mask.rows));
  }
  cv::Mat map(back_flow.size(), CV_32FC2);
  for (int r = 0; r < map.rows; ++r) {
    const auto* f = back_flow.ptr<cv::Vec2f>(r);
    auto* m = map.ptr<cv::Vec2f>(r);
    for (int c = 0; c < map.cols; ++c) m[c] = cv::Vec2f(static_cast<float>(c) + f[c][0], static_cast<float>(r) + f[c][1]);
  }
  cv::Mat binary;
  cv::compare(source_mask, 0, binary, cv::CMP_NE);
  cv::Mat warped;
  // Nearest neighbour: the mask stays binary and its edge does not blur into a band of new values.
  cv::remap(binary, warped, map, cv::noArray(), cv::INTER_NEAREST, cv::BORDER_CONSTANT, cv::Scalar(0));
  return warped;
}

double mask_iou(const cv::Mat& a, const cv::Mat& b) { return ops::mask_overlap(a, b, "mask_iou").iou(); }

}  // namespace tessera::segment
