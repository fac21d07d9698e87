// Random forest prediction. A row's features are binned once with the training's bin edges (one byte
// each), then a block of rows walks each tree in turn: the tree's top levels and the block's bytes stay in
// cache, and small groups of rows step down the tree together without branches, so the walks of a group
// overlap instead of each level waiting on a mispredicted jump. A group stops as soon as all its rows sit
// in leaves; neighbouring pixels end at similar depths, so little work is wasted on finished rows.

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <opencv2/core/utility.hpp>

#include "tessera/core/error.hpp"
#include "tessera/learn/random_forest.hpp"

namespace tessera::learn {
namespace {

constexpr int kPaddedEdges = 255;  // a feature has at most 255 edges, i.e. 256 bins
constexpr int kGroup = 16;         // rows stepping down a tree together
constexpr int kBlockRows = 256;    // rows binned at once in predict_proba

}  // namespace

void RandomForest::pad_edges() {
  padded_edges_.assign(static_cast<size_t>(feature_count_) * kPaddedEdges, std::numeric_limits<float>::infinity());
  for (int f = 0; f < feature_count_; ++f) {
    std::copy(edges_[f].begin(), edges_[f].end(), padded_edges_.begin() + static_cast<std::ptrdiff_t>(f) * kPaddedEdges);
  }
}

void RandomForest::bin_feature(int feature, const float* values, int n, std::uint8_t* out, int stride) const {
  const float* edges = padded_edges_.data() + static_cast<size_t>(feature) * kPaddedEdges;
  for (int i = 0; i < n; ++i) {
    const float v = values[i];
    // Branch-free binary search for the count of edges < v over the 255 padded edges (+inf never counts).
    int base = 0;
    for (int half = 128; half > 0; half >>= 1) base += edges[base + half - 1] < v ? half : 0;
    out[static_cast<size_t>(i) * stride] = std::isnan(v) ? std::uint8_t{255} : static_cast<std::uint8_t>(base);
  }
}

void RandomForest::predict_binned(const std::uint8_t* rows, int n, float* probabilities) const {
  const size_t features = static_cast<size_t>(feature_count_);
  std::fill(probabilities, probabilities + static_cast<size_t>(n) * class_count_, 0.0f);
  const Node* nodes = nodes_.data();
  for (const std::int32_t root : roots_) {
    for (int first = 0; first < n; first += kGroup) {
      const int count = std::min(kGroup, n - first);
      const std::uint8_t* group_rows = rows + first * features;
      std::int32_t at[kGroup];
      std::fill(at, at + count, root);
      for (bool moving = true; moving;) {
        moving = false;
        for (int k = 0; k < count; ++k) {
          const Node node = nodes[at[k]];
          const std::int32_t child = node.next + (group_rows[k * features + node.feature] > node.bin ? 1 : 0);
          moving |= node.is_leaf == 0;
          at[k] = node.is_leaf ? at[k] : child;
        }
      }
      for (int k = 0; k < count; ++k) {
        const float* leaf = &leaf_probabilities_[nodes[at[k]].next];
        float* out = probabilities + static_cast<size_t>(first + k) * class_count_;
        for (int c = 0; c < class_count_; ++c) out[c] += leaf[c];
      }
    }
  }
  const float scale = 1.0f / static_cast<float>(roots_.size());
  for (size_t i = 0; i < static_cast<size_t>(n) * class_count_; ++i) probabilities[i] *= scale;
}

cv::Mat RandomForest::predict_proba(const cv::Mat& rows) const {
  if (empty()) throw Error(ErrorCode::invalid_argument, "random forest: predicting with an untrained forest");
  if (rows.type() != CV_32FC1 || rows.cols != feature_count_) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("random forest: 'rows' must be CV_32F with {} columns, got type {} with {} columns",
                            feature_count_, rows.type(), rows.cols));
  }
  cv::Mat out(rows.rows, class_count_, CV_32FC1);
  const int blocks = (rows.rows + kBlockRows - 1) / kBlockRows;
  cv::parallel_for_(cv::Range(0, blocks), [&](const cv::Range& range) {
    std::vector<std::uint8_t> binned(static_cast<size_t>(kBlockRows) * feature_count_);
    std::vector<float> column(kBlockRows);
    for (int block = range.start; block < range.end; ++block) {
      const int first = block * kBlockRows;
      const int n = std::min(kBlockRows, rows.rows - first);
      for (int f = 0; f < feature_count_; ++f) {
        for (int i = 0; i < n; ++i) column[i] = rows.at<float>(first + i, f);
        bin_feature(f, column.data(), n, binned.data() + f, feature_count_);
      }
      predict_binned(binned.data(), n, out.ptr<float>(first));
    }
  });
  return out;
}

}  // namespace tessera::learn
