#include <fmt/format.h>

#include <cmath>
#include <opencv2/imgproc.hpp>

#include "tessera/core/error.hpp"
#include "tessera/segment/object_edit.hpp"

namespace tessera::segment {
namespace {

constexpr double kMinWidth = 1;
constexpr double kMaxWidth = 256;
// cv::line and cv::circle take fixed-point coordinates with this many fractional bits, so strokes keep
// their sub-pixel position.
constexpr int kShift = 4;

cv::Point fixed_point(const cv::Point2d& p) {
  return {static_cast<int>(std::lround(p.x * (1 << kShift))), static_cast<int>(std::lround(p.y * (1 << kShift)))};
}

}  // namespace

void check_stroke(const Stroke& stroke, cv::Size size, const char* field) {
  if (stroke.points.empty()) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}.points: at least one point is needed", field),
                {{"field", fmt::format("{}.points", field)}});
  }
  if (!std::isfinite(stroke.width) || stroke.width < kMinWidth || stroke.width > kMaxWidth) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("{}.width must be in [{:g}, {:g}] pixels, got {:g}", field, kMinWidth, kMaxWidth, stroke.width),
        {{"field", fmt::format("{}.width", field)}});
  }
  for (std::size_t i = 0; i < stroke.points.size(); ++i) {
    const cv::Point2d& p = stroke.points[i];
    if (!std::isfinite(p.x) || !std::isfinite(p.y) || p.x < 0 || p.y < 0 || p.x >= size.width || p.y >= size.height) {
      const std::string name = fmt::format("{}.points[{}]", field, i);
      throw Error(
          ErrorCode::invalid_argument,
          fmt::format("{} = ({:g}, {:g}) lies outside the {}x{} image", name, p.x, p.y, size.width, size.height),
          {{"field", name}});
    }
  }
}

cv::Mat stroke_mask(const Stroke& stroke, cv::Size size) {
  cv::Mat mask(size, CV_8U, cv::Scalar(0));
  const int thickness = std::max(1, static_cast<int>(std::lround(stroke.width)));
  if (stroke.points.size() == 1) {
    cv::circle(mask, fixed_point(stroke.points[0]), static_cast<int>(std::lround(stroke.width / 2 * (1 << kShift))),
               cv::Scalar(255), cv::FILLED, cv::LINE_8, kShift);
    mask.at<std::uint8_t>(cv::Point(static_cast<int>(stroke.points[0].x), static_cast<int>(stroke.points[0].y))) = 255;
    return mask;
  }
  for (std::size_t i = 1; i < stroke.points.size(); ++i) {
    cv::line(mask, fixed_point(stroke.points[i - 1]), fixed_point(stroke.points[i]), cv::Scalar(255), thickness,
             cv::LINE_8, kShift);
  }
  return mask;
}

}  // namespace tessera::segment
