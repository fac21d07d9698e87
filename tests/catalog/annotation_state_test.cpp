#include "tessera/catalog/annotation_state.hpp"

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog/catalog_fixture.hpp"
#include "tessera/catalog/annotations.hpp"
#include "tessera/catalog/catalog.hpp"
#include "tessera/core/error.hpp"

namespace tessera::catalog {
namespace {

using fixture::PostgresBackend;
using fixture::SqliteBackend;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Images named after what is drawn on them, so a wrong answer says which image strayed in or out.
constexpr const char* kImages[] = {
    "blank",              // nothing
    "manual",             // a person's polygon
    "suggested",          // a suggestion of the learning loop (source suggested, needs_review)
    "flagged",            // a propagated mask flagged for review
    "manual+suggested",   // a person's polygon and a suggestion
    "deleted",            // a person's polygon, deleted since
    "imported+scribble",  // an imported mask and a scribble on frame 2
    "accepted",           // a suggestion accepted by changing its source
};

AnnotationState drawn(std::string source, bool needs_review = false, std::string kind = "polygon",
                      std::int64_t frame = 0) {
  AnnotationState s;
  s.kind = std::move(kind);
  s.frame_index = frame;
  s.geometry = {{"points", {{1, 1}, {9, 1}, {9, 9}}}};
  s.bbox = {1, 1, 9, 9};
  s.source = std::move(source);
  s.needs_review = needs_review;
  return s;
}

template <typename Backend>
class AnnotationStateTest : public fixture::CatalogOn<Backend> {
 protected:
  using fixture::CatalogOn<Backend>::catalog_;

  void SetUp() override {
    fixture::CatalogOn<Backend>::SetUp();
    if (this->IsSkipped()) return;
    project_ = catalog_->ensure_project("lab").id;
    // An annotated image of another project must not leak into this one's lists.
    const Id elsewhere = catalog_->ensure_project("elsewhere").id;
    std::vector<NewImage> images;
    for (const char* name : kImages) images.push_back(image(name));
    catalog_->add_images(project_, images);
    const Id foreign = catalog_->add_images(elsewhere, {image("foreign")}).added.at(0);
    store_ = std::make_unique<AnnotationStore>(*catalog_);

    draw("manual", drawn("manual"));
    draw("suggested", drawn("suggested", true, "mask"));
    draw("flagged", drawn("propagated", true, "mask"));
    draw("manual+suggested", drawn("manual"));
    draw("manual+suggested", drawn("suggested", true));
    const Annotation gone = draw("deleted", drawn("manual"));
    ASSERT_EQ(store_->remove(gone.id, alice_, gone.version).status, EditStatus::applied);
    draw("imported+scribble", drawn("imported", false, "mask"));
    draw("imported+scribble", drawn("manual", false, "scribble", 2));
    const Annotation suggestion = draw("accepted", drawn("suggested", true));
    ASSERT_EQ(store_->update(suggestion.id, alice_, suggestion.version,
                             [](AnnotationState& s) {
                               s.source = "manual";
                               s.needs_review = false;
                             })
                  .status,
              EditStatus::applied);
    ASSERT_EQ(store_->create(foreign, alice_, drawn("manual")).status, EditStatus::applied);
  }

  void TearDown() override {
    store_.reset();
    fixture::CatalogOn<Backend>::TearDown();
  }

  static NewImage image(const std::string& name) {
    NewImage image = fixture::named_image(name, 64, 64);
    image.frames = 3;
    return image;
  }

  Annotation draw(const std::string& image_name, const AnnotationState& state) {
    ImageQuery query;
    query.project_id = project_;
    query.where = fmt::format("path = '{}'", image_name);
    const auto found = catalog_->list_images(query);
    EXPECT_EQ(found.size(), 1u) << image_name;
    EditResult r = store_->create(found.at(0).id, alice_, state);
    EXPECT_EQ(r.status, EditStatus::applied);
    return *r.annotation;
  }

  static std::vector<std::string> names(const std::vector<ImageRecord>& images) {
    std::vector<std::string> out;
    for (const auto& i : images) out.push_back(i.source_path);
    return out;
  }

  std::vector<std::string> in_state(const std::string& state, const std::string& where = "") {
    ImageQuery query;
    query.project_id = project_;
    query.annotation_state = state;
    query.where = where;
    return names(catalog_->list_images(query));
  }

  std::vector<std::string> matching(const std::string& where) {
    ImageQuery query;
    query.project_id = project_;
    query.where = where;
    return names(catalog_->list_images(query));
  }

  std::unique_ptr<AnnotationStore> store_;
  Id project_ = 0;
  Actor alice_{std::nullopt, "alice"};
};

using Backends = ::testing::Types<SqliteBackend, PostgresBackend>;
TYPED_TEST_SUITE(AnnotationStateTest, Backends, fixture::BackendNames);

TYPED_TEST(AnnotationStateTest, EachStateListsExactlyTheImagesInIt) {
  EXPECT_THAT(this->in_state("unannotated"), ElementsAre("blank", "deleted"));
  EXPECT_THAT(this->in_state("annotated"),
              ElementsAre("manual", "manual+suggested", "imported+scribble", "accepted"));
  EXPECT_THAT(this->in_state("suggested"), ElementsAre("suggested", "manual+suggested"));
  EXPECT_THAT(this->in_state("review"), ElementsAre("flagged"));
}

TYPED_TEST(AnnotationStateTest, CountsAgreeWithTheListsAndCombineWithOtherFilters) {
  ImageQuery query;
  query.project_id = this->project_;
  query.annotation_state = "annotated";
  EXPECT_EQ(this->catalog_->count_images(query), 4);
  EXPECT_THAT(this->in_state("annotated", "path like 'manual%'"), ElementsAre("manual", "manual+suggested"));

  // Keyset paging through a state, two per page, sorted by path descending.
  query.order_by = "source_path";
  query.descending = true;
  query.limit = 2;
  std::vector<std::string> walked;
  for (;;) {
    const auto page = this->catalog_->list_images(query);
    for (const auto& i : page) walked.push_back(i.source_path);
    if (static_cast<std::int64_t>(page.size()) < query.limit) break;
    query.after_id = page.back().id;
    query.after_value = image_sort_value(page.back(), query.order_by);
  }
  EXPECT_THAT(walked, ElementsAre("manual+suggested", "manual", "imported+scribble", "accepted"));
}

TYPED_TEST(AnnotationStateTest, TheWhereLanguageTestsTheSameStates) {
  EXPECT_EQ(this->matching("annotation_state = 'unannotated'"), this->in_state("unannotated"));
  EXPECT_EQ(this->matching("annotation_state == 'review'"), this->in_state("review"));
  EXPECT_THAT(this->matching("annotation_state in ('suggested', 'review')"),
              ElementsAre("suggested", "flagged", "manual+suggested"));
  EXPECT_THAT(this->matching("annotation_state != 'annotated' and annotation_state not in ('unannotated')"),
              ElementsAre("suggested", "flagged"));
  EXPECT_THAT(this->matching("not annotation_state <> 'suggested' and path like '%+%'"),
              ElementsAre("manual+suggested"));
}

TYPED_TEST(AnnotationStateTest, ASetMadeFromTheFilterKeepsItAsItsQuery) {
  const ImageSet set =
      this->catalog_->create_set(this->project_, "to-review", "annotation_state in ('suggested', 'review')");
  EXPECT_EQ(set.image_count, 3);
  EXPECT_EQ(set.query, std::optional<std::string>("annotation_state in ('suggested', 'review')"));
}

TYPED_TEST(AnnotationStateTest, AnUnknownStateIsRefusedNamingTheFieldAndTheStates) {
  ImageQuery query;
  query.project_id = this->project_;
  query.annotation_state = "done";
  try {
    this->catalog_->list_images(query);
    ADD_FAILURE() << "an unknown state was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_THAT(e.what(), HasSubstr("annotation_state: unknown annotation state 'done'"));
    EXPECT_THAT(e.what(), HasSubstr("unannotated, annotated, suggested or review"));
    EXPECT_EQ(e.details().value("field", ""), "annotation_state");
  }
  for (const char* bad : {"annotation_state = 'done'", "annotation_state > 'annotated'",
                          "annotation_state = annotated", "annotation_state like 'a%'",
                          "annotation_state in ('annotated', 3)"}) {
    try {
      this->matching(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << bad;
      EXPECT_THAT(e.what(), HasSubstr("annotation_state")) << bad;
    }
  }
  // meta.annotation_state stays an ordinary metadata field.
  EXPECT_THAT(this->matching("meta.annotation_state = 'done'"), IsEmpty());
}

TEST(AnnotationStates, NamesAreCheckedAndListedForMessages) {
  EXPECT_TRUE(is_annotation_state("review"));
  EXPECT_FALSE(is_annotation_state("Review"));
  EXPECT_FALSE(is_annotation_state(""));
  EXPECT_EQ(annotation_states_text(), "unannotated, annotated, suggested or review");
}

}  // namespace
}  // namespace tessera::catalog
