#pragma once

// Scribbles a person might draw, generated from ground truth: a thin cross through each object's eroded
// interior and sparse background strokes away from the objects, within a pixel budget. Shared by the
// quality tests.

#include <algorithm>
#include <cstdint>

#include <opencv2/imgproc.hpp>

namespace tessera::learn::test {

// labels: CV_32S instances (0 = background). Returns CV_8U: 0 unlabelled, 1 background, 2 object, with
// at most budget_share of the image's pixels labelled.
inline cv::Mat scribbles_from_truth(const cv::Mat& labels, double budget_share = 0.018) {
  cv::Mat scribbles(labels.size(), CV_8U, cv::Scalar(0));
  const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(5, 5));
  double max_label = 0;
  cv::minMaxLoc(labels, nullptr, &max_label);
  // Objects: the row and column through the centroid, inside the object eroded by 2 px.
  for (int id = 1; id <= static_cast<int>(max_label); ++id) {
    const cv::Mat object = labels == id;
    const cv::Moments m = cv::moments(object, true);
    if (m.m00 < 1) continue;
    cv::Mat interior;
    cv::erode(object, interior, kernel);
    if (cv::countNonZero(interior) == 0) continue;
    const int cy = static_cast<int>(m.m01 / m.m00), cx = static_cast<int>(m.m10 / m.m00);
    for (int x = 0; x < labels.cols; ++x) {
      if (interior.at<std::uint8_t>(cy, x)) scribbles.at<std::uint8_t>(cy, x) = 2;
    }
    for (int y = 0; y < labels.rows; ++y) {
      if (interior.at<std::uint8_t>(y, cx)) scribbles.at<std::uint8_t>(y, cx) = 2;
    }
  }
  // Background: pixels at least 3 px from any object on every 16th row, thinned evenly to the budget.
  cv::Mat near;
  cv::dilate(labels != 0, near, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(7, 7)));
  std::vector<cv::Point> candidates;
  for (int y = 8; y < labels.rows; y += 16) {
    for (int x = 0; x < labels.cols; ++x) {
      if (!near.at<std::uint8_t>(y, x)) candidates.emplace_back(x, y);
    }
  }
  const auto budget = static_cast<long long>(budget_share * static_cast<double>(labels.total()));
  const long long room = std::max<long long>(0, budget - cv::countNonZero(scribbles));
  const double step = candidates.empty() ? 1.0 : std::max(1.0, static_cast<double>(candidates.size()) / room);
  for (double k = 0; k < static_cast<double>(candidates.size()); k += step) {
    scribbles.at<std::uint8_t>(candidates[static_cast<size_t>(k)]) = 1;
  }
  return scribbles;
}

}  // namespace tessera::learn::test
