// The forest's binary image: feature and class counts, tree roots, nodes and per-node probabilities,
// little-endian. Loading checks every index a prediction will follow, so damaged bytes
// are Error{corrupt} rather than a read out of bounds.

#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "tessera/core/error.hpp"
#include "tessera/learn/random_forest.hpp"

namespace tessera::learn {
namespace {

template <typename T>
void append_pod(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

template <typename T>
void append_array(std::string& out, const std::vector<T>& values) {
  append_pod(out, static_cast<std::uint64_t>(values.size()));
  out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

// Reads what append_pod/append_array wrote; a short buffer is Error{corrupt}.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}
  template <typename T>
  T pod(const char* what) {
    T value;
    need(sizeof(T), what);
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  template <typename T>
  std::vector<T> array(const char* what) {
    const auto count = pod<std::uint64_t>(what);
    if (count > (bytes_.size() - pos_) / sizeof(T)) {
      throw Error(ErrorCode::corrupt, fmt::format("random forest bytes: '{}' is truncated", what));
    }
    std::vector<T> values(count);
    std::memcpy(values.data(), bytes_.data() + pos_, count * sizeof(T));
    pos_ += count * sizeof(T);
    return values;
  }
  bool at_end() const { return pos_ == bytes_.size(); }

 private:
  void need(size_t n, const char* what) const {
    if (bytes_.size() - pos_ < n) {
      throw Error(ErrorCode::corrupt, fmt::format("random forest bytes: '{}' is truncated", what));
    }
  }
  std::string_view bytes_;
  size_t pos_ = 0;
};

Error corrupt(const std::string& what) { return Error(ErrorCode::corrupt, "random forest bytes: " + what); }

}  // namespace

std::string RandomForest::to_bytes() const {
  std::string out;
  append_pod(out, static_cast<std::int32_t>(feature_count_));
  append_pod(out, static_cast<std::int32_t>(class_count_));
  append_array(out, roots_);
  append_array(out, nodes_);
  append_array(out, node_probabilities_);
  return out;
}

RandomForest RandomForest::from_bytes(std::string_view bytes) {
  ByteReader reader(bytes);
  RandomForest forest;
  forest.feature_count_ = reader.pod<std::int32_t>("feature count");
  forest.class_count_ = reader.pod<std::int32_t>("class count");
  if (forest.feature_count_ < 1 || forest.feature_count_ > kMaxFeatures || forest.class_count_ < 2) {
    throw corrupt(fmt::format("{} features, {} classes", forest.feature_count_, forest.class_count_));
  }
  forest.roots_ = reader.array<std::int32_t>("roots");
  forest.nodes_ = reader.array<Node>("nodes");
  forest.node_probabilities_ = reader.array<float>("node probabilities");
  if (!reader.at_end()) throw corrupt("trailing bytes after the node probabilities");
  if (forest.roots_.empty()) throw corrupt("no trees");
  if (forest.node_probabilities_.size() != forest.nodes_.size() * forest.class_count_) {
    throw corrupt(fmt::format("{} node probabilities for {} nodes of {} classes", forest.node_probabilities_.size(),
                              forest.nodes_.size(), forest.class_count_));
  }
  const auto node_count = static_cast<std::int64_t>(forest.nodes_.size());
  for (size_t t = 0; t < forest.roots_.size(); ++t) {
    const std::int32_t root = forest.roots_[t];
    if (root < 0 || root >= node_count) throw corrupt(fmt::format("tree root {} outside the nodes", root));
    if (t > 0 && root <= forest.roots_[t - 1]) throw corrupt("tree roots are not ascending");
  }
  for (std::int64_t i = 0; i < node_count; ++i) {
    const Node& n = forest.nodes_[i];
    if (n.is_leaf == 0) {
      // Children always follow their parent, which also rules out cycles.
      if (n.feature >= forest.feature_count_ || !std::isfinite(n.threshold) || n.next <= i ||
          static_cast<std::int64_t>(n.next) + 1 >= node_count) {
        throw corrupt(fmt::format("node {} has feature {}, threshold {} and children {}, {}", i, n.feature,
                                  n.threshold, n.next, static_cast<std::int64_t>(n.next) + 1));
      }
    } else if (n.is_leaf != 1 || n.feature != 0 || !(n.threshold == std::numeric_limits<float>::infinity()) ||
               n.next != i) {
      throw corrupt(fmt::format("leaf {} is not a leaf that keeps walks in place", i));
    }
  }
  forest.build_vector_layout();
  return forest;
}

}  // namespace tessera::learn
