// Merging over-segmented parts along a skeleton stroke (see object_edit.hpp for the contract).

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "tessera/core/error.hpp"
#include "tessera/segment/object_edit.hpp"

namespace tessera::segment {
namespace {

constexpr double kSampleStep = 0.5;  // pixels along the stroke's centreline

struct Sample {
  cv::Point2d at;
  double arc = 0;  // arc length from the stroke's first point
};

std::vector<Sample> centreline_samples(const Stroke& stroke) {
  std::vector<Sample> samples{{stroke.points.front(), 0}};
  double arc = 0;
  for (std::size_t i = 1; i < stroke.points.size(); ++i) {
    const cv::Point2d a = stroke.points[i - 1];
    const cv::Point2d b = stroke.points[i];
    const double length = std::hypot(b.x - a.x, b.y - a.y);
    const int steps = std::max(1, static_cast<int>(std::ceil(length / kSampleStep)));
    for (int s = 1; s <= steps; ++s) {
      const double t = static_cast<double>(s) / steps;
      samples.push_back({a + (b - a) * t, arc + length * t});
    }
    arc += length;
  }
  return samples;
}

cv::Mat round_kernel(int diameter) {
  const int d = diameter | 1;  // odd, so the kernel has a centre pixel
  return cv::getStructuringElement(cv::MORPH_ELLIPSE, {d, d});
}

// Where the stroke's disk (radius width / 2) meets the union, along the centreline: the first and last
// contact and the longest gap between contacts, in arc length.
struct Contacts {
  std::size_t first = 0, last = 0;
  double longest_gap = 0;
};

Contacts find_contacts(const std::vector<Sample>& samples, const cv::Mat& united, double width) {
  cv::Mat reach;
  cv::dilate(united, reach, round_kernel(2 * static_cast<int>(std::ceil(width / 2)) + 1));
  Contacts c;
  bool seen = false;
  double gap_start = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const cv::Point p(static_cast<int>(samples[i].at.x), static_cast<int>(samples[i].at.y));
    const bool inside = p.x >= 0 && p.y >= 0 && p.x < reach.cols && p.y < reach.rows && reach.at<std::uint8_t>(p);
    if (!inside) continue;
    if (!seen) {
      c.first = i;
      seen = true;
    } else if (i > c.last + 1) {
      c.longest_gap = std::max(c.longest_gap, samples[i].arc - gap_start);
    }
    c.last = i;
    gap_start = samples[i].arc;
  }
  return c;
}

// The stroke between two samples, drawn `width` wide.
cv::Mat span_mask(const std::vector<Sample>& samples, std::size_t first, std::size_t last, double width,
                  cv::Size size) {
  Stroke span;
  span.width = width;
  for (std::size_t i = first; i <= last; ++i) span.points.push_back(samples[i].at);
  return stroke_mask(span, size);
}

// True when every merged part's stroke contact lies in one 8-connected component of `merged`.
bool parts_connected(const cv::Mat& merged, const std::vector<cv::Point>& contacts) {
  cv::Mat components;
  cv::connectedComponents(merged, components, 8, CV_32S);
  const int first = components.at<int>(contacts.front());
  return std::all_of(contacts.begin(), contacts.end(),
                     [&](const cv::Point& p) { return components.at<int>(p) == first; });
}

// The merged object from the union of the touched parts and one contact pixel of each.
cv::Mat bridge_parts(const cv::Mat& united, const std::vector<cv::Point>& contacts, const Stroke& stroke) {
  const std::vector<Sample> samples = centreline_samples(stroke);
  const Contacts c = find_contacts(samples, united, stroke.width);
  const cv::Mat span = span_mask(samples, c.first, c.last, stroke.width, united.size());
  // A round closing wider than the widest gap crossed (plus the stroke's reach on both sides) fills the gap
  // between the parts along the stroke but not beyond the parts' outer ends.
  cv::Mat closed;
  cv::morphologyEx(united, closed, cv::MORPH_CLOSE,
                   round_kernel(static_cast<int>(std::ceil(c.longest_gap + stroke.width)) + 3));
  cv::Mat merged = united | (span & closed);
  if (!parts_connected(merged, contacts)) {
    // One pixel wider than drawn, so rounding cannot leave a one-pixel crack at a contact.
    merged |= span_mask(samples, c.first, c.last, stroke.width + 2, united.size());
  }
  return merged;
}

cv::Point first_pixel(const cv::Mat& mask) {
  std::vector<cv::Point> points;
  cv::findNonZero(mask, points);
  return points.front();
}

}  // namespace

MaskMerge merge_masks_by_stroke(const std::vector<cv::Mat>& masks, const Stroke& stroke) {
  if (masks.empty()) throw Error(ErrorCode::invalid_argument, "masks: no masks to merge", {{"field", "masks"}});
  const cv::Size size = masks.front().size();
  for (std::size_t i = 0; i < masks.size(); ++i) {
    if (masks[i].size() != size || masks[i].type() != CV_8U) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("masks[{}] must be 8-bit and {}x{} like masks[0]", i, size.width, size.height),
                  {{"field", fmt::format("masks[{}]", i)}});
    }
  }
  check_stroke(stroke, size, "stroke");
  const cv::Mat drawn = stroke_mask(stroke, size);

  MaskMerge out;
  cv::Mat united(size, CV_8U, cv::Scalar(0));
  std::vector<cv::Point> contacts;
  for (std::size_t i = 0; i < masks.size(); ++i) {
    const cv::Mat touch = (masks[i] != 0) & drawn;
    if (cv::countNonZero(touch) == 0) continue;
    out.merged.push_back(i);
    contacts.push_back(first_pixel(touch));
    united |= (masks[i] != 0);
  }
  if (out.merged.size() < 2) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("stroke touches {} object(s); a merge stroke must touch at least two", out.merged.size()),
                {{"field", "stroke"}});
  }
  out.mask = bridge_parts(united, contacts, stroke);
  out.bridge_pixels = cv::countNonZero(out.mask) - cv::countNonZero(united);
  return out;
}

LabelMerge merge_labels_by_stroke(const cv::Mat& labels, const Stroke& stroke) {
  if (labels.type() != CV_32S) {
    throw Error(ErrorCode::invalid_argument, "labels must be a 32-bit signed label image", {{"field", "labels"}});
  }
  check_stroke(stroke, labels.size(), "stroke");
  const cv::Mat drawn = stroke_mask(stroke, labels.size());
  std::vector<std::int32_t> touched;
  for (int y = 0; y < labels.rows; ++y) {
    const auto* row = labels.ptr<std::int32_t>(y);
    const auto* on = drawn.ptr<std::uint8_t>(y);
    for (int x = 0; x < labels.cols; ++x) {
      if (on[x] && row[x] > 0) touched.push_back(row[x]);
    }
  }
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  if (touched.size() < 2) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("stroke touches {} object(s); a merge stroke must touch at least two", touched.size()),
                {{"field", "stroke"}});
  }
  cv::Mat united(labels.size(), CV_8U, cv::Scalar(0));
  std::vector<cv::Point> contacts;
  for (std::int32_t label : touched) {
    const cv::Mat part = labels == label;
    contacts.push_back(first_pixel(part & drawn));
    united |= part;
  }
  const cv::Mat merged = bridge_parts(united, contacts, stroke);

  LabelMerge out;
  out.label = touched.front();
  out.absorbed.assign(touched.begin() + 1, touched.end());
  out.labels = labels.clone();
  // Bridge pixels never take another object's pixels: only the background and the merged parts change.
  out.labels.setTo(out.label, merged & ((labels == 0) | united));
  return out;
}

}  // namespace tessera::segment
