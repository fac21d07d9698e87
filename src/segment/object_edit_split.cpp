// Splitting one object at point markers: marker-based watershed on the object's own distance map (see
// object_edit.hpp for why a priority flood rather than cv::watershed).

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <queue>

#include "tessera/core/error.hpp"
#include "tessera/segment/object_edit.hpp"

namespace tessera::segment {
namespace {

struct Pending {
  float relief;
  std::uint64_t age;  // insertion order: equal reliefs flood breadth-first
  int index;          // y * cols + x
  std::int32_t label;
};

struct LaterFirst {
  bool operator()(const Pending& a, const Pending& b) const {
    return a.relief != b.relief ? a.relief > b.relief : a.age > b.age;
  }
};

[[noreturn]] void bad_marker(std::size_t i, const cv::Point2d& p, const std::string& problem) {
  const std::string name = fmt::format("markers[{}]", i);
  throw Error(ErrorCode::invalid_argument, fmt::format("{} = ({:g}, {:g}) {}", name, p.x, p.y, problem),
              {{"field", name}});
}

std::vector<cv::Point> marker_pixels(const cv::Mat& original, const cv::Mat& object,
                                     const std::vector<cv::Point2d>& markers) {
  if (markers.size() < 2) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("markers: a split needs at least two markers, got {}", markers.size()),
                {{"field", "markers"}});
  }
  std::vector<cv::Point> pixels;
  for (std::size_t i = 0; i < markers.size(); ++i) {
    const cv::Point2d& m = markers[i];
    if (!std::isfinite(m.x) || !std::isfinite(m.y) || m.x < 0 || m.y < 0 || m.x >= object.cols || m.y >= object.rows) {
      bad_marker(i, m, fmt::format("lies outside the {}x{} image", object.cols, object.rows));
    }
    const cv::Point p(static_cast<int>(m.x), static_cast<int>(m.y));
    if (!original.at<std::uint8_t>(p)) bad_marker(i, m, "lies outside the object");
    if (!object.at<std::uint8_t>(p)) bad_marker(i, m, "lies under the outline stroke (certain background)");
    for (std::size_t j = 0; j < i; ++j) {
      if (pixels[j] == p) bad_marker(i, m, fmt::format("is on the same pixel as markers[{}]", j));
    }
    pixels.push_back(p);
  }
  return pixels;
}

// Floods `object` (CV_8U 0/255) from the markers over relief = -distance to the background, 8-connected.
cv::Mat flood(const cv::Mat& object, const std::vector<cv::Point>& seeds) {
  cv::Mat distance;
  cv::distanceTransform(object, distance, cv::DIST_L2, cv::DIST_MASK_PRECISE);
  cv::Mat labels(object.size(), CV_32S, cv::Scalar(0));
  const int cols = object.cols;
  const int rows = object.rows;
  auto* label_at = labels.ptr<std::int32_t>();
  const auto* inside = object.ptr<std::uint8_t>();
  const auto* dist = distance.ptr<float>();

  std::priority_queue<Pending, std::vector<Pending>, LaterFirst> queue;
  std::uint64_t age = 0;
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    const int index = seeds[i].y * cols + seeds[i].x;
    queue.push({-dist[index], age++, index, static_cast<std::int32_t>(i + 1)});
  }
  while (!queue.empty()) {
    const Pending p = queue.top();
    queue.pop();
    if (label_at[p.index] != 0) continue;
    label_at[p.index] = p.label;
    const int x = p.index % cols;
    const int y = p.index / cols;
    for (int dy = -1; dy <= 1; ++dy) {
      for (int dx = -1; dx <= 1; ++dx) {
        const int nx = x + dx;
        const int ny = y + dy;
        if ((dx == 0 && dy == 0) || nx < 0 || ny < 0 || nx >= cols || ny >= rows) continue;
        const int n = ny * cols + nx;
        if (inside[n] && label_at[n] == 0) queue.push({-dist[n], age++, n, p.label});
      }
    }
  }
  return labels;
}

// Object pixels the flood could not reach (cut off by the outline) go to the nearest marker.
void assign_unreached(const cv::Mat& object, const std::vector<cv::Point>& seeds, cv::Mat& labels) {
  for (int y = 0; y < object.rows; ++y) {
    const auto* inside = object.ptr<std::uint8_t>(y);
    auto* label = labels.ptr<std::int32_t>(y);
    for (int x = 0; x < object.cols; ++x) {
      if (!inside[x] || label[x] != 0) continue;
      double best = std::numeric_limits<double>::max();
      for (std::size_t i = 0; i < seeds.size(); ++i) {
        const double d = std::hypot(seeds[i].x - x, seeds[i].y - y);
        if (d < best) {
          best = d;
          label[x] = static_cast<std::int32_t>(i + 1);
        }
      }
    }
  }
}

}  // namespace

ObjectSplit split_by_markers(const cv::Mat& object, const std::vector<cv::Point2d>& markers,
                             const std::optional<Stroke>& outline) {
  if (object.empty() || object.type() != CV_8U) {
    throw Error(ErrorCode::invalid_argument, "object must be a non-empty 8-bit mask", {{"field", "object"}});
  }
  const cv::Mat original = object != 0;
  cv::Mat inside = original.clone();
  ObjectSplit out;
  if (outline) {
    check_stroke(*outline, object.size(), "outline");
    const cv::Mat cut = stroke_mask(*outline, object.size()) & original;
    out.removed_pixels = cv::countNonZero(cut);
    inside.setTo(0, cut);
  }
  const std::vector<cv::Point> seeds = marker_pixels(original, inside, markers);
  out.labels = flood(inside, seeds);
  assign_unreached(inside, seeds, out.labels);
  out.part_pixels.assign(markers.size(), 0);
  for (int y = 0; y < out.labels.rows; ++y) {
    const auto* row = out.labels.ptr<std::int32_t>(y);
    for (int x = 0; x < out.labels.cols; ++x) {
      if (row[x] > 0) ++out.part_pixels[static_cast<std::size_t>(row[x] - 1)];
    }
  }
  return out;
}

LabelSplit split_label_by_markers(const cv::Mat& labels, std::int32_t label, const std::vector<cv::Point2d>& markers,
                                  const std::optional<Stroke>& outline) {
  if (labels.type() != CV_32S) {
    throw Error(ErrorCode::invalid_argument, "labels must be a 32-bit signed label image", {{"field", "labels"}});
  }
  if (label <= 0) {
    throw Error(ErrorCode::invalid_argument, fmt::format("label must be positive, got {}", label),
                {{"field", "label"}});
  }
  const cv::Mat object = labels == label;
  if (cv::countNonZero(object) == 0) {
    throw Error(ErrorCode::not_found, fmt::format("label {} is not in the label image", label), {{"field", "label"}});
  }
  const ObjectSplit split = split_by_markers(object, markers, outline);
  double largest = 0;
  cv::minMaxLoc(labels, nullptr, &largest);
  LabelSplit out;
  out.labels = labels.clone();
  out.labels.setTo(0, object);  // pixels under the outline become background
  for (std::size_t i = 0; i < markers.size(); ++i) {
    const std::int32_t part = i == 0 ? label : static_cast<std::int32_t>(largest) + static_cast<std::int32_t>(i);
    out.parts.push_back(part);
    out.labels.setTo(part, split.labels == static_cast<std::int32_t>(i + 1));
  }
  return out;
}

}  // namespace tessera::segment
