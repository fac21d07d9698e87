#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/app/learn_pixels.hpp"
#include "tessera/app/workspace.hpp"
#include "tessera/catalog/learn.hpp"

namespace tessera::app {

// `tessera learn objects train`: an object classifier over the measured features of the set's objects
// (`tessera measure --set`, pipelines' catalog writer) with tags as classes. An object's class is the tag
// of the people's annotations (any kind, not suggested) whose box centre lies inside its box, or its own
// tag when a person (not a classifier) set it; objects marked with two different classes are left out.
struct ObjectTrainRequest {
  std::string project = "default";
  std::string set;
  std::vector<std::string> tags;
  std::string model_name;
  std::optional<catalog::Id> run_id;  // only objects of this measuring run
  int trees = 100;
  int max_depth = 12;
  std::uint64_t seed = 1;
  std::optional<std::filesystem::path> out;
  catalog::Actor actor{std::nullopt, "local"};
};

struct ObjectTrainResult {
  catalog::ModelRecord model;
  std::int64_t objects = 0;  // training objects
  std::vector<std::string> columns;
};

// Error{invalid_argument} naming the field: fewer than two tags, an unknown tag, no objects, no object
// carrying a class, objects of one class only, features missing; Error{not_found} for an unknown set;
// Error{conflict} for a taken model name. Nothing is stored on error.
ObjectTrainResult train_object_model(Workspace& workspace, const ObjectTrainRequest& request);

// `tessera learn objects predict`: class probabilities for every object of the set, stored with the object
// (objects.class_probabilities: {"model", "class", "probability", "probabilities": {tag: p}}) and its tag
// (none when unclear: the winner's probability is below min_probability).
struct ObjectPredictRequest {
  std::string project = "default";
  std::string set;
  std::string model;  // a model name in the project, or a model file
  std::optional<catalog::Id> run_id;
  double min_probability = 0.5;
  catalog::Actor actor{std::nullopt, "local"};
};

struct ObjectPredictResult {
  std::int64_t objects = 0;
  std::int64_t unclear = 0;
  nlohmann::json per_class = nlohmann::json::object();  // tag -> objects
};

// Error{invalid_argument} for min_probability outside [0, 1], model classes that are not tags of the
// project, objects lacking a feature the model needs; Error{not_found} / Error{corrupt} /
// Error{unsupported} as predict_pixels for the model.
ObjectPredictResult predict_objects(Workspace& workspace, const ObjectPredictRequest& request);

nlohmann::json to_json(const ObjectTrainResult& result);
nlohmann::json to_json(const ObjectPredictResult& result);

}  // namespace tessera::app
