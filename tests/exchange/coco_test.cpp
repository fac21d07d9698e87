#include "tessera/exchange/coco.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tessera/core/error.hpp"

namespace tessera::exchange {
namespace {

cv::Mat worked_example() {
  cv::Mat m(4, 5, CV_8UC1, cv::Scalar(0));
  m(cv::Rect(1, 1, 3, 2)).setTo(255);
  m.at<std::uint8_t>(3, 3) = 255;
  return m;
}

CocoDataset one_image(bool rle) {
  CocoDataset d;
  d.images.push_back({1, 5, 4, "img_001.png"});
  d.categories.push_back({1, "nucleus", ""});
  CocoAnnotation a = coco_annotation_from_mask(worked_example(), {0, 0}, {5, 4}, rle);
  a.id = 1;
  a.image_id = 1;
  a.category_id = 1;
  d.annotations.push_back(a);
  return d;
}

TEST(Coco, WorkedExampleHasCocoAreaBboxAndCornerPolygon) {
  const auto json = nlohmann::json::parse(write_coco_json(one_image(false)));
  const auto& a = json["annotations"][0];
  EXPECT_EQ(a["area"], 7);
  EXPECT_EQ(a["bbox"], nlohmann::json({1, 1, 3, 3}));
  EXPECT_EQ(a["segmentation"], nlohmann::json::parse("[[1, 1, 4, 1, 4, 4, 3, 4, 3, 3, 1, 3]]"));
  EXPECT_EQ(a["iscrowd"], 0);
}

TEST(Coco, WorkedExampleAsCompressedRle) {
  const auto json = nlohmann::json::parse(write_coco_json(one_image(true)));
  EXPECT_EQ(json["annotations"][0]["segmentation"], nlohmann::json::parse(R"({"size": [4, 5], "counts": "5220012"})"));
}

TEST(Coco, KeysComeInTheDocumentedOrder) {
  const std::string text = write_coco_json(one_image(false));
  EXPECT_LT(text.find("\"info\""), text.find("\"licenses\""));
  EXPECT_LT(text.find("\"images\""), text.find("\"annotations\""));
  EXPECT_LT(text.find("\"annotations\""), text.find("\"categories\""));
  EXPECT_LT(text.find("\"image_id\""), text.find("\"segmentation\""));
}

TEST(Coco, WrittenThenReadGivesTheSameMasksAndBytes) {
  for (bool rle : {false, true}) {
    const std::string text = write_coco_json(one_image(rle));
    const CocoDataset back = read_coco_json(text);
    ASSERT_EQ(back.annotations.size(), 1u);
    const cv::Mat mask = coco_annotation_mask(back.annotations[0], {5, 4});
    EXPECT_EQ(cv::countNonZero(mask != worked_example()), 0);
    EXPECT_EQ(write_coco_json(back), text);
  }
}

TEST(Coco, UncompressedRleIsRead) {
  const std::string text = R"({"images": [{"id": 3, "width": 5, "height": 4, "file_name": "a.png"}],
    "categories": [{"id": 1, "name": "x"}],
    "annotations": [{"id": 1, "image_id": 3, "category_id": 1, "iscrowd": 1,
                     "segmentation": {"size": [4, 5], "counts": [5, 2, 2, 2, 2, 3, 4]}}]})";
  const CocoDataset d = read_coco_json(text);
  EXPECT_FALSE(d.annotations[0].segmentation.compressed);
  EXPECT_EQ(cv::countNonZero(coco_annotation_mask(d.annotations[0], {5, 4}) != worked_example()), 0);
}

TEST(Coco, BadDocumentsNameTheMember) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"images": [], "categories": []})", "annotations"},
      {R"({"images": [{"id": 1, "width": 5, "file_name": "a"}], "annotations": [], "categories": []})",
       "images[0].height"},
      {R"({"images": [{"id": 1, "width": 5, "height": 4, "file_name": "a"}], "categories": [{"id": 1, "name": "x"}],
          "annotations": [{"id": 1, "image_id": 2, "category_id": 1, "segmentation": []}]})",
       "annotations[0].image_id"},
      {R"({"images": [{"id": 1, "width": 5, "height": 4, "file_name": "a"}], "categories": [{"id": 1, "name": "x"}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[1, 2, 3]]}]})",
       "annotations[0].segmentation[0]"},
      {R"({"images": [{"id": 1, "width": 5, "height": 4, "file_name": "a"}], "categories": [{"id": 1, "name": "x"}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": {"size": [4, 5], "counts": "5 "}}]})",
       "annotations[0].segmentation.counts"},
      {"not json", "not valid JSON"},
  };
  for (const auto& [text, expected] : cases) {
    try {
      read_coco_json(text, "f.json");
      ADD_FAILURE() << "no error for " << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::corrupt);
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("f.json"), std::string::npos) << e.what();
    }
  }
}

TEST(Coco, RleOfAnotherSizeThanItsImageIsCorrupt) {
  CocoAnnotation a;
  a.id = 4;
  a.segmentation.rle = CocoRle{4, 5, {20}};
  EXPECT_THROW(coco_annotation_mask(a, {6, 4}), Error);
}

}  // namespace
}  // namespace tessera::exchange
