#pragma once

// Interactive pixel classification: a random forest over multiscale pixel features, trained from sparse
// labelled pixels (brush strokes), predicting per-class probability maps; instance masks from a foreground
// probability by threshold + marker watershed. Models save to versioned bytes carrying their provenance.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "tessera/learn/pixel_features.hpp"
#include "tessera/learn/random_forest.hpp"

namespace tessera::learn {

// One training image and its sparse labels: labels is one-channel integer (CV_8U, CV_16U or CV_32S) of the
// image's size, 0 = unlabelled, k = class k (1-based index into the class names).
struct LabelledImage {
  cv::Mat image;
  cv::Mat labels;
};

struct PixelTrainingOptions {
  PixelFeatureOptions features;
  ForestOptions forest;
  // At most this many labelled pixels train the forest, [100, 100000000]. Above it, every class keeps the
  // share it had, its pixels drawn at random with forest.seed.
  std::int64_t sample_cap = 200000;
  // Whatever the caller wants to remember (set, tags, annotation ids, user, round); stored in the model.
  nlohmann::json provenance = nlohmann::json::object();
};

// Labelled pixels as feature rows, gathered once and trainable many times (bootstrap ensembles train N
// forests with different seeds on one PixelSamples).
struct PixelSamples {
  std::vector<std::string> feature_names;
  cv::Mat rows;                 // CV_32F, one labelled pixel per row
  std::vector<int> classes;     // 0-based class per row (label k -> k - 1)
  std::vector<std::int64_t> class_pixels;  // labelled pixels per class before the cap
};

// Features of every labelled pixel of `images`, capped at options.sample_cap. Error{invalid_argument} naming
// "images[i].labels" when sizes differ from the image, the type is not integer, or a label exceeds
// class_count; "images" when there are none or no pixel is labelled; "class_names" for fewer than two.
PixelSamples collect_pixel_samples(const std::vector<LabelledImage>& images, int class_count,
                                   const PixelTrainingOptions& options);

// What a trained model predicts for one image.
struct PixelPrediction {
  std::vector<cv::Mat> probabilities;  // one CV_32F map per class, in class order, summing to 1 per pixel
  cv::Mat classes;                     // CV_8U, the 1-based class of highest probability per pixel
};

// Instance masks from a foreground probability map.
struct InstanceOptions {
  double threshold = 0.5;            // foreground = probability >= threshold, in (0, 1)
  int marker_radius = 4;             // markers are maxima of the distance map within this radius, [1, 100]
  double marker_min_distance = 2.0;  // ... and at least this far from the background, >= 0
  double marker_h = 1.0;             // pixels within marker_h of their window's maximum join it, >= 0
  std::int64_t min_size = 10;        // objects smaller than this many pixels are dropped, >= 0
};

// Labels (CV_32S, 0 = background, 1..N) from a CV_32F probability map: the thresholded mask is split by a
// marker watershed on its (lightly smoothed) distance map: markers are the connected groups of pixels within
// marker_h of the maximum in their (2 marker_radius + 1)^2 window, flooded in order of decreasing distance,
// 8-connected, never leaving the mask, so touching objects split at their neck. A mask component without a
// marker becomes one object. Error{invalid_argument} naming the field.
cv::Mat instance_labels(const cv::Mat& foreground_probability, const InstanceOptions& options = {});

inline constexpr int kPixelModelFormatVersion = 2;  // 2: forests split on bins (8-byte nodes)

class PixelClassifier {
 public:
  PixelClassifier() = default;

  // Trains from labelled images. class_names[k - 1] names label k (e.g. {"background", "nucleus"}).
  // Errors as collect_pixel_samples, validate(options.features/forest); "class_names" when names repeat or
  // are empty; "images" when fewer than two classes have labelled pixels. Never returns a partial model.
  static PixelClassifier train(const std::vector<LabelledImage>& images, const std::vector<std::string>& class_names,
                               const PixelTrainingOptions& options = {});
  // Trains on samples already gathered with the same feature options (one forest of an ensemble).
  static PixelClassifier train(const PixelSamples& samples, const std::vector<std::string>& class_names,
                               const PixelTrainingOptions& options);

  // Probability maps and class map of one image (any size; same channel rules as compute_pixel_features).
  PixelPrediction predict(const cv::Mat& image) const;
  // The same from features computed once for several models; Error{invalid_argument} naming "features"
  // when their names differ from the model's.
  PixelPrediction predict(const PixelFeatures& features) const;

  const std::vector<std::string>& class_names() const { return class_names_; }
  const PixelFeatureOptions& feature_options() const { return feature_options_; }
  const ForestOptions& forest_options() const { return forest_options_; }
  // The caller's provenance plus what training recorded: "format_version", "trained_at" (UTC ISO 8601),
  // "classes", "labelled_pixels" per class, "samples_used", "features", "forest" options.
  const nlohmann::json& provenance() const { return provenance_; }
  bool empty() const { return forest_.empty(); }

  // Versioned bytes: magic "TSRPXM", format version, provenance/options JSON, forest. load(): Error{corrupt}
  // for bytes that are not a pixel model or are damaged, Error{unsupported} naming both versions for a model
  // of another format version; nothing is loaded in either case.
  std::string save() const;
  static PixelClassifier load(std::string_view bytes);

 private:
  std::vector<std::string> class_names_;
  PixelFeatureOptions feature_options_;
  ForestOptions forest_options_;
  nlohmann::json provenance_ = nlohmann::json::object();
  RandomForest forest_;
};

}  // namespace tessera::learn
