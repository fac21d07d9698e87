#pragma once

// The random forest both classifiers use: Gini-split classification trees on bootstrap samples, leaves
// holding class frequencies, probabilities = the mean of the leaves' distributions (as scikit-learn).
// Training bins every feature into at most 256 quantile bins; the forest keeps those bin edges, so
// prediction bins a row's features once (one byte each) and walks compact 8-byte nodes that compare bins.
// Training (tree by tree) and prediction (row block by row block) run on OpenCV's thread pool.

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
  // The most features a forest takes (a node stores its feature in 16 bits).
  static constexpr int kMaxFeatures = 65535;

  RandomForest() = default;

  // rows: CV_32F, one sample per row (n x features, at most kMaxFeatures); classes: n values in
  // [0, class_count). Error{invalid_argument} naming "rows" (empty, not CV_32F, too many columns, NaN/infinite
  // values), "classes" (size differs from rows, value out of range) or "classes" again when fewer than two
  // classes occur.
  static RandomForest train(const cv::Mat& rows, const std::vector<int>& classes, int class_count,
                            const ForestOptions& options);

  // Per-class probabilities: CV_32F, rows.rows x class_count, each row sums to 1. Error{invalid_argument}
  // when the column count differs from the training's. NaN features follow the right branch (never crash).
  cv::Mat predict_proba(const cv::Mat& rows) const;

  // The two steps of predict_proba for callers that hold features as planes (pixel prediction):
  // bin_feature writes the bin of values[i] to out[i * stride] (NaN -> the last bin, i.e. right branches);
  // predict_binned adds nothing but writes the class probabilities of n binned rows (row-major,
  // feature_count() bytes each) to probabilities (n x class_count floats). Requires: feature in
  // [0, feature_count()), buffers of those sizes. Thread-safe (const).
  void bin_feature(int feature, const float* values, int n, std::uint8_t* out, int stride) const;
  void predict_binned(const std::uint8_t* rows, int n, float* probabilities) const;

  int feature_count() const { return feature_count_; }
  int class_count() const { return class_count_; }
  int tree_count() const { return static_cast<int>(roots_.size()); }
  bool empty() const { return roots_.empty(); }

  // Little-endian binary image of the bin edges and trees (no header; the classifiers wrap it with theirs
  // and their format version). from_bytes: Error{corrupt} naming what is inconsistent (truncated, node index
  // out of range, edges not ascending, ...).
  std::string to_bytes() const;
  static RandomForest from_bytes(std::string_view bytes);

 private:
  // Internal node: go to `next` when the row's bin of `feature` is <= bin, else to next + 1 (siblings are
  // adjacent, trees in breadth-first order so the hot top levels share cache lines). Leaf: is_leaf = 1,
  // feature = 0, `next` = offset of its class_count_ probabilities.
  struct Node {
    std::uint16_t feature = 0;
    std::uint8_t bin = 0;
    std::uint8_t is_leaf = 0;
    std::int32_t next = 0;
  };
  static_assert(sizeof(Node) == 8);
  friend class ForestBuilder;
  void pad_edges();  // fills padded_edges_ from edges_

  int feature_count_ = 0;
  int class_count_ = 0;
  std::vector<std::vector<float>> edges_;  // per feature, ascending, at most 255: bin = count of edges < v
  std::vector<float> padded_edges_;        // edges_ padded to 255 per feature with +inf (branch-free binning)
  std::vector<std::int32_t> roots_;
  std::vector<Node> nodes_;
  std::vector<float> leaf_probabilities_;  // class_count_ values per leaf
};

}  // namespace tessera::learn
