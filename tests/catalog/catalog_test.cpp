#include "tessera/catalog/catalog.hpp"

#include <algorithm>
#include <filesystem>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "catalog/catalog_fixture.hpp"
#include "catalog/db.hpp"
#include "catalog/migrations.hpp"
#include "tessera/core/error.hpp"

namespace tessera::catalog {
namespace {

using fixture::PostgresBackend;
using fixture::SqliteBackend;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Runs fn expecting a tessera::Error with this code; returns its message ("" if nothing thrown).
template <typename Fn>
std::string expect_error(ErrorCode code, Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a non-tessera exception: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "did not throw";
  return "";
}

std::string hash_of(int n) { return fmt::format("{:064x}", n); }

NewImage make_image(const std::string& path, int n) {
  NewImage image;
  image.blob_hash = hash_of(n);
  image.source_path = path;
  image.format = "tiff";
  image.byte_size = 1000 + n;
  image.width = 64;
  image.height = 32;
  image.channels = 1;
  image.pixel_type = "uint8";
  return image;
}

std::vector<std::string> paths_of(const std::vector<ImageRecord>& images) {
  std::vector<std::string> out;
  for (const auto& image : images) out.push_back(image.source_path);
  return out;
}

TagSpec tag(std::string name, std::string color = "#ff0000",
            std::optional<std::string> parent = std::nullopt, std::string kind = "label") {
  TagSpec spec;
  spec.name = std::move(name);
  spec.color = std::move(color);
  spec.kind = std::move(kind);
  spec.parent = std::move(parent);
  return spec;
}

std::vector<Id> ids_of(const std::vector<ImageRecord>& images) {
  std::vector<Id> out;
  for (const auto& image : images) out.push_back(image.id);
  return out;
}

// The plate every filter test uses: wells A1, A2, B1 x time points 0..3, in that insertion order.
constexpr const char* kWells[] = {"A1", "A2", "B1"};
constexpr int kTimes = 4;

std::string plate_path(const std::string& well, int t) {
  return fmt::format("plate1/{}/t{:02}.tif", well, t);
}

template <typename Backend>
class CatalogTest : public fixture::CatalogOn<Backend> {
 protected:
  using fixture::CatalogOn<Backend>::catalog_;
  using fixture::CatalogOn<Backend>::url_;
  using fixture::CatalogOn<Backend>::backend_;
  using fixture::CatalogOn<Backend>::count_rows;

  void SetUp() override {
    fixture::CatalogOn<Backend>::SetUp();
    if (this->IsSkipped()) return;
    project_ = catalog_->ensure_project("plate");
  }

  Catalog& catalog() { return *catalog_; }
  Id project() const { return project_.id; }

  void reopen() {
    catalog_.reset();
    catalog_ = Catalog::open(url_);
  }


  std::int64_t count(const std::string& where) {
    ImageQuery query;
    query.project_id = project();
    query.where = where;
    return catalog_->count_images(query);
  }

  std::vector<ImageRecord> list(const std::string& where,
                                std::optional<std::string> set = std::nullopt) {
    ImageQuery query;
    query.project_id = project();
    query.where = where;
    query.set = std::move(set);
    return catalog_->list_images(query);
  }

  std::vector<Event> events_of_kind(const std::string& kind) {
    std::vector<Event> out;
    for (const Event& e : catalog_->list_events(project(), 0, 1000)) {
      if (e.kind == kind) out.push_back(e);
    }
    return out;
  }

  // Adds the plate; returns the ids in insertion order (A1 t0..t3, A2 t0..t3, B1 t0..t3).
  std::vector<Id> add_plate() {
    std::vector<NewImage> images;
    int n = 0;
    for (const std::string well : kWells) {
      for (int t = 0; t < kTimes; ++t) {
        NewImage image = make_image(plate_path(well, t), ++n);
        image.width = well == "B1" ? 1024 : 512;
        image.height = image.width / 2;
        if (t < 3) image.focus = 0.1 * (t + 1);
        image.metadata = {{"well", well},
                          {"row", well.substr(0, 1)},
                          {"t", t},
                          {"offset", -t},
                          {"exposure", 0.25 * (t + 1)}};
        if (well == "A1") {
          image.metadata["width"] = 7;  // shadows the column; reachable as meta.width
        }
        if (well == "A2" && t == 1) image.metadata["note"] = "it's ok";
        image.series = SeriesRef{"well-" + well};
        image.frame_index = t;
        images.push_back(image);
      }
    }
    const AddImagesResult result = catalog_->add_images(project(), images);
    EXPECT_EQ(result.added.size(), images.size());
    EXPECT_TRUE(result.already_present.empty());
    return result.added;
  }

  // Plate paths whose (well, t) satisfy the predicate, in insertion (= id) order.
  static std::vector<std::string> plate_paths(
      const std::function<bool(const std::string&, int)>& keep) {
    std::vector<std::string> out;
    for (const std::string well : kWells) {
      for (int t = 0; t < kTimes; ++t) {
        if (keep(well, t)) out.push_back(plate_path(well, t));
      }
    }
    return out;
  }

  Project project_;
};

using Backends = ::testing::Types<SqliteBackend, PostgresBackend>;
TYPED_TEST_SUITE(CatalogTest, Backends, fixture::BackendNames);

// --- Opening and migrations ----------------------------------------------------------------------

TYPED_TEST(CatalogTest, OpeningAFreshCatalogAppliesEveryMigration) {
  EXPECT_EQ(this->catalog().backend(), TypeParam::kBackend);
  // Every migration file of src/catalog/migrations, numbered 1..N without gaps, is applied once.
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(std::string(TESSERA_SOURCE_DIR) + "/src/catalog/migrations")) {
    if (e.path().extension() == ".sql") files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 2u);
  EXPECT_EQ(latest_schema_version(), static_cast<int>(files.size()));
  EXPECT_EQ(this->catalog().schema_version(), latest_schema_version());
  Rows rows =
      this->backend_.raw()->query("SELECT version, name FROM schema_migrations ORDER BY version");
  ASSERT_EQ(rows.size(), files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(rows.i64(i, 0), static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(rows.text(i, 1), files[i]);
  }
  EXPECT_EQ(rows.text(0, 1), "0001_init.sql");
  EXPECT_EQ(rows.text(1, 1), "0002_run_partial.sql");
  // The schema's tables exist and are empty but for the fixture's project.
  EXPECT_EQ(this->count_rows("images"), 0);
  EXPECT_EQ(this->count_rows("jobs"), 0);
  EXPECT_EQ(this->count_rows("projects"), 1);
}

TYPED_TEST(CatalogTest, ReopeningDoesNotReapplyMigrations) {
  const std::string applied_at =
      this->backend_.raw()->query("SELECT applied_at FROM schema_migrations ORDER BY version").text(0, 0);
  this->add_plate();
  this->reopen();
  this->reopen();
  EXPECT_EQ(this->catalog().schema_version(), latest_schema_version());
  Rows rows = this->backend_.raw()->query("SELECT version, applied_at FROM schema_migrations ORDER BY version");
  ASSERT_EQ(rows.size(), static_cast<size_t>(latest_schema_version()));
  EXPECT_EQ(rows.text(0, 1), applied_at);
  EXPECT_EQ(this->count(""), 12);
  EXPECT_EQ(this->catalog().get_project("plate").id, this->project());
}

TYPED_TEST(CatalogTest, OpeningACatalogNewerThanThisBuildThrowsUnsupported) {
  this->backend_.raw()->execute(
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
      {std::int64_t{99}, std::string("0099_future.sql"), std::string("2099-01-01T00:00:00Z")});
  const std::string message = expect_error(ErrorCode::unsupported, [&] { this->reopen(); });
  EXPECT_THAT(message, HasSubstr("99"));
}

// Makes the fresh catalog's run statuses what the first release had (no 'partial'), as version 1.
void downgrade_run_statuses(Connection& raw, const std::string& backend) {
  if (backend == "sqlite") {
    raw.execute_script(
        "PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = replace(sql, '''partial'', ', '') "
        "WHERE name = 'pipeline_runs'; PRAGMA writable_schema = OFF;");
  } else {
    raw.execute_script(
        "ALTER TABLE pipeline_runs DROP CONSTRAINT pipeline_runs_status_check; ALTER TABLE pipeline_runs ADD "
        "CONSTRAINT pipeline_runs_status_check CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled'))");
  }
  raw.execute_script("DELETE FROM schema_migrations WHERE version = 2");
}

TYPED_TEST(CatalogTest, AVersion1CatalogRefusesPartialRuns) {
  downgrade_run_statuses(*this->backend_.raw(), TypeParam::kBackend);
  // The premise of the upgrade test below: without migration 0002 the status is refused.
  EXPECT_ANY_THROW(this->backend_.raw()->execute(
      "INSERT INTO pipeline_runs (project_id, spec, tessera_version, status, started_at) "
      "VALUES (?, '{}', 'x', 'partial', 'now')",
      {this->project()}));
}

TYPED_TEST(CatalogTest, UpgradingAVersion1CatalogAllowsPartialRunsAndKeepsRunsAndTheirObjects) {
  const Id image = this->add_plate().front();
  const Id run = this->catalog().start_run(this->project(), {{"kind", "pipeline"}}, "test", {}, {});
  NewObject object;
  object.label = 1;
  this->catalog().add_objects(this->project(), run, image, {object});
  downgrade_run_statuses(*this->backend_.raw(), TypeParam::kBackend);
  this->reopen();  // applies 0002 again
  EXPECT_EQ(this->catalog().schema_version(), latest_schema_version());
  this->catalog().finish_run(run, "partial", {{"failed", 1}}, std::string("1 object failed"), 0.5);
  EXPECT_EQ(this->catalog().get_run(run).status, "partial");
  const auto objects = this->catalog().list_objects(image);
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects.front().run_id, run);
  // Statuses outside the list are still refused, by a fresh connection too.
  EXPECT_ANY_THROW(this->catalog().finish_run(run, "bogus", {}, std::nullopt, 0.0));
  EXPECT_ANY_THROW(this->backend_.raw()->execute("UPDATE pipeline_runs SET status = 'bogus' WHERE id = ?", {run}));
}

// --- Projects ------------------------------------------------------------------------------------

TYPED_TEST(CatalogTest, EnsureProjectIsIdempotent) {
  const Project again = this->catalog().ensure_project("plate");
  EXPECT_EQ(again.id, this->project());
  EXPECT_EQ(again.name, "plate");
  EXPECT_FALSE(again.created_at.empty());
  const Project other = this->catalog().ensure_project("other");
  EXPECT_NE(other.id, this->project());
  EXPECT_EQ(this->catalog().ensure_project("other").id, other.id);

  const std::vector<Project> projects = this->catalog().list_projects();
  ASSERT_EQ(projects.size(), 2u);
  EXPECT_EQ(projects[0].name, "other");  // ordered by name
  EXPECT_EQ(projects[1].name, "plate");
  // One 'project.created' event per project, however often it was ensured.
  const std::vector<Event> created = this->events_of_kind("project.created");
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0].subject_id, this->project());
  EXPECT_EQ(created[0].payload, (nlohmann::json{{"name", "plate"}}));
  EXPECT_EQ(this->catalog().list_events(std::nullopt, 0, 100).size(), 2u);
}

TYPED_TEST(CatalogTest, FindAndGetProjectReportAMissingProject) {
  EXPECT_EQ(this->catalog().find_project("plate")->id, this->project());
  EXPECT_FALSE(this->catalog().find_project("nope").has_value());
  const std::string message =
      expect_error(ErrorCode::not_found, [&] { this->catalog().get_project("nope"); });
  EXPECT_THAT(message, HasSubstr("'nope'"));
  expect_error(ErrorCode::invalid_argument, [&] { this->catalog().ensure_project(""); });
  EXPECT_EQ(this->catalog().list_projects().size(), 1u);
}

// --- Images --------------------------------------------------------------------------------------

TYPED_TEST(CatalogTest, AddImagesStoresEveryField) {
  NewImage image = make_image("scans/day1/a.tif", 1);
  image.format = "ome-tiff";
  image.byte_size = 123456789012;
  image.width = 2048;
  image.height = 1536;
  image.channels = 3;
  image.pixel_type = "uint16";
  image.frames = 5;
  image.acquired_at = "2024-05-01T10:00:00Z";
  image.metadata = {
      {"well", "C3"}, {"t", 12}, {"exposure", 0.125}, {"stage", {{"x", -1.5}}}, {"ok", true}};
  image.focus = 0.75;
  image.series = SeriesRef{"pos-7", "zstack", {{"well", "C3"}}};
  image.frame_index = 4;
  NewImage bare = make_image("scans/day1/b.tif", 2);

  const AddImagesResult result = this->catalog().add_images(this->project(), {image, bare});
  ASSERT_EQ(result.added.size(), 2u);
  EXPECT_LT(result.added[0], result.added[1]);
  EXPECT_TRUE(result.already_present.empty());

  const ImageRecord got = this->catalog().get_image(result.added[0]);
  EXPECT_EQ(got.id, result.added[0]);
  EXPECT_EQ(got.project_id, this->project());
  EXPECT_EQ(got.blob_hash, hash_of(1));
  EXPECT_EQ(got.source_path, "scans/day1/a.tif");
  EXPECT_EQ(got.format, "ome-tiff");
  EXPECT_EQ(got.byte_size, 123456789012);
  EXPECT_EQ(got.width, 2048);
  EXPECT_EQ(got.height, 1536);
  EXPECT_EQ(got.channels, 3);
  EXPECT_EQ(got.pixel_type, "uint16");
  EXPECT_EQ(got.frames, 5);
  EXPECT_EQ(got.acquired_at, "2024-05-01T10:00:00Z");
  EXPECT_FALSE(got.imported_at.empty());
  EXPECT_EQ(got.metadata, image.metadata);
  EXPECT_EQ(got.focus, 0.75);
  ASSERT_TRUE(got.series_id.has_value());
  EXPECT_EQ(got.series_name, "pos-7");
  EXPECT_EQ(got.frame_index, 4);

  const ImageRecord plain = this->catalog().get_image(result.added[1]);
  EXPECT_EQ(plain.frames, 1);
  EXPECT_FALSE(plain.acquired_at.has_value());
  EXPECT_FALSE(plain.focus.has_value());
  EXPECT_FALSE(plain.series_id.has_value());
  EXPECT_FALSE(plain.series_name.has_value());
  EXPECT_FALSE(plain.frame_index.has_value());
  EXPECT_EQ(plain.metadata, nlohmann::json::object());

  EXPECT_EQ(
      this->count("stage.x = -1.5 and ok = true and exposure = 0.125 and t = 12 and well = 'C3'"),
      1);
  EXPECT_EQ(this->count("acquired_at >= '2024-05-01' and frames = 5 and pixel_type = 'uint16'"), 1);

  EXPECT_EQ(this->catalog().find_image(this->project(), "scans/day1/a.tif", hash_of(1)),
            result.added[0]);
  EXPECT_FALSE(
      this->catalog().find_image(this->project(), "scans/day1/a.tif", hash_of(2)).has_value());
  using Pair = std::pair<std::string, std::string>;
  std::vector<Pair> paths = this->catalog().image_paths(this->project());
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths, (std::vector<Pair>{{"scans/day1/a.tif", hash_of(1)},
                                      {"scans/day1/b.tif", hash_of(2)}}));
}

TYPED_TEST(CatalogTest, GetImageOfAnUnknownIdThrowsNotFound) {
  const std::string message =
      expect_error(ErrorCode::not_found, [&] { this->catalog().get_image(424242); });
  EXPECT_THAT(message, HasSubstr("424242"));
}

TYPED_TEST(CatalogTest, AddImagesCreatesEachSeriesOnceAndKeepsFrameIndices) {
  std::vector<NewImage> batch;
  for (int f = 0; f < 3; ++f) {
    NewImage image = make_image(fmt::format("pos1/f{}.tif", f), f + 1);
    image.series = SeriesRef{"pos1", "timelapse", {{"position", 1}}};
    image.frame_index = f;
    batch.push_back(image);
  }
  for (int z = 0; z < 2; ++z) {
    NewImage image = make_image(fmt::format("stack/z{}.tif", z), z + 10);
    image.series = SeriesRef{"stack", "zstack"};
    image.frame_index = z * 10;
    batch.push_back(image);
  }
  const AddImagesResult first = this->catalog().add_images(this->project(), batch);
  ASSERT_EQ(first.added.size(), 5u);

  std::vector<Series> series = this->catalog().list_series(this->project());
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].name, "pos1");
  EXPECT_EQ(series[0].kind, "timelapse");
  EXPECT_EQ(series[0].key, (nlohmann::json{{"position", 1}}));
  EXPECT_EQ(series[0].frame_count, 3);
  EXPECT_EQ(series[1].name, "stack");
  EXPECT_EQ(series[1].kind, "zstack");
  EXPECT_EQ(series[1].frame_count, 2);
  for (int f = 0; f < 3; ++f) {
    const ImageRecord image = this->catalog().get_image(first.added[f]);
    EXPECT_EQ(image.series_id, series[0].id);
    EXPECT_EQ(image.frame_index, f);
  }
  EXPECT_EQ(this->catalog().get_image(first.added[4]).frame_index, 10);

  // A later batch joins the existing series instead of creating another.
  NewImage later = make_image("pos1/f3.tif", 4);
  later.series = SeriesRef{"pos1"};
  later.frame_index = 3;
  const AddImagesResult second = this->catalog().add_images(this->project(), {later});
  ASSERT_EQ(second.added.size(), 1u);
  series = this->catalog().list_series(this->project());
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].frame_count, 4);
  EXPECT_EQ(this->catalog().get_image(second.added[0]).series_id, series[0].id);
  EXPECT_EQ(this->count_rows("series"), 2);

  ImageQuery query;
  query.project_id = this->project();
  query.series_id = series[0].id;
  EXPECT_THAT(paths_of(this->catalog().list_images(query)),
              ElementsAre("pos1/f0.tif", "pos1/f1.tif", "pos1/f2.tif", "pos1/f3.tif"));
  EXPECT_EQ(this->catalog().count_images(query), 4);
}

TYPED_TEST(CatalogTest, AddImagesPutsImagesIntoTheNamedSet) {
  const AddImagesResult result = this->catalog().add_images(
      this->project(), {make_image("a.tif", 1), make_image("b.tif", 2)}, std::string("batch-1"));
  ASSERT_EQ(result.added.size(), 2u);
  const ImageSet set = this->catalog().get_set(this->project(), "batch-1");
  EXPECT_EQ(set.image_count, 2);
  EXPECT_FALSE(set.query.has_value());
  EXPECT_THAT(this->catalog().sets_of_image(result.added[0]), ElementsAre("batch-1"));
  // The set is reused by a second import, and an image already catalogued joins it too.
  const AddImagesResult again = this->catalog().add_images(
      this->project(), {make_image("a.tif", 1), make_image("c.tif", 3)}, std::string("batch-2"));
  EXPECT_EQ(again.already_present, std::vector<Id>{result.added[0]});
  EXPECT_THAT(this->catalog().sets_of_image(result.added[0]), ElementsAre("batch-1", "batch-2"));
  EXPECT_EQ(this->catalog().get_set(this->project(), "batch-2").image_count, 2);
  this->catalog().add_images(this->project(), {make_image("d.tif", 4)}, std::string("batch-1"));
  EXPECT_EQ(this->catalog().get_set(this->project(), "batch-1").image_count, 3);
  EXPECT_EQ(this->catalog().list_sets(this->project()).size(), 2u);
}

TYPED_TEST(CatalogTest, AddImagesRecordsOneImportedEventPerNewImage) {
  NewImage framed = make_image("pos1/f0.tif", 1);
  framed.width = 640;
  framed.height = 480;
  framed.focus = 0.5;
  framed.series = SeriesRef{"pos1"};
  framed.frame_index = 0;
  const AddImagesResult result = this->catalog().add_images(
      this->project(), {framed, make_image("b.tif", 2), make_image("c.tif", 3)});
  ASSERT_EQ(result.added.size(), 3u);

  std::vector<Event> imported = this->events_of_kind("image.imported");
  ASSERT_EQ(imported.size(), 3u);
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(imported[k].project_id, this->project());
    EXPECT_EQ(imported[k].subject_type, "image");
    EXPECT_EQ(imported[k].subject_id, result.added[k]);
    EXPECT_FALSE(imported[k].at.empty());
  }
  EXPECT_EQ(imported[0].payload, (nlohmann::json{{"path", "pos1/f0.tif"},
                                                 {"width", 640},
                                                 {"height", 480},
                                                 {"focus", 0.5},
                                                 {"series", "pos1"},
                                                 {"frame", 0}}));
  EXPECT_EQ(imported[1].payload,
            (nlohmann::json{{"path", "b.tif"}, {"width", 64}, {"height", 32}}));

  // Re-importing adds no event; only the one new image does.
  this->catalog().add_images(this->project(), {framed, make_image("d.tif", 4)});
  imported = this->events_of_kind("image.imported");
  ASSERT_EQ(imported.size(), 4u);
  EXPECT_EQ(imported[3].payload["path"], "d.tif");
}

TYPED_TEST(CatalogTest, ReaddingTheSamePathAndContentReportsAlreadyPresent) {
  const std::vector<NewImage> batch = {make_image("a.tif", 1), make_image("b.tif", 2)};
  const AddImagesResult first = this->catalog().add_images(this->project(), batch);
  const AddImagesResult second = this->catalog().add_images(this->project(), batch);
  EXPECT_TRUE(second.added.empty());
  EXPECT_EQ(second.already_present, first.added);
  EXPECT_EQ(this->count(""), 2);
  EXPECT_EQ(this->count_rows("images"), 2);
  EXPECT_EQ(this->events_of_kind("image.imported").size(), 2u);

  // The same file twice in one batch is added once.
  const AddImagesResult doubled =
      this->catalog().add_images(this->project(), {make_image("c.tif", 3), make_image("c.tif", 3)});
  ASSERT_EQ(doubled.added.size(), 1u);
  EXPECT_EQ(doubled.already_present, doubled.added);
  EXPECT_EQ(this->count(""), 3);
}

TYPED_TEST(CatalogTest, SamePathWithDifferentContentIsANewImage) {
  const AddImagesResult first =
      this->catalog().add_images(this->project(), {make_image("a.tif", 1)});
  const AddImagesResult changed =
      this->catalog().add_images(this->project(), {make_image("a.tif", 2)});
  ASSERT_EQ(changed.added.size(), 1u);
  EXPECT_TRUE(changed.already_present.empty());
  EXPECT_NE(changed.added[0], first.added[0]);
  EXPECT_EQ(this->count("path = 'a.tif'"), 2);
  EXPECT_EQ(this->catalog().get_image(changed.added[0]).blob_hash, hash_of(2));
  // The same file in another project is that project's own image.
  const Project other = this->catalog().ensure_project("other");
  const AddImagesResult elsewhere = this->catalog().add_images(other.id, {make_image("a.tif", 1)});
  ASSERT_EQ(elsewhere.added.size(), 1u);
  EXPECT_EQ(this->count(""), 2);
}

// --- Filters -------------------------------------------------------------------------------------

TYPED_TEST(CatalogTest, ListImagesFiltersOnMetadataAndColumns) {
  this->add_plate();
  using Keep = std::function<bool(const std::string&, int)>;
  struct Case {
    std::string where;
    size_t expected_count;
    Keep keep;
  };
  const std::vector<Case> cases = {
      {"", 12, [](auto&, int) { return true; }},
      // Metadata text
      {"well = 'A1'", 4, [](auto& w, int) { return w == "A1"; }},
      {"well == \"A1\"", 4, [](auto& w, int) { return w == "A1"; }},
      {"well != 'A1'", 8, [](auto& w, int) { return w != "A1"; }},
      {"row = 'B'", 4, [](auto& w, int) { return w == "B1"; }},
      {"well in ('A1', 'B1')", 8, [](auto& w, int) { return w != "A2"; }},
      {"well not in ('A1')", 8, [](auto& w, int) { return w != "A1"; }},
      {"well like 'a%'", 8, [](auto& w, int) { return w[0] == 'A'; }},
      {"well not like 'A%'", 4, [](auto& w, int) { return w == "B1"; }},
      {"note = 'it''s ok'", 1, [](auto& w, int t) { return w == "A2" && t == 1; }},
      {"note is not null", 1, [](auto& w, int t) { return w == "A2" && t == 1; }},
      {"note is null", 11, [](auto& w, int t) { return !(w == "A2" && t == 1); }},
      {"missing is null", 12, [](auto&, int) { return true; }},
      {"missing = 1", 0, [](auto&, int) { return false; }},
      // Metadata integers (including negatives) and floats (including exponents)
      {"t = 0", 3, [](auto&, int t) { return t == 0; }},
      {"t >= 2", 6, [](auto&, int t) { return t >= 2; }},
      {"t < 1 or t > 2", 6, [](auto&, int t) { return t == 0 || t == 3; }},
      {"t in (1, 3)", 6, [](auto&, int t) { return t == 1 || t == 3; }},
      {"offset = -1", 3, [](auto&, int t) { return t == 1; }},
      {"offset <= -2", 6, [](auto&, int t) { return t >= 2; }},
      {"exposure > 0.6", 6, [](auto&, int t) { return t >= 2; }},
      {"exposure = 1", 3, [](auto&, int t) { return t == 3; }},
      {"exposure = 0.5", 3, [](auto&, int t) { return t == 1; }},
      {"exposure >= 5e-1", 9, [](auto&, int t) { return t >= 1; }},
      {"exposure < 2.5E-1", 0, [](auto&, int) { return false; }},
      // Boolean structure
      {"t >= 2 and well = 'B1'", 2, [](auto& w, int t) { return w == "B1" && t >= 2; }},
      {"well in ('A1', 'B1') and not t = 0", 6, [](auto& w, int t) { return w != "A2" && t != 0; }},
      {"(well = 'A1' or well = 'A2') and t = 0", 2,
       [](auto& w, int t) { return w != "B1" && t == 0; }},
      {"well = 'A1' or well = 'A2' and t = 0", 5,
       [](auto& w, int t) { return w == "A1" || (w == "A2" && t == 0); }},
      {"NOT (well = 'A1' OR t = 0)", 6, [](auto& w, int t) { return w != "A1" && t != 0; }},
      // Columns
      {"width = 1024", 4, [](auto& w, int) { return w == "B1"; }},
      {"width < 1000 and height = 256", 8, [](auto& w, int) { return w != "B1"; }},
      {"focus is null", 3, [](auto&, int t) { return t == 3; }},
      {"focus is not null", 9, [](auto&, int t) { return t < 3; }},
      {"focus > 0.25", 3, [](auto&, int t) { return t == 2; }},
      {"focus <= 0.2", 6, [](auto&, int t) { return t < 2; }},
      {"path like '%/A2/%'", 4, [](auto& w, int) { return w == "A2"; }},
      {"path like '%/a2/%'", 4, [](auto& w, int) { return w == "A2"; }},
      {"path not like '%t00.tif'", 9, [](auto&, int t) { return t != 0; }},
      {"path = 'plate1/B1/t03.tif'", 1, [](auto& w, int t) { return w == "B1" && t == 3; }},
      {"series = 'well-B1'", 4, [](auto& w, int) { return w == "B1"; }},
      {"frame = 2", 3, [](auto&, int t) { return t == 2; }},
      {"frame in (0, 3) and series = 'well-A2'", 2,
       [](auto& w, int t) { return w == "A2" && t != 1 && t != 2; }},
      {"format = 'tiff' and pixel_type = 'uint8' and channels = 1 and frames = 1", 12,
       [](auto&, int) { return true; }},
      {"size > 1010", 2, [](auto& w, int t) { return w == "B1" && t >= 2; }},
      {"size >= 1.01e3", 3, [](auto& w, int t) { return w == "B1" && t >= 1; }},
      // meta.NAME reaches a metadata field a column shadows.
      {"meta.width = 7", 4, [](auto& w, int) { return w == "A1"; }},
      {"width = 7", 0, [](auto&, int) { return false; }},
      {"meta.width is null", 8, [](auto& w, int) { return w != "A1"; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("where: " + c.where);
    const std::vector<std::string> expected = TestFixture::plate_paths(c.keep);
    ASSERT_EQ(expected.size(), c.expected_count);  // guards the table itself
    EXPECT_EQ(paths_of(this->list(c.where)), expected);
    EXPECT_EQ(this->count(c.where), static_cast<std::int64_t>(c.expected_count));
  }
}

TYPED_TEST(CatalogTest, FiltersKeepProjectsApart) {
  this->add_plate();
  const Project other = this->catalog().ensure_project("other");
  NewImage stray = make_image("plate1/A1/t00.tif", 1);
  stray.metadata = {{"well", "A1"}};
  this->catalog().add_images(other.id, {stray});
  EXPECT_EQ(this->count("well = 'A1'"), 4);
  ImageQuery everywhere;
  everywhere.where = "well = 'A1'";
  EXPECT_EQ(this->catalog().count_images(everywhere), 5);
  ImageQuery there;
  there.project_id = other.id;
  EXPECT_EQ(this->catalog().count_images(there), 1);
}

TYPED_TEST(CatalogTest, CursorPaginationVisitsEveryImageOnceInIdOrder) {
  const std::vector<Id> ids = this->add_plate();
  const std::vector<std::string> filters = {"", "t >= 1"};
  for (const std::string& where : filters) {
    SCOPED_TRACE("where: " + where);
    const std::vector<Id> all = ids_of(this->list(where));
    ASSERT_EQ(all.size(), where.empty() ? 12u : 9u);
    ASSERT_TRUE(std::is_sorted(all.begin(), all.end()));
    std::vector<Id> visited;
    std::vector<size_t> page_sizes;
    ImageQuery query;
    query.project_id = this->project();
    query.where = where;
    query.limit = 5;
    for (int guard = 0; guard < 10; ++guard) {
      const std::vector<ImageRecord> page = this->catalog().list_images(query);
      page_sizes.push_back(page.size());
      if (page.empty()) break;
      for (const ImageRecord& image : page) visited.push_back(image.id);
      query.after_id = page.back().id;
    }
    EXPECT_EQ(visited, all);
    if (where.empty()) {
      EXPECT_EQ(visited, ids);
      EXPECT_THAT(page_sizes, ElementsAre(5u, 5u, 2u, 0u));
    } else {
      EXPECT_THAT(page_sizes, ElementsAre(5u, 4u, 0u));
    }
  }
  // count_images honours the cursor; limit 0 returns nothing.
  ImageQuery query;
  query.project_id = this->project();
  query.after_id = ids[9];
  EXPECT_EQ(this->catalog().count_images(query), 2);
  query.limit = 0;
  EXPECT_TRUE(this->catalog().list_images(query).empty());
}

TYPED_TEST(CatalogTest, AMalformedOrInjectedFilterIsRejectedAndChangesNothing) {
  this->add_plate();
  const std::vector<std::string> filters = {
      "well = 'A1'; DROP TABLE images", "x = 1 or 1=1", "time >= ", "well = 'A1",
      "well = 'A1' -- and t = 0",
  };
  for (const std::string& where : filters) {
    SCOPED_TRACE(where);
    const std::string message =
        expect_error(ErrorCode::invalid_argument, [&] { this->list(where); });
    EXPECT_THAT(message, HasSubstr("at position"));
    expect_error(ErrorCode::invalid_argument, [&] { this->count(where); });
  }
  EXPECT_EQ(this->count(""), 12);
  EXPECT_EQ(this->count_rows("images"), 12);
  // Inside quotes, SQL is just text to compare with.
  EXPECT_EQ(this->count("well = 'A1'' OR ''1''=''1'"), 0);
  EXPECT_EQ(this->count("well = '''; DROP TABLE images; --'"), 0);
  EXPECT_EQ(this->count_rows("images"), 12);
}

// --- Sets ----------------------------------------------------------------------------------------

TYPED_TEST(CatalogTest, CreateSetFromAFilterStoresTheQueryAndItsMembers) {
  const std::vector<Id> ids = this->add_plate();
  const ImageSet set =
      this->catalog().create_set(this->project(), "early", "t <= 1", "first two frames");
  EXPECT_GT(set.id, 0);
  EXPECT_EQ(set.project_id, this->project());
  EXPECT_EQ(set.name, "early");
  EXPECT_EQ(set.description, "first two frames");
  EXPECT_EQ(set.query, "t <= 1");
  EXPECT_FALSE(set.created_at.empty());
  EXPECT_EQ(set.image_count, 6);
  EXPECT_EQ(paths_of(this->list("", "early")),
            TestFixture::plate_paths([](auto&, int t) { return t <= 1; }));
  EXPECT_EQ(this->list("well = 'B1'", "early").size(), 2u);
  EXPECT_THAT(this->catalog().sets_of_image(ids[0]), ElementsAre("early"));
  EXPECT_TRUE(this->catalog().sets_of_image(ids[3]).empty());

  // Membership is a snapshot: images added later do not join.
  NewImage late = make_image("late.tif", 99);
  late.metadata = {{"t", 0}};
  this->catalog().add_images(this->project(), {late});
  EXPECT_EQ(this->catalog().get_set(this->project(), "early").image_count, 6);

  const std::vector<Event> created = this->events_of_kind("set.created");
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0].subject_type, "set");
  EXPECT_EQ(created[0].subject_id, set.id);
  EXPECT_EQ(created[0].payload, (nlohmann::json{{"name", "early"}, {"query", "t <= 1"}}));
}

TYPED_TEST(CatalogTest, CreateSetWithoutAFilterIsEmptyAndHasNoQuery) {
  this->add_plate();
  const ImageSet set = this->catalog().create_set(this->project(), "picked", "");
  EXPECT_EQ(set.image_count, 0);
  EXPECT_FALSE(set.query.has_value());
  EXPECT_EQ(set.description, "");
  const std::vector<ImageSet> sets = this->catalog().list_sets(this->project());
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0].id, set.id);
  EXPECT_TRUE(this->list("", "picked").empty());
}

TYPED_TEST(CatalogTest, CreatingASetTwiceThrowsConflict) {
  this->add_plate();
  this->catalog().create_set(this->project(), "early", "t = 0");
  const std::string message = expect_error(
      ErrorCode::conflict, [&] { this->catalog().create_set(this->project(), "early", "t >= 0"); });
  EXPECT_THAT(message, HasSubstr("'early'"));
  const ImageSet kept = this->catalog().get_set(this->project(), "early");
  EXPECT_EQ(kept.query, "t = 0");
  EXPECT_EQ(kept.image_count, 3);
  EXPECT_EQ(this->events_of_kind("set.created").size(), 1u);
  // The same name in another project is another set.
  const Project other = this->catalog().ensure_project("other");
  EXPECT_EQ(this->catalog().create_set(other.id, "early", "").name, "early");
}

TYPED_TEST(CatalogTest, AMalformedFilterInCreateSetWritesNothing) {
  this->add_plate();
  const std::int64_t events = this->count_rows("events");
  for (const std::string where : {"t >= ", "well = 'A1'; DROP TABLE images", "x = 1 or 1=1"}) {
    SCOPED_TRACE(where);
    expect_error(ErrorCode::invalid_argument,
                 [&] { this->catalog().create_set(this->project(), "bad", where); });
  }
  EXPECT_TRUE(this->catalog().list_sets(this->project()).empty());
  expect_error(ErrorCode::not_found, [&] { this->catalog().get_set(this->project(), "bad"); });
  EXPECT_EQ(this->count_rows("image_sets"), 0);
  EXPECT_EQ(this->count_rows("image_set_members"), 0);
  EXPECT_EQ(this->count_rows("events"), events);
  EXPECT_EQ(this->count_rows("images"), 12);
  // The name is still free.
  EXPECT_EQ(this->catalog().create_set(this->project(), "bad", "t = 3").image_count, 3);
}

TYPED_TEST(CatalogTest, AddToSetAndRemoveFromSetByIds) {
  const std::vector<Id> ids = this->add_plate();
  this->catalog().create_set(this->project(), "picked", "");
  EXPECT_EQ(this->catalog().add_to_set(this->project(), "picked", {ids[0], ids[1]}), 2);
  EXPECT_EQ(this->catalog().add_to_set(this->project(), "picked", {ids[1], ids[2]}),
            1);  // ids[1] already in
  EXPECT_EQ(this->catalog().get_set(this->project(), "picked").image_count, 3);
  EXPECT_EQ(ids_of(this->list("", "picked")), (std::vector<Id>{ids[0], ids[1], ids[2]}));

  EXPECT_EQ(this->catalog().remove_from_set(this->project(), "picked", {ids[0], ids[5]}),
            1);  // ids[5] never in
  EXPECT_EQ(ids_of(this->list("", "picked")), (std::vector<Id>{ids[1], ids[2]}));
  EXPECT_TRUE(this->catalog().sets_of_image(ids[0]).empty());
  EXPECT_EQ(this->count("well = 'A1'"), 4);  // removing from a set keeps the image
}

TYPED_TEST(CatalogTest, AddToSetWithAnUnknownImageThrowsNotFoundAndAddsNothing) {
  const std::vector<Id> ids = this->add_plate();
  this->catalog().create_set(this->project(), "picked", "");
  const std::string message = expect_error(ErrorCode::not_found, [&] {
    this->catalog().add_to_set(this->project(), "picked", {ids[3], 987654});
  });
  EXPECT_THAT(message, HasSubstr("987654"));
  // An image of another project is unknown here too.
  const Project other = this->catalog().ensure_project("other");
  const Id foreign = this->catalog().add_images(other.id, {make_image("x.tif", 77)}).added.at(0);
  expect_error(ErrorCode::not_found, [&] {
    this->catalog().add_to_set(this->project(), "picked", {ids[4], foreign});
  });
  EXPECT_EQ(this->catalog().get_set(this->project(), "picked").image_count, 0);
  EXPECT_EQ(this->count_rows("image_set_members"), 0);
  // So is a set that does not exist.
  expect_error(ErrorCode::not_found,
               [&] { this->catalog().add_to_set(this->project(), "nope", {ids[0]}); });
  expect_error(ErrorCode::not_found,
               [&] { this->catalog().remove_from_set(this->project(), "nope", {ids[0]}); });
}

TYPED_TEST(CatalogTest, AddToSetAndRemoveFromSetByFilter) {
  const std::vector<Id> ids = this->add_plate();
  this->catalog().create_set(this->project(), "picked", "");
  this->catalog().add_to_set(this->project(), "picked", {ids[1], ids[2]});  // A1 t1, A1 t2
  EXPECT_EQ(this->catalog().add_to_set_where(this->project(), "picked", "well = 'B1'"), 4);
  EXPECT_EQ(this->catalog().add_to_set_where(this->project(), "picked", "well = 'B1' or t = 1"),
            1);  // A2 t1
  EXPECT_EQ(this->catalog().get_set(this->project(), "picked").image_count, 7);
  EXPECT_EQ(this->catalog().remove_from_set_where(this->project(), "picked", "t >= 2"),
            3);  // A1 t2, B1 t2, B1 t3
  EXPECT_EQ(paths_of(this->list("", "picked")),
            (std::vector<std::string>{plate_path("A1", 1), plate_path("A2", 1), plate_path("B1", 0),
                                      plate_path("B1", 1)}));
  // A malformed filter changes nothing.
  expect_error(ErrorCode::invalid_argument, [&] {
    this->catalog().add_to_set_where(this->project(), "picked", "well = 'A1'; DELETE FROM images");
  });
  expect_error(ErrorCode::invalid_argument,
               [&] { this->catalog().remove_from_set_where(this->project(), "picked", "t >="); });
  EXPECT_EQ(this->catalog().get_set(this->project(), "picked").image_count, 4);
  expect_error(ErrorCode::not_found,
               [&] { this->catalog().add_to_set_where(this->project(), "nope", "t = 1"); });
}

TYPED_TEST(CatalogTest, SetsOfImageListsSetNamesInOrder) {
  const std::vector<Id> ids = this->add_plate();
  this->catalog().create_set(this->project(), "zeta", "well = 'A1'");
  this->catalog().create_set(this->project(), "alpha", "t = 0");
  this->catalog().create_set(this->project(), "mid", "");
  EXPECT_THAT(this->catalog().sets_of_image(ids[0]), ElementsAre("alpha", "zeta"));
  EXPECT_THAT(this->catalog().sets_of_image(ids[1]), ElementsAre("zeta"));
  EXPECT_THAT(this->catalog().sets_of_image(ids[4]), ElementsAre("alpha"));
  EXPECT_TRUE(this->catalog().sets_of_image(ids[5]).empty());
  const std::vector<ImageSet> sets = this->catalog().list_sets(this->project());
  ASSERT_EQ(sets.size(), 3u);
  EXPECT_EQ(sets[0].name, "alpha");
  EXPECT_EQ(sets[0].image_count, 3);
  EXPECT_EQ(sets[1].name, "mid");
  EXPECT_EQ(sets[1].image_count, 0);
  EXPECT_EQ(sets[2].name, "zeta");
  EXPECT_EQ(sets[2].image_count, 4);
}

TYPED_TEST(CatalogTest, DeleteSetRemovesTheSetAndItsMembershipsButNotTheImages) {
  const std::vector<Id> ids = this->add_plate();
  this->catalog().create_set(this->project(), "early", "t = 0");
  this->catalog().create_set(this->project(), "a1", "well = 'A1'");
  this->catalog().delete_set(this->project(), "early");
  expect_error(ErrorCode::not_found, [&] { this->catalog().get_set(this->project(), "early"); });
  EXPECT_THAT(this->catalog().sets_of_image(ids[0]), ElementsAre("a1"));
  EXPECT_EQ(this->catalog().list_sets(this->project()).size(), 1u);
  EXPECT_EQ(this->count_rows("image_set_members"), 4);
  EXPECT_EQ(this->count(""), 12);
  expect_error(ErrorCode::not_found, [&] { this->catalog().delete_set(this->project(), "early"); });
  // The name can be used again.
  EXPECT_EQ(this->catalog().create_set(this->project(), "early", "t = 1").image_count, 3);
}

// --- Tags ----------------------------------------------------------------------------------------

TYPED_TEST(CatalogTest, UpsertTagsStoresColoursKindsAndParentsDefinedLater) {
  const std::vector<Tag> tags =
      this->catalog().upsert_tags(this->project(), {tag("mitotic", "#00ff00", "cell"),
                                                    tag("cell", "#0000FF", std::nullopt, "object"),
                                                    tag("prophase", "#abcdef", "mitotic")});
  ASSERT_EQ(tags.size(), 3u);
  EXPECT_EQ(tags[0].name, "cell");
  EXPECT_EQ(tags[0].color, "#0000FF");
  EXPECT_EQ(tags[0].kind, "object");
  EXPECT_FALSE(tags[0].parent.has_value());
  EXPECT_EQ(tags[0].project_id, this->project());
  EXPECT_EQ(tags[1].name, "mitotic");
  EXPECT_EQ(tags[1].color, "#00ff00");
  EXPECT_EQ(tags[1].kind, "label");
  EXPECT_EQ(tags[1].parent, "cell");
  EXPECT_EQ(tags[2].name, "prophase");
  EXPECT_EQ(tags[2].parent, "mitotic");
  const std::vector<Tag> listed = this->catalog().list_tags(this->project());
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[1].id, tags[1].id);
  EXPECT_EQ(listed[1].parent, "cell");
}

TYPED_TEST(CatalogTest, ReupsertingATagUpdatesItsColourAndKeepsItsId) {
  const std::vector<Tag> first = this->catalog().upsert_tags(
      this->project(), {tag("cell", "#111111"), tag("nucleus", "#222222", "cell")});
  const std::vector<Tag> second = this->catalog().upsert_tags(
      this->project(), {tag("cell", "#333333", std::nullopt, "object")});
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[0].name, "cell");
  EXPECT_EQ(second[0].id, first[0].id);
  EXPECT_EQ(second[0].color, "#333333");
  EXPECT_EQ(second[0].kind, "object");
  EXPECT_EQ(second[1].color, "#222222");  // untouched
  EXPECT_EQ(second[1].parent, "cell");
  EXPECT_EQ(this->count_rows("tags"), 2);
  // A parent from an earlier call is found in the project.
  const std::vector<Tag> third =
      this->catalog().upsert_tags(this->project(), {tag("nucleolus", "#444444", "nucleus")});
  ASSERT_EQ(third.size(), 3u);
  EXPECT_EQ(third[1].name, "nucleolus");
  EXPECT_EQ(third[1].parent, "nucleus");
}

TYPED_TEST(CatalogTest, UpsertTagsRejectsABadColourAndWritesNothing) {
  for (const std::string colour :
       {"red", "#12345", "#1234567", "#12345g", "", "00ff00#", "#00ff0 "}) {
    SCOPED_TRACE(colour);
    const std::string message = expect_error(ErrorCode::invalid_argument, [&] {
      this->catalog().upsert_tags(this->project(), {tag("ok", "#00ff00"), tag("bad", colour)});
    });
    EXPECT_THAT(message, HasSubstr("'bad'"));
    EXPECT_THAT(message, HasSubstr("'" + colour + "'"));
  }
  EXPECT_TRUE(this->catalog().list_tags(this->project()).empty());
}

TYPED_TEST(CatalogTest, AnUnknownParentRollsBackTheWholeCall) {
  this->catalog().upsert_tags(this->project(), {tag("cell", "#111111")});
  const std::string message = expect_error(ErrorCode::invalid_argument, [&] {
    this->catalog().upsert_tags(this->project(), {tag("cell", "#999999"), tag("nucleus", "#222222"),
                                                  tag("orphan", "#333333", "ghost")});
  });
  EXPECT_THAT(message, HasSubstr("'ghost'"));
  const std::vector<Tag> tags = this->catalog().list_tags(this->project());
  ASSERT_EQ(tags.size(), 1u);
  EXPECT_EQ(tags[0].name, "cell");
  EXPECT_EQ(tags[0].color, "#111111");  // the recolouring in the failed call was rolled back
  EXPECT_EQ(this->count_rows("tags"), 1);
}

TYPED_TEST(CatalogTest, AParentCycleIsRejectedAndRolledBack) {
  expect_error(ErrorCode::invalid_argument, [&] {
    this->catalog().upsert_tags(this->project(),
                                {tag("a", "#000001", "b"), tag("b", "#000002", "a")});
  });
  EXPECT_TRUE(this->catalog().list_tags(this->project()).empty());
  const std::string own = expect_error(ErrorCode::invalid_argument, [&] {
    this->catalog().upsert_tags(this->project(), {tag("self", "#000003", "self")});
  });
  EXPECT_THAT(own, HasSubstr("its own parent"));
  EXPECT_TRUE(this->catalog().list_tags(this->project()).empty());

  // A cycle closed across calls: a -> b -> c exists, then c -> a.
  this->catalog().upsert_tags(this->project(),
                              {tag("a", "#000001", "b"), tag("b", "#000002", "c"), tag("c")});
  const std::string message = expect_error(ErrorCode::invalid_argument, [&] {
    this->catalog().upsert_tags(this->project(), {tag("c", "#000004", "a")});
  });
  EXPECT_THAT(message, HasSubstr("cycle"));
  const std::vector<Tag> tags = this->catalog().list_tags(this->project());
  ASSERT_EQ(tags.size(), 3u);
  EXPECT_EQ(tags[0].parent, "b");
  EXPECT_EQ(tags[1].parent, "c");
  EXPECT_FALSE(tags[2].parent.has_value());
  EXPECT_EQ(tags[2].color, "#ff0000");
}

TYPED_TEST(CatalogTest, ATagListedTwiceOrWithoutANameIsRejected) {
  const std::string message = expect_error(ErrorCode::invalid_argument, [&] {
    this->catalog().upsert_tags(this->project(), {tag("cell"), tag("cell", "#000000")});
  });
  EXPECT_THAT(message, HasSubstr("twice"));
  expect_error(ErrorCode::invalid_argument,
               [&] { this->catalog().upsert_tags(this->project(), {tag("")}); });
  EXPECT_TRUE(this->catalog().list_tags(this->project()).empty());
}

// --- Events and summary --------------------------------------------------------------------------

TYPED_TEST(CatalogTest, ListEventsPagesWithAfterIdAndLimit) {
  std::vector<Id> ids;
  for (int k = 1; k <= 5; ++k) {
    ids.push_back(this->catalog().add_event(
        this->project(),
        {fmt::format("note.{}", k), "alice", "image", std::int64_t{40 + k}, {{"k", k}}}));
  }
  NewEvent started;
  started.kind = "server.started";
  const Id global = this->catalog().add_event(std::nullopt, started);
  ASSERT_TRUE(std::is_sorted(ids.begin(), ids.end()));

  const std::vector<Event> all = this->catalog().list_events(this->project());
  ASSERT_EQ(all.size(), 6u);  // project.created, then the five notes
  EXPECT_EQ(all[0].kind, "project.created");
  EXPECT_EQ(all[1].id, ids[0]);
  EXPECT_EQ(all[1].kind, "note.1");
  EXPECT_EQ(all[1].project_id, this->project());
  EXPECT_EQ(all[1].actor, "alice");
  EXPECT_EQ(all[1].subject_type, "image");
  EXPECT_EQ(all[1].subject_id, 41);
  EXPECT_EQ(all[1].payload, (nlohmann::json{{"k", 1}}));
  EXPECT_FALSE(all[1].at.empty());

  std::vector<std::string> kinds;
  std::vector<size_t> pages;
  for (Id after = 0;;) {
    const std::vector<Event> page = this->catalog().list_events(this->project(), after, 2);
    pages.push_back(page.size());
    if (page.empty()) break;
    for (const Event& e : page) kinds.push_back(e.kind);
    after = page.back().id;
  }
  EXPECT_THAT(kinds,
              ElementsAre("project.created", "note.1", "note.2", "note.3", "note.4", "note.5"));
  EXPECT_THAT(pages, ElementsAre(2u, 2u, 2u, 0u));
  EXPECT_THAT(this->catalog().list_events(this->project(), ids[2], 100).size(), 2u);

  // Without a project: every event, the project-less one included.
  const std::vector<Event> everything = this->catalog().list_events(std::nullopt, 0, 100);
  ASSERT_EQ(everything.size(), 7u);
  EXPECT_EQ(everything.back().id, global);
  EXPECT_FALSE(everything.back().project_id.has_value());
  EXPECT_FALSE(everything.back().actor.has_value());
  EXPECT_FALSE(everything.back().subject_id.has_value());
  EXPECT_EQ(everything.back().payload, nlohmann::json::object());
}

TYPED_TEST(CatalogTest, SummaryCountsRowsPerProjectAndOverall) {
  this->add_plate();  // 12 images of 1001..1012 bytes in 3 series
  this->catalog().create_set(this->project(), "early", "t = 0");
  this->catalog().upsert_tags(this->project(), {tag("cell"), tag("nucleus", "#00ff00", "cell")});
  const Project other = this->catalog().ensure_project("other");
  this->catalog().add_images(other.id, {make_image("x.tif", 100)}, std::string("imported"));

  const Summary plate = this->catalog().summary(this->project());
  EXPECT_EQ(plate.projects, 1);
  EXPECT_EQ(plate.images, 12);
  EXPECT_EQ(plate.bytes, 12 * 1000 + (1 + 12) * 12 / 2);
  EXPECT_EQ(plate.series, 3);
  EXPECT_EQ(plate.sets, 1);
  EXPECT_EQ(plate.tags, 2);
  EXPECT_EQ(plate.annotations, 0);
  EXPECT_EQ(plate.objects, 0);
  EXPECT_EQ(plate.events, 1 + 12 + 1);  // project.created, image.imported x12, set.created

  const Summary all = this->catalog().summary();
  EXPECT_EQ(all.projects, 2);
  EXPECT_EQ(all.images, 13);
  EXPECT_EQ(all.bytes, plate.bytes + 1100);
  EXPECT_EQ(all.series, 3);
  EXPECT_EQ(all.sets, 2);
  EXPECT_EQ(all.tags, 2);
  EXPECT_EQ(all.events, plate.events + 2);  // other's project.created and image.imported
}

// --- Transactions --------------------------------------------------------------------------------

TYPED_TEST(CatalogTest, AFailingImageRollsBackItsWholeBatch) {
  NewImage kept = make_image("kept.tif", 1);
  kept.series = SeriesRef{"s0"};
  this->catalog().add_images(this->project(), {kept});
  const Summary before = this->catalog().summary();

  NewImage first = make_image("batch/a.tif", 2);
  first.series = SeriesRef{"s1"};
  NewImage bogus = make_image("batch/b.tif", 3);
  bogus.series = SeriesRef{"s2", "bogus"};  // violates CHECK (kind IN (...))
  NewImage last = make_image("batch/c.tif", 4);
  EXPECT_THROW(
      this->catalog().add_images(this->project(), {first, bogus, last}, std::string("batch")),
      Error);

  const Summary after = this->catalog().summary();
  EXPECT_EQ(after.images, before.images);
  EXPECT_EQ(after.series, before.series);
  EXPECT_EQ(after.sets, before.sets);
  EXPECT_EQ(after.events, before.events);
  EXPECT_EQ(this->count_rows("images"), 1);
  EXPECT_EQ(this->count_rows("series"), 1);
  EXPECT_EQ(this->count_rows("image_sets"), 0);
  EXPECT_EQ(this->count_rows("image_set_members"), 0);
  EXPECT_FALSE(this->catalog().find_image(this->project(), "batch/a.tif", hash_of(2)).has_value());
  EXPECT_EQ(this->events_of_kind("image.imported").size(), 1u);

  // The connection is usable afterwards and the corrected batch goes in whole.
  bogus.series->kind = "zstack";
  const AddImagesResult retried =
      this->catalog().add_images(this->project(), {first, bogus, last}, std::string("batch"));
  EXPECT_EQ(retried.added.size(), 3u);
  EXPECT_EQ(this->count(""), 4);
  EXPECT_EQ(this->catalog().list_series(this->project()).size(), 3u);
  EXPECT_EQ(this->catalog().get_set(this->project(), "batch").image_count, 3);
}

// --- Regressions: filters that once behaved differently on the two backends -----------------------

// Regression: on PostgreSQL a number that is
// not an integer is bound as a double next to an integer column, PostgreSQL types the bare `?` as
// that column's integer type and rejects the text, so these filters throw "invalid input syntax for
// type integer" there while SQLite answers them. Integral doubles that fmt prints in exponent form
// ("1e+20") fail the same way.
TYPED_TEST(CatalogTest, NonIntegerNumbersCompareWithIntegerColumnsOnBothBackends) {
  this->add_plate();
  EXPECT_EQ(this->count("width > 511.5"), 12);
  EXPECT_EQ(this->count("size > 1010.5"), 2);
  EXPECT_EQ(this->count("size < 1e20"), 12);
}

// Regression: where.hpp promises
// metadata is "compared with its JSON type: numbers as numbers, text as text", but an ordering
// comparison between a number and text falls back on each backend's order of types: SQLite puts
// text after every number (so "code > 3" matches the text "abc"), PostgreSQL's jsonb puts strings
// before numbers (so "code < 30" matches it). Equality already respects the type on both.
TYPED_TEST(CatalogTest, NumberAndTextComparisonsMatchOnlyValuesOfTheirOwnType) {
  NewImage text = make_image("text.tif", 1);
  text.metadata = {{"code", "abc"}};
  NewImage number = make_image("number.tif", 2);
  number.metadata = {{"code", 5}};
  this->catalog().add_images(this->project(), {text, number});
  EXPECT_THAT(paths_of(this->list("code = 5")), ElementsAre("number.tif"));
  EXPECT_THAT(paths_of(this->list("code = 'abc'")), ElementsAre("text.tif"));
  EXPECT_THAT(paths_of(this->list("code > 3")), ElementsAre("number.tif"));
  EXPECT_THAT(paths_of(this->list("code < 30")), ElementsAre("number.tif"));
  EXPECT_THAT(paths_of(this->list("code > 'a'")), ElementsAre("text.tif"));
  EXPECT_THAT(paths_of(this->list("code < 'zzz'")), ElementsAre("text.tif"));
}

// Regression: on SQLite json_extract() turns JSON true/false
// into 1/0 and true/false are bound as 1/0, so on SQLite a boolean field equals the numbers 1 and 0
// and a number field equals true/false; PostgreSQL keeps them apart.
TYPED_TEST(CatalogTest, BooleanMetadataIsNotTheNumbersOneAndZero) {
  NewImage yes = make_image("yes.tif", 1);
  yes.metadata = {{"ok", true}, {"t", 1}};
  NewImage no = make_image("no.tif", 2);
  no.metadata = {{"ok", false}, {"t", 0}};
  this->catalog().add_images(this->project(), {yes, no});
  EXPECT_THAT(paths_of(this->list("ok = true")), ElementsAre("yes.tif"));
  EXPECT_THAT(paths_of(this->list("ok = false")), ElementsAre("no.tif"));
  EXPECT_THAT(paths_of(this->list("ok = 1")), IsEmpty());
  EXPECT_THAT(paths_of(this->list("t = true")), IsEmpty());
}

// Regression: on PostgreSQL the JSON path is bound as the
// array literal "{a,b}" with unquoted elements, and PostgreSQL reads an unquoted NULL (any case) as
// an SQL NULL element, so a metadata field named null/Null, reachable as meta.null, never matches
// there.
TYPED_TEST(CatalogTest, AMetadataFieldNamedNullIsReachableWithTheMetaPrefix) {
  NewImage image = make_image("a.tif", 1);
  image.metadata = {{"null", 5}, {"Null", "x"}};
  this->catalog().add_images(this->project(), {image});
  EXPECT_EQ(this->count("meta.null = 5"), 1);
  EXPECT_EQ(this->count("meta.Null = 'x'"), 1);
}

// Regression: PostgreSQL's ILIKE treats
// a backslash as an escape character by default and SQLite's LIKE has no escape character, so a
// pattern with a backslash (a Windows source path) matches on SQLite only. An explicit ESCAPE would
// align them.
TYPED_TEST(CatalogTest, ABackslashInALikePatternMeansTheSameOnBothBackends) {
  this->catalog().add_images(this->project(), {make_image("C:\\scans\\a.tif", 1)});
  EXPECT_EQ(this->count("path like 'C:\\scans\\%'"), 1);
  EXPECT_EQ(this->count("path like 'c:\\scans\\a.tif'"), 1);
}

// --- Backend-independent -------------------------------------------------------------------------

TEST(CatalogOpen, RejectsAnEmptySqlitePath) {
  try {
    Catalog::open("sqlite:");
    FAIL() << "opened";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
  }
}

TEST(CatalogOpen, ReportsAnUnreachablePostgresServerAsUnavailable) {
  try {
    Catalog::open("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2");
    FAIL() << "opened";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unavailable);
    EXPECT_THAT(std::string(e.what()), HasSubstr("cannot connect to PostgreSQL"));
  }
}

TEST(CatalogFixture, GivesEachPostgresTestAnEmptyCatalogOfItsOwn) {
  PostgresBackend first;
  if (auto why = first.skip_reason()) GTEST_SKIP() << *why;
  PostgresBackend second;
  {
    auto a = Catalog::open(first.create());
    auto b = Catalog::open(second.create());
    a->ensure_project("only-in-first");
    EXPECT_EQ(a->list_projects().size(), 1u);
    EXPECT_TRUE(b->list_projects().empty());
    EXPECT_EQ(b->schema_version(), latest_schema_version());
  }
  first.destroy();
  second.destroy();
}

TEST(CatalogFixture, AddsTheSearchPathToAPostgresUrl) {
  using fixture::with_search_path;
  EXPECT_EQ(with_search_path("postgresql://u@h:5432/db", "s1"),
            "postgresql://u@h:5432/db?options=-csearch_path%3Ds1");
  EXPECT_EQ(with_search_path("postgresql://u@h/db?sslmode=disable", "s1"),
            "postgresql://u@h/db?sslmode=disable&options=-csearch_path%3Ds1");
}

}  // namespace
}  // namespace tessera::catalog
