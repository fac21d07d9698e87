#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "tessera/app/learn_pixels.hpp"
#include "tessera/app/workspace.hpp"
#include "tessera/catalog/learn.hpp"
#include "tessera/learn/pixel_classifier.hpp"
#include "tessera/learn/uncertainty.hpp"

namespace tessera::app {

// One active-learning round's knobs. validate_round_options() checks the ranges.
struct RoundOptions {
  int models = 5;           // bootstrap ensemble size, [2, 50]
  int top = 10;             // images chosen for people to annotate next, [1, 10000]
  int patch = 256;          // training patches and ranked regions are patch x patch pixels, [16, 4096]
  int trees = 30;           // per model, [1, 2000]
  int max_depth = 12;       // [1, 40]
  double held_out = 0.2;    // share of training patches kept back to measure Dice, [0, 0.9]
  std::uint64_t seed = 1;   // patches held out, bootstrap samples and forests follow it
  bool with_masks = false;  // mask annotations train too, not only scribbles
};

// Error{invalid_argument} naming the first field out of range and its value.
void validate_round_options(const RoundOptions& options);
// From a JSON object of the same names (the job's params, the HTTP body); absent members keep defaults.
// Error{invalid_argument} naming an unknown member or one of the wrong type.
RoundOptions round_options_from_json(const nlohmann::json& params);
nlohmann::json to_json(const RoundOptions& options);

// --- The pure core (no catalog): patches, a bootstrap ensemble, uncertainty per image ------------------

// A training patch: image pixels and their sparse labels (CV_8U, 0 = unlabelled, k = class k).
struct TrainingPatch {
  cv::Mat image;
  cv::Mat labels;
};

// The patch x patch tiles (clipped at the borders) of a labelled image that hold labelled pixels.
std::vector<TrainingPatch> training_patches(const cv::Mat& image, const cv::Mat& labels, int patch);

// N pixel classifiers each trained on a bootstrap sample of the training patches, after a seeded share of
// the patches is held out; held_out_dice is the ensemble's mean per-class Dice on the held-out labelled
// pixels (nullopt when none could be held out: fewer than two patches, or holding out would leave a class
// without training pixels).
struct Ensemble {
  std::vector<learn::PixelClassifier> models;
  std::optional<double> held_out_dice;
  std::int64_t training_patches = 0;
  std::int64_t held_out_patches = 0;
};

// Errors as learn::PixelClassifier::train (naming "images" when a class has no labelled pixels, ...).
Ensemble train_ensemble(const std::vector<TrainingPatch>& patches, const std::vector<std::string>& class_names,
                        const RoundOptions& options, const nlohmann::json& provenance = nlohmann::json::object(),
                        const LearnProgress& progress = {});

// How unsure the ensemble is about one image: the combined uncertainty (entropy of the mean plus ensemble
// disagreement, halved) averaged over the image, its parts, the most uncertain patch-sized region, and the
// ensemble's class map (1-based, CV_8U) with the mean probability of the winning class per class.
struct ImageUncertainty {
  double score = 0;
  double entropy = 0;
  double disagreement = 0;
  cv::Rect region;
  double region_score = 0;
  cv::Mat classes;
  std::vector<double> class_confidence;  // per class: mean probability over the pixels it won (0 if none)
};

ImageUncertainty score_image(const Ensemble& ensemble, const cv::Mat& image, int patch);

// --- The use case -------------------------------------------------------------------------------------

struct LearnRoundRequest {
  std::string project = "default";
  std::string set;
  std::vector<std::string> tags;  // the classes; e.g. nucleus, background
  RoundOptions options;
  std::optional<catalog::Id> job_id;  // the job running it, recorded with the round
  catalog::Actor actor{std::nullopt, "local"};
};

struct LearnRoundResult {
  catalog::RoundRecord round;
  std::int64_t suggested = 0;  // suggested mask annotations created on the chosen images
};

// What a round can check from the catalog alone, before it reads a pixel (the job's validation, so an HTTP
// request is refused at once): the options, the project, the tags (at least two, known), the set, and that
// every class has people's annotations (scribbles, and masks if asked) on the set's images.
// Error{invalid_argument} naming the field ("tags", "set", an option), Error{not_found} for an unknown
// project or set.
void check_round_request(Workspace& workspace, const LearnRoundRequest& request);

// `tessera learn round` and the job 'learn.round': trains the ensemble from the set's annotated images
// (patches of people's scribbles, and masks if asked), predicts every image of the set without such
// annotations, ranks them by uncertainty, and records the round (LearnStore::record_round: the set
// '<set>-round-K' of the `top` most uncertain images, the models, parameters, held-out Dice and the ranking),
// then adds the ensemble's masks to the chosen images as suggested annotations (source 'suggested',
// source_ref naming the round). Errors before anything is stored: as check_round_request and
// train_pixel_model.
LearnRoundResult run_learn_round(Workspace& workspace, const LearnRoundRequest& request,
                                 const LearnProgress& progress = {});

}  // namespace tessera::app
