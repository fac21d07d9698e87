#pragma once

// What the learning use cases (learn_pixels, learn_objects, learn_round) read from and write to a workspace:
// class tags, a set's images and their pixels, people's annotations as label images, suggested masks.
// Private to the app layer.

#include <fmt/format.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tessera/app/annotations.hpp"
#include "tessera/app/workspace.hpp"
#include "tessera/catalog/catalog.hpp"
#include "tessera/catalog/learn.hpp"
#include "tessera/core/error.hpp"

namespace tessera::app::learn_data {

// Class tags in the order given: label k (1-based) is names[k - 1].
struct Classes {
  std::vector<std::string> names;
  std::vector<catalog::Id> tag_ids;
};

// Error{invalid_argument} naming "tags": fewer than two, repeated, or a tag the project does not have (the
// known ones are listed).
Classes resolve_classes(catalog::Catalog& catalog, catalog::Id project_id, const std::vector<std::string>& tags);

// Every class must have people's annotations on the set's images (scribbles, and masks too when
// with_masks) before a model trains: Error{invalid_argument} naming "set" when no class has any, naming
// "tags" and the first class without any otherwise (a forest would silently never predict it).
void require_annotated_classes(catalog::Catalog& catalog, const catalog::ImageSet& set, const Classes& classes,
                               bool with_masks);

// The set's images by id (Error{not_found} for an unknown set).
std::vector<catalog::ImageRecord> set_images(catalog::Catalog& catalog, catalog::Id project_id, const std::string& set);

// One frame of an image, decoded from the blob store. Error{invalid_argument} when its decoded size is not
// the size the catalog recorded (the annotations' coordinates would not fit it) or the frame is missing.
cv::Mat load_frame(Workspace& workspace, const catalog::ImageRecord& image, std::int64_t frame_index);

// People's annotations (not deleted, source other than 'suggested') of one image frame drawn as a label
// image of its size: pixel = k for class k, 0 unlabelled; later annotations draw over earlier ones.
struct LabelledFrame {
  catalog::ImageRecord image;
  std::int64_t frame_index = 0;
  cv::Mat labels;  // CV_8U
  std::vector<catalog::Id> annotation_ids;
  std::int64_t labelled_pixels = 0;
};

// The labelled frames of `images`: scribbles of the classes, and masks too when with_masks. Frames without
// any labelled pixel are left out. Error{invalid_argument} naming the annotation whose box lies outside its
// image (mismatched sizes).
std::vector<LabelledFrame> labelled_frames(Workspace& workspace, const std::vector<catalog::ImageRecord>& images,
                                           const Classes& classes, bool with_masks);

// A suggested mask annotation (source 'suggested') of the pixels of `mask` (CV_8U, non-zero) on an image
// frame; nothing is created for an empty mask. Returns the annotation id.
std::optional<catalog::Id> add_suggested_mask(Workspace& workspace, const catalog::ImageRecord& image,
                                              std::int64_t frame_index, const cv::Mat& mask, catalog::Id tag_id,
                                              double confidence, const nlohmann::json& source_ref,
                                              const catalog::Actor& actor);

// A model's bytes, from the project's models by name (checked to be of `kind`) or else from a file at that
// path, and how predictions name it (source_ref): {"model_id", "model"} or {"model_file"}. Error{not_found}
// when it is neither, Error{invalid_argument} for a stored model of another kind.
struct ModelBytes {
  std::string bytes;
  nlohmann::json ref;
};
ModelBytes load_model(Workspace& workspace, catalog::Id project_id, const std::string& name_or_file,
                      const std::string& kind);

// The model decoded by Model::load (learn::PixelClassifier, learn::ObjectClassifier); its errors (corrupt,
// unsupported version) name the model as the user gave it, with details.field = "model".
template <typename Model>
Model decode_model(const ModelBytes& model, const std::string& name_or_file) {
  try {
    return Model::load(model.bytes);
  } catch (const Error& e) {
    nlohmann::json details = e.details().is_object() ? e.details() : nlohmann::json::object();
    details["field"] = "model";
    throw Error(e.code(), fmt::format("model '{}': {}", name_or_file, e.what()), details);
  }
}

// Error{conflict} when the project already has a model of that name (checked before training).
void check_model_name_free(Workspace& workspace, catalog::Id project_id, const std::string& name);

// Writes `out` (if given) and the blob, then the catalog record naming them: a record never names missing bytes.
catalog::ModelRecord store_model(Workspace& workspace, catalog::Id project_id, const std::string& kind,
                                 const std::string& name, const std::string& bytes, const nlohmann::json& provenance,
                                 const std::optional<std::filesystem::path>& out, const catalog::Actor& actor);

// Mean of per-class Dice over the labelled pixels (labels > 0) of predicted class maps (1-based, CV_8U):
// classes absent from both truth and prediction are skipped. nullopt when nothing is labelled.
std::optional<double> labelled_dice(const std::vector<cv::Mat>& truth, const std::vector<cv::Mat>& predicted,
                                    int class_count);

// The classes counted as foreground: every class except one named "background" (all when none is).
std::vector<int> foreground_classes(const std::vector<std::string>& names);

}  // namespace tessera::app::learn_data
