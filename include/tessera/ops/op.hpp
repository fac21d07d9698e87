#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

namespace tessera::ops {

// What flows between operations. Conventions (every op relies on them):
//   image  - any cv::Mat (1..n channels, any depth), channels in file order (RGB), as decoded
//   mask   - CV_8UC1, 0 = background, 255 = foreground (saves as a viewable PNG)
//   labels - CV_32SC1, 0 = background, 1..N objects
//   table  - nlohmann::json array of row objects (features, scores)
//   images - a list of cv::Mat (e.g. one crop per object), with `table` rows describing each when present
enum class FacetKind { image, mask, labels, table, images };
std::string_view to_string(FacetKind kind);

struct Facet {
  FacetKind kind = FacetKind::image;
  cv::Mat mat;                  // image, mask, labels
  std::vector<cv::Mat> mats;    // images
  nlohmann::json table;         // table (and optional per-item rows for images)

  static Facet image(cv::Mat m) { return {FacetKind::image, std::move(m), {}, nullptr}; }
  static Facet mask(cv::Mat m) { return {FacetKind::mask, std::move(m), {}, nullptr}; }
  static Facet labels(cv::Mat m) { return {FacetKind::labels, std::move(m), {}, nullptr}; }
  static Facet rows(nlohmann::json t) { return {FacetKind::table, {}, {}, std::move(t)}; }
  static Facet list(std::vector<cv::Mat> m, nlohmann::json rows = nullptr) {
    return {FacetKind::images, {}, std::move(m), std::move(rows)};
  }
};

using FacetMap = std::map<std::string, Facet>;

enum class ParamType { integer, number, boolean, text, choice };
std::string_view to_string(ParamType type);

// One typed parameter with its default and allowed range or choices.
struct ParamSpec {
  std::string name;
  ParamType type = ParamType::number;
  nlohmann::json default_value;     // null = required
  std::optional<double> min;        // inclusive, integer and number only
  std::optional<double> max;        // inclusive
  std::vector<std::string> choices; // choice only
  std::string help;

  static ParamSpec integer(std::string name, long long def, std::pair<double, double> range, std::string help);
  static ParamSpec number(std::string name, double def, std::pair<double, double> range, std::string help);
  static ParamSpec boolean(std::string name, bool def, std::string help);
  static ParamSpec text(std::string name, std::string def, std::string help);
  static ParamSpec choice(std::string name, std::string def, std::vector<std::string> choices, std::string help);
  bool is_required() const { return default_value.is_null(); }
};

struct FacetSpec {
  std::string name;
  FacetKind kind = FacetKind::image;
  std::string help;
  bool optional = false;
};

// The arguments of one run: input facets by name and parameters already validated (defaults filled in).
class OpCall {
 public:
  OpCall(const std::string& op, const FacetMap& inputs, const nlohmann::json& params)
      : op_(op), inputs_(inputs), params_(params) {}

  const std::string& op() const { return op_; }
  bool has(const std::string& facet) const { return inputs_.count(facet) > 0; }
  const Facet& input(const std::string& facet) const;  // Error{invalid_argument} naming the op and facet
  const cv::Mat& mat(const std::string& facet) const { return input(facet).mat; }
  template <typename T>
  T param(const std::string& name) const {
    return params_.at(name).get<T>();
  }
  const nlohmann::json& params() const { return params_; }

 private:
  const std::string& op_;
  const FacetMap& inputs_;
  const nlohmann::json& params_;
};

// An operation: a pure function over facets plus the descriptor every front end is generated from.
struct OpDescriptor {
  std::string name;     // snake_case, unique
  std::string summary;  // one line
  std::vector<FacetSpec> inputs;
  std::vector<FacetSpec> outputs;
  std::vector<ParamSpec> params;
  std::function<FacetMap(const OpCall&)> run;
};

}  // namespace tessera::ops
