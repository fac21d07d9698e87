#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tessera/catalog/catalog.hpp"
#include "tessera/catalog/locks.hpp"

namespace tessera::catalog {

// A trained model: its bytes are a blob (blob_hash), the catalog keeps what it is and how it was made.
struct ModelRecord {
  Id id = 0;
  Id project_id = 0;
  std::string kind;  // pixel_classifier | object_classifier
  std::string name;  // unique within the project
  std::string blob_hash;
  // How it was trained: set, tags (classes), images, parameters, user, time, tessera and format version.
  nlohmann::json provenance = nlohmann::json::object();
  std::string created_at;
  std::optional<Id> round_id;  // the active-learning round whose ensemble it belongs to
};

struct NewModel {
  std::string kind;
  std::string name;
  std::string blob_hash;  // bytes already in the blob store
  nlohmann::json provenance = nlohmann::json::object();
};

// One active-learning round over a set: the ensemble it trained, what it measured, what it chose.
struct RoundRecord {
  Id id = 0;
  Id project_id = 0;
  Id set_id = 0;
  std::string set_name;
  std::int64_t number = 0;  // 1, 2, ... within the set
  std::optional<Id> round_set_id;  // the set '<set>-round-<number>' of the chosen images (null once deleted)
  std::optional<std::string> round_set_name;
  nlohmann::json parameters = nlohmann::json::object();  // models, top, patch, seed, ...
  nlohmann::json metrics = nlohmann::json::object();     // held-out Dice, uncertainty summary, counts
  nlohmann::json ranking = nlohmann::json::array();      // the scored images, most uncertain first
  std::vector<Id> model_ids;                             // the ensemble, in training order
  std::optional<Id> job_id;
  std::optional<Id> user_id;
  std::string actor;
  std::string created_at;
};

// What a finished round stores, in one transaction.
struct NewRound {
  Id set_id = 0;
  nlohmann::json parameters = nlohmann::json::object();
  nlohmann::json metrics = nlohmann::json::object();
  nlohmann::json ranking = nlohmann::json::array();
  std::vector<NewModel> models;  // names are given '<set>-round-<number>-' prefixes by record_round
  std::vector<Id> chosen_images;  // members of the new set '<set>-round-<number>', images of the project
  std::optional<Id> job_id;
};

// A classifier's verdict on one measured object: tag_id null when it is unclear (or the class has no tag).
struct ObjectClassification {
  Id object_id = 0;
  std::optional<Id> tag_id;
  nlohmann::json class_probabilities = nlohmann::json::object();
};

// The annotations of one image that learning reads: by kind, tag and source, never deleted ones.
struct AnnotatedImageCount {
  Id image_id = 0;
  std::int64_t annotations = 0;
};

// A measured object as object classification reads it.
struct LearnObject {
  Id id = 0;
  Id image_id = 0;
  std::int64_t frame_index = 0;
  std::int64_t bbox_x0 = 0, bbox_y0 = 0, bbox_x1 = 0, bbox_y1 = 0;
  nlohmann::json features = nlohmann::json::object();
  std::optional<Id> tag_id;
  bool predicted = false;  // its tag came from a classifier (class_probabilities is set)
};

// A people's annotation of a class tag, by the centre of its box: the object holding it gets its class.
struct ClassMark {
  Id image_id = 0;
  std::int64_t frame_index = 0;
  double x = 0, y = 0;
  Id tag_id = 0;
};

// As the CLI and the API show them: every field, absent values null.
nlohmann::json to_json(const ModelRecord& model);
nlohmann::json to_json(const RoundRecord& round);

// Models and active-learning rounds (migration 0007), and object classes written by classifiers. Every
// write is one transaction with its activity event ('model.created', 'learn.round', 'objects.classified').
// Thread-safe.
class LearnStore {
 public:
  explicit LearnStore(Catalog& catalog) : catalog_(catalog) {}

  // Error{conflict} when the project has a model of that name, Error{invalid_argument} for a bad name or
  // an empty kind or blob hash, Error{not_found} for an unknown project.
  ModelRecord add_model(Id project_id, const NewModel& model, const Actor& actor);
  std::optional<ModelRecord> find_model(Id project_id, const std::string& name);
  ModelRecord get_model(Id model_id);  // Error{not_found}
  std::vector<ModelRecord> list_models(Id project_id);  // by id

  // Stores a round of set_id: takes the set's next number K, creates the set '<set>-round-K' holding
  // chosen_images, the models (named '<set>-round-K-<name>') and the round, all or nothing. Error{not_found}
  // for an unknown set, Error{invalid_argument} for a chosen image outside the set's project, Error{conflict}
  // when a set or model of the new names already exists.
  RoundRecord record_round(Id project_id, const NewRound& round, const Actor& actor);
  std::vector<RoundRecord> list_rounds(Id set_id);  // by number
  std::optional<RoundRecord> find_round(Id round_id);
  RoundRecord get_round(Id round_id);  // Error{not_found}

  // The set with this id, of any project (the server checks the caller's access to its project).
  std::optional<ImageSet> find_set(Id set_id);

  // Images of the set with non-deleted annotations of one of `kinds` whose tag is one of tag_ids and whose
  // source is not 'suggested' (people's annotations, imports): what learning may train on. By image id.
  std::vector<AnnotatedImageCount> annotated_images(Id set_id, const std::vector<std::string>& kinds,
                                                    const std::vector<Id>& tag_ids);

  // Top-level objects of the set's images (optionally of one run), by id.
  std::vector<LearnObject> set_objects(Id set_id, std::optional<Id> run_id = std::nullopt);
  // Centres of the non-deleted, non-suggested annotations of the set's images carrying one of tag_ids.
  std::vector<ClassMark> class_marks(Id set_id, const std::vector<Id>& tag_ids);

  // Writes each object's tag and class probabilities (objects.tag_id, objects.class_probabilities).
  // Error{not_found} naming an object that is not in the project; nothing is written then.
  std::int64_t classify_objects(Id project_id, const std::vector<ObjectClassification>& classes,
                                const Actor& actor, const nlohmann::json& summary);

 private:
  Catalog& catalog_;
};

}  // namespace tessera::catalog
