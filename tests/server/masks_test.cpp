// POST /api/v1/images/{id}/masks:generate over HTTP: a preview (RLE and PNG), a save with tag and colour,
// roles, a lock held by someone else (423), and bad input naming its field with nothing stored.

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "server_fixture.hpp"
#include "tessera/core/base64.hpp"

namespace tessera::server::testing {
namespace {

class MasksApi : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    nucleus_ = workspace().catalog().upsert_tags(lab(), {catalog::TagSpec{"nucleus", "#00ff00", "label", std::nullopt}}).at(0).id;
    cv::Mat pixels(120, 160, CV_8U, cv::Scalar(40));
    cv::circle(pixels, {80, 60}, 25, 200, cv::FILLED);
    app::Upload upload;
    upload.name = "disk.png";
    upload.bytes = image::encode(pixels, ".png");
    image_ = app::upload_image(workspace(), lab(), upload).record.id;
  }

  std::string url() const { return fmt::format("/api/v1/images/{}/masks:generate", image_); }
  json annotations() { return body(get(fmt::format("/api/v1/images/{}/annotations", image_))); }
  static std::string field(const httplib::Result& r) { return body(r)["error"]["details"].value("field", ""); }

  catalog::Id nucleus_ = 0;
  catalog::Id image_ = 0;
};

TEST_F(MasksApi, PreviewAnswersTheMaskAsRleOrPngAndStoresNothing) {
  const auto r = post(url(), {{"points", {{{"x", 80}, {"y", 60}, {"positive", true}}}}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json b = body(r);
  const json bbox = b["mask"]["bbox"];
  // The API is under test here, not the segmenter's accuracy (tests/segment): the disk spans x 55..105.
  EXPECT_NEAR(bbox[0].get<int>(), 55, 6);
  EXPECT_NEAR(bbox[2].get<int>(), 106, 6);
  EXPECT_EQ(b["mask"]["mask_rle"]["size"], json({bbox[3].get<int>() - bbox[1].get<int>(), bbox[2].get<int>() - bbox[0].get<int>()}));
  EXPECT_GT(b["confidence"].get<double>(), 0.5);
  EXPECT_EQ(b["segmenter"], "graph_cut");
  EXPECT_FALSE(b.contains("annotation"));

  const auto p = post(url(), {{"points", {{80, 60, "+"}}}, {"mask_format", "png"}});
  ASSERT_EQ(p->status, 200) << p->body;
  const std::string png = base64_decode(body(p)["mask"]["mask_png_base64"].get<std::string>());
  const cv::Mat mask = cv::imdecode(cv::Mat(1, static_cast<int>(png.size()), CV_8U, const_cast<char*>(png.data())),
                                    cv::IMREAD_GRAYSCALE);
  EXPECT_NEAR(cv::countNonZero(mask), CV_PI * 25 * 25, 0.3 * CV_PI * 25 * 25);
  EXPECT_TRUE(annotations()["annotations"].empty()) << annotations().dump();
}

TEST_F(MasksApi, SaveCreatesAGeneratedAnnotation) {
  const auto r = post(url(), {{"points", {{80, 60, "+"}, {5, 5, "-"}}},
                              {"tag_id", nucleus_},
                              {"mask_color", "#FF8800"},
                              {"save", true}});
  ASSERT_EQ(r->status, 201) << r->body;
  const json a = body(r)["annotation"];
  EXPECT_EQ(a["kind"], "mask");
  EXPECT_EQ(a["source"], "generated");
  EXPECT_EQ(a["tag_id"], nucleus_);
  EXPECT_EQ(a["color"], "#ff8800");
  EXPECT_EQ(a["source_ref"]["points"].size(), 2u);
  EXPECT_EQ(r->get_header_value("Location"), fmt::format("/api/v1/annotations/{}", a["id"].get<std::int64_t>()));
  EXPECT_EQ(annotations()["annotations"].size(), 1u);
}

TEST_F(MasksApi, ViewersCannotGenerateAndOutsidersSeeNoImage) {
  EXPECT_EQ(post(url(), {{"points", {{80, 60, "+"}}}}, "carol")->status, 403);
  EXPECT_EQ(post(url(), {{"points", {{80, 60, "+"}}}}, "mallory")->status, 404);
}

TEST_F(MasksApi, LockedBySomeoneElseIs423AndStoresNothing) {
  ASSERT_EQ(post(fmt::format("/api/v1/images/{}/lock", image_), json::object(), "bob")->status, 201);
  const auto r = post(url(), {{"points", {{80, 60, "+"}}}, {"save", true}});
  ASSERT_EQ(r->status, 423) << r->body;
  EXPECT_EQ(body(r)["error"]["details"]["holder"], "bob");
  EXPECT_TRUE(annotations()["annotations"].empty());
}

TEST_F(MasksApi, BadInputNamesTheFieldAndStoresNothing) {
  const auto outside = post(url(), {{"points", {{160, 10, "+"}}}, {"save", true}});
  EXPECT_EQ(outside->status, 400);
  EXPECT_EQ(field(outside), "points");
  const auto negative = post(url(), {{"points", {{80, 60, "-"}}}, {"save", true}});
  EXPECT_EQ(negative->status, 400);
  EXPECT_EQ(field(negative), "points");
  const auto sign = post(url(), {{"points", {{80, 60, "?"}}}});
  EXPECT_EQ(sign->status, 400);
  EXPECT_EQ(field(sign), "points[0]");
  const auto color = post(url(), {{"points", {{80, 60, "+"}}}, {"mask_color", "red"}, {"save", true}});
  EXPECT_EQ(color->status, 400);
  EXPECT_EQ(field(color), "mask_color");
  const auto tag = post(url(), {{"points", {{80, 60, "+"}}}, {"tag_id", nucleus_ + 99}, {"save", true}});
  EXPECT_EQ(tag->status, 404);
  const auto frame = post(url(), {{"points", {{80, 60, "+"}}}, {"frame", 3}, {"save", true}});
  EXPECT_EQ(frame->status, 400);
  EXPECT_EQ(field(frame), "frame_index");
  const auto overlap = post(url(), {{"points", {{80, 60, "+"}}}, {"overlap", "merge"}});
  EXPECT_EQ(overlap->status, 400);
  EXPECT_EQ(field(overlap), "overlap");
  EXPECT_EQ(post(url(), {{"box", {1, 2, 3, 4}}})->status, 400);  // no points
  EXPECT_EQ(post("/api/v1/images/999999/masks:generate", {{"points", {{1, 1, "+"}}}})->status, 404);
  EXPECT_TRUE(annotations()["annotations"].empty());
}

}  // namespace
}  // namespace tessera::server::testing
