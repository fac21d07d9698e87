// Instance labels from a foreground probability: threshold, distance map, markers at its maxima, and a
// priority flood of the distance relief from the markers. The flood rather than cv::watershed: cv::watershed
// floods by colour differences between neighbours, which on a distance map are ~1 everywhere and would cut
// touching objects halfway between markers instead of at the neck between them.

#include <algorithm>
#include <cmath>
#include <queue>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "tessera/core/error.hpp"
#include "tessera/learn/pixel_classifier.hpp"
#include "tessera/ops/labels.hpp"

namespace tessera::learn {
namespace {

void check(const cv::Mat& probability, const InstanceOptions& o) {
  auto bad = [](const std::string& field, const std::string& problem) {
    return Error(ErrorCode::invalid_argument, fmt::format("instance labels: '{}' {}", field, problem));
  };
  if (probability.empty() || probability.type() != CV_32FC1) {
    throw bad("foreground_probability", "must be a non-empty one-channel CV_32F map");
  }
  if (!(o.threshold > 0 && o.threshold < 1)) throw bad("threshold", fmt::format("must be in (0, 1), got {}", o.threshold));
  if (o.marker_radius < 1 || o.marker_radius > 100) {
    throw bad("marker_radius", fmt::format("must be in [1, 100], got {}", o.marker_radius));
  }
  if (!(o.marker_min_distance >= 0)) {
    throw bad("marker_min_distance", fmt::format("must be >= 0, got {}", o.marker_min_distance));
  }
  if (!(o.marker_h >= 0)) throw bad("marker_h", fmt::format("must be >= 0, got {}", o.marker_h));
  if (o.min_size < 0) throw bad("min_size", fmt::format("must be >= 0, got {}", o.min_size));
}

// Floods labels (CV_32S, markers > 0, 0 = not yet reached) through mask pixels in decreasing relief order,
// 8-connected. Ties go first come, first served, i.e. by geodesic distance on plateaus.
void priority_flood(const cv::Mat& relief, const cv::Mat& mask, cv::Mat& labels) {
  struct Item {
    float height;
    std::int64_t order;
    int index;
    bool operator<(const Item& other) const {
      return height != other.height ? height < other.height : order > other.order;
    }
  };
  const int width = relief.cols;
  const int height = relief.rows;
  std::priority_queue<Item> queue;
  std::int64_t order = 0;
  auto* label = labels.ptr<std::int32_t>(0);
  const auto* heights = relief.ptr<float>(0);
  const auto* inside = mask.ptr<std::uint8_t>(0);
  for (int i = 0; i < width * height; ++i) {
    if (label[i] > 0) queue.push({heights[i], order++, i});
  }
  while (!queue.empty()) {
    const Item item = queue.top();
    queue.pop();
    const int x = item.index % width;
    const int y = item.index / width;
    for (int dy = -1; dy <= 1; ++dy) {
      for (int dx = -1; dx <= 1; ++dx) {
        const int nx = x + dx, ny = y + dy;
        if ((dx == 0 && dy == 0) || nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const int n = ny * width + nx;
        if (!inside[n] || label[n] != 0) continue;
        label[n] = label[item.index];
        queue.push({heights[n], order++, n});
      }
    }
  }
}

}  // namespace

cv::Mat instance_labels(const cv::Mat& foreground_probability, const InstanceOptions& options) {
  check(foreground_probability, options);
  cv::Mat mask = foreground_probability >= options.threshold;  // 0 / 255
  cv::Mat distance;
  cv::distanceTransform(mask, distance, cv::DIST_L2, cv::DIST_MASK_PRECISE, CV_32F);
  // Light smoothing keeps one maximum per roundish object where the raw map has ridges of equal height.
  cv::Mat relief;
  cv::GaussianBlur(distance, relief, cv::Size(5, 5), 1.0, 1.0, cv::BORDER_REFLECT);
  relief.setTo(0, mask == 0);
  const int window = 2 * options.marker_radius + 1;
  cv::Mat window_max;
  cv::dilate(relief, window_max, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(window, window)));
  cv::Mat marker_pixels = (relief >= window_max - options.marker_h) & (distance >= options.marker_min_distance) &
                          (mask != 0);
  cv::Mat labels = ops::label(marker_pixels, 2);
  priority_flood(relief, mask, labels);
  // Mask components no marker reached (thin or tiny pieces) become objects of their own.
  cv::Mat unreached = (labels == 0) & (mask != 0);
  if (cv::countNonZero(unreached) > 0) {
    const cv::Mat extra = ops::label(unreached, 2);
    const int offset = ops::label_count(labels);
    cv::Mat shifted;
    cv::add(extra, cv::Scalar(offset), shifted, extra > 0);
    shifted.copyTo(labels, extra > 0);
  }
  ops::drop_small_objects(labels, options.min_size, true);
  return labels;
}

}  // namespace tessera::learn
