#pragma once

// The random forest both classifiers use: Gini-split classification trees on bootstrap samples, leaves
// holding class frequencies, probabilities = the mean of the leaves' distributions (as scikit-learn).
// Trees are stored flat so prediction over a million pixels is a tight, parallel loop. Training (tree by
// tree) and prediction (row block by row block) run on OpenCV's thread pool (cv::setNumThreads).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

namespace tessera::learn {

// Forest shape and randomness. validate() checks the ranges.
struct ForestOptions {
  int trees = 100;               // [1, 2000]
  int max_depth = 12;            // [1, 40]
  int min_samples_leaf = 1;      // [1, 1000000]: a split leaving fewer on one side is not made
  int features_per_split = 0;    // [0, 100000]: 0 = round(sqrt(feature count))
  bool bootstrap = true;         // each tree on a bootstrap sample of the rows (with replacement)
  std::uint64_t seed = 1;        // same data + options + seed -> the same forest, whatever the threads
};

// Error{invalid_argument} naming the first bad field and its value.
void validate(const ForestOptions& options);

class RandomForest {
 public:
  RandomForest() = default;

  // rows: CV_32F, one sample per row (n x features); classes: n values in [0, class_count). Error{invalid_argument}
  // naming "rows" (empty, not CV_32F, NaN/infinite values), "classes" (size differs from rows, value out of
  // range) or "classes" again when fewer than two classes occur.
  static RandomForest train(const cv::Mat& rows, const std::vector<int>& classes, int class_count,
                            const ForestOptions& options);

  // Per-class probabilities: CV_32F, rows.rows x class_count, each row sums to 1. Error{invalid_argument}
  // when the column count differs from the training's. NaN features follow the right branch (never crash).
  cv::Mat predict_proba(const cv::Mat& rows) const;
  // The same for a single row of feature_count() values.
  void predict_row(const float* row, float* probabilities) const;

  int feature_count() const { return feature_count_; }
  int class_count() const { return class_count_; }
  int tree_count() const { return static_cast<int>(roots_.size()); }
  bool empty() const { return roots_.empty(); }

  // Little-endian binary image of the trees (no header; the classifiers wrap it with theirs). from_bytes:
  // Error{corrupt} naming what is inconsistent (truncated, node index out of range, ...).
  std::string to_bytes() const;
  static RandomForest from_bytes(std::string_view bytes);

 private:
  struct Node {
    std::int32_t feature = -1;  // -1: leaf
    float threshold = 0;        // go left when value <= threshold
    std::int32_t left = 0;      // children (internal) or offset into leaf_probabilities_ (leaf)
    std::int32_t right = 0;
  };
  friend class ForestBuilder;
  int feature_count_ = 0;
  int class_count_ = 0;
  std::vector<std::int32_t> roots_;
  std::vector<Node> nodes_;
  std::vector<float> leaf_probabilities_;  // class_count_ values per leaf
};

}  // namespace tessera::learn
