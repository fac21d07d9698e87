#include "tessera/catalog/annotations.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog_fixture.hpp"
#include "catalog/db.hpp"
#include "tessera/catalog/locks.hpp"
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

AnnotationState polygon(double x0, double y0, double x1, double y1) {
  AnnotationState s;
  s.kind = "polygon";
  s.geometry = {{"points", {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}}};
  s.bbox = {x0, y0, x1, y1};
  return s;
}

template <typename Backend>
class AnnotationStoreTest : public fixture::CatalogOn<Backend> {
 protected:
  using fixture::CatalogOn<Backend>::catalog_;
  using fixture::CatalogOn<Backend>::url_;
  using fixture::CatalogOn<Backend>::backend_;
  using fixture::CatalogOn<Backend>::count_rows;

  void SetUp() override {
    fixture::CatalogOn<Backend>::SetUp();
    if (this->IsSkipped()) return;
    project_ = catalog_->ensure_project("lab").id;
    other_project_ = catalog_->ensure_project("elsewhere").id;
    image_ = add_image(project_, "a.tif");
    second_image_ = add_image(project_, "b.tif");
    nucleus_ = catalog_->upsert_tags(project_, {TagSpec{"nucleus", "#00ff00", "label", std::nullopt}}).at(0).id;
    cell_ = catalog_->upsert_tags(project_, {TagSpec{"cell", "#0000ff", "label", std::nullopt}}).at(0).id;
    foreign_tag_ =
        catalog_->upsert_tags(other_project_, {TagSpec{"nucleus", "#00ff00", "label", std::nullopt}}).at(0).id;
    alice_ = add_user("alice");
    bob_ = add_user("bob");
    store_ = std::make_unique<AnnotationStore>(*catalog_);
  }

  void TearDown() override {
    store_.reset();
    fixture::CatalogOn<Backend>::TearDown();
  }

  Id add_image(Id project, const std::string& path) {
    NewImage image = fixture::named_image(path, 4096, 4096);
    image.frames = 3;
    return catalog_->add_images(project, {image}).added.at(0);
  }

  Actor add_user(const std::string& name) {
    const Id id =
        backend_.raw()
            ->query("INSERT INTO users (name, created_at) VALUES (?, '2026-01-01T00:00:00.000Z') RETURNING id", {name})
            .i64(0, 0);
    return Actor{id, name};
  }

  std::vector<Event> annotation_events() {
    std::vector<Event> out;
    for (const Event& e : catalog_->list_events(project_, 0, 1000)) {
      if (e.kind.starts_with("annotation.")) out.push_back(e);
    }
    return out;
  }

  Annotation create(const Actor& actor, AnnotationState state) {
    EditResult r = store_->create(image_, actor, state);
    EXPECT_EQ(r.status, EditStatus::applied);
    return *r.annotation;
  }

  Annotation set_counter(const Annotation& a, const Actor& actor, int value) {
    EditResult r = store_->update(a.id, actor, a.version, [&](AnnotationState& s) { s.attributes["count"] = value; });
    EXPECT_EQ(r.status, EditStatus::applied);
    return *r.annotation;
  }

  AnnotationStore& store() { return *store_; }

  std::unique_ptr<AnnotationStore> store_;
  Id project_ = 0, other_project_ = 0, image_ = 0, second_image_ = 0;
  Id nucleus_ = 0, cell_ = 0, foreign_tag_ = 0;
  Actor alice_, bob_;
};

using Backends = ::testing::Types<SqliteBackend, PostgresBackend>;
TYPED_TEST_SUITE(AnnotationStoreTest, Backends, fixture::BackendNames);

// --- Create, update, delete ----------------------------------------------------------------------

TYPED_TEST(AnnotationStoreTest, CreateStoresTheStateWithAJournalEntryAndAnEvent) {
  AnnotationState s = polygon(10, 20, 30, 40);
  s.frame_index = 2;
  s.tag_id = this->nucleus_;
  s.color = "#ff8800";
  s.source = "suggested";
  s.source_ref = {{"model", "sam"}};
  s.confidence = 0.75;
  s.needs_review = true;
  s.attributes = {{"note", "dividing"}};
  const Annotation a = this->create(this->alice_, s);
  EXPECT_EQ(a.version, 1);
  EXPECT_EQ(a.image_id, this->image_);
  EXPECT_EQ(a.project_id, this->project_);
  EXPECT_EQ(a.author, "alice");
  EXPECT_FALSE(a.deleted);
  EXPECT_EQ(state_to_json(a.state), state_to_json(s));

  const Annotation read = this->store().get(a.id);
  EXPECT_EQ(state_to_json(read.state), state_to_json(s));
  EXPECT_EQ(read.created_at, a.created_at);

  const auto history = this->store().history(a.id);
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].action, "create");
  EXPECT_EQ(history[0].user, "alice");
  EXPECT_EQ(history[0].before_version, std::nullopt);
  EXPECT_EQ(history[0].after_version, 1);
  EXPECT_EQ(history[0].diff["after"]["tag_id"], this->nucleus_);

  const auto events = this->annotation_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "annotation.created");
  EXPECT_EQ(events[0].actor, "alice");
  EXPECT_EQ(events[0].subject_id, a.id);
  EXPECT_EQ(events[0].payload["image_id"], this->image_);
  EXPECT_EQ(events[0].payload["version"], 1);
}

TYPED_TEST(AnnotationStoreTest, AnUpdateBasedOnTheCurrentVersionIsJournaledAsADiffOfWhatChanged) {
  const Annotation a = this->create(this->alice_, polygon(10, 20, 30, 40));
  EditResult r = this->store().update(a.id, this->bob_, 1, [&](AnnotationState& s) {
    s.tag_id = this->cell_;
    s.attributes["count"] = 1;
  });
  ASSERT_EQ(r.status, EditStatus::applied);
  EXPECT_EQ(r.annotation->version, 2);
  EXPECT_EQ(r.annotation->state.tag_id, this->cell_);
  EXPECT_EQ(r.annotation->author, "alice") << "the author stays who created it";
  const auto history = this->store().history(a.id);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].action, "update");
  EXPECT_EQ(history[1].user, "bob");
  EXPECT_EQ(history[1].before_version, 1);
  EXPECT_EQ(history[1].after_version, 2);
  EXPECT_EQ(history[1].diff, nlohmann::json::parse(fmt::format(
                                 R"({{"before": {{"tag_id": null, "attributes": {{}}}},
                                      "after": {{"tag_id": {}, "attributes": {{"count": 1}}}}}})",
                                 this->cell_)));
  EXPECT_EQ(this->annotation_events().back().kind, "annotation.updated");
}

TYPED_TEST(AnnotationStoreTest, AStaleUpdateIsRefusedWithTheCurrentStateAndChangesNothing) {
  const Annotation a = this->create(this->alice_, polygon(10, 20, 30, 40));
  this->set_counter(a, this->bob_, 1);
  EditResult r = this->store().update(a.id, this->alice_, 1, [](AnnotationState& s) { s.attributes["count"] = 99; });
  EXPECT_EQ(r.status, EditStatus::stale);
  ASSERT_TRUE(r.annotation);
  EXPECT_EQ(r.annotation->version, 2);
  EXPECT_EQ(r.annotation->state.attributes["count"], 1);
  EXPECT_FALSE(r.edit_id);
  EXPECT_EQ(this->store().get(a.id).state.attributes["count"], 1);
  EXPECT_EQ(this->store().history(a.id).size(), 2u);
  EXPECT_EQ(this->annotation_events().size(), 2u);
}

TYPED_TEST(AnnotationStoreTest, AnUpdateThatChangesNothingAddsNoVersion) {
  const Annotation a = this->create(this->alice_, polygon(10, 20, 30, 40));
  EditResult r = this->store().update(a.id, this->alice_, 1, [](AnnotationState&) {});
  EXPECT_EQ(r.status, EditStatus::applied);
  EXPECT_EQ(r.annotation->version, 1);
  EXPECT_EQ(this->store().history(a.id).size(), 1u);
}

TYPED_TEST(AnnotationStoreTest, ATagOfAnotherProjectIsRefusedAndNothingIsWritten) {
  AnnotationState s = polygon(1, 1, 5, 5);
  s.tag_id = this->foreign_tag_;
  EXPECT_THAT(
      expect_error(ErrorCode::invalid_argument, [&] { this->store().create(this->image_, this->alice_, s); }).what(),
      HasSubstr("tag_id"));
  EXPECT_EQ(this->count_rows("annotations"), 0);
  EXPECT_EQ(this->count_rows("annotation_edits"), 0);
  EXPECT_TRUE(this->annotation_events().empty());

  const Annotation a = this->create(this->alice_, polygon(1, 1, 5, 5));
  expect_error(ErrorCode::invalid_argument, [&] {
    this->store().update(a.id, this->alice_, 1, [&](AnnotationState& st) { st.tag_id = this->foreign_tag_; });
  });
  EXPECT_EQ(this->store().get(a.id).version, 1);
  EXPECT_EQ(this->count_rows("annotation_edits"), 1);
}

TYPED_TEST(AnnotationStoreTest, UnknownImagesAndAnnotationsAreNotFound) {
  expect_error(ErrorCode::not_found,
               [&] { this->store().create(this->image_ + 100, this->alice_, polygon(0, 0, 1, 1)); });
  expect_error(ErrorCode::not_found, [&] { this->store().update(424242, this->alice_, 1, [](AnnotationState&) {}); });
  expect_error(ErrorCode::not_found, [&] { this->store().remove(424242, this->alice_, 1); });
  expect_error(ErrorCode::not_found, [&] { this->store().undo(424242, this->alice_); });
  expect_error(ErrorCode::not_found, [&] { this->store().history(424242); });
  EXPECT_FALSE(this->store().find(424242));
}

TYPED_TEST(AnnotationStoreTest, StringsWithSqlMetacharactersAreStoredVerbatim) {
  const std::string nasty = "'; DROP TABLE annotations; -- \" \\ %_ ?";
  AnnotationState s = polygon(1, 1, 5, 5);
  s.color = nasty;
  s.attributes = {{nasty, nasty}};
  s.source_ref = nasty;
  const Annotation a = this->create(Actor{std::nullopt, nasty}, s);
  const Annotation read = this->store().get(a.id);
  EXPECT_EQ(read.state.color, nasty);
  EXPECT_EQ(read.state.attributes[nasty], nasty);
  EXPECT_EQ(read.state.source_ref, nasty);
  EXPECT_EQ(this->store().history(a.id).at(0).user, nasty);
  EXPECT_EQ(this->count_rows("annotations"), 1);
}

TYPED_TEST(AnnotationStoreTest, DeleteIsSoftAndVersioned) {
  const Annotation a = this->create(this->alice_, polygon(10, 20, 30, 40));
  EXPECT_EQ(this->store().remove(a.id, this->alice_, 5).status, EditStatus::stale);
  EditResult r = this->store().remove(a.id, this->alice_, 1);
  ASSERT_EQ(r.status, EditStatus::applied);
  EXPECT_TRUE(r.annotation->deleted);
  EXPECT_EQ(r.annotation->version, 2);
  EXPECT_TRUE(this->store().get(a.id).deleted);
  EXPECT_EQ(this->count_rows("annotations"), 1);
  EXPECT_EQ(this->annotation_events().back().kind, "annotation.deleted");
  expect_error(ErrorCode::not_found, [&] { this->store().remove(a.id, this->alice_, 2); });
  const Error e = expect_error(ErrorCode::conflict, [&] {
    this->store().update(a.id, this->alice_, 2, [](AnnotationState& s) { s.color = "#000000"; });
  });
  EXPECT_EQ(e.details()["reason"], "deleted");
}

// --- Undo ----------------------------------------------------------------------------------------

TYPED_TEST(AnnotationStoreTest, UndoRevertsTheCallersChangesOneAtATimeAsNewVersions) {
  Annotation a = this->create(this->alice_, polygon(10, 20, 30, 40));
  a = this->set_counter(a, this->alice_, 1);
  a = this->set_counter(a, this->alice_, 2);
  ASSERT_EQ(a.version, 3);

  EditResult r = this->store().undo(a.id, this->alice_);
  ASSERT_EQ(r.status, EditStatus::applied);
  EXPECT_EQ(r.annotation->version, 4);
  EXPECT_EQ(r.annotation->state.attributes["count"], 1);
  r = this->store().undo(a.id, this->alice_);
  ASSERT_EQ(r.status, EditStatus::applied);
  EXPECT_EQ(r.annotation->version, 5);
  EXPECT_EQ(r.annotation->state.attributes, nlohmann::json::object());
  // Undoing the creation deletes; there is nothing left to undo after that.
  r = this->store().undo(a.id, this->alice_);
  ASSERT_EQ(r.status, EditStatus::applied);
  EXPECT_TRUE(r.annotation->deleted);
  EXPECT_EQ(this->annotation_events().back().kind, "annotation.deleted");
  const Error e = expect_error(ErrorCode::conflict, [&] { this->store().undo(a.id, this->alice_); });
  EXPECT_EQ(e.details()["reason"], "nothing_to_undo");

  const auto history = this->store().history(a.id);
  std::vector<std::string> actions;
  for (const auto& edit : history) actions.push_back(edit.action + (edit.undone ? "(undone)" : ""));
  EXPECT_THAT(actions, ElementsAre("create(undone)", "update(undone)", "update(undone)", "undo", "undo", "undo"));
  EXPECT_EQ(history[3].undoes_edit_id, history[2].id);
  EXPECT_EQ(history[4].undoes_edit_id, history[1].id);
  EXPECT_EQ(history[5].undoes_edit_id, history[0].id);
  EXPECT_EQ(history[3].diff["undoes"], history[2].id);
}

TYPED_TEST(AnnotationStoreTest, UndoOfADeleteRestoresTheAnnotation) {
  const Annotation a = this->create(this->alice_, polygon(10, 20, 30, 40));
  this->store().remove(a.id, this->bob_, 1);
  EditResult r = this->store().undo(a.id, this->bob_);
  ASSERT_EQ(r.status, EditStatus::applied);
  EXPECT_FALSE(r.annotation->deleted);
  EXPECT_EQ(r.annotation->version, 3);
  EXPECT_EQ(this->annotation_events().back().kind, "annotation.restored");
}

TYPED_TEST(AnnotationStoreTest, UndoConflictsWhenSomeoneElseChangedTheAnnotationSince) {
  Annotation a = this->create(this->alice_, polygon(10, 20, 30, 40));
  a = this->set_counter(a, this->alice_, 1);
  a = this->set_counter(a, this->bob_, 2);
  EditResult r = this->store().undo(a.id, this->alice_);
  EXPECT_EQ(r.status, EditStatus::stale);
  EXPECT_EQ(r.annotation->version, 3);
  EXPECT_EQ(this->store().get(a.id).state.attributes["count"], 2);
  // Bob's own undo is fine, and so is an undo with the right expected version.
  EXPECT_EQ(this->store().undo(a.id, this->bob_, 2).status, EditStatus::stale);
  r = this->store().undo(a.id, this->bob_, 3);
  ASSERT_EQ(r.status, EditStatus::applied);
  EXPECT_EQ(r.annotation->state.attributes["count"], 1);
}

TYPED_TEST(AnnotationStoreTest, UndoInAnImageRevertsTheCallersLastChangeThere) {
  const Annotation first = this->create(this->alice_, polygon(10, 20, 30, 40));
  Annotation second = this->create(this->alice_, polygon(50, 50, 60, 60));
  const Annotation bobs = this->create(this->bob_, polygon(70, 70, 80, 80));
  second = this->set_counter(second, this->alice_, 7);
  EditResult elsewhere = this->store().create(this->second_image_, this->alice_, polygon(1, 1, 2, 2));
  ASSERT_EQ(elsewhere.status, EditStatus::applied);

  EditResult r = this->store().undo_in_image(this->image_, this->alice_);
  ASSERT_EQ(r.status, EditStatus::applied);
  EXPECT_EQ(r.annotation->id, second.id);
  EXPECT_EQ(r.annotation->state.attributes, nlohmann::json::object());
  r = this->store().undo_in_image(this->image_, this->alice_);
  EXPECT_EQ(r.annotation->id, second.id);
  EXPECT_TRUE(r.annotation->deleted);
  r = this->store().undo_in_image(this->image_, this->alice_);
  EXPECT_EQ(r.annotation->id, first.id);
  EXPECT_TRUE(r.annotation->deleted);
  expect_error(ErrorCode::conflict, [&] { this->store().undo_in_image(this->image_, this->alice_); });
  EXPECT_FALSE(this->store().get(bobs.id).deleted);
  EXPECT_FALSE(this->store().get(elsewhere.annotation->id).deleted);
}

// --- Locks ---------------------------------------------------------------------------------------

TYPED_TEST(AnnotationStoreTest, WritesOnAnImageLockedBySomeoneElseAreRefusedUntilTheLeaseEnds) {
  LockStore locks(*this->catalog_);
  const Annotation a = this->create(this->alice_, polygon(10, 20, 30, 40));
  const Lease lease = *locks.acquire(this->image_, this->bob_, 0.5).lease;

  EditResult r = this->store().create(this->image_, this->alice_, polygon(1, 1, 2, 2));
  EXPECT_EQ(r.status, EditStatus::locked);
  ASSERT_TRUE(r.lease);
  EXPECT_EQ(r.lease->holder, "bob");
  EXPECT_EQ(r.lease->expires_at, lease.expires_at);
  EXPECT_TRUE(r.lease->token.empty());
  EXPECT_EQ(this->store().update(a.id, this->alice_, 1, [](AnnotationState& s) { s.color = "#123456"; }).status,
            EditStatus::locked);
  EXPECT_EQ(this->store().remove(a.id, this->alice_, 1).status, EditStatus::locked);
  EXPECT_EQ(this->store().undo(a.id, this->alice_).status, EditStatus::locked);
  EXPECT_EQ(this->count_rows("annotations"), 1);
  EXPECT_EQ(this->store().get(a.id).version, 1);

  // The holder writes; other images stay writable.
  EXPECT_EQ(this->store().create(this->image_, this->bob_, polygon(1, 1, 2, 2)).status, EditStatus::applied);
  EXPECT_EQ(this->store().create(this->second_image_, this->alice_, polygon(1, 1, 2, 2)).status, EditStatus::applied);

  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(this->store().update(a.id, this->alice_, 1, [](AnnotationState& s) { s.color = "#123456"; }).status,
            EditStatus::applied);
}

TYPED_TEST(AnnotationStoreTest, ConcurrentIncrementsOverSeparateConnectionsLoseNoUpdate) {
  const Annotation a = this->create(this->alice_, polygon(10, 20, 30, 40));
  constexpr int kWriters = 4;
  constexpr int kAttempts = 25;
  std::atomic<int> applied{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      auto catalog = Catalog::open(this->url_);
      AnnotationStore store(*catalog);
      const Actor me{w % 2 == 0 ? this->alice_.user_id : this->bob_.user_id, w % 2 == 0 ? "alice" : "bob"};
      for (int i = 0; i < kAttempts; ++i) {
        const Annotation current = store.get(a.id);
        const int count = current.state.attributes.value("count", 0);
        EditResult r =
            store.update(a.id, me, current.version, [&](AnnotationState& s) { s.attributes["count"] = count + 1; });
        if (r.status == EditStatus::applied) applied++;
      }
    });
  }
  for (auto& t : threads) t.join();
  const Annotation final_state = this->store().get(a.id);
  EXPECT_GT(applied.load(), 0);
  EXPECT_EQ(final_state.state.attributes.value("count", 0), applied.load());
  EXPECT_EQ(final_state.version, 1 + applied.load());
  EXPECT_EQ(static_cast<int>(this->store().history(a.id).size()), 1 + applied.load());
}

// --- Viewports -----------------------------------------------------------------------------------

bool meets(double x0, double y0, double x1, double y1, const BBox& v) {
  return x0 < v.x1 && x1 > v.x0 && y0 < v.y1 && y1 > v.y0;
}

TYPED_TEST(AnnotationStoreTest, ViewportsOfObjectsMatchABruteForceScan) {
  std::mt19937 random(7);
  std::uniform_int_distribution<int> coord(0, 1000);
  std::uniform_int_distribution<int> size(1, 60);
  std::vector<NewObject> objects;
  for (int i = 0; i < 1500; ++i) {
    NewObject o;
    o.label = i + 1;
    o.frame_index = i % 3;
    o.bbox_x0 = coord(random);
    o.bbox_y0 = coord(random);
    o.bbox_x1 = o.bbox_x0 + size(random);
    o.bbox_y1 = o.bbox_y0 + size(random);
    objects.push_back(o);
  }
  const std::vector<Id> ids = this->catalog_->add_objects(this->project_, std::nullopt, this->image_, objects);
  // The same boxes on another image must never show up.
  this->catalog_->add_objects(this->project_, std::nullopt, this->second_image_, objects);

  for (int q = 0; q < 40; ++q) {
    ViewportQuery query;
    query.image_id = this->image_;
    const double x0 = coord(random), y0 = coord(random);
    // Viewports on exact box edges (integers) check the half-open rule; some are fractional.
    query.bbox = BBox{x0, y0, x0 + size(random) * 3 + (q % 2) * 0.5, y0 + size(random) * 3};
    if (q % 3 == 0) query.frame_index = q % 2;
    query.limit = 100000;
    std::vector<Id> expected;
    for (size_t i = 0; i < objects.size(); ++i) {
      const NewObject& o = objects[i];
      if (query.frame_index && o.frame_index != *query.frame_index) continue;
      if (meets(o.bbox_x0, o.bbox_y0, o.bbox_x1, o.bbox_y1, *query.bbox)) expected.push_back(ids[i]);
    }
    std::vector<Id> indexed, scanned;
    for (const ObjectHit& o : this->store().objects_in_viewport(query).objects) indexed.push_back(o.id);
    for (const ObjectHit& o : this->store().objects_in_viewport_by_scan(query).objects) scanned.push_back(o.id);
    EXPECT_EQ(indexed, expected) << "query " << q;
    EXPECT_EQ(scanned, expected) << "query " << q;
  }
}

TYPED_TEST(AnnotationStoreTest, ViewportsFollowObjectsChangedByAnyWriter) {
  // Objects are written by other parts of tessera (pipelines, imports) in plain SQL: the index must follow.
  NewObject a, b;
  a.bbox_x0 = 10, a.bbox_y0 = 10, a.bbox_x1 = 20, a.bbox_y1 = 20;
  b.bbox_x0 = 30, b.bbox_y0 = 10, b.bbox_x1 = 40, b.bbox_y1 = 20;
  const std::vector<Id> ids = this->catalog_->add_objects(this->project_, std::nullopt, this->image_, {a, b});
  auto ids_in = [&](BBox box) {
    ViewportQuery q;
    q.image_id = this->image_;
    q.bbox = box;
    std::vector<Id> out;
    for (const ObjectHit& o : this->store().objects_in_viewport(q).objects) out.push_back(o.id);
    return out;
  };
  EXPECT_THAT(ids_in({0, 0, 50, 50}), ElementsAre(ids[0], ids[1]));
  auto raw = this->backend_.raw();
  raw->execute("UPDATE objects SET bbox_x0 = 1000, bbox_x1 = 1010 WHERE id = ?", {ids[0]});
  raw->execute("UPDATE objects SET label = 7 WHERE id = ?", {ids[1]});
  EXPECT_THAT(ids_in({0, 0, 50, 50}), ElementsAre(ids[1]));
  EXPECT_THAT(ids_in({1005, 0, 1006, 50}), ElementsAre(ids[0]));
  raw->execute("DELETE FROM objects WHERE id = ?", {ids[1]});
  EXPECT_THAT(ids_in({0, 0, 50, 50}), ElementsAre());
  // Deleting the image takes its objects, and their index entries, with it.
  raw->execute("DELETE FROM images WHERE id = ?", {this->image_});
  EXPECT_THAT(ids_in({0, 0, 5000, 5000}), ElementsAre());
}

TYPED_TEST(AnnotationStoreTest, ViewportsOfAnnotationsFollowEditsTagsFramesAndDeletes) {
  Annotation left = this->create(this->alice_, polygon(0, 0, 10, 10));
  AnnotationState tagged = polygon(100, 100, 120, 120);
  tagged.tag_id = this->nucleus_;
  const Annotation right = this->create(this->alice_, tagged);
  AnnotationState later = polygon(100, 100, 120, 120);
  later.frame_index = 1;
  const Annotation on_frame_1 = this->create(this->alice_, later);

  auto ids_in = [&](BBox box, std::optional<Id> tag = std::nullopt, std::optional<std::int64_t> frame = std::nullopt) {
    ViewportQuery q;
    q.image_id = this->image_;
    q.bbox = box;
    q.tag_id = tag;
    q.frame_index = frame;
    std::vector<Id> out;
    for (const Annotation& a : this->store().in_viewport(q).annotations) out.push_back(a.id);
    return out;
  };
  EXPECT_THAT(ids_in({5, 5, 110, 110}), ElementsAre(left.id, right.id, on_frame_1.id));
  EXPECT_THAT(ids_in({5, 5, 110, 110}, this->nucleus_), ElementsAre(right.id));
  EXPECT_THAT(ids_in({5, 5, 110, 110}, std::nullopt, 1), ElementsAre(on_frame_1.id));
  EXPECT_THAT(ids_in({10, 10, 100, 100}), ElementsAre()) << "half-open boxes that only touch do not meet";

  // Moving an annotation moves it in the index.
  left = *this->store()
              .update(left.id, this->alice_, 1,
                      [](AnnotationState& s) {
                        s.bbox = {2000, 2000, 2010, 2010};
                        s.geometry = {{"points", {{2000, 2000}, {2010, 2000}, {2010, 2010}}}};
                      })
              .annotation;
  EXPECT_THAT(ids_in({0, 0, 50, 50}), ElementsAre());
  EXPECT_THAT(ids_in({2005, 2005, 2006, 2006}), ElementsAre(left.id));
  this->store().remove(right.id, this->alice_, 1);
  EXPECT_THAT(ids_in({0, 0, 4096, 4096}, std::nullopt, 0), ElementsAre(left.id));

  ViewportQuery whole;
  whole.image_id = this->image_;
  EXPECT_EQ(this->store().in_viewport(whole).annotations.size(), 2u);
  whole.limit = 1;
  const AnnotationPage page = this->store().in_viewport(whole);
  EXPECT_EQ(page.annotations.size(), 1u);
  EXPECT_TRUE(page.truncated);
}

TYPED_TEST(AnnotationStoreTest, AbsurdViewportsAreRefused) {
  ViewportQuery q;
  q.image_id = this->image_;
  q.limit = 0;
  expect_error(ErrorCode::invalid_argument, [&] { this->store().in_viewport(q); });
  q.limit = 10;
  q.bbox = BBox{10, 10, 5, 20};
  expect_error(ErrorCode::invalid_argument, [&] { this->store().objects_in_viewport(q); });
  q.bbox = BBox{0, 0, std::numeric_limits<double>::infinity(), 1};
  expect_error(ErrorCode::invalid_argument, [&] { this->store().in_viewport(q); });
  // Huge but finite boxes are answered (clamped to the index's range), not refused.
  q.bbox = BBox{-1e300, -1e300, 1e300, 1e300};
  this->create(this->alice_, polygon(1, 1, 3, 3));
  EXPECT_EQ(this->store().in_viewport(q).annotations.size(), 1u);
  EXPECT_TRUE(this->store().objects_in_viewport(q).objects.empty());
}

}  // namespace
}  // namespace tessera::catalog

namespace tessera::catalog {
namespace {

// Regression: the R*Tree held zero-width image and frame dimensions ([id, id]), which makes every box volume
// zero, so SQLite inserted without regard to position and each viewport walked most of the tree (184 ms instead
// of 2 ms over a million objects). Entries must span [id, id + 1) in those dimensions.
TEST(AnnotationSpatialIndex, SqliteRTreeEntriesSpanOneUnitOfImageAndFrame) {
  SqliteBackend backend;
  const std::string url = backend.create();
  {
    auto catalog = Catalog::open(url);
    const Id project = catalog->ensure_project("lab").id;
    NewImage image;
    image.blob_hash = std::string(64, 'c');
    image.source_path = "x.tif";
    image.format = "tiff";
    image.width = image.height = 100;
    image.channels = 1;
    image.pixel_type = "uint8";
    image.frames = 4;
    const Id image_id = catalog->add_images(project, {image}).added.at(0);
    NewObject o;
    o.frame_index = 2;
    o.bbox_x0 = 10;
    o.bbox_y0 = 20;
    o.bbox_x1 = 15;
    o.bbox_y1 = 30;
    catalog->add_objects(project, std::nullopt, image_id, {o});
    AnnotationState s = polygon(1, 2, 3, 4);
    s.frame_index = 3;
    AnnotationStore(*catalog).create(image_id, Actor{std::nullopt, "cli"}, s);

    auto raw = backend.raw();
    for (const char* table : {"objects_rtree", "annotations_rtree"}) {
      Rows r = raw->query(fmt::format("SELECT image_lo, image_hi, frame_lo, frame_hi FROM {}", table));
      ASSERT_EQ(r.size(), 1u) << table;
      EXPECT_EQ(r.i64(0, 0), image_id) << table;
      EXPECT_EQ(r.i64(0, 1), image_id + 1) << table;
      EXPECT_EQ(r.i64(0, 3), r.i64(0, 2) + 1) << table;
    }
  }
  backend.destroy();
}

}  // namespace
}  // namespace tessera::catalog
