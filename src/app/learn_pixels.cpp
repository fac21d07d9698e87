#include "tessera/app/learn_pixels.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>

#include "learn_data.hpp"
#include "tessera/core/clock.hpp"
#include "tessera/core/error.hpp"
#include "tessera/learn/pixel_classifier.hpp"
#include "tessera/learn/uncertainty.hpp"
#include "tessera/version.hpp"

namespace tessera::app {
namespace {

using json = nlohmann::json;

void report(const LearnProgress& progress, double fraction, const std::string& message) {
  if (progress) progress(fraction, message);
}

}  // namespace

PixelTrainResult train_pixel_model(Workspace& workspace, const PixelTrainRequest& request,
                                   const LearnProgress& progress) {
  const auto start = std::chrono::steady_clock::now();
  auto& catalog = workspace.catalog();
  const catalog::Project project = catalog.get_project(request.project);
  const learn_data::Classes classes = learn_data::resolve_classes(catalog, project.id, request.tags);
  learn_data::check_model_name_free(workspace, project.id, request.model_name);
  learn_data::require_annotated_classes(catalog, catalog.get_set(project.id, request.set), classes, request.with_masks);
  const auto images = learn_data::set_images(catalog, project.id, request.set);

  report(progress, 0.05, "reading annotations");
  const auto frames = learn_data::labelled_frames(workspace, images, classes, request.with_masks);
  if (frames.empty())
    throw Error(ErrorCode::invalid_argument,
                fmt::format("set '{}': no annotated pixels: no {} of the tags {} on its {} images",
                            request.set, request.with_masks ? "scribbles or masks" : "scribbles",
                            fmt::join(request.tags, ", "), images.size()),
                {{"field", "set"}});
  std::vector<learn::LabelledImage> labelled;
  json sources = json::array();
  std::int64_t annotations = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    report(progress, 0.05 + 0.25 * static_cast<double>(i) / static_cast<double>(frames.size()), "reading images");
    labelled.push_back({learn_data::load_frame(workspace, frames[i].image, frames[i].frame_index), frames[i].labels});
    sources.push_back({{"image_id", frames[i].image.id}, {"frame_index", frames[i].frame_index},
                       {"annotations", frames[i].annotation_ids}});
    annotations += static_cast<std::int64_t>(frames[i].annotation_ids.size());
  }

  learn::PixelTrainingOptions options;
  options.forest.trees = request.trees;
  options.forest.max_depth = request.max_depth;
  options.forest.seed = request.seed;
  options.provenance = {{"set", request.set},
                        {"tags", request.tags},
                        {"tag_ids", classes.tag_ids},
                        {"images", sources},
                        {"annotations", annotations},
                        {"with_masks", request.with_masks},
                        {"user", request.actor.name},
                        {"user_id", request.actor.user_id ? json(*request.actor.user_id) : json()},
                        {"project", project.name},
                        {"tessera_version", kTesseraVersion}};
  report(progress, 0.35, "training");
  const learn::PixelClassifier model = learn::PixelClassifier::train(labelled, classes.names, options);
  const std::string bytes = model.save();

  report(progress, 0.95, "storing the model");
  PixelTrainResult result;
  result.model = learn_data::store_model(workspace, project.id, "pixel_classifier", request.model_name, bytes,
                                         model.provenance(), request.out, request.actor);
  result.images = static_cast<std::int64_t>(frames.size());
  for (const auto& n : model.provenance().value("labelled_pixels", json::array())) {
    result.labelled_pixels.push_back(n.is_number() ? n.get<std::int64_t>() : 0);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report(progress, 1.0, "trained");
  return result;
}

PixelPredictResult predict_pixels(Workspace& workspace, const PixelPredictRequest& request,
                                  const LearnProgress& progress) {
  auto& catalog = workspace.catalog();
  const catalog::Project project = catalog.get_project(request.project);
  const learn_data::ModelBytes stored = learn_data::load_model(workspace, project.id, request.model, "pixel_classifier");
  const json& model_ref = stored.ref;
  const learn::PixelClassifier model = learn_data::decode_model<learn::PixelClassifier>(stored, request.model);
  const auto images = learn_data::set_images(catalog, project.id, request.set);
  std::optional<learn_data::Classes> classes;
  if (request.save) classes = learn_data::resolve_classes(catalog, project.id, model.class_names());
  const std::vector<int> foreground = learn_data::foreground_classes(model.class_names());

  PixelPredictResult result;
  result.classes = model.class_names();
  for (std::size_t i = 0; i < images.size(); ++i) {
    report(progress, static_cast<double>(i) / static_cast<double>(images.size()),
           fmt::format("image {} of {}", i + 1, images.size()));
    const catalog::ImageRecord& image = images[i];
    const learn::PixelPrediction prediction = model.predict(learn_data::load_frame(workspace, image, 0));
    PixelPredictImage out;
    out.image_id = image.id;
    const double pixels = static_cast<double>(prediction.classes.total());
    for (int k = 1; k <= static_cast<int>(result.classes.size()); ++k) {
      out.class_share.push_back(cv::countNonZero(prediction.classes == k) / pixels);
    }
    out.uncertainty = cv::mean(learn::entropy_map(prediction.probabilities))[0];
    if (request.save) {
      for (int k : foreground) {
        const cv::Mat mask = prediction.classes == k;
        const double confidence = cv::mean(prediction.probabilities[static_cast<std::size_t>(k - 1)], mask)[0];
        json ref = model_ref;
        ref["class"] = result.classes[static_cast<std::size_t>(k - 1)];
        if (auto id = learn_data::add_suggested_mask(workspace, image, 0, mask,
                                                     classes->tag_ids[static_cast<std::size_t>(k - 1)], confidence,
                                                     ref, request.actor)) {
          out.annotations.push_back(*id);
        }
      }
      result.annotations += static_cast<std::int64_t>(out.annotations.size());
    }
    result.images.push_back(std::move(out));
  }
  report(progress, 1.0, "predicted");
  return result;
}

json to_json(const PixelTrainResult& result) {
  return {{"model", catalog::to_json(result.model)},
          {"images", result.images},
          {"labelled_pixels", result.labelled_pixels},
          {"seconds", result.seconds}};
}

json to_json(const PixelPredictResult& result) {
  json images = json::array();
  for (const PixelPredictImage& i : result.images) {
    images.push_back({{"image_id", i.image_id},
                      {"class_share", i.class_share},
                      {"uncertainty", i.uncertainty},
                      {"annotations", i.annotations}});
  }
  return {{"classes", result.classes}, {"images", images}, {"annotations", result.annotations}};
}

}  // namespace tessera::app
