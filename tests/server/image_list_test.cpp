// The image list's annotation-state filter over real loopback HTTP: each state lists its images, counts and
// cursors agree, the filter combines with where and sort, a set made from a where naming the state keeps it,
// and bad values answer 400 naming the parameter.

#include <gmock/gmock.h>

#include "server/server_fixture.hpp"

namespace tessera::server::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ImageListApiTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    for (int seed = 1; seed <= 5; ++seed) images_.push_back(add_image(lab(), seed).id);
    add_image(other(), 9);
    annotate(images_[0], "manual", false);
    annotate(images_[1], "suggested", true);
    annotate(images_[2], "propagated", true);
    annotate(images_[3], "manual", false);
    // images_[4] stays blank.
  }

  void annotate(catalog::Id image, const std::string& source, bool needs_review) {
    const json polygon = {{"kind", "polygon"},
                          {"geometry", {{"points", {{2, 2}, {20, 2}, {2, 20}}}}},
                          {"source", source},
                          {"needs_review", needs_review}};
    auto r = post(fmt::format("/api/v1/images/{}/annotations", image), polygon);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;
  }

  std::string list_path(const std::string& query) const {
    return fmt::format("/api/v1/projects/{}/images?{}", lab(), query);
  }

  // Ids the list answers, following cursors to the end.
  std::vector<catalog::Id> walk(const std::string& query) {
    std::vector<catalog::Id> ids;
    std::string cursor;
    for (int page = 0; page < 100; ++page) {
      auto r = get(list_path(query + (cursor.empty() ? "" : "&cursor=" + cursor)));
      EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
      if (!r || r->status != 200) break;
      const json answer = body(r);
      for (const auto& image : answer["images"]) ids.push_back(image["id"].get<catalog::Id>());
      if (answer["next_cursor"].is_null()) break;
      cursor = answer["next_cursor"].get<std::string>();
    }
    return ids;
  }

  std::vector<catalog::Id> images_;
};

TEST_F(ImageListApiTest, EachAnnotationStateListsItsImages) {
  EXPECT_THAT(walk("annotation_state=annotated"), ElementsAre(images_[0], images_[3]));
  EXPECT_THAT(walk("annotation_state=unannotated"), ElementsAre(images_[4]));
  EXPECT_THAT(walk("annotation_state=suggested"), ElementsAre(images_[1]));
  EXPECT_THAT(walk("annotation_state=review"), ElementsAre(images_[2]));
  EXPECT_EQ(walk("").size(), 5u);
}

TEST_F(ImageListApiTest, TheStateCombinesWithCountCursorsWhereAndSort) {
  auto r = get(list_path("annotation_state=annotated&count=true&limit=1"));
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(body(r)["total"], 2);
  EXPECT_EQ(body(r)["images"].size(), 1u);
  EXPECT_FALSE(body(r)["next_cursor"].is_null());

  EXPECT_THAT(walk("annotation_state=annotated&limit=1&sort=id&order=desc"), ElementsAre(images_[3], images_[0]));
  EXPECT_THAT(walk(fmt::format("annotation_state=annotated&where=id%20%3E%20{}", images_[0])),
              ElementsAre(images_[3]));
  // The same test through the where language, as a set made from the filter stores it.
  EXPECT_THAT(walk("where=annotation_state%20in%20('suggested'%2C%20'review')"), ElementsAre(images_[1], images_[2]));
  auto set = post(fmt::format("/api/v1/projects/{}/sets", lab()),
                  {{"name", "needs-eyes"}, {"where", "annotation_state in ('suggested', 'review')"}}, "bob");
  ASSERT_EQ(set->status, 201) << set->body;
  EXPECT_EQ(body(set)["image_count"], 2);
  EXPECT_EQ(body(set)["query"], "annotation_state in ('suggested', 'review')");
}

TEST_F(ImageListApiTest, BadValuesAre400NamingTheParameter) {
  for (const std::string query : {"annotation_state=done", "annotation_state=", "annotation_state=Annotated",
                                  "annotation_state=annotated%27%20OR%201%3D1"}) {
    auto r = get(list_path(query));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << query;
    EXPECT_EQ(body(r)["error"]["details"]["field"], "annotation_state") << query;
    EXPECT_THAT(body(r)["error"]["message"].get<std::string>(),
                HasSubstr("unannotated, annotated, suggested or review"));
  }
  auto where = get(list_path("where=annotation_state%20%3D%20'finished'"));
  EXPECT_EQ(where->status, 400);
  EXPECT_EQ(body(where)["error"]["details"]["field"], "where");
  EXPECT_THAT(body(where)["error"]["message"].get<std::string>(), HasSubstr("annotation_state is one of"));
  // A catalog error naming its own field keeps it rather than being blamed on 'where'.
  auto sort = get(list_path("sort=colour"));
  EXPECT_EQ(sort->status, 400);
  EXPECT_EQ(body(sort)["error"]["details"]["field"], "sort");
}

TEST_F(ImageListApiTest, OtherProjectsAndStrangersSeeNothing) {
  EXPECT_EQ(get(list_path("annotation_state=annotated"), "mallory")->status, 404);
  EXPECT_EQ(get(list_path("annotation_state=annotated"), "")->status, 401);
  EXPECT_THAT(walk("annotation_state=unannotated"), ElementsAre(images_[4]));  // not mallory's image
}

}  // namespace
}  // namespace tessera::server::testing
