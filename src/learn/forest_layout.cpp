// Builds the vector kernel's layout (forest_layout.hpp) from the forest's breadth-first nodes. Runs after
// training and after loading, when every index has been checked, so the layout's walks stay in bounds.

#include "forest_layout.hpp"

#include <algorithm>
#include <limits>

#include "tessera/learn/random_forest.hpp"

namespace tessera::learn {

void RandomForest::build_vector_layout() {
  vector_layout_.reset();
  if (roots_.empty() || feature_count_ > detail::kMaxVectorFeatures || class_count_ > detail::kMaxVectorClasses) {
    return;
  }
  auto layout = std::make_shared<detail::ForestLayout>();
  layout->feature_count = feature_count_;
  layout->class_count = class_count_;
  const auto column_offset = [](int feature) {
    return static_cast<std::uint16_t>(feature * detail::kBlockLanes * static_cast<int>(sizeof(float)));
  };
  layout->nodes.resize(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& node = nodes_[i];
    detail::WalkNode& walk = layout->nodes[i];
    if (node.is_leaf) {
      walk.threshold_key = detail::order_key(std::numeric_limits<float>::infinity());  // left_delta 0: walks stay
      continue;
    }
    const auto delta = static_cast<std::int64_t>(node.next) - static_cast<std::int64_t>(i);
    if (delta > std::numeric_limits<std::uint16_t>::max()) return;  // the portable walk takes this forest
    walk.column_offset = column_offset(node.feature);
    walk.left_delta = static_cast<std::uint16_t>(delta);
    walk.threshold_key = detail::order_key(node.threshold);
  }
  // Children follow their parents, so one backward pass sees a node's children before the node.
  std::vector<std::int32_t> height(nodes_.size(), 0);
  for (size_t i = nodes_.size(); i-- > 0;) {
    if (!nodes_[i].is_leaf) height[i] = 1 + std::max(height[nodes_[i].next], height[nodes_[i].next + 1]);
  }
  layout->trees.resize(roots_.size());
  layout->shallow_trees.resize(roots_.size());
  for (size_t t = 0; t < roots_.size(); ++t) {
    detail::TopLevels& top = layout->trees[t];
    // The node at each position of the perfect tree; below a leaf every position holds the leaf.
    std::int32_t node_at[detail::kTopNodes + detail::kTopOutcomes];
    node_at[0] = roots_[t];
    for (int position = 0; position < detail::kTopNodes; ++position) {
      const Node& node = nodes_[node_at[position]];
      if (node.is_leaf) {
        top.threshold_key[position] = detail::order_key(std::numeric_limits<float>::infinity());  // all go left
        top.column_offset[position] = 0;
        node_at[2 * position + 1] = node_at[2 * position + 2] = node_at[position];
      } else {
        top.threshold_key[position] = detail::order_key(node.threshold);
        top.column_offset[position] = column_offset(node.feature);
        node_at[2 * position + 1] = node.next;
        node_at[2 * position + 2] = node.next + 1;
      }
    }
    for (int outcome = 0; outcome < detail::kTopOutcomes; ++outcome) {
      top.subtree[outcome] = node_at[detail::kTopNodes + outcome];
      top.height[outcome] = height[top.subtree[outcome]];
    }
    detail::ShallowTopLevels& shallow = layout->shallow_trees[t];
    for (int position = 0; position < detail::kShallowTopNodes; ++position) {
      shallow.signed_threshold_key[position] = static_cast<std::int32_t>(top.threshold_key[position] ^ 0x80000000u);
      shallow.column_offset[position] = top.column_offset[position];
    }
    for (int outcome = 0; outcome < detail::kShallowTopOutcomes; ++outcome) {
      shallow.subtree[outcome] = node_at[detail::kShallowTopNodes + outcome];
      shallow.height[outcome] = height[shallow.subtree[outcome]];
    }
  }
  vector_layout_ = std::move(layout);
}

}  // namespace tessera::learn
