#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/app/workspace.hpp"
#include "tessera/catalog/learn.hpp"
#include "tessera/catalog/locks.hpp"

namespace tessera::app {

// Progress of a long learning use case: fraction in [0, 1] and a one-line message. May throw to stop it
// (a job's cancellation); nothing is stored then.
using LearnProgress = std::function<void(double fraction, const std::string& message)>;

// `tessera learn pixels train`: a pixel classifier from the scribbles (annotations of kind 'scribble', and
// masks when with_masks) people drew with the class tags on the set's images.
struct PixelTrainRequest {
  std::string project = "default";
  std::string set;
  std::vector<std::string> tags;  // the classes, label k = tags[k - 1]; e.g. nucleus, background
  std::string model_name;         // the catalog's name for the model
  bool with_masks = false;
  int trees = 100;
  int max_depth = 12;
  std::uint64_t seed = 1;
  std::optional<std::filesystem::path> out;  // also write the model's bytes here
  catalog::Actor actor{std::nullopt, "local"};
};

struct PixelTrainResult {
  catalog::ModelRecord model;
  std::int64_t images = 0;  // frames with labelled pixels
  std::vector<std::int64_t> labelled_pixels;  // per class
  double seconds = 0;
};

// Trains, stores the model's bytes as a blob and its record with provenance (set, tags, images, annotation
// counts, parameters, user, time), and writes `out`. Error{invalid_argument} naming the field for fewer than
// two classes, an unknown tag, no labelled pixels, a class without labelled pixels, an annotation outside its
// image, bad forest options; Error{not_found} for an unknown set; Error{conflict} for a taken model name. On
// any error nothing is stored.
PixelTrainResult train_pixel_model(Workspace& workspace, const PixelTrainRequest& request,
                                   const LearnProgress& progress = {});

// `tessera learn pixels predict`: a stored model (by name), or a model file, over the set's images.
struct PixelPredictRequest {
  std::string project = "default";
  std::string set;
  std::string model;  // a model name in the project, or a path to a model file
  bool save = false;  // store one suggested mask annotation per image and foreground class
  catalog::Actor actor{std::nullopt, "local"};
};

struct PixelPredictImage {
  catalog::Id image_id = 0;
  std::vector<double> class_share;  // share of pixels won by each class
  double uncertainty = 0;           // mean normalised entropy
  std::vector<catalog::Id> annotations;  // suggested masks stored (save)
};

struct PixelPredictResult {
  std::vector<std::string> classes;
  std::vector<PixelPredictImage> images;
  std::int64_t annotations = 0;
};

// Error{not_found} for an unknown set or a model name that is neither stored nor a file; Error{corrupt} /
// Error{unsupported} for a model file that is damaged or of another format version; Error{invalid_argument}
// when the model's classes are not tags of the project (with save).
PixelPredictResult predict_pixels(Workspace& workspace, const PixelPredictRequest& request,
                                  const LearnProgress& progress = {});

nlohmann::json to_json(const PixelTrainResult& result);
nlohmann::json to_json(const PixelPredictResult& result);

}  // namespace tessera::app
