// Exports over real loopback HTTP: an editor starts an export of a set (202, an export.dataset job the
// in-process runner finishes), a viewer downloads its file; bad requests name the field; callers outside
// the project get 404, viewers may not start one (403).

#include <gmock/gmock.h>

#include <chrono>
#include <thread>

#include "server/server_fixture.hpp"
#include "tessera/app/annotations.hpp"
#include "tessera/catalog/jobs.hpp"
#include "tessera/exchange/coco.hpp"

namespace tessera::server::testing {
namespace {

using ::testing::HasSubstr;

// Set "cells" of project lab: two images with one tagged mask each; set "bare" of project other.
class ExportsApiTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    auto& c = workspace().catalog();
    const catalog::Id tag = c.upsert_tags(lab(), {{"nucleus", "#00ff00", "label", std::nullopt}}).at(0).id;
    app::Annotations annotations(workspace());
    std::vector<catalog::Id> ids;
    for (int k = 0; k < 2; ++k) {
      const catalog::ImageRecord image = add_image(lab(), 10 + k);
      ids.push_back(image.id);
      // A 4x3 box of set pixels as COCO RLE (column-major, all ones).
      annotations.create(image, {std::nullopt, "test"},
                         json{{"kind", "mask"},
                              {"bbox", {5 + k, 6, 9 + k, 9}},
                              {"mask_rle", {{"size", {3, 4}}, {"counts", {0, 12}}}},
                              {"tag_id", tag}});
    }
    c.ensure_set(lab(), "cells");
    c.add_to_set(lab(), "cells", ids);
    set_ = c.get_set(lab(), "cells").id;
    c.ensure_set(other(), "bare");
    c.add_to_set(other(), "bare", {add_image(other(), 99).id});
    other_set_ = c.get_set(other(), "bare").id;
  }

  std::string exports_path(catalog::Id set) const { return fmt::format("/api/v1/sets/{}/exports", set); }

  catalog::Id set_ = 0, other_set_ = 0;
};

TEST_F(ExportsApiTest, AnEditorExportsASetAndAViewerDownloadsIt) {
  const auto queued = post(exports_path(set_), {{"format", "coco"}, {"rle", true}}, "bob");
  ASSERT_TRUE(queued);
  ASSERT_EQ(queued->status, 202) << queued->body;
  const json job = body(queued)["job"];
  EXPECT_EQ(job["kind"], "export.dataset");
  EXPECT_EQ(job["params"]["set"], "cells");
  const catalog::Id id = job["id"].get<catalog::Id>();
  const catalog::Job done = wait_for_job(id);
  ASSERT_EQ(catalog::to_string(done.state), "succeeded") << done.message.value_or("");
  EXPECT_EQ(done.result["images"], 2);
  EXPECT_EQ(done.result["objects"], 2);
  EXPECT_EQ(done.result["classes"], json({"nucleus"}));
  EXPECT_EQ(done.result["files"].size(), 1u);

  const auto file = get(fmt::format("/api/v1/exports/{}/download", id), "carol");
  ASSERT_TRUE(file);
  ASSERT_EQ(file->status, 200) << file->body;
  EXPECT_THAT(file->get_header_value("Content-Disposition"), HasSubstr("cells-coco.json"));
  const exchange::CocoDataset coco = exchange::read_coco_json(file->body);
  ASSERT_EQ(coco.annotations.size(), 2u);
  EXPECT_EQ(coco.annotations[0].area, 12);
  EXPECT_EQ(coco.annotations[1].bbox, (std::array<double, 4>{6, 6, 4, 3}));
}

TEST_F(ExportsApiTest, YoloExportsDownloadAsOneZip) {
  const auto queued = post(exports_path(set_), {{"format", "yolo"}, {"task", "segment"}, {"val", 0.5}}, "alice");
  ASSERT_EQ(queued->status, 202) << queued->body;
  const catalog::Job done = wait_for_job(body(queued)["job"]["id"].get<catalog::Id>());
  ASSERT_EQ(catalog::to_string(done.state), "succeeded") << done.message.value_or("");
  EXPECT_EQ(done.result["files"].size(), 5u);  // two images, two label files, data.yaml
  const auto file = get(fmt::format("/api/v1/exports/{}/download", done.id), "carol");
  ASSERT_EQ(file->status, 200);
  EXPECT_EQ(file->body.substr(0, 2), "PK");
  EXPECT_EQ(file->get_header_value("Content-Type"), "application/zip");
}

TEST_F(ExportsApiTest, BadRequestsNameTheField) {
  const std::vector<std::pair<json, std::string>> cases = {
      {json::object(), "format"},
      {{{"format", "tiff"}}, "format"},
      {{{"format", "yolo"}, {"val", 3}}, "val"},
      {{{"format", "yolo"}, {"task", "classify"}}, "task"},
      {{{"format", "npz"}, {"dims", "4d"}}, "dims"},
      {{{"format", "coco"}, {"out", "/tmp/x"}}, "out"},
      {{{"format", "deepcell-label"}}, "format"},
  };
  for (const auto& [request, field] : cases) {
    const auto r = post(exports_path(set_), request, "bob");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << request.dump() << " " << r->body;
    EXPECT_EQ(body(r)["error"]["details"]["field"], field) << request.dump() << " " << r->body;
  }
}

TEST_F(ExportsApiTest, RolesAndMembershipAreChecked) {
  EXPECT_EQ(post(exports_path(set_), {{"format", "coco"}}, "carol")->status, 403);
  EXPECT_EQ(post(exports_path(other_set_), {{"format", "coco"}}, "alice")->status, 404);
  EXPECT_EQ(post(exports_path(987654), {{"format", "coco"}}, "alice")->status, 404);
  const auto queued = post(exports_path(set_), {{"format", "npz"}}, "bob");
  ASSERT_EQ(queued->status, 202) << queued->body;
  const catalog::Job done = wait_for_job(body(queued)["job"]["id"].get<catalog::Id>());
  ASSERT_EQ(catalog::to_string(done.state), "succeeded") << done.message.value_or("");
  EXPECT_EQ(get(fmt::format("/api/v1/exports/{}/download", done.id), "mallory")->status, 404);
  EXPECT_EQ(get("/api/v1/exports/987654/download", "alice")->status, 404);
}

TEST_F(ExportsApiTest, ASetWithoutAnnotationsFailsTheJobNamingIt) {
  auto& c = workspace().catalog();
  c.ensure_set(lab(), "empty");
  c.add_to_set(lab(), "empty", {add_image(lab(), 50).id});
  const auto queued = post(exports_path(c.get_set(lab(), "empty").id), {{"format", "coco"}}, "bob");
  ASSERT_EQ(queued->status, 202) << queued->body;
  const catalog::Job done = wait_for_job(body(queued)["job"]["id"].get<catalog::Id>());
  EXPECT_EQ(catalog::to_string(done.state), "failed");
  EXPECT_THAT(done.message.value_or(""), HasSubstr("set 'empty' has no annotations"));
  EXPECT_EQ(get(fmt::format("/api/v1/exports/{}/download", done.id), "carol")->status, 409);
}

}  // namespace
}  // namespace tessera::server::testing
