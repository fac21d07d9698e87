#include "tessera/catalog/learn.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog_fixture.hpp"
#include "catalog/db.hpp"
#include "tessera/catalog/annotations.hpp"
#include "tessera/core/error.hpp"

namespace tessera::catalog {
namespace {

using fixture::PostgresBackend;
using fixture::SqliteBackend;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

template <typename Fn>
Error expect_error(ErrorCode code, Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    return e;
  }
  ADD_FAILURE() << "did not throw";
  return Error(ErrorCode::internal, "did not throw");
}

// A project "lab" with a set "cells" of three images, tags nucleus and background.
template <typename Backend>
class LearnStoreTest : public fixture::CatalogOn<Backend> {
 protected:
  using fixture::CatalogOn<Backend>::catalog_;
  using fixture::CatalogOn<Backend>::count_rows;

  void SetUp() override {
    fixture::CatalogOn<Backend>::SetUp();
    if (this->IsSkipped()) return;
    project_ = catalog_->ensure_project("lab").id;
    for (int i = 0; i < 3; ++i) images_.push_back(add_image(fmt::format("cells/{}.png", i)));
    catalog_->ensure_set(project_, "cells");
    catalog_->add_to_set(project_, "cells", images_);
    set_ = catalog_->get_set(project_, "cells").id;
    for (const Tag& tag : catalog_->upsert_tags(project_, {{"nucleus", "#00ff00", "scribble", std::nullopt},
                                                           {"background", "#0000ff", "scribble", std::nullopt}})) {
      (tag.name == "nucleus" ? nucleus_ : background_) = tag.id;
    }
  }

  Id add_image(const std::string& path) {
    return catalog_->add_images(project_, {fixture::named_image(path)}).added.at(0);
  }

  Id add_scribble(Id image, Id tag, const std::string& source = "manual") {
    AnnotationState state;
    state.kind = "scribble";
    state.tag_id = tag;
    state.geometry = {{"points", {{1, 1}, {5, 5}}}};
    state.bbox = {1, 1, 6, 6};
    state.source = source;
    return AnnotationStore(*catalog_).create(image, alice_, state).annotation->id;
  }

  NewRound round_of(std::vector<Id> chosen) {
    NewRound round;
    round.set_id = set_;
    round.parameters = {{"models", 2}, {"top", 1}};
    round.metrics = {{"held_out_dice", 0.8}};
    round.ranking = {{{"image_id", chosen.empty() ? 0 : chosen[0]}, {"entropy", 0.5}}};
    round.models = {{"pixel_classifier", "model-1", std::string(64, 'a'), {{"seed", 1}}},
                    {"pixel_classifier", "model-2", std::string(64, 'b'), {{"seed", 2}}}};
    round.chosen_images = std::move(chosen);
    return round;
  }

  LearnStore store() { return LearnStore(*catalog_); }

  Id project_ = 0, set_ = 0, nucleus_ = 0, background_ = 0;
  std::vector<Id> images_;
  Actor alice_{std::nullopt, "alice"};
};

using Backends = ::testing::Types<SqliteBackend, PostgresBackend>;
TYPED_TEST_SUITE(LearnStoreTest, Backends, fixture::BackendNames);

TYPED_TEST(LearnStoreTest, AModelIsStoredWithItsProvenanceAndNamesAreUniquePerProject) {
  const ModelRecord model = this->store().add_model(
      this->project_, {"pixel_classifier", "nuclei", std::string(64, 'c'), {{"set", "cells"}, {"tags", {"nucleus"}}}},
      this->alice_);
  EXPECT_EQ(model.name, "nuclei");
  EXPECT_EQ(model.provenance["set"], "cells");
  EXPECT_FALSE(model.round_id);
  EXPECT_EQ(this->store().get_model(model.id).blob_hash, std::string(64, 'c'));
  ASSERT_TRUE(this->store().find_model(this->project_, "nuclei"));
  EXPECT_FALSE(this->store().find_model(this->project_, "other"));
  EXPECT_EQ(this->store().list_models(this->project_).size(), 1u);

  const Error taken = expect_error(ErrorCode::conflict, [&] {
    this->store().add_model(this->project_, {"pixel_classifier", "nuclei", std::string(64, 'd'), {}}, this->alice_);
  });
  EXPECT_THAT(taken.what(), HasSubstr("nuclei"));
  expect_error(ErrorCode::invalid_argument,
               [&] { this->store().add_model(this->project_, {"", "x", std::string(64, 'd'), {}}, this->alice_); });
  expect_error(ErrorCode::not_found, [&] { this->store().get_model(999999); });
  EXPECT_EQ(this->count_rows("models"), 1);
  // The model's blob is referenced, so blob garbage collection keeps it.
  EXPECT_THAT(this->catalog_->referenced_blobs(), ::testing::Contains(std::string(64, 'c')));
}

TYPED_TEST(LearnStoreTest, RoundsAreNumberedPerSetWithTheirSetModelsAndEvent) {
  const RoundRecord first = this->store().record_round(this->project_, this->round_of({this->images_[2]}), this->alice_);
  EXPECT_EQ(first.number, 1);
  EXPECT_EQ(first.set_name, "cells");
  ASSERT_TRUE(first.round_set_name);
  EXPECT_EQ(*first.round_set_name, "cells-round-1");
  EXPECT_EQ(first.metrics["held_out_dice"], 0.8);
  EXPECT_EQ(first.model_ids.size(), 2u);
  EXPECT_EQ(this->store().get_model(first.model_ids[0]).name, "cells-round-1-model-1");
  EXPECT_EQ(this->store().get_model(first.model_ids[0]).round_id, first.id);
  EXPECT_EQ(this->catalog_->get_set(this->project_, "cells-round-1").image_count, 1);

  const RoundRecord second =
      this->store().record_round(this->project_, this->round_of({this->images_[0], this->images_[1]}), this->alice_);
  EXPECT_EQ(second.number, 2);
  EXPECT_EQ(this->catalog_->get_set(this->project_, "cells-round-2").image_count, 2);

  std::vector<std::int64_t> numbers;
  for (const RoundRecord& r : this->store().list_rounds(this->set_)) numbers.push_back(r.number);
  EXPECT_THAT(numbers, ElementsAre(1, 2));
  EXPECT_EQ(this->store().get_round(second.id).ranking.size(), 1u);
  expect_error(ErrorCode::not_found, [&] { this->store().get_round(999999); });

  int round_events = 0;
  for (const Event& e : this->catalog_->list_events(this->project_, 0, 1000)) round_events += e.kind == "learn.round";
  EXPECT_EQ(round_events, 2);

  // Deleting the chosen images' set keeps the round's record.
  this->catalog_->delete_set(this->project_, "cells-round-1");
  EXPECT_FALSE(this->store().get_round(first.id).round_set_id);
  EXPECT_EQ(to_json(this->store().get_round(first.id))["round_set"], nullptr);
}

TYPED_TEST(LearnStoreTest, ARefusedRoundLeavesNoSetModelOrRound) {
  // An image of another project among the chosen ones.
  const Id other_project = this->catalog_->ensure_project("elsewhere").id;
  NewImage image;
  image.blob_hash = std::string(64, 'e');
  image.source_path = "x.png";
  image.format = "png";
  image.width = image.height = 8;
  image.channels = 1;
  image.pixel_type = "u8";
  const Id foreign = this->catalog_->add_images(other_project, {image}).added.at(0);
  const Error e = expect_error(ErrorCode::invalid_argument, [&] {
    this->store().record_round(this->project_, this->round_of({this->images_[0], foreign}), this->alice_);
  });
  EXPECT_THAT(e.what(), HasSubstr(std::to_string(foreign)));

  // A model name taken by an existing model.
  this->store().add_model(this->project_, {"pixel_classifier", "cells-round-1-model-2", std::string(64, 'f'), {}},
                          this->alice_);
  expect_error(ErrorCode::conflict,
               [&] { this->store().record_round(this->project_, this->round_of({this->images_[0]}), this->alice_); });
  // A set of another project.
  expect_error(ErrorCode::not_found,
               [&] { this->store().record_round(other_project, this->round_of({this->images_[0]}), this->alice_); });

  EXPECT_EQ(this->count_rows("learn_rounds"), 0);
  EXPECT_EQ(this->count_rows("models"), 1);
  EXPECT_FALSE(this->catalog_->get_set(this->project_, "cells").name.empty());
  EXPECT_EQ(this->catalog_->list_sets(this->project_).size(), 1u);
}

TYPED_TEST(LearnStoreTest, AnnotatedImagesCountPeoplesAnnotationsOfTheTagsOnly) {
  this->add_scribble(this->images_[0], this->nucleus_);
  this->add_scribble(this->images_[0], this->background_);
  this->add_scribble(this->images_[1], this->background_, "suggested");
  const auto counts =
      this->store().annotated_images(this->set_, {"scribble"}, {this->nucleus_, this->background_});
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].image_id, this->images_[0]);
  EXPECT_EQ(counts[0].annotations, 2);
  EXPECT_TRUE(this->store().annotated_images(this->set_, {"mask"}, {this->nucleus_}).empty());
  EXPECT_EQ(this->store().annotated_images(this->set_, {"scribble"}, {this->nucleus_}).at(0).annotations, 1);
}

TYPED_TEST(LearnStoreTest, ObjectClassesAreWrittenAllOrNothing) {
  NewObject o;
  o.label = 1;
  o.bbox_x1 = o.bbox_y1 = 4;
  const std::vector<Id> objects = this->catalog_->add_objects(this->project_, std::nullopt, this->images_[0], {o, o});
  const auto written = this->store().classify_objects(
      this->project_,
      {{objects[0], this->nucleus_, {{"class", "nucleus"}, {"probabilities", {{"nucleus", 0.9}}}}},
       {objects[1], std::nullopt, {{"class", "unclear"}}}},
      this->alice_, {{"model", "m"}});
  EXPECT_EQ(written, 2);
  auto raw = this->backend_.raw();
  Rows r = raw->query("SELECT tag_id, class_probabilities FROM objects WHERE id = ?", {objects[0]});
  EXPECT_EQ(r.opt_i64(0, 0), this->nucleus_);
  EXPECT_THAT(r.text(0, 1), HasSubstr("nucleus"));

  expect_error(ErrorCode::not_found, [&] {
    this->store().classify_objects(this->project_, {{objects[1], this->nucleus_, {}}, {999999, std::nullopt, {}}},
                                   this->alice_, {});
  });
  EXPECT_FALSE(raw->query("SELECT tag_id FROM objects WHERE id = ?", {objects[1]}).opt_i64(0, 0));
}

}  // namespace
}  // namespace tessera::catalog
