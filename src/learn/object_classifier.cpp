// Object classifier: measurement table from ops::regionprops, training with tags as classes, prediction
// with an "unclear" threshold, and the model's bytes.

#include "tessera/learn/object_classifier.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "model_bytes.hpp"
#include "tessera/core/clock.hpp"
#include "tessera/core/error.hpp"
#include "tessera/ops/regionprops.hpp"

namespace tessera::learn {
namespace {

constexpr detail::ModelKind kModelKind{"TSROBM", kObjectModelFormatVersion, "object model"};

Error bad(const std::string& field, const std::string& problem) {
  return Error(ErrorCode::invalid_argument, fmt::format("object classifier: '{}' {}", field, problem));
}

// The value at fraction q of sorted values (numpy's 'linear' interpolation).
double quantile(const std::vector<float>& sorted, double q) {
  const double position = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<size_t>(std::floor(position));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  const double t = position - static_cast<double>(below);
  return sorted[below] * (1 - t) + sorted[above] * t;
}

void check_table(const FeatureTable& table, const char* field) {
  if (table.columns.empty()) throw bad(field, "has no columns");
  std::set<std::string> seen;
  for (const auto& c : table.columns) {
    if (!seen.insert(c).second) throw bad(field, "repeats the column '" + c + "'");
  }
  for (size_t i = 0; i < table.rows.size(); ++i) {
    if (table.rows[i].size() != table.columns.size()) {
      throw bad(fmt::format("{}.rows[{}]", field, i),
                fmt::format("has {} values for {} columns", table.rows[i].size(), table.columns.size()));
    }
  }
}

// Rows of `table` as a CV_32F matrix with the columns in `columns` order; non-finite values are refused.
cv::Mat to_rows(const FeatureTable& table, const std::vector<std::string>& columns, const char* field) {
  std::vector<int> source(columns.size());
  for (size_t j = 0; j < columns.size(); ++j) {
    const auto at = std::find(table.columns.begin(), table.columns.end(), columns[j]);
    if (at == table.columns.end()) throw bad(field, "lacks the column '" + columns[j] + "' the model was trained on");
    source[j] = static_cast<int>(at - table.columns.begin());
  }
  cv::Mat rows(static_cast<int>(table.rows.size()), static_cast<int>(columns.size()), CV_32F);
  for (size_t i = 0; i < table.rows.size(); ++i) {
    for (size_t j = 0; j < columns.size(); ++j) {
      const double v = table.rows[i][source[j]];
      if (!std::isfinite(v) || std::abs(v) > 3.0e38) {
        throw bad(fmt::format("{}.rows[{}][{}]", field, i, source[j]),
                  fmt::format("('{}') is {}; features must be finite", columns[j], v));
      }
      rows.at<float>(static_cast<int>(i), static_cast<int>(j)) = static_cast<float>(v);
    }
  }
  return rows;
}

}  // namespace

FeatureTable measure_objects(const cv::Mat& labels, const cv::Mat& intensity, std::vector<int>* object_labels) {
  const std::vector<ops::RegionProps> props = ops::regionprops(labels, intensity);
  FeatureTable table;
  table.columns = {"area",      "perimeter",         "perimeter_crofton", "eccentricity",
                   "solidity",  "extent",            "axis_major_length", "axis_minor_length",
                   "equivalent_diameter_area",       "euler_number",      "area_convex",
                   "area_filled", "feret_diameter_max"};
  const bool has_intensity = !intensity.empty();
  if (has_intensity) {
    for (const char* c : {"intensity_mean", "intensity_min", "intensity_max", "intensity_std", "intensity_p10",
                          "intensity_p50", "intensity_p90"}) {
      table.columns.emplace_back(c);
    }
  }
  // Each object's pixel values, gathered in one pass for the standard deviation and percentiles.
  std::unordered_map<std::int32_t, size_t> index;
  for (size_t i = 0; i < props.size(); ++i) index[props[i].label] = i;
  std::vector<std::vector<float>> values(props.size());
  if (has_intensity) {
    cv::Mat as_float;
    intensity.convertTo(as_float, CV_32F);
    for (int y = 0; y < labels.rows; ++y) {
      const auto* l = labels.ptr<std::int32_t>(y);
      const auto* v = as_float.ptr<float>(y);
      for (int x = 0; x < labels.cols; ++x) {
        if (l[x] > 0) values[index[l[x]]].push_back(v[x]);
      }
    }
  }
  if (object_labels) object_labels->clear();
  for (size_t i = 0; i < props.size(); ++i) {
    const ops::RegionProps& r = props[i];
    std::vector<double> row = {static_cast<double>(r.area), r.perimeter, r.perimeter_crofton, r.eccentricity,
                               r.solidity, r.extent, r.axis_major_length, r.axis_minor_length,
                               r.equivalent_diameter_area, static_cast<double>(r.euler_number),
                               static_cast<double>(r.area_convex), static_cast<double>(r.area_filled),
                               r.feret_diameter_max};
    if (has_intensity) {
      auto& v = values[i];
      std::sort(v.begin(), v.end());
      double sum = 0, sum_sq = 0;
      for (float x : v) {
        sum += x;
        sum_sq += static_cast<double>(x) * x;
      }
      const double n = static_cast<double>(v.size());
      const double mean = sum / n;
      const double variance = std::max(0.0, sum_sq / n - mean * mean);
      row.insert(row.end(), {r.intensity_mean, r.intensity_min, r.intensity_max, std::sqrt(variance),
                             quantile(v, 0.1), quantile(v, 0.5), quantile(v, 0.9)});
    }
    table.rows.push_back(std::move(row));
    if (object_labels) object_labels->push_back(r.label);
  }
  return table;
}

ObjectClassifier ObjectClassifier::train(const FeatureTable& table, const std::vector<std::string>& tags,
                                         const ObjectTrainingOptions& options) {
  validate(options.forest);
  check_table(table, "table");
  if (table.rows.empty()) throw bad("table", "has no rows; training needs measured objects");
  if (tags.size() != table.rows.size()) {
    throw bad("tags", fmt::format("has {} tags for {} rows", tags.size(), table.rows.size()));
  }
  std::map<std::string, std::int64_t> per_class;
  for (size_t i = 0; i < tags.size(); ++i) {
    if (tags[i].empty()) throw bad(fmt::format("tags[{}]", i), "is empty");
    if (tags[i] == kUnclearTag) {
      throw bad(fmt::format("tags[{}]", i), fmt::format("is '{}', which predictions reserve", kUnclearTag));
    }
    ++per_class[tags[i]];
  }
  if (per_class.size() < 2) {
    throw bad("tags", fmt::format("hold one class only ('{}'); training needs at least two", tags.front()));
  }
  ObjectClassifier model;
  for (const auto& [name, count] : per_class) model.class_names_.push_back(name);
  model.columns_ = table.columns;
  const cv::Mat rows = to_rows(table, model.columns_, "table");
  std::vector<int> classes(tags.size());
  for (size_t i = 0; i < tags.size(); ++i) {
    classes[i] = static_cast<int>(std::lower_bound(model.class_names_.begin(), model.class_names_.end(), tags[i]) -
                                  model.class_names_.begin());
  }
  model.forest_ = RandomForest::train(rows, classes, static_cast<int>(model.class_names_.size()), options.forest);
  nlohmann::json provenance = options.provenance.is_object() ? options.provenance : nlohmann::json::object();
  provenance["format_version"] = kObjectModelFormatVersion;
  provenance["trained_at"] = utc_now_iso();
  provenance["classes"] = model.class_names_;
  provenance["objects"] = per_class;
  provenance["columns"] = model.columns_;
  provenance["forest"] = detail::forest_options_json(options.forest);
  model.provenance_ = std::move(provenance);
  return model;
}

std::vector<ObjectPrediction> ObjectClassifier::predict(const FeatureTable& table, double unclear_below) const {
  if (empty()) throw bad("model", "is empty (not trained or loaded)");
  if (!(unclear_below >= 0 && unclear_below <= 1)) {
    throw bad("unclear_below", fmt::format("must be in [0, 1], got {}", unclear_below));
  }
  check_table(table, "table");
  std::vector<ObjectPrediction> predictions;
  if (table.rows.empty()) return predictions;
  const cv::Mat proba = forest_.predict_proba(to_rows(table, columns_, "table"));
  for (int i = 0; i < proba.rows; ++i) {
    ObjectPrediction p;
    const float* row = proba.ptr<float>(i);
    p.probabilities.assign(row, row + proba.cols);
    const auto best = std::max_element(p.probabilities.begin(), p.probabilities.end()) - p.probabilities.begin();
    p.probability = p.probabilities[best];
    p.unclear = p.probability < unclear_below;
    p.tag = p.unclear ? std::string(kUnclearTag) : class_names_[best];
    predictions.push_back(std::move(p));
  }
  return predictions;
}

std::string ObjectClassifier::save() const {
  const nlohmann::json header = {{"class_names", class_names_},
                                 {"columns", columns_},
                                 {"provenance", provenance_}};
  return detail::save_model(kModelKind, header, forest_);
}

ObjectClassifier ObjectClassifier::load(std::string_view bytes) {
  ObjectClassifier model;
  model.forest_ = detail::load_model(bytes, kModelKind, [&](const nlohmann::json& header) {
    model.class_names_ = header.at("class_names").get<std::vector<std::string>>();
    model.columns_ = header.at("columns").get<std::vector<std::string>>();
    model.provenance_ = header.at("provenance");
    return detail::ForestShape{static_cast<int>(model.columns_.size()), static_cast<int>(model.class_names_.size())};
  });
  return model;
}

}  // namespace tessera::learn
