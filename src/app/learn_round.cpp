#include "tessera/app/learn_round.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

#include "learn_data.hpp"
#include "tessera/core/error.hpp"
#include "tessera/version.hpp"

namespace tessera::app {
namespace {

using json = nlohmann::json;

// The ranking kept with the round: enough to compare rounds and to find the regions again, not every image
// of a very large set.
constexpr std::size_t kRankingKept = 1000;

struct Scored {
  catalog::ImageRecord image;
  ImageUncertainty uncertainty;
};

std::string training_kinds_text(const RoundOptions& options) {
  return options.with_masks ? "scribbles or masks" : "scribbles";
}

// What a round reads from the catalog before it starts, resolved once: the checks and the round share it.
struct RoundInputs {
  catalog::Project project;
  learn_data::Classes classes;
  catalog::ImageSet set;
};

RoundInputs checked_round_inputs(Workspace& workspace, const LearnRoundRequest& request) {
  validate_round_options(request.options);
  auto& catalog = workspace.catalog();
  const catalog::Project project = catalog.get_project(request.project);
  const learn_data::Classes classes = learn_data::resolve_classes(catalog, project.id, request.tags);
  const catalog::ImageSet set = catalog.get_set(project.id, request.set);
  learn_data::require_annotated_classes(catalog, set, classes, request.options.with_masks);
  return {project, classes, set};
}

}  // namespace

void check_round_request(Workspace& workspace, const LearnRoundRequest& request) {
  checked_round_inputs(workspace, request);
}

LearnRoundResult run_learn_round(Workspace& workspace, const LearnRoundRequest& request, const LearnProgress& progress) {
  auto report = [&](double fraction, const std::string& message) {
    if (progress) progress(fraction, message);
  };
  const RoundInputs inputs = checked_round_inputs(workspace, request);
  const catalog::Project& project = inputs.project;
  const learn_data::Classes& classes = inputs.classes;
  const catalog::ImageSet& set = inputs.set;
  const RoundOptions& options = request.options;
  auto& catalog = workspace.catalog();
  const auto images = learn_data::set_images(catalog, project.id, request.set);

  report(0.02, "reading annotations");
  const auto frames = learn_data::labelled_frames(workspace, images, classes, options.with_masks);
  if (frames.empty())
    throw Error(ErrorCode::invalid_argument,
                fmt::format("set '{}': no annotated pixels: no {} of the tags {} on its {} images", request.set,
                            training_kinds_text(options), fmt::join(request.tags, ", "), images.size()),
                {{"field", "set"}});
  std::vector<TrainingPatch> patches;
  std::set<catalog::Id> annotated;
  json sources = json::array();
  for (const auto& frame : frames) {
    const cv::Mat pixels = learn_data::load_frame(workspace, frame.image, frame.frame_index);
    for (TrainingPatch& p : training_patches(pixels, frame.labels, options.patch)) patches.push_back(std::move(p));
    annotated.insert(frame.image.id);
    sources.push_back({{"image_id", frame.image.id}, {"frame_index", frame.frame_index},
                       {"annotations", frame.annotation_ids}});
  }

  const json provenance = {{"set", request.set},         {"tags", request.tags},
                           {"tag_ids", classes.tag_ids}, {"images", sources},
                           {"round_options", to_json(options)}, {"user", request.actor.name},
                           {"project", project.name},    {"tessera_version", kTesseraVersion}};
  const Ensemble ensemble = train_ensemble(patches, classes.names, options, provenance, [&](double f, const std::string& m) {
    report(0.05 + 0.4 * f, m);
  });

  std::vector<Scored> scored;
  std::vector<const catalog::ImageRecord*> unannotated;
  for (const auto& image : images) {
    if (!annotated.count(image.id)) unannotated.push_back(&image);
  }
  for (std::size_t i = 0; i < unannotated.size(); ++i) {
    report(0.45 + 0.4 * static_cast<double>(i) / static_cast<double>(unannotated.size()),
           fmt::format("predicting image {} of {}", i + 1, unannotated.size()));
    const cv::Mat pixels = learn_data::load_frame(workspace, *unannotated[i], 0);
    scored.push_back({*unannotated[i], score_image(ensemble, pixels, options.patch)});
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const Scored& a, const Scored& b) { return a.uncertainty.score > b.uncertainty.score; });
  const std::size_t chosen_count = std::min<std::size_t>(scored.size(), static_cast<std::size_t>(options.top));

  catalog::NewRound round;
  round.set_id = set.id;
  round.job_id = request.job_id;
  round.parameters = to_json(options);
  round.parameters["tags"] = request.tags;
  double chosen_sum = 0, all_sum = 0;
  for (std::size_t i = 0; i < scored.size(); ++i) {
    const ImageUncertainty& u = scored[i].uncertainty;
    all_sum += u.score;
    if (i < chosen_count) {
      chosen_sum += u.score;
      round.chosen_images.push_back(scored[i].image.id);
    }
    if (i < kRankingKept) {
      round.ranking.push_back({{"image_id", scored[i].image.id},
                               {"uncertainty", u.score},
                               {"entropy", u.entropy},
                               {"disagreement", u.disagreement},
                               {"region", {u.region.x, u.region.y, u.region.width, u.region.height}},
                               {"region_uncertainty", u.region_score},
                               {"chosen", i < chosen_count}});
    }
  }
  round.metrics = {{"held_out_dice", ensemble.held_out_dice ? json(*ensemble.held_out_dice) : json()},
                   {"training_patches", ensemble.training_patches},
                   {"held_out_patches", ensemble.held_out_patches},
                   {"annotated_images", annotated.size()},
                   {"scored_images", scored.size()},
                   {"chosen_images", chosen_count},
                   {"mean_uncertainty", scored.empty() ? json() : json(all_sum / static_cast<double>(scored.size()))},
                   {"chosen_mean_uncertainty",
                    chosen_count == 0 ? json() : json(chosen_sum / static_cast<double>(chosen_count))}};

  report(0.86, "storing the models");
  // Blobs before the record that names them.
  for (std::size_t m = 0; m < ensemble.models.size(); ++m) {
    const std::string hash = workspace.blobs().put(ensemble.models[m].save());
    round.models.push_back({"pixel_classifier", fmt::format("model-{}", m + 1), hash, ensemble.models[m].provenance()});
  }
  LearnRoundResult result;
  result.round = catalog::LearnStore(catalog).record_round(project.id, round, request.actor);

  const std::vector<int> foreground = learn_data::foreground_classes(classes.names);
  for (std::size_t i = 0; i < chosen_count; ++i) {
    report(0.9 + 0.1 * static_cast<double>(i) / static_cast<double>(chosen_count), "suggesting annotations");
    const ImageUncertainty& u = scored[i].uncertainty;
    for (int k : foreground) {
      const std::size_t c = static_cast<std::size_t>(k - 1);
      const json ref = {{"round_id", result.round.id}, {"round", result.round.number}, {"class", classes.names[c]},
                        {"uncertainty", u.score}};
      if (learn_data::add_suggested_mask(workspace, scored[i].image, 0, u.classes == k, classes.tag_ids[c],
                                         u.class_confidence[c], ref, request.actor)) {
        ++result.suggested;
      }
    }
  }
  report(1.0, fmt::format("round {} chose {} images", result.round.number, chosen_count));
  return result;
}

}  // namespace tessera::app
