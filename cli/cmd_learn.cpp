// `tessera learn ...`: pixel and object classifiers trained from the catalog's annotations, and the
// active-learning rounds that choose what people annotate next. Parsing and printing only: the use cases
// live in app/learn_pixels, app/learn_objects and app/learn_round.
#include <fmt/format.h>

#include <cstdlib>

#include "commands.hpp"
#include "tessera/app/learn_objects.hpp"
#include "tessera/app/learn_pixels.hpp"
#include "tessera/app/learn_round.hpp"
#include "tessera/core/error.hpp"

namespace tessera::cli {
namespace {

using json = nlohmann::json;

struct LearnArgs {
  std::string set, tags, model, out;
  bool with_masks = false, save = false, json = false;
  int trees = 100, max_depth = 12;
  std::uint64_t seed = 1;
  std::optional<catalog::Id> run;
  double min_probability = 0.5;
  app::RoundOptions round;
};

std::vector<std::string> split_tags(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// The progress of a long command on stderr, one line per tenth.
app::LearnProgress stderr_progress() {
  auto last = std::make_shared<int>(-1);
  return [last](double fraction, const std::string& message) {
    const int tenth = static_cast<int>(fraction * 10);
    if (tenth == *last) return;
    *last = tenth;
    fmt::print(stderr, "{:3.0f}%  {}\n", fraction * 100, message);
  };
}

// A model's catalog name from --out: the file's stem ("models/nuclei.tsm" -> "nuclei").
std::string model_name_of(const std::string& out) { return std::filesystem::path(out).stem().string(); }

// The options both `train` commands share: what trains, where the model goes, the forest's knobs.
void add_train_options(CLI::App& train, LearnArgs& args, const std::string& set_help) {
  train.add_option("--set", args.set, set_help)->required();
  train.add_option("--tags", args.tags, "Class tags, comma-separated (e.g. nucleus,background)")->required();
  train.add_option("--out", args.out, "Model file to write; its stem names the model in the catalog")->required();
  train.add_option("--trees", args.trees, "Trees in the forest");
  train.add_option("--max-depth", args.max_depth, "Depth of each tree");
  train.add_option("--seed", args.seed, "Random seed");
  train.add_flag("--json", args.json, "Print the result as JSON");
}

// The fields both train requests share, from the shared options.
template <typename TrainRequest>
TrainRequest train_request(const GlobalOptions& global, const LearnArgs& args) {
  TrainRequest request;
  request.project = global.project;
  request.set = args.set;
  request.tags = split_tags(args.tags);
  request.model_name = model_name_of(args.out);
  request.trees = args.trees;
  request.max_depth = args.max_depth;
  request.seed = args.seed;
  request.out = args.out;
  request.actor = local_actor();
  return request;
}

void add_pixels_commands(CLI::App& learn, GlobalOptions& global, const std::shared_ptr<LearnArgs>& args) {
  auto* pixels = learn.add_subcommand("pixels", "Pixel classification from scribbles");
  pixels->require_subcommand(1);

  auto* train = pixels->add_subcommand("train", "Train a pixel classifier from the set's scribbles");
  add_train_options(*train, *args, "Set whose images' scribbles train");
  train->add_flag("--masks", args->with_masks, "Mask annotations of the tags train too");
  train->callback([&global, args] {
    app::Workspace ws = global.open_workspace();
    auto request = train_request<app::PixelTrainRequest>(global, *args);
    request.with_masks = args->with_masks;
    const app::PixelTrainResult result = app::train_pixel_model(ws, request, stderr_progress());
    if (args->json) return fmt::print("{}\n", app::to_json(result).dump(2));
    fmt::print("model '{}' (id {}) trained on {} annotated frame(s) in {:.1f} s; written to {}\n", result.model.name,
               result.model.id, result.images, result.seconds, args->out);
  });

  auto* predict = pixels->add_subcommand("predict", "Predict the set's images with a pixel classifier");
  predict->add_option("--model", args->model, "Model name in the catalog, or a model file")->required();
  predict->add_option("--set", args->set, "Set to predict")->required();
  predict->add_flag("--save", args->save, "Store the masks as suggested annotations");
  predict->add_flag("--json", args->json, "Print the result as JSON");
  predict->callback([&global, args] {
    app::Workspace ws = global.open_workspace();
    app::PixelPredictRequest request;
    request.project = global.project;
    request.set = args->set;
    request.model = args->model;
    request.save = args->save;
    request.actor = local_actor();
    const app::PixelPredictResult result = app::predict_pixels(ws, request, stderr_progress());
    if (args->json) return fmt::print("{}\n", app::to_json(result).dump(2));
    for (const app::PixelPredictImage& image : result.images) {
      std::string shares;
      for (std::size_t k = 0; k < result.classes.size(); ++k) {
        shares += fmt::format("  {} {:.1f}%", result.classes[k], 100 * image.class_share[k]);
      }
      fmt::print("image {:>6}{}  uncertainty {:.3f}\n", image.image_id, shares, image.uncertainty);
    }
    if (args->save) fmt::print("{} suggested annotation(s) stored\n", result.annotations);
  });
}

void add_objects_commands(CLI::App& learn, GlobalOptions& global, const std::shared_ptr<LearnArgs>& args) {
  auto* objects = learn.add_subcommand("objects", "Object classification on measured features");
  objects->require_subcommand(1);

  auto* train = objects->add_subcommand("train", "Train an object classifier from the set's tagged objects");
  add_train_options(*train, *args, "Set whose measured objects train");
  train->add_option("--run", args->run, "Only objects of this measuring run");
  train->callback([&global, args] {
    app::Workspace ws = global.open_workspace();
    auto request = train_request<app::ObjectTrainRequest>(global, *args);
    request.run_id = args->run;
    const app::ObjectTrainResult result = app::train_object_model(ws, request);
    if (args->json) return fmt::print("{}\n", app::to_json(result).dump(2));
    fmt::print("model '{}' (id {}) trained on {} object(s) over {} feature(s); written to {}\n", result.model.name,
               result.model.id, result.objects, result.columns.size(), args->out);
  });

  auto* predict = objects->add_subcommand("predict", "Classify the set's objects; probabilities stored with each");
  predict->add_option("--model", args->model, "Model name in the catalog, or a model file")->required();
  predict->add_option("--set", args->set, "Set whose objects to classify")->required();
  predict->add_option("--run", args->run, "Only objects of this measuring run");
  predict->add_option("--min-probability", args->min_probability, "Below it an object is 'unclear'");
  predict->add_flag("--json", args->json, "Print the result as JSON");
  predict->callback([&global, args] {
    app::Workspace ws = global.open_workspace();
    app::ObjectPredictRequest request;
    request.project = global.project;
    request.set = args->set;
    request.model = args->model;
    request.run_id = args->run;
    request.min_probability = args->min_probability;
    request.actor = local_actor();
    const app::ObjectPredictResult result = app::predict_objects(ws, request);
    if (args->json) return fmt::print("{}\n", app::to_json(result).dump(2));
    fmt::print("{} object(s) classified, {} unclear\n", result.objects, result.unclear);
    for (const auto& [tag, count] : result.per_class.items()) fmt::print("  {:<20} {}\n", tag, count.get<std::int64_t>());
  });
}

void print_round(const catalog::RoundRecord& round) {
  const json& dice = round.metrics.contains("held_out_dice") ? round.metrics["held_out_dice"] : json();
  fmt::print("round {} of set '{}': {} model(s), held-out Dice {}, chose {} image(s) into '{}', {}\n", round.number,
             round.set_name, round.model_ids.size(), dice.is_number() ? fmt::format("{:.3f}", dice.get<double>()) : "-",
             round.metrics.value("chosen_images", 0), round.round_set_name.value_or("(deleted)"), round.created_at);
}

}  // namespace

void add_learn_commands(CLI::App& app, GlobalOptions& global) {
  auto* learn = app.add_subcommand("learn", "Pixel and object classifiers, active-learning rounds");
  learn->require_subcommand(1);
  auto args = std::make_shared<LearnArgs>();
  add_pixels_commands(*learn, global, args);
  add_objects_commands(*learn, global, args);

  auto* round = learn->add_subcommand("round", "Train an ensemble, rank the unannotated images, suggest annotations");
  round->add_option("--set", args->set, "Set to learn from and choose in")->required();
  round->add_option("--tags", args->tags, "Class tags, comma-separated")->required();
  round->add_option("--models", args->round.models, "Ensemble size (bootstrap)");
  round->add_option("--top", args->round.top, "Images chosen for the next round's set");
  round->add_option("--patch", args->round.patch, "Training patch and ranked region size in pixels");
  round->add_option("--trees", args->round.trees, "Trees per model");
  round->add_option("--held-out", args->round.held_out, "Share of training patches held out to measure Dice");
  round->add_option("--seed", args->round.seed, "Random seed");
  round->add_flag("--masks", args->round.with_masks, "Mask annotations of the tags train too");
  round->add_flag("--json", args->json, "Print the round as JSON");
  round->callback([&global, args] {
    app::Workspace ws = global.open_workspace();
    app::LearnRoundRequest request;
    request.project = global.project;
    request.set = args->set;
    request.tags = split_tags(args->tags);
    request.options = args->round;
    request.actor = local_actor();
    const app::LearnRoundResult result = app::run_learn_round(ws, request, stderr_progress());
    if (args->json) {
      json out = catalog::to_json(result.round);
      out["suggested"] = result.suggested;
      return fmt::print("{}\n", out.dump(2));
    }
    print_round(result.round);
    fmt::print("{} suggested annotation(s) on the chosen images\n", result.suggested);
  });

  auto* rounds = learn->add_subcommand("rounds", "List a set's learning rounds, to compare them");
  rounds->add_option("--set", args->set, "Set whose rounds to list")->required();
  rounds->add_flag("--json", args->json, "Print the rounds as JSON");
  rounds->callback([&global, args] {
    app::Workspace ws = global.open_workspace();
    const auto project = ws.catalog().get_project(global.project);
    const auto set = ws.catalog().get_set(project.id, args->set);
    const auto list = catalog::LearnStore(ws.catalog()).list_rounds(set.id);
    if (args->json) {
      json out = json::array();
      for (const auto& r : list) out.push_back(catalog::to_json(r));
      return fmt::print("{}\n", out.dump(2));
    }
    if (list.empty()) fmt::print("set '{}' has no learning rounds\n", args->set);
    for (const auto& r : list) print_round(r);
  });
}

}  // namespace tessera::cli
