// Pixel classifier: sample gathering from sparse labels, training, prediction and the model's bytes.

#include "tessera/learn/pixel_classifier.hpp"

#include <algorithm>
#include <numeric>
#include <random>
#include <set>

#include <fmt/format.h>
#include <opencv2/core/utility.hpp>

#include "model_bytes.hpp"
#include "tessera/core/clock.hpp"
#include "tessera/core/error.hpp"

namespace tessera::learn {
namespace {

constexpr detail::ModelKind kModelKind{"TSRPXM", kPixelModelFormatVersion, "pixel model"};

Error bad(const std::string& field, const std::string& problem) {
  return Error(ErrorCode::invalid_argument, fmt::format("pixel classifier: '{}' {}", field, problem));
}

void check_class_names(const std::vector<std::string>& names) {
  if (names.size() < 2) throw bad("class_names", fmt::format("needs at least two classes, got {}", names.size()));
  std::set<std::string> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) throw bad(fmt::format("class_names[{}]", i), "is empty");
    if (!seen.insert(names[i]).second) throw bad(fmt::format("class_names[{}]", i), "repeats '" + names[i] + "'");
  }
}

// Labels as CV_32S after checking type, size and range.
cv::Mat checked_labels(const LabelledImage& item, size_t index, int class_count) {
  const std::string field = fmt::format("images[{}].labels", index);
  if (item.image.empty()) throw bad(fmt::format("images[{}].image", index), "is empty");
  if (item.labels.channels() != 1 ||
      (item.labels.depth() != CV_8U && item.labels.depth() != CV_16U && item.labels.depth() != CV_32S)) {
    throw bad(field, "must be a one-channel 8-, 16- or 32-bit integer image");
  }
  if (item.labels.size() != item.image.size()) {
    throw bad(field, fmt::format("is {}x{} but the image is {}x{}", item.labels.cols, item.labels.rows,
                                 item.image.cols, item.image.rows));
  }
  cv::Mat labels;
  item.labels.convertTo(labels, CV_32S);
  double low = 0, high = 0;
  cv::minMaxLoc(labels, &low, &high);
  if (low < 0 || high > class_count) {
    throw bad(field, fmt::format("holds label {} but there are {} classes (0 = unlabelled, 1..{})",
                                 low < 0 ? low : high, class_count, class_count));
  }
  return labels;
}

nlohmann::json feature_options_json(const PixelFeatureOptions& o) {
  return {{"sigmas", o.sigmas},
          {"intensity", o.intensity},
          {"gaussian", o.gaussian},
          {"laplacian", o.laplacian},
          {"gradient", o.gradient},
          {"hessian", o.hessian},
          {"structure_tensor", o.structure_tensor},
          {"normalization", o.normalization == IntensityNormalization::none ? "none" : "percentile"},
          {"percentile_low", o.percentile_low},
          {"percentile_high", o.percentile_high}};
}

PixelFeatureOptions feature_options_from_json(const nlohmann::json& j) {
  PixelFeatureOptions o;
  o.sigmas = j.at("sigmas").get<std::vector<double>>();
  o.intensity = j.at("intensity").get<bool>();
  o.gaussian = j.at("gaussian").get<bool>();
  o.laplacian = j.at("laplacian").get<bool>();
  o.gradient = j.at("gradient").get<bool>();
  o.hessian = j.at("hessian").get<bool>();
  o.structure_tensor = j.at("structure_tensor").get<bool>();
  o.normalization = j.at("normalization").get<std::string>() == "none" ? IntensityNormalization::none
                                                                         : IntensityNormalization::percentile;
  o.percentile_low = j.at("percentile_low").get<double>();
  o.percentile_high = j.at("percentile_high").get<double>();
  return o;
}

// Which of each class's labelled pixels (enumerated image by image in raster order) are kept under the cap.
std::vector<std::vector<char>> choose_samples(const std::vector<std::int64_t>& class_pixels, std::int64_t cap,
                                              std::uint64_t seed) {
  const std::int64_t total = std::accumulate(class_pixels.begin(), class_pixels.end(), std::int64_t{0});
  std::vector<std::vector<char>> keep(class_pixels.size());
  std::mt19937_64 rng(seed ^ 0x5851f42d4c957f2dULL);
  for (size_t c = 0; c < class_pixels.size(); ++c) {
    const std::int64_t n = class_pixels[c];
    if (total <= cap) {
      keep[c].assign(n, 1);
      continue;
    }
    // Each class keeps its share, but at least one pixel so a rare class is not lost.
    const auto k = std::max<std::int64_t>(std::min<std::int64_t>(n, 1), n * cap / total);
    std::vector<std::int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    for (std::int64_t i = 0; i < k; ++i) std::swap(order[i], order[i + static_cast<std::int64_t>(rng() % (n - i))]);
    keep[c].assign(n, 0);
    for (std::int64_t i = 0; i < k; ++i) keep[c][order[i]] = 1;
  }
  return keep;
}

}  // namespace

PixelSamples collect_pixel_samples(const std::vector<LabelledImage>& images, int class_count,
                                   const PixelTrainingOptions& options) {
  validate(options.features);
  validate(options.forest);
  if (class_count < 2) throw bad("class_names", fmt::format("needs at least two classes, got {}", class_count));
  if (options.sample_cap < 100 || options.sample_cap > 100000000) {
    throw bad("sample_cap", fmt::format("must be in [100, 100000000], got {}", options.sample_cap));
  }
  if (images.empty()) throw bad("images", "is empty; training needs at least one labelled image");
  std::vector<cv::Mat> labels(images.size());
  PixelSamples samples;
  samples.feature_names = pixel_feature_names(options.features);
  samples.class_pixels.assign(class_count, 0);
  for (size_t i = 0; i < images.size(); ++i) {
    labels[i] = checked_labels(images[i], i, class_count);
    for (int y = 0; y < labels[i].rows; ++y) {
      const auto* row = labels[i].ptr<std::int32_t>(y);
      for (int x = 0; x < labels[i].cols; ++x) {
        if (row[x] > 0) ++samples.class_pixels[row[x] - 1];
      }
    }
  }
  const std::int64_t total =
      std::accumulate(samples.class_pixels.begin(), samples.class_pixels.end(), std::int64_t{0});
  if (total == 0) throw bad("images", "have no labelled pixels (every label is 0)");
  const auto keep = choose_samples(samples.class_pixels, options.sample_cap, options.forest.seed);
  std::int64_t kept = 0;
  for (const auto& k : keep) kept += std::count(k.begin(), k.end(), 1);
  const int feature_count = static_cast<int>(samples.feature_names.size());
  samples.rows.create(static_cast<int>(kept), feature_count, CV_32F);
  samples.classes.reserve(kept);
  std::vector<std::int64_t> seen(class_count, 0);
  int next_row = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    const bool any = cv::countNonZero(labels[i]) > 0;
    if (!any) continue;  // no features needed for an image without labels
    const PixelFeatures features = compute_pixel_features(images[i].image, options.features);
    for (int y = 0; y < labels[i].rows; ++y) {
      const auto* row = labels[i].ptr<std::int32_t>(y);
      for (int x = 0; x < labels[i].cols; ++x) {
        if (row[x] <= 0) continue;
        const int c = row[x] - 1;
        if (!keep[c][seen[c]++]) continue;
        float* out = samples.rows.ptr<float>(next_row++);
        for (int f = 0; f < feature_count; ++f) out[f] = features.planes[f].at<float>(y, x);
        samples.classes.push_back(c);
      }
    }
  }
  return samples;
}

PixelClassifier PixelClassifier::train(const std::vector<LabelledImage>& images,
                                       const std::vector<std::string>& class_names,
                                       const PixelTrainingOptions& options) {
  check_class_names(class_names);
  const PixelSamples samples = collect_pixel_samples(images, static_cast<int>(class_names.size()), options);
  return train(samples, class_names, options);
}

PixelClassifier PixelClassifier::train(const PixelSamples& samples, const std::vector<std::string>& class_names,
                                       const PixelTrainingOptions& options) {
  check_class_names(class_names);
  validate(options.forest);
  if (samples.feature_names != pixel_feature_names(options.features)) {
    throw bad("samples", "were gathered with other feature options than the ones given");
  }
  if (samples.class_pixels.size() != class_names.size()) {
    throw bad("samples", fmt::format("hold {} classes but {} class names were given", samples.class_pixels.size(),
                                     class_names.size()));
  }
  if (samples.rows.empty()) throw bad("images", "have no labelled pixels (every label is 0)");
  std::vector<std::string> present;
  for (size_t c = 0; c < class_names.size(); ++c) {
    if (samples.class_pixels[c] > 0) present.push_back(class_names[c]);
  }
  if (present.size() < 2) {
    throw bad("images", fmt::format("have labelled pixels of one class only ('{}'); label at least two classes",
                                    present.empty() ? "" : present.front()));
  }
  PixelClassifier model;
  model.forest_ = RandomForest::train(samples.rows, samples.classes, static_cast<int>(class_names.size()),
                                      options.forest);
  model.class_names_ = class_names;
  model.feature_options_ = options.features;
  model.forest_options_ = options.forest;
  nlohmann::json provenance = options.provenance.is_object() ? options.provenance : nlohmann::json::object();
  if (!options.provenance.is_object() && !options.provenance.is_null()) provenance["caller"] = options.provenance;
  nlohmann::json labelled = nlohmann::json::object();
  for (size_t c = 0; c < class_names.size(); ++c) labelled[class_names[c]] = samples.class_pixels[c];
  provenance["format_version"] = kPixelModelFormatVersion;
  provenance["trained_at"] = utc_now_iso();
  provenance["classes"] = class_names;
  provenance["labelled_pixels"] = labelled;
  provenance["samples_used"] = samples.rows.rows;
  provenance["features"] = samples.feature_names;
  provenance["forest"] = detail::forest_options_json(options.forest);
  model.provenance_ = std::move(provenance);
  return model;
}

PixelPrediction PixelClassifier::predict(const cv::Mat& image) const {
  if (empty()) throw bad("model", "is empty (not trained or loaded)");
  return predict(compute_pixel_features(image, feature_options_));
}

PixelPrediction PixelClassifier::predict(const PixelFeatures& features) const {
  if (empty()) throw bad("model", "is empty (not trained or loaded)");
  if (features.names != pixel_feature_names(feature_options_)) {
    throw bad("features", "were computed with other options than the model's");
  }
  // The planes are read row by row as the names promise: one CV_32F plane of `size` per name.
  if (features.planes.size() != features.names.size())
    throw bad("features", fmt::format("hold {} planes for {} names", features.planes.size(), features.names.size()));
  for (std::size_t f = 0; f < features.planes.size(); ++f) {
    const cv::Mat& plane = features.planes[f];
    if (plane.type() != CV_32FC1 || plane.size() != features.size)
      throw bad("features", fmt::format("plane '{}' is not CV_32F of {}x{}", features.names[f], features.size.width,
                                        features.size.height));
  }
  const int classes = static_cast<int>(class_names_.size());
  const int feature_count = static_cast<int>(features.planes.size());
  const cv::Size size = features.size;
  PixelPrediction prediction;
  for (int c = 0; c < classes; ++c) prediction.probabilities.emplace_back(size, CV_32F);
  prediction.classes.create(size, CV_8U);
  // Image rows in pieces of kPiece pixels, each predicted in one call on this thread straight from the
  // feature planes' rows into the probability planes' rows.
  constexpr int kPiece = 256;
  const int pieces_per_row = (size.width + kPiece - 1) / kPiece;
  cv::parallel_for_(cv::Range(0, size.height * pieces_per_row), [&](const cv::Range& range) {
    std::vector<const float*> feature_rows(feature_count);
    std::vector<float*> class_rows(classes);
    for (int piece = range.start; piece < range.end; ++piece) {
      const int y = piece / pieces_per_row;
      const int x0 = (piece % pieces_per_row) * kPiece;
      const int n = std::min(kPiece, size.width - x0);
      for (int f = 0; f < feature_count; ++f) feature_rows[f] = features.planes[f].ptr<float>(y) + x0;
      for (int c = 0; c < classes; ++c) class_rows[c] = prediction.probabilities[c].ptr<float>(y) + x0;
      forest_.predict_columns(feature_rows.data(), n, class_rows.data());
      auto* best_class = prediction.classes.ptr<std::uint8_t>(y) + x0;
      for (int i = 0; i < n; ++i) {
        // The first class of highest probability, as std::max_element picks.
        int best = 0;
        for (int c = 1; c < classes; ++c) {
          if (class_rows[c][i] > class_rows[best][i]) best = c;
        }
        best_class[i] = static_cast<std::uint8_t>(best + 1);
      }
    }
  });
  return prediction;
}

std::string PixelClassifier::save() const {
  const nlohmann::json header = {{"class_names", class_names_},
                                 {"features", feature_options_json(feature_options_)},
                                 {"forest", detail::forest_options_json(forest_options_)},
                                 {"provenance", provenance_}};
  return detail::save_model(kModelKind, header, forest_);
}

PixelClassifier PixelClassifier::load(std::string_view bytes) {
  PixelClassifier model;
  model.forest_ = detail::load_model(bytes, kModelKind, [&](const nlohmann::json& header) {
    model.class_names_ = header.at("class_names").get<std::vector<std::string>>();
    model.feature_options_ = feature_options_from_json(header.at("features"));
    model.provenance_ = header.at("provenance");
    model.forest_options_ = detail::forest_options_from_json(header.at("forest"), kModelKind.name);
    validate(model.feature_options_);
    check_class_names(model.class_names_);
    return detail::ForestShape{static_cast<int>(pixel_feature_names(model.feature_options_).size()),
                               static_cast<int>(model.class_names_.size())};
  });
  return model;
}

}  // namespace tessera::learn
