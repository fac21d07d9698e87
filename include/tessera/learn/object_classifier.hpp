#pragma once

// Object classification: a random forest over measured object features (regionprops + intensity
// statistics) with tag names as classes, e.g. plankton categories. Predictions give every class's
// probability and the winning tag, or "unclear" when the winner is not probable enough.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "tessera/learn/random_forest.hpp"

namespace tessera::learn {

// Measurements of objects: named columns and one row per object (all rows as long as columns).
struct FeatureTable {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;
};

// The object features tessera measures for a label image (CV_32S, 0 = background) and its one-channel
// intensity image (any depth, same size): the regionprops shape columns (area, perimeter, eccentricity,
// solidity, extent, axis lengths, equivalent diameter, euler number, convex and filled area, Feret
// diameter; no positions, so the class does not depend on where an object lies) plus intensity mean, min,
// max, standard deviation and 10/50/90th percentiles. One row per label, ascending; `object_labels` (if
// given) receives the labels. Errors as ops::regionprops.
FeatureTable measure_objects(const cv::Mat& labels, const cv::Mat& intensity,
                             std::vector<int>* object_labels = nullptr);

inline constexpr std::string_view kUnclearTag = "unclear";

struct ObjectPrediction {
  std::vector<double> probabilities;  // one per class, in class_names() order, summing to 1
  std::string tag;                    // the most probable class, or kUnclearTag below the threshold
  double probability = 0;             // the most probable class's probability
  bool unclear = false;
};

struct ObjectTrainingOptions {
  ForestOptions forest;
  nlohmann::json provenance = nlohmann::json::object();  // the caller's, stored in the model
};

inline constexpr int kObjectModelFormatVersion = 2;  // 2: forests split on bins (8-byte nodes)

class ObjectClassifier {
 public:
  ObjectClassifier() = default;

  // tags[i] is row i's class. Error{invalid_argument} naming "table" (no rows, ragged rows, no columns,
  // repeated column names), "table.rows[i][j]" for NaN/infinite values (with the column name), "tags" (count
  // differs from rows, an empty tag or the tag "unclear", fewer than two distinct tags). Classes are the
  // distinct tags sorted by name.
  static ObjectClassifier train(const FeatureTable& table, const std::vector<std::string>& tags,
                                const ObjectTrainingOptions& options = {});

  // One prediction per row. The table's columns are matched by name (order and extra columns do not
  // matter); Error{invalid_argument} naming a missing column, "unclear_below" outside [0, 1], or a
  // NaN/infinite value. A winner with probability < unclear_below is tagged "unclear".
  std::vector<ObjectPrediction> predict(const FeatureTable& table, double unclear_below = 0.5) const;

  const std::vector<std::string>& class_names() const { return class_names_; }
  const std::vector<std::string>& feature_columns() const { return columns_; }
  // The caller's provenance plus "format_version", "trained_at", "classes", "objects" per class, "columns",
  // "forest".
  const nlohmann::json& provenance() const { return provenance_; }
  bool empty() const { return forest_.empty(); }

  // Versioned bytes (magic "TSROBM"); load() errors as PixelClassifier::load.
  std::string save() const;
  static ObjectClassifier load(std::string_view bytes);

 private:
  std::vector<std::string> class_names_;
  std::vector<std::string> columns_;
  nlohmann::json provenance_ = nlohmann::json::object();
  RandomForest forest_;
};

}  // namespace tessera::learn
