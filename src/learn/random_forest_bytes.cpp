// The forest's binary image: feature and class counts, each feature's bin edges, tree roots, nodes and
// leaf probabilities, little-endian. Loading checks every index a prediction will follow, so damaged bytes
// are Error{corrupt} rather than a read out of bounds.

#include <cmath>
#include <cstring>

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

void check_edges(const std::vector<float>& edges, int feature) {
  if (edges.size() > 255) throw corrupt(fmt::format("feature {} has {} bin edges; at most 255", feature, edges.size()));
  for (size_t k = 0; k < edges.size(); ++k) {
    if (!std::isfinite(edges[k]) || (k > 0 && !(edges[k] > edges[k - 1]))) {
      throw corrupt(fmt::format("feature {}'s bin edges are not finite and ascending at edge {}", feature, k));
    }
  }
}

}  // namespace

std::string RandomForest::to_bytes() const {
  std::string out;
  append_pod(out, static_cast<std::int32_t>(feature_count_));
  append_pod(out, static_cast<std::int32_t>(class_count_));
  for (const auto& edges : edges_) append_array(out, edges);
  append_array(out, roots_);
  append_array(out, nodes_);
  append_array(out, leaf_probabilities_);
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
  for (int f = 0; f < forest.feature_count_; ++f) {
    forest.edges_.push_back(reader.array<float>("bin edges"));
    check_edges(forest.edges_.back(), f);
  }
  forest.roots_ = reader.array<std::int32_t>("roots");
  forest.nodes_ = reader.array<Node>("nodes");
  forest.leaf_probabilities_ = reader.array<float>("leaf probabilities");
  if (!reader.at_end()) throw corrupt("trailing bytes after the leaf probabilities");
  if (forest.roots_.empty()) throw corrupt("no trees");
  const auto node_count = static_cast<std::int64_t>(forest.nodes_.size());
  for (size_t t = 0; t < forest.roots_.size(); ++t) {
    const std::int32_t root = forest.roots_[t];
    if (root < 0 || root >= node_count) throw corrupt(fmt::format("tree root {} outside the nodes", root));
    if (t > 0 && root <= forest.roots_[t - 1]) throw corrupt("tree roots are not ascending");
  }
  for (std::int64_t i = 0; i < node_count; ++i) {
    const Node& n = forest.nodes_[i];
    if (n.is_leaf == 0) {
      // Children always follow their parent, which also rules out cycles; the bin must be one a row can
      // fall on either side of.
      if (n.feature >= forest.feature_count_ || n.bin >= forest.edges_[n.feature].size() || n.next <= i ||
          static_cast<std::int64_t>(n.next) + 1 >= node_count) {
        throw corrupt(fmt::format("node {} has feature {}, bin {} and children {}, {}", i, n.feature, n.bin, n.next,
                                  static_cast<std::int64_t>(n.next) + 1));
      }
    } else if (n.is_leaf != 1 || n.feature != 0 || n.next < 0 ||
               static_cast<size_t>(n.next) + forest.class_count_ > forest.leaf_probabilities_.size()) {
      throw corrupt(fmt::format("leaf {} points outside the leaf probabilities", i));
    }
  }
  forest.pad_edges();
  return forest;
}

}  // namespace tessera::learn
