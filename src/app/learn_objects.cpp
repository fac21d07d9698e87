#include "tessera/app/learn_objects.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <map>
#include <set>

#include "learn_data.hpp"
#include "tessera/core/error.hpp"
#include "tessera/learn/object_classifier.hpp"
#include "tessera/version.hpp"

namespace tessera::app {
namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& field, const std::string& problem) {
  throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", field, problem), {{"field", field}});
}

// Measurements that say where an object is or name it, not what it is: a class must not depend on them.
bool is_position_column(const std::string& name) {
  return name == "label" || name == "object_id" || name == "orientation" || name.starts_with("bbox") ||
         name.starts_with("centroid") || name == "nested_count";
}

// The numeric, non-position features every object has, in name order.
std::vector<std::string> common_columns(const std::vector<const catalog::LearnObject*>& objects) {
  std::map<std::string, std::size_t> seen;
  for (const catalog::LearnObject* o : objects) {
    for (const auto& [name, value] : o->features.items()) {
      if (value.is_number() && !is_position_column(name)) ++seen[name];
    }
  }
  std::vector<std::string> out;
  for (const auto& [name, count] : seen) {
    if (count == objects.size()) out.push_back(name);
  }
  return out;
}

learn::FeatureTable table_of(const std::vector<const catalog::LearnObject*>& objects,
                             const std::vector<std::string>& columns) {
  learn::FeatureTable table;
  table.columns = columns;
  for (const catalog::LearnObject* o : objects) {
    std::vector<double> row;
    for (const std::string& c : columns) {
      const json* v = o->features.contains(c) ? &o->features[c] : nullptr;
      if (!v || !v->is_number())
        bad("features", fmt::format("object {} has no numeric feature '{}' (measure the set again)", o->id, c));
      row.push_back(v->get<double>());
    }
    table.rows.push_back(std::move(row));
  }
  return table;
}

}  // namespace

ObjectTrainResult train_object_model(Workspace& workspace, const ObjectTrainRequest& request) {
  auto& catalog = workspace.catalog();
  const catalog::Project project = catalog.get_project(request.project);
  const learn_data::Classes classes = learn_data::resolve_classes(catalog, project.id, request.tags);
  learn_data::check_model_name_free(workspace, project.id, request.model_name);
  const catalog::ImageSet set = catalog.get_set(project.id, request.set);
  catalog::LearnStore store(catalog);
  const std::vector<catalog::LearnObject> objects = store.set_objects(set.id, request.run_id);
  if (objects.empty())
    bad("set", fmt::format("set '{}' has no measured objects (run `tessera measure --set {}` first)", request.set,
                           request.set));

  // Each object's class: the tags people's annotations put inside its box, or the tag a person gave it.
  std::map<catalog::Id, std::set<catalog::Id>> marks;
  const std::vector<catalog::ClassMark> class_marks = store.class_marks(set.id, classes.tag_ids);
  for (const catalog::LearnObject& o : objects) {
    if (o.tag_id && !o.predicted &&
        std::find(classes.tag_ids.begin(), classes.tag_ids.end(), *o.tag_id) != classes.tag_ids.end()) {
      marks[o.id].insert(*o.tag_id);
    }
    for (const catalog::ClassMark& m : class_marks) {
      if (m.image_id == o.image_id && m.frame_index == o.frame_index && m.x >= o.bbox_x0 && m.x < o.bbox_x1 &&
          m.y >= o.bbox_y0 && m.y < o.bbox_y1) {
        marks[o.id].insert(m.tag_id);
      }
    }
  }
  std::vector<const catalog::LearnObject*> training;
  std::vector<std::string> tags;
  for (const catalog::LearnObject& o : objects) {
    auto it = marks.find(o.id);
    if (it == marks.end() || it->second.size() != 1) continue;
    const auto cls = std::find(classes.tag_ids.begin(), classes.tag_ids.end(), *it->second.begin());
    training.push_back(&o);
    tags.push_back(classes.names[static_cast<std::size_t>(cls - classes.tag_ids.begin())]);
  }
  if (training.empty())
    bad("set", fmt::format("none of the {} objects of set '{}' carries one of the tags {} (annotate objects with them)",
                           objects.size(), request.set, fmt::join(request.tags, ", ")));

  learn::ObjectTrainingOptions options;
  options.forest.trees = request.trees;
  options.forest.max_depth = request.max_depth;
  options.forest.seed = request.seed;
  json object_ids = json::array();
  for (const catalog::LearnObject* o : training) object_ids.push_back(o->id);
  options.provenance = {{"set", request.set},        {"tags", request.tags},
                        {"tag_ids", classes.tag_ids}, {"object_ids", object_ids},
                        {"run_id", request.run_id ? json(*request.run_id) : json()},
                        {"user", request.actor.name}, {"project", project.name},
                        {"tessera_version", kTesseraVersion}};
  const std::vector<std::string> columns = common_columns(training);
  if (columns.empty()) bad("features", "the training objects share no numeric measurement");
  const learn::ObjectClassifier model = learn::ObjectClassifier::train(table_of(training, columns), tags, options);

  ObjectTrainResult result;
  result.model = learn_data::store_model(workspace, project.id, "object_classifier", request.model_name, model.save(),
                                         model.provenance(), request.out, request.actor);
  result.objects = static_cast<std::int64_t>(training.size());
  result.columns = columns;
  return result;
}

ObjectPredictResult predict_objects(Workspace& workspace, const ObjectPredictRequest& request) {
  if (!(request.min_probability >= 0 && request.min_probability <= 1))
    bad("min_probability", fmt::format("must be in [0, 1], got {}", request.min_probability));
  auto& catalog = workspace.catalog();
  const catalog::Project project = catalog.get_project(request.project);
  const learn_data::ModelBytes stored =
      learn_data::load_model(workspace, project.id, request.model, "object_classifier");
  const learn::ObjectClassifier model = learn_data::decode_model<learn::ObjectClassifier>(stored, request.model);
  const learn_data::Classes classes = learn_data::resolve_classes(catalog, project.id, model.class_names());
  const catalog::ImageSet set = catalog.get_set(project.id, request.set);
  catalog::LearnStore store(catalog);
  const std::vector<catalog::LearnObject> objects = store.set_objects(set.id, request.run_id);

  ObjectPredictResult result;
  if (objects.empty()) return result;
  std::vector<const catalog::LearnObject*> all;
  for (const catalog::LearnObject& o : objects) all.push_back(&o);
  const auto predictions = model.predict(table_of(all, model.feature_columns()), request.min_probability);

  std::vector<catalog::ObjectClassification> verdicts;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const learn::ObjectPrediction& p = predictions[i];
    json probabilities = json::object();
    for (std::size_t k = 0; k < model.class_names().size(); ++k) probabilities[model.class_names()[k]] = p.probabilities[k];
    json verdict = {{"class", p.tag}, {"probability", p.probability}, {"probabilities", probabilities},
                    {"min_probability", request.min_probability}};
    verdict.update(stored.ref);
    std::optional<catalog::Id> tag;
    if (!p.unclear) {
      const auto it = std::find(classes.names.begin(), classes.names.end(), p.tag);
      tag = classes.tag_ids[static_cast<std::size_t>(it - classes.names.begin())];
    } else {
      ++result.unclear;
    }
    result.per_class[p.tag] = result.per_class.value(p.tag, 0) + 1;
    verdicts.push_back({objects[i].id, tag, verdict});
  }
  result.objects = store.classify_objects(project.id, verdicts, request.actor,
                                          {{"set", request.set}, {"model", stored.ref}, {"per_class", result.per_class}});
  return result;
}

json to_json(const ObjectTrainResult& result) {
  return {{"model", catalog::to_json(result.model)}, {"objects", result.objects}, {"columns", result.columns}};
}

json to_json(const ObjectPredictResult& result) {
  return {{"objects", result.objects}, {"unclear", result.unclear}, {"per_class", result.per_class}};
}

}  // namespace tessera::app
