#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

namespace tessera::ops {

// Scores comparing a segmentation with a reference: IoU and Dice of two masks, and object-level
// matching of two label images. Registered as the ops `iou`, `dice` and `match_objects`; errors are
// Error{invalid_argument} naming the op. Convention: when there is nothing in either input (two
// empty masks, two label images without objects) every score is 1 (a perfect match); when only one
// side is empty the scores are 0. Thread-safe.

// Pixel counts of two masks (non-zero = foreground).
struct MaskOverlap {
  std::int64_t area_a = 0;
  std::int64_t area_b = 0;
  std::int64_t intersection = 0;

  std::int64_t union_area() const { return area_a + area_b - intersection; }
  double iou() const;   // |A and B| / |A or B|, 1 when both are empty
  double dice() const;  // 2 |A and B| / (|A| + |B|), 1 when both are empty
};

// Error unless a and b are one-channel images of one size; op names the caller in its message.
MaskOverlap mask_overlap(const cv::Mat& a, const cv::Mat& b, std::string_view op = "mask_overlap");

struct ObjectMatch {
  std::int32_t truth = 0;  // label in the reference
  std::int32_t pred = 0;   // label in the prediction
  double iou = 0;
};

struct ObjectMatching {
  std::vector<ObjectMatch> matches;  // ascending truth label
  std::int64_t true_objects = 0;
  std::int64_t predicted_objects = 0;
  std::int64_t true_positives = 0;   // matched pairs
  std::int64_t false_positives = 0;  // unmatched predictions
  std::int64_t false_negatives = 0;  // unmatched reference objects
  double precision = 0;              // tp / predicted
  double recall = 0;                 // tp / true
  double f1 = 0;                     // 2 tp / (true + predicted)
  double mean_matched_iou = 0;       // over the matches; 0 without any
};

// Pairs objects (ids > 0) of a reference and a predicted label image (one-channel integer, same
// size) one to one: every overlapping pair with IoU >= threshold, best IoU first, each object used
// at most once. With threshold > 0.5 such pairs cannot conflict, so the matching is the unique one
// (as in StarDist's and the Data Science Bowl's scoring).
ObjectMatching match_objects(const cv::Mat& truth, const cv::Mat& pred, double threshold = 0.5);

}  // namespace tessera::ops
