// Random forest training. Every feature is binned into at most 256 quantile bins once, so a node's best
// split is one histogram pass over its rows per candidate feature instead of a sort (the approach of
// LightGBM / scikit-learn's HistGradientBoosting). Nodes store the bin's float edge as their threshold, so
// prediction (random_forest_predict.cpp) compares raw feature values and needs no binning.

#include "tessera/learn/random_forest.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include <fmt/format.h>
#include <opencv2/core/utility.hpp>

#include "tessera/core/error.hpp"
#include "tessera/core/splitmix64.hpp"

namespace tessera::learn {
namespace {

constexpr int kMaxBins = 256;

void check_range(const char* field, long long value, long long low, long long high) {
  if (value < low || value > high) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("forest option '{}' must be in [{}, {}], got {}", field, low, high, value));
  }
}

// Per feature: the bin edges (ascending) and every row's bin, column-major (bins[f * n + i]).
struct BinnedRows {
  int n = 0;
  int features = 0;
  std::vector<std::vector<float>> edges;
  std::vector<std::uint8_t> bins;
};

// Edges at up to 255 quantiles of the feature's distinct values: a value v falls in bin
// (number of edges < v), so "bin <= b" and "v <= edges[b]" are the same test.
std::vector<float> quantile_edges(std::vector<float> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  std::vector<float> edges;
  if (values.size() <= 1) return edges;
  const size_t distinct = values.size();
  if (distinct <= static_cast<size_t>(kMaxBins)) {
    edges.assign(values.begin(), values.end() - 1);  // the largest value needs no edge above it
    return edges;
  }
  for (int k = 1; k < kMaxBins; ++k) {
    const float edge = values[static_cast<size_t>(k) * distinct / kMaxBins];
    if (edges.empty() || edge > edges.back()) edges.push_back(edge);
  }
  return edges;
}

BinnedRows bin_rows(const cv::Mat& rows) {
  BinnedRows binned;
  binned.n = rows.rows;
  binned.features = rows.cols;
  binned.edges.resize(rows.cols);
  binned.bins.resize(static_cast<size_t>(rows.rows) * rows.cols);
  // Quantiles from at most 200k evenly strided rows: enough for 256 bins, bounded cost.
  const int stride = std::max(1, rows.rows / 200000);
  cv::parallel_for_(cv::Range(0, rows.cols), [&](const cv::Range& range) {
    std::vector<float> column;
    for (int f = range.start; f < range.end; ++f) {
      column.clear();
      for (int i = 0; i < rows.rows; i += stride) column.push_back(rows.at<float>(i, f));
      binned.edges[f] = quantile_edges(column);
      const auto& edges = binned.edges[f];
      std::uint8_t* out = binned.bins.data() + static_cast<size_t>(f) * rows.rows;
      for (int i = 0; i < rows.rows; ++i) {
        const float v = rows.at<float>(i, f);
        out[i] = static_cast<std::uint8_t>(std::lower_bound(edges.begin(), edges.end(), v) - edges.begin());
      }
    }
  });
  return binned;
}

// One grown tree, depth-first: an internal node goes left when the row's bin of `feature` is <= bin.
struct TreeNodes {
  struct Node {
    std::int32_t feature = -1;  // -1: leaf
    std::int32_t bin = 0;
    std::int32_t left = 0;      // children (internal) or offset into leaf_probabilities (leaf)
    std::int32_t right = 0;
  };
  std::vector<Node> nodes;
  std::vector<float> leaf_probabilities;
};

// Grows one tree on the rows with a positive bootstrap weight.
class TreeGrower {
 public:
  TreeGrower(const BinnedRows& data, const std::vector<int>& classes, int class_count, const ForestOptions& options,
             std::uint64_t seed)
      : data_(data), classes_(classes), class_count_(class_count), options_(options), rng_(seed) {
    const int features = data.features;
    features_per_split_ = options.features_per_split > 0
                              ? std::min(options.features_per_split, features)
                              : std::max(1, static_cast<int>(std::lround(std::sqrt(static_cast<double>(features)))));
    feature_order_.resize(features);
    std::iota(feature_order_.begin(), feature_order_.end(), 0);
    histogram_.resize(static_cast<size_t>(kMaxBins) * class_count);
  }

  TreeNodes grow() {
    std::vector<std::uint32_t> weight(data_.n, 1);
    if (options_.bootstrap) {
      std::fill(weight.begin(), weight.end(), 0);
      for (int k = 0; k < data_.n; ++k) ++weight[rng_() % static_cast<std::uint64_t>(data_.n)];
    }
    weight_ = std::move(weight);
    rows_.clear();
    for (int i = 0; i < data_.n; ++i) {
      if (weight_[i] > 0) rows_.push_back(i);
    }
    struct Pending {
      int node, begin, end, depth;
    };
    std::vector<Pending> stack;
    tree_.nodes.emplace_back();
    stack.push_back({0, 0, static_cast<int>(rows_.size()), 0});
    while (!stack.empty()) {
      const Pending p = stack.back();
      stack.pop_back();
      const Split split = p.depth < options_.max_depth ? best_split(p.begin, p.end) : Split{};
      if (split.feature < 0) {
        make_leaf(p.node, p.begin, p.end);
        continue;
      }
      const std::uint8_t* bins = data_.bins.data() + static_cast<size_t>(split.feature) * data_.n;
      const auto middle = std::partition(rows_.begin() + p.begin, rows_.begin() + p.end,
                                         [&](std::uint32_t i) { return bins[i] <= split.bin; });
      const int mid = static_cast<int>(middle - rows_.begin());
      const int left = static_cast<int>(tree_.nodes.size());
      tree_.nodes.emplace_back();
      tree_.nodes.emplace_back();
      auto& node = tree_.nodes[p.node];
      node.feature = split.feature;
      node.bin = split.bin;
      node.left = left;
      node.right = left + 1;
      stack.push_back({left + 1, mid, p.end, p.depth + 1});
      stack.push_back({left, p.begin, mid, p.depth + 1});
    }
    return std::move(tree_);
  }

 private:
  struct Split {
    int feature = -1;
    int bin = 0;
  };

  // Class totals of rows [begin, end) into `totals` (weighted); returns the weighted count.
  double class_totals(int begin, int end, std::vector<double>& totals) const {
    totals.assign(class_count_, 0.0);
    double count = 0;
    for (int k = begin; k < end; ++k) {
      const std::uint32_t i = rows_[k];
      totals[classes_[i]] += weight_[i];
      count += weight_[i];
    }
    return count;
  }

  // The split of highest Gini decrease over features_per_split random features; when none of them can
  // split (constant on this node), further features are tried, as scikit-learn does.
  Split best_split(int begin, int end) {
    std::vector<double> totals;
    const double count = class_totals(begin, end, totals);
    const auto classes_present = std::count_if(totals.begin(), totals.end(), [](double t) { return t > 0; });
    if (classes_present <= 1 || end - begin < 2 * options_.min_samples_leaf) return {};
    double parent_score = 0;
    for (double t : totals) parent_score += t * t;
    parent_score /= count;

    Split best;
    double best_score = parent_score + 1e-9 * count;  // a split must lower the impurity
    const int features = data_.features;
    std::vector<double> left(class_count_);
    for (int tried = 0; tried < features; ++tried) {
      if (tried >= features_per_split_ && best.feature >= 0) break;
      const int pick = tried + static_cast<int>(rng_() % static_cast<std::uint64_t>(features - tried));
      std::swap(feature_order_[tried], feature_order_[pick]);
      const int f = feature_order_[tried];
      const int bin_count = static_cast<int>(data_.edges[f].size()) + 1;
      if (bin_count < 2) continue;
      std::fill(histogram_.begin(), histogram_.begin() + static_cast<size_t>(bin_count) * class_count_, 0.0);
      const std::uint8_t* bins = data_.bins.data() + static_cast<size_t>(f) * data_.n;
      std::vector<int> bin_rows(bin_count, 0);
      for (int k = begin; k < end; ++k) {
        const std::uint32_t i = rows_[k];
        histogram_[static_cast<size_t>(bins[i]) * class_count_ + classes_[i]] += weight_[i];
        ++bin_rows[bins[i]];
      }
      std::fill(left.begin(), left.end(), 0.0);
      double left_count = 0;
      int left_rows = 0;
      const int node_rows = end - begin;
      for (int b = 0; b + 1 < bin_count; ++b) {
        const double* h = &histogram_[static_cast<size_t>(b) * class_count_];
        for (int c = 0; c < class_count_; ++c) left[c] += h[c];
        for (int c = 0; c < class_count_; ++c) left_count += h[c];
        left_rows += bin_rows[b];
        if (left_rows < options_.min_samples_leaf) continue;
        if (node_rows - left_rows < options_.min_samples_leaf) break;
        const double right_count = count - left_count;
        if (left_count <= 0 || right_count <= 0) continue;
        double left_sq = 0, right_sq = 0;
        for (int c = 0; c < class_count_; ++c) {
          left_sq += left[c] * left[c];
          const double r = totals[c] - left[c];
          right_sq += r * r;
        }
        const double score = left_sq / left_count + right_sq / right_count;
        if (score > best_score) {
          best_score = score;
          best = {f, b};
        }
      }
    }
    return best;
  }

  void make_leaf(int node_index, int begin, int end) {
    std::vector<double> totals;
    const double count = class_totals(begin, end, totals);
    auto& node = tree_.nodes[node_index];
    node.feature = -1;
    node.left = static_cast<std::int32_t>(tree_.leaf_probabilities.size());
    for (double t : totals) tree_.leaf_probabilities.push_back(static_cast<float>(count > 0 ? t / count : 0.0));
  }

  const BinnedRows& data_;
  const std::vector<int>& classes_;
  int class_count_;
  const ForestOptions& options_;
  std::mt19937_64 rng_;
  int features_per_split_ = 1;
  std::vector<int> feature_order_;
  std::vector<double> histogram_;
  std::vector<std::uint32_t> weight_;
  std::vector<std::uint32_t> rows_;
  TreeNodes tree_;
};

void check_training_input(const cv::Mat& rows, const std::vector<int>& classes, int class_count) {
  if (rows.empty() || rows.type() != CV_32FC1 || rows.dims != 2) {
    throw Error(ErrorCode::invalid_argument, "random forest: 'rows' must be a non-empty CV_32F matrix");
  }
  if (rows.cols > RandomForest::kMaxFeatures) {
    throw Error(ErrorCode::invalid_argument, fmt::format("random forest: 'rows' has {} features; at most {}",
                                                         rows.cols, RandomForest::kMaxFeatures));
  }
  if (static_cast<int>(classes.size()) != rows.rows) {
    throw Error(ErrorCode::invalid_argument, fmt::format("random forest: 'classes' has {} values for {} rows",
                                                         classes.size(), rows.rows));
  }
  if (class_count < 2) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("random forest: 'class_count' must be at least 2, got {}", class_count));
  }
  std::vector<char> seen(class_count, 0);
  for (size_t i = 0; i < classes.size(); ++i) {
    if (classes[i] < 0 || classes[i] >= class_count) {
      throw Error(ErrorCode::invalid_argument, fmt::format("random forest: 'classes[{}]' = {} is outside [0, {})",
                                                           i, classes[i], class_count));
    }
    seen[classes[i]] = 1;
  }
  if (std::count(seen.begin(), seen.end(), 1) < 2) {
    throw Error(ErrorCode::invalid_argument,
                "random forest: 'classes' holds only one class; training needs examples of at least two");
  }
  for (int i = 0; i < rows.rows; ++i) {
    const float* row = rows.ptr<float>(i);
    for (int f = 0; f < rows.cols; ++f) {
      if (!std::isfinite(row[f])) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("random forest: 'rows' holds a non-finite value at row {}, feature {}", i, f));
      }
    }
  }
}

}  // namespace

void validate(const ForestOptions& options) {
  check_range("trees", options.trees, 1, 2000);
  check_range("max_depth", options.max_depth, 1, 40);
  check_range("min_samples_leaf", options.min_samples_leaf, 1, 1000000);
  check_range("features_per_split", options.features_per_split, 0, 100000);
}

// Builds a RandomForest from trees grown independently (befriended so the node layout stays private).
class ForestBuilder {
 public:
  static RandomForest assemble(std::vector<TreeNodes>& trees, const std::vector<std::vector<float>>& edges,
                               int class_count) {
    RandomForest forest;
    forest.feature_count_ = static_cast<int>(edges.size());
    forest.class_count_ = class_count;
    for (auto& tree : trees) {
      append_breadth_first(tree, edges, forest);
      tree = TreeNodes{};
    }
    forest.build_vector_layout();
    return forest;
  }

 private:
  // Appends `tree` level by level: a node's two children are placed side by side when the node is.
  static void append_breadth_first(const TreeNodes& tree, const std::vector<std::vector<float>>& edges,
                                   RandomForest& forest) {
    const auto root = static_cast<std::int32_t>(forest.nodes_.size());
    const int classes = forest.class_count_;
    forest.roots_.push_back(root);
    std::vector<std::int32_t> queue = {0};  // grown-tree indices in output order
    forest.nodes_.emplace_back();
    forest.node_probabilities_.resize(forest.nodes_.size() * classes, 0.0f);
    for (size_t k = 0; k < queue.size(); ++k) {
      const TreeNodes::Node& grown = tree.nodes[queue[k]];
      RandomForest::Node& node = forest.nodes_[root + static_cast<std::int32_t>(k)];
      if (grown.feature < 0) {
        node.is_leaf = 1;
        node.threshold = std::numeric_limits<float>::infinity();
        node.next = root + static_cast<std::int32_t>(k);
        const auto leaf = tree.leaf_probabilities.begin() + static_cast<std::ptrdiff_t>(grown.left);
        std::copy(leaf, leaf + classes,
                  forest.node_probabilities_.begin() + static_cast<std::ptrdiff_t>(node.next) * classes);
        continue;
      }
      node.feature = static_cast<std::uint16_t>(grown.feature);
      node.threshold = edges[grown.feature][grown.bin];
      node.next = root + static_cast<std::int32_t>(queue.size());
      queue.push_back(grown.left);
      queue.push_back(grown.right);
      forest.nodes_.resize(forest.nodes_.size() + 2);  // `node` is not used past this point
      forest.node_probabilities_.resize(forest.nodes_.size() * classes, 0.0f);
    }
  }
};

RandomForest RandomForest::train(const cv::Mat& rows, const std::vector<int>& classes, int class_count,
                                 const ForestOptions& options) {
  validate(options);
  check_training_input(rows, classes, class_count);
  const cv::Mat contiguous = rows.isContinuous() ? rows : rows.clone();
  const BinnedRows binned = bin_rows(contiguous);
  std::vector<TreeNodes> trees(options.trees);
  // Each tree's randomness comes from (seed, tree index) alone, so the forest does not depend on which
  // thread grew which tree.
  cv::parallel_for_(cv::Range(0, options.trees), [&](const cv::Range& range) {
    for (int t = range.start; t < range.end; ++t) {
      TreeGrower grower(binned, classes, class_count, options, splitmix64(options.seed * 0x100000001b3ULL + t));
      trees[t] = grower.grow();
    }
  });
  return ForestBuilder::assemble(trees, binned.edges, class_count);
}

}  // namespace tessera::learn
