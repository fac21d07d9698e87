// The active-learning round's pure core (declared in learn_round.hpp): options, training patches, the
// bootstrap ensemble with its held-out Dice, and the uncertainty of one image.
#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "learn_data.hpp"
#include "tessera/app/learn_round.hpp"
#include "tessera/core/error.hpp"
#include "tessera/learn/pixel_features.hpp"

namespace tessera::app {
namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& field, const std::string& problem) {
  throw Error(ErrorCode::invalid_argument, fmt::format("learn round: {} {}", field, problem), {{"field", field}});
}

template <typename T>
void check_range(const std::string& field, T value, T low, T high) {
  if (!(value >= low && value <= high)) bad(field, fmt::format("must be in [{}, {}], got {}", low, high, value));
}

// 1-based class of the highest probability per pixel.
cv::Mat class_map(const learn::ProbabilityMaps& maps) {
  cv::Mat classes(maps.front().size(), CV_8U, cv::Scalar(1));
  cv::Mat best = maps.front().clone();
  for (std::size_t k = 1; k < maps.size(); ++k) {
    const cv::Mat better = maps[k] > best;
    maps[k].copyTo(best, better);
    classes.setTo(static_cast<int>(k) + 1, better);
  }
  return classes;
}

learn::ProbabilityMaps ensemble_mean(const std::vector<learn::PixelClassifier>& models,
                                     const learn::PixelFeatures& features,
                                     std::vector<learn::ProbabilityMaps>* each = nullptr) {
  std::vector<learn::ProbabilityMaps> all;
  for (const learn::PixelClassifier& model : models) all.push_back(model.predict(features).probabilities);
  learn::ProbabilityMaps mean = learn::mean_probabilities(all);
  if (each) *each = std::move(all);
  return mean;
}

// The labelled pixels of one patch as feature rows, all of them: a patch is one bootstrap unit, so the
// forest's sample cap applies to the merged sample, not here. A patch labelled with one class only is fine
// (most patches of a scribbled image are); train_ensemble checks the classes over the merged patches.
learn::PixelSamples patch_samples(const TrainingPatch& patch, int class_count, learn::PixelTrainingOptions options) {
  options.sample_cap = std::max<std::int64_t>(options.sample_cap, patch.labels.total());
  return learn::collect_pixel_samples({{patch.image, patch.labels}}, class_count, options);
}

// The samples of the patches at `chosen` (indices, repeats allowed) as one training set, at most `cap` rows
// drawn at random.
learn::PixelSamples merge(const std::vector<learn::PixelSamples>& samples, const std::vector<std::size_t>& chosen,
                          int class_count, std::int64_t cap, std::mt19937_64& random) {
  std::vector<std::pair<std::size_t, int>> rows;  // (patch, row)
  for (std::size_t i : chosen) {
    for (int r = 0; r < samples[i].rows.rows; ++r) rows.emplace_back(i, r);
  }
  if (static_cast<std::int64_t>(rows.size()) > cap) {
    std::shuffle(rows.begin(), rows.end(), random);
    rows.resize(static_cast<std::size_t>(cap));
  }
  learn::PixelSamples out;
  out.feature_names = samples.front().feature_names;
  out.class_pixels.assign(static_cast<std::size_t>(class_count), 0);
  out.rows.create(static_cast<int>(rows.size()), samples.front().rows.cols, CV_32F);
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const auto [patch, r] = rows[k];
    samples[patch].rows.row(r).copyTo(out.rows.row(static_cast<int>(k)));
    const int c = samples[patch].classes[static_cast<std::size_t>(r)];
    out.classes.push_back(c);
    ++out.class_pixels[static_cast<std::size_t>(c)];
  }
  return out;
}

bool has_every_class(const std::vector<learn::PixelSamples>& samples, const std::vector<std::size_t>& chosen,
                     int class_count) {
  std::vector<bool> seen(static_cast<std::size_t>(class_count), false);
  for (std::size_t i : chosen) {
    for (int c : samples[i].classes) seen[static_cast<std::size_t>(c)] = true;
  }
  return std::all_of(seen.begin(), seen.end(), [](bool b) { return b; });
}

}  // namespace

void validate_round_options(const RoundOptions& o) {
  check_range("models", o.models, 2, 50);
  check_range("top", o.top, 1, 10000);
  check_range("patch", o.patch, 16, 4096);
  check_range("trees", o.trees, 1, 2000);
  check_range("max_depth", o.max_depth, 1, 40);
  check_range("held_out", o.held_out, 0.0, 0.9);
}

RoundOptions round_options_from_json(const json& params) {
  if (!params.is_object()) bad("params", fmt::format("must be a JSON object, got {}", params.type_name()));
  RoundOptions o;
  for (const auto& [key, value] : params.items()) {
    auto integer = [&](int& target) {
      if (!value.is_number_integer()) bad(key, fmt::format("must be an integer, got {}", value.dump()));
      const auto v = value.get<std::int64_t>();
      if (v < -1'000'000'000 || v > 1'000'000'000) bad(key, fmt::format("is out of range, got {}", v));
      target = static_cast<int>(v);
    };
    if (key == "models") integer(o.models);
    else if (key == "top") integer(o.top);
    else if (key == "patch") integer(o.patch);
    else if (key == "trees") integer(o.trees);
    else if (key == "max_depth") integer(o.max_depth);
    else if (key == "held_out") {
      if (!value.is_number()) bad(key, fmt::format("must be a number, got {}", value.dump()));
      o.held_out = value.get<double>();
    } else if (key == "seed") {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 0) bad(key, fmt::format("must be an integer >= 0, got {}", value.dump()));
      o.seed = value.get<std::uint64_t>();
    } else if (key == "with_masks") {
      if (!value.is_boolean()) bad(key, fmt::format("must be true or false, got {}", value.dump()));
      o.with_masks = value.get<bool>();
    } else if (key != "set" && key != "tags") {
      bad(key, "is not a parameter (known: set, tags, models, top, patch, trees, max_depth, held_out, seed, "
               "with_masks)");
    }
  }
  validate_round_options(o);
  return o;
}

json to_json(const RoundOptions& o) {
  return {{"models", o.models},   {"top", o.top},           {"patch", o.patch},
          {"trees", o.trees},     {"max_depth", o.max_depth}, {"held_out", o.held_out},
          {"seed", o.seed},       {"with_masks", o.with_masks}};
}

std::vector<TrainingPatch> training_patches(const cv::Mat& image, const cv::Mat& labels, int patch) {
  std::vector<TrainingPatch> out;
  for (int y = 0; y < labels.rows; y += patch) {
    for (int x = 0; x < labels.cols; x += patch) {
      const cv::Rect tile = cv::Rect(x, y, patch, patch) & cv::Rect(0, 0, labels.cols, labels.rows);
      if (cv::countNonZero(labels(tile)) == 0) continue;
      out.push_back({image(tile).clone(), labels(tile).clone()});
    }
  }
  return out;
}

Ensemble train_ensemble(const std::vector<TrainingPatch>& patches, const std::vector<std::string>& class_names,
                        const RoundOptions& options, const json& provenance, const LearnProgress& progress) {
  validate_round_options(options);
  if (patches.empty()) throw Error(ErrorCode::invalid_argument, "images: no labelled pixels to train on", {{"field", "images"}});
  const int class_count = static_cast<int>(class_names.size());
  learn::PixelTrainingOptions training;
  training.forest.trees = options.trees;
  training.forest.max_depth = options.max_depth;
  training.provenance = provenance;

  // Features once per patch: every model's bootstrap sample reuses them.
  std::vector<learn::PixelSamples> samples;
  for (const TrainingPatch& p : patches) {
    samples.push_back(patch_samples(p, class_count, training));
  }
  std::mt19937_64 random(options.seed);
  std::vector<std::size_t> order(patches.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), random);
  std::size_t held = 0;
  if (patches.size() >= 2 && options.held_out > 0) {
    held = std::clamp<std::size_t>(static_cast<std::size_t>(std::lround(options.held_out * patches.size())), 1,
                                   patches.size() - 1);
  }
  std::vector<std::size_t> held_out(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(held));
  std::vector<std::size_t> train(order.begin() + static_cast<std::ptrdiff_t>(held), order.end());
  if (held > 0 && !has_every_class(samples, train, class_count)) {
    // Holding out would leave a class untrained: train on everything and measure nothing.
    held_out.clear();
    train = order;
  }

  Ensemble ensemble;
  ensemble.training_patches = static_cast<std::int64_t>(train.size());
  ensemble.held_out_patches = static_cast<std::int64_t>(held_out.size());
  std::uniform_int_distribution<std::size_t> pick(0, train.size() - 1);
  for (int m = 0; m < options.models; ++m) {
    if (progress) progress(static_cast<double>(m) / options.models, fmt::format("training model {} of {}", m + 1, options.models));
    std::vector<std::size_t> bootstrap;
    for (int attempt = 0; attempt < 20; ++attempt) {
      bootstrap.clear();
      for (std::size_t i = 0; i < train.size(); ++i) bootstrap.push_back(train[pick(random)]);
      if (has_every_class(samples, bootstrap, class_count)) break;
    }
    // A sample missing a class after many draws (a class on one patch of many): the whole training share.
    if (!has_every_class(samples, bootstrap, class_count)) bootstrap = train;
    learn::PixelTrainingOptions model_options = training;
    model_options.forest.seed = options.seed * 1000 + static_cast<std::uint64_t>(m) + 1;
    model_options.provenance["ensemble_member"] = m + 1;
    model_options.provenance["bootstrap_patches"] = bootstrap.size();
    ensemble.models.push_back(
        learn::PixelClassifier::train(merge(samples, bootstrap, class_count, training.sample_cap, random), class_names,
                                      model_options));
  }

  if (!held_out.empty()) {
    std::vector<cv::Mat> truth, predicted;
    for (std::size_t i : held_out) {
      const learn::PixelFeatures features = learn::compute_pixel_features(patches[i].image, training.features);
      truth.push_back(patches[i].labels);
      predicted.push_back(class_map(ensemble_mean(ensemble.models, features)));
    }
    ensemble.held_out_dice = learn_data::labelled_dice(truth, predicted, class_count);
  }
  return ensemble;
}

ImageUncertainty score_image(const Ensemble& ensemble, const cv::Mat& image, int patch) {
  if (ensemble.models.empty()) throw Error(ErrorCode::invalid_argument, "ensemble: no models", {{"field", "ensemble"}});
  const learn::PixelFeatures features =
      learn::compute_pixel_features(image, ensemble.models.front().feature_options());
  std::vector<learn::ProbabilityMaps> each;
  const learn::ProbabilityMaps mean = ensemble_mean(ensemble.models, features, &each);
  ImageUncertainty out;
  const cv::Mat uncertainty = learn::uncertainty_map(each);
  out.score = cv::mean(uncertainty)[0];
  out.entropy = cv::mean(learn::entropy_map(mean))[0];
  out.disagreement = cv::mean(learn::disagreement_map(each))[0];
  const auto regions = learn::rank_regions(uncertainty, patch, std::max(1, patch / 2));
  if (!regions.empty()) {
    out.region = regions.front().region;
    out.region_score = regions.front().score.mean;
  }
  out.classes = class_map(mean);
  for (std::size_t k = 0; k < mean.size(); ++k) {
    const cv::Mat won = out.classes == static_cast<int>(k) + 1;
    out.class_confidence.push_back(cv::countNonZero(won) == 0 ? 0.0 : cv::mean(mean[k], won)[0]);
  }
  return out;
}

}  // namespace tessera::app
