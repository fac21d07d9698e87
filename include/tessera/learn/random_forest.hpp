#pragma once

// The random forest both classifiers use: Gini-split classification trees on bootstrap samples, leaves
// holding class frequencies, probabilities = the mean of the leaves' distributions (as scikit-learn).
// Training bins every feature into at most 256 quantile bins and splits on bin edges; prediction walks
// blocks of rows through compact 12-byte nodes tree by tree, small groups of rows stepping down together
// without branches; on CPUs with AVX-512 or AVX2 a vector kernel evaluates the top levels of a tree for 16
// rows at once (same probabilities, bit for bit). Training (tree by tree) and prediction (row block by row block)
// run on OpenCV's pool.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

namespace tessera::learn {

namespace detail {
struct ForestLayout;  // the vector kernel's rearranged trees (src/learn/forest_layout.hpp)
}

// Which prediction code runs. `fastest` is fastest_forest_kernel(); `portable` always the portable walk;
// `avx2` and `avx512` the vector kernels, which need the CPU feature (cpu_runs_forest_kernel) and a forest
// that fits their layout (else the portable walk runs; see RandomForest::kernel). All give the same floats
// under the default floating-point mode; with denormals-are-zero set (MXCSR DAZ, as -ffast-math programs set
// it) the portable walk's float compares treat denormal features as 0 and the vector kernels' integer order
// keys do not, so the two may differ on denormal inputs. The choice is there so tests and benchmarks can run each.
enum class ForestKernel { fastest, portable, avx2, avx512 };

// Whether this CPU (and its operating system) runs the kernel; always true for fastest and portable.
bool cpu_runs_forest_kernel(ForestKernel kernel);

// "fastest", "portable", "avx2" or "avx512".
const char* forest_kernel_name(ForestKernel kernel);

// The kernel `fastest` stands for: the one named by the environment variable TESSERA_FOREST_KERNEL
// (portable, avx2 or avx512; read here and nowhere else, once) when it is set and not empty, else the
// fastest this CPU runs (avx512, then avx2, then portable). Error{invalid_argument} when the variable
// names another kernel, Error{unsupported} when this CPU does not run the one it names.
ForestKernel fastest_forest_kernel();

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
  // when the column count differs from the training's. NaN features follow the left branch (never crash).
  cv::Mat predict_proba(const cv::Mat& rows) const;

  // The same without checks for callers that assemble rows themselves (pixel prediction): writes the class
  // probabilities of n row-major rows of feature_count() floats to probabilities (n x class_count floats).
  // Requires: buffers of those sizes. Errors of kernel(kernel) only. Thread-safe (const); runs on the
  // calling thread.
  void predict_rows(const float* rows, int n, float* probabilities,
                    ForestKernel kernel = ForestKernel::fastest) const;

  // The same for rows given feature by feature (pixel prediction hands it rows of its feature planes):
  // features[f] points at the n values of feature f, and class c's probabilities of the n rows go to
  // probabilities[c][0..n). Spares the vector kernel a transposition. Requires: feature_count() input and
  // class_count() output pointers to n floats each. Errors of kernel(kernel) only. Thread-safe (const);
  // runs on the calling thread.
  void predict_columns(const float* const* features, int n, float* const* probabilities,
                       ForestKernel kernel = ForestKernel::fastest) const;

  // The kernel a prediction asked for `requested` runs here: fastest_forest_kernel() for fastest; a vector
  // kernel only when the forest fits the vector layout (at most 1023 features and 64 classes, children
  // within 65535 nodes of their parent), else portable. Error{unsupported} when the CPU does not run the
  // requested vector kernel (errors of fastest_forest_kernel for fastest).
  ForestKernel kernel(ForestKernel requested = ForestKernel::fastest) const;

  int feature_count() const { return feature_count_; }
  int class_count() const { return class_count_; }
  int tree_count() const { return static_cast<int>(roots_.size()); }
  bool empty() const { return roots_.empty(); }

  // Little-endian binary image of the trees (no header; the classifiers wrap it with theirs and their
  // format version). from_bytes: Error{corrupt} naming what is inconsistent (truncated, node index out of
  // range, a leaf that does not keep walks in place, ...).
  std::string to_bytes() const;
  static RandomForest from_bytes(std::string_view bytes);

 private:
  // Internal node: go to `next` when the row's value of `feature` is <= threshold (or NaN), else to
  // next + 1 (siblings are adjacent, trees in breadth-first order so the hot top levels share cache lines).
  // Leaf: is_leaf = 1, feature = 0, threshold = +inf, next = its own index, so a step from a leaf stays
  // there and walks need no leaf test per step.
  struct Node {
    std::uint16_t feature = 0;
    std::uint16_t is_leaf = 0;
    float threshold = 0;
    std::int32_t next = 0;
  };
  static_assert(sizeof(Node) == 12);
  friend class ForestBuilder;
  void build_vector_layout();  // fills vector_layout_ when the forest fits it (forest_layout.cpp)
  void predict_rows_vector(const float* rows, int n, float* probabilities, ForestKernel kernel) const;
  template <std::size_t... Lane>
  void walk_group(std::int32_t root, const float* const* rows, std::int32_t* leaves,
                  std::index_sequence<Lane...>) const;

  int feature_count_ = 0;
  int class_count_ = 0;
  std::vector<std::int32_t> roots_;
  std::vector<Node> nodes_;
  std::vector<float> node_probabilities_;  // class_count_ values per node (zeros for internal nodes)
  // Derived from nodes_ (never saved); null when the forest does not fit the vector kernel. Shared by
  // copies, which hold equal nodes.
  std::shared_ptr<const detail::ForestLayout> vector_layout_;
};

}  // namespace tessera::learn
