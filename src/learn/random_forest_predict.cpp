// Random forest prediction. Groups of 8 rows step down each tree together without branches: the 8 walks
// overlap instead of each level waiting on a mispredicted jump, and each lane's node index stays in a
// register. Leaves point at themselves, so a group stops when a step moves none of its rows; neighbouring
// pixels end at similar depths, so few steps are wasted. (Binning the features to bytes first, walking
// tree by tree over blocks, and AVX2 gathers were measured and cost more than they saved.)

#include <algorithm>

#include <fmt/format.h>
#include <opencv2/core/utility.hpp>

#include "forest_layout.hpp"
#include "tessera/core/error.hpp"
#include "tessera/learn/random_forest.hpp"

namespace tessera::learn {
namespace {

constexpr int kGroup = 8;        // rows stepping down a tree together (measured: 8 beats 4 and 16)
constexpr int kBlockRows = 128;  // rows per predict_rows call in predict_proba

// The block function of a vector kernel.
detail::PredictBlock block_kernel(ForestKernel kernel) {
  return kernel == ForestKernel::avx512 ? detail::predict_block_avx512 : detail::predict_block_avx2;
}

}  // namespace

// Walks kGroup rows from `root` to their leaves, stepping all of them each round until a round moves none
// (leaves point at themselves). The fold over a compile-time index sequence unrolls the lanes, so each
// lane's node index lives in a register instead of a stack slot the next step must reload.
template <std::size_t... Lane>
void RandomForest::walk_group(std::int32_t root, const float* const* rows, std::int32_t* leaves,
                              std::index_sequence<Lane...>) const {
  const Node* nodes = nodes_.data();
  std::int32_t at[sizeof...(Lane)] = {(static_cast<void>(Lane), root)...};
  bool moving = true;
  auto step = [&](std::size_t lane) {
    const Node& node = nodes[at[lane]];
    const std::int32_t child = node.next + (rows[lane][node.feature] > node.threshold ? 1 : 0);
    moving |= child != at[lane];
    at[lane] = child;
  };
  while (moving) {
    moving = false;
    (step(Lane), ...);
  }
  ((leaves[Lane] = at[Lane]), ...);
}

void RandomForest::predict_rows(const float* rows, int n, float* probabilities, ForestKernel kernel) const {
  const ForestKernel running = this->kernel(kernel);
  if (running != ForestKernel::portable) {
    predict_rows_vector(rows, n, probabilities, running);
    return;
  }
  const size_t features = static_cast<size_t>(feature_count_);
  std::fill(probabilities, probabilities + static_cast<size_t>(n) * class_count_, 0.0f);
  for (int first = 0; first < n; first += kGroup) {
    const int count = std::min(kGroup, n - first);
    // A group short of kGroup (the block's end) repeats its first row in the spare lanes.
    const float* lane_rows[kGroup];
    for (int k = 0; k < kGroup; ++k) lane_rows[k] = rows + static_cast<size_t>(first + (k < count ? k : 0)) * features;
    float* out = probabilities + static_cast<size_t>(first) * class_count_;
    for (const std::int32_t root : roots_) {
      std::int32_t leaves[kGroup];
      walk_group(root, lane_rows, leaves, std::make_index_sequence<kGroup>{});
      for (int k = 0; k < count; ++k) {
        const float* leaf = &node_probabilities_[static_cast<size_t>(leaves[k]) * class_count_];
        for (int c = 0; c < class_count_; ++c) out[k * class_count_ + c] += leaf[c];
      }
    }
  }
  const float scale = 1.0f / static_cast<float>(roots_.size());
  for (size_t i = 0; i < static_cast<size_t>(n) * class_count_; ++i) probabilities[i] *= scale;
}

// Blocks of 16 rows turned feature-major for the vector kernel (a block short of 16 repeats its first row).
void RandomForest::predict_rows_vector(const float* rows, int n, float* probabilities, ForestKernel kernel) const {
  constexpr int kLanes = detail::kBlockLanes;
  const detail::PredictBlock predict_block = block_kernel(kernel);
  const size_t features = static_cast<size_t>(feature_count_);
  std::vector<float> block(detail::block_floats(feature_count_));
  std::vector<float> means(static_cast<size_t>(kLanes) * class_count_);
  for (int first = 0; first < n; first += kLanes) {
    const int count = std::min(kLanes, n - first);
    for (int lane = 0; lane < kLanes; ++lane) {
      const float* row = rows + static_cast<size_t>(first + (lane < count ? lane : 0)) * features;
      for (size_t f = 0; f < features; ++f) block[f * kLanes + lane] = row[f];
    }
    predict_block(*vector_layout_, node_probabilities_.data(), block.data(), means.data());
    for (int lane = 0; lane < count; ++lane) {
      float* out = probabilities + static_cast<size_t>(first + lane) * class_count_;
      for (int c = 0; c < class_count_; ++c) out[c] = means[c * kLanes + lane];
    }
  }
}

void RandomForest::predict_columns(const float* const* features, int n, float* const* probabilities,
                                   ForestKernel kernel) const {
  constexpr int kLanes = detail::kBlockLanes;
  const ForestKernel running = this->kernel(kernel);
  if (running != ForestKernel::portable) {
    const detail::PredictBlock predict_block = block_kernel(running);
    std::vector<float> block(detail::block_floats(feature_count_));
    std::vector<float> means(static_cast<size_t>(kLanes) * class_count_);
    for (int first = 0; first < n; first += kLanes) {
      const int count = std::min(kLanes, n - first);
      for (int f = 0; f < feature_count_; ++f) {
        float* column = &block[static_cast<size_t>(f) * kLanes];
        std::copy(features[f] + first, features[f] + first + count, column);
        std::fill(column + count, column + kLanes, features[f][first]);  // a short block repeats its first row
      }
      predict_block(*vector_layout_, node_probabilities_.data(), block.data(), means.data());
      for (int c = 0; c < class_count_; ++c) {
        std::copy(&means[static_cast<size_t>(c) * kLanes], &means[static_cast<size_t>(c) * kLanes] + count,
                  probabilities[c] + first);
      }
    }
    return;
  }
  std::vector<float> rows(static_cast<size_t>(n) * feature_count_);
  std::vector<float> row_probabilities(static_cast<size_t>(n) * class_count_);
  for (int f = 0; f < feature_count_; ++f) {
    for (int i = 0; i < n; ++i) rows[static_cast<size_t>(i) * feature_count_ + f] = features[f][i];
  }
  predict_rows(rows.data(), n, row_probabilities.data(), ForestKernel::portable);
  for (int c = 0; c < class_count_; ++c) {
    for (int i = 0; i < n; ++i) probabilities[c][i] = row_probabilities[static_cast<size_t>(i) * class_count_ + c];
  }
}

cv::Mat RandomForest::predict_proba(const cv::Mat& rows) const {
  if (empty()) throw Error(ErrorCode::invalid_argument, "random forest: predicting with an untrained forest");
  if (rows.type() != CV_32FC1 || rows.cols != feature_count_) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("random forest: 'rows' must be CV_32F with {} columns, got type {} with {} columns",
                            feature_count_, rows.type(), rows.cols));
  }
  const ForestKernel running = kernel();  // its errors thrown here, not on the pool's threads
  const cv::Mat contiguous = rows.isContinuous() ? rows : rows.clone();
  cv::Mat out(rows.rows, class_count_, CV_32FC1);
  const int blocks = (rows.rows + kBlockRows - 1) / kBlockRows;
  cv::parallel_for_(cv::Range(0, blocks), [&](const cv::Range& range) {
    for (int block = range.start; block < range.end; ++block) {
      const int first = block * kBlockRows;
      predict_rows(contiguous.ptr<float>(first), std::min(kBlockRows, rows.rows - first), out.ptr<float>(first),
                   running);
    }
  });
  return out;
}

}  // namespace tessera::learn
