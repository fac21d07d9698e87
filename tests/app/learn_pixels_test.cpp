#include "tessera/app/learn_pixels.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tessera/app/annotations.hpp"
#include "tessera/app/learn_round.hpp"
#include "tessera/catalog/learn.hpp"
#include "tessera/core/error.hpp"
#include "tessera/image/encode.hpp"
#include "tessera/ops/metrics.hpp"
#include "test_util.hpp"

namespace tessera::app {
namespace {

using catalog::Id;
using nlohmann::json;

template <typename Fn>
Error expect_error(ErrorCode code, Fn&& fn, const std::string& text) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    return e;
  }
  ADD_FAILURE() << "did not throw; expected an error mentioning '" << text << "'";
  return Error(ErrorCode::internal, "did not throw");
}

// A workspace with a set "cells" of six 96x96 images (bright disks on a noisy background, their truth
// kept), tags nucleus and background, and scribbles of both on the first two images.
class LearnPixelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    workspace_ = std::make_unique<Workspace>(Workspace::init(dir_.path(), ""));
    auto& catalog = workspace_->catalog();
    project_ = catalog.ensure_project("default").id;
    for (const auto& tag : catalog.upsert_tags(project_, {{"nucleus", "#00ff00", "scribble", std::nullopt},
                                                          {"background", "#0000ff", "scribble", std::nullopt},
                                                          {"debris", "#888888", "label", std::nullopt}})) {
      tags_[tag.name] = tag.id;
    }
    for (int i = 0; i < 6; ++i) {
      cv::Mat truth = cv::Mat::zeros(96, 96, CV_8U);
      cv::circle(truth, {30 + 5 * i, 35}, 12, 255, cv::FILLED);
      cv::circle(truth, {65, 65 - 2 * i}, 9, 255, cv::FILLED);
      cv::Mat pixels(truth.size(), CV_8U, cv::Scalar(60));
      pixels.setTo(170, truth);
      cv::Mat noise(pixels.size(), CV_8U);
      cv::RNG(100 + i).fill(noise, cv::RNG::UNIFORM, 0, 25 + 10 * i);
      pixels += noise;
      truths_.push_back(truth);
      images_.push_back(add_image(fmt::format("cells/{}.png", i), pixels, pixels.cols));
    }
    catalog.ensure_set(project_, "cells");
    std::vector<Id> ids;
    for (const auto& image : images_) ids.push_back(image.id);
    catalog.add_to_set(project_, "cells", ids);
    for (int i = 0; i < 2; ++i) {
      const int cx = 30 + 5 * i;
      scribble(images_[i], "nucleus", {{cx - 6, 35}, {cx + 6, 35}});
      scribble(images_[i], "nucleus", {{62, 65 - 2 * i}, {68, 65 - 2 * i}});
      scribble(images_[i], "background", {{5, 85}, {90, 85}});
      scribble(images_[i], "background", {{5, 5}, {90, 8}});
    }
  }

  catalog::ImageRecord add_image(const std::string& path, const cv::Mat& pixels, int recorded_width) {
    catalog::NewImage image;
    image.blob_hash = workspace_->blobs().put(image::encode(pixels, ".png"));
    image.source_path = path;
    image.format = "png";
    image.width = recorded_width;
    image.height = pixels.rows;
    image.channels = 1;
    image.pixel_type = "uint8";
    auto& catalog = workspace_->catalog();
    return catalog.get_image(catalog.add_images(project_, {image}).added.at(0));
  }

  void scribble(const catalog::ImageRecord& image, const std::string& tag, const std::vector<std::array<int, 2>>& points) {
    json pts = json::array();
    for (const auto& p : points) pts.push_back({p[0], p[1]});
    const json body = {{"kind", "scribble"}, {"tag_id", tags_.at(tag)}, {"geometry", {{"points", pts}, {"width", 3}}}};
    ASSERT_EQ(Annotations(*workspace_).create(image, alice_, body).status, catalog::EditStatus::applied);
  }

  PixelTrainRequest train_request(const std::string& name = "nuclei") {
    PixelTrainRequest r;
    r.set = "cells";
    r.tags = {"nucleus", "background"};
    r.model_name = name;
    r.trees = 20;
    r.actor = alice_;
    return r;
  }

  std::vector<catalog::Annotation> suggested(Id image_id) {
    catalog::ViewportQuery q;
    q.image_id = image_id;
    std::vector<catalog::Annotation> out;
    for (auto& a : Annotations(*workspace_).in_viewport(q).annotations) {
      if (a.state.source == "suggested") out.push_back(a);
    }
    return out;
  }

  cv::Mat full_mask(const catalog::Annotation& a) {
    const std::string png = Annotations(*workspace_).mask_png(a);
    const cv::Mat crop =
        cv::imdecode(cv::Mat(1, static_cast<int>(png.size()), CV_8U, const_cast<char*>(png.data())), cv::IMREAD_GRAYSCALE);
    cv::Mat full = cv::Mat::zeros(96, 96, CV_8U);
    crop.copyTo(full(cv::Rect(static_cast<int>(a.state.bbox.x0), static_cast<int>(a.state.bbox.y0), crop.cols, crop.rows)));
    return full;
  }

  std::size_t model_count() { return catalog::LearnStore(workspace_->catalog()).list_models(project_).size(); }

  test::TempDir dir_;
  std::unique_ptr<Workspace> workspace_;
  Id project_ = 0;
  std::map<std::string, Id> tags_;
  std::vector<catalog::ImageRecord> images_;
  std::vector<cv::Mat> truths_;
  catalog::Actor alice_{std::nullopt, "alice"};
};

TEST_F(LearnPixelsTest, TrainingStoresTheModelWithItsProvenanceAndPredictionSuggestsMasks) {
  PixelTrainRequest request = train_request();
  request.out = dir_.path() / "nuclei.tsm";
  const PixelTrainResult trained = train_pixel_model(*workspace_, request);
  EXPECT_EQ(trained.images, 2);
  EXPECT_EQ(trained.model.kind, "pixel_classifier");
  const json& p = trained.model.provenance;
  EXPECT_EQ(p["set"], "cells");
  EXPECT_EQ(p["tags"], json({"nucleus", "background"}));
  EXPECT_EQ(p["user"], "alice");
  EXPECT_EQ(p["images"].size(), 2u);
  EXPECT_EQ(p["annotations"], 8);
  EXPECT_TRUE(std::filesystem::exists(*request.out));
  EXPECT_EQ(workspace_->blobs().get(trained.model.blob_hash).size(), std::filesystem::file_size(*request.out));

  PixelPredictRequest predict;
  predict.set = "cells";
  predict.model = "nuclei";
  predict.save = true;
  predict.actor = alice_;
  const PixelPredictResult result = predict_pixels(*workspace_, predict);
  ASSERT_EQ(result.images.size(), 6u);
  EXPECT_EQ(result.annotations, 6);  // one nucleus mask per image; background is not suggested
  for (std::size_t i = 2; i < 6; ++i) {
    const auto masks = suggested(images_[i].id);
    ASSERT_EQ(masks.size(), 1u);
    EXPECT_EQ(masks[0].state.tag_id, tags_["nucleus"]);
    EXPECT_EQ(masks[0].state.source_ref["model"], "nuclei");
    const double dice = ops::mask_overlap(full_mask(masks[0]), truths_[i]).dice();
    std::printf("image %zu: Dice of the suggested mask %.3f\n", i, dice);
    EXPECT_GT(dice, 0.75);  // measured 0.80-0.95: the noise grows with the image index
  }
  // The file predicts the same way as the stored model.
  PixelPredictRequest from_file = predict;
  from_file.model = request.out->string();
  from_file.save = false;
  EXPECT_EQ(predict_pixels(*workspace_, from_file).images[3].class_share, result.images[3].class_share);
}

TEST_F(LearnPixelsTest, BadTrainingInputIsRefusedByNameAndStoresNoModel) {
  PixelTrainRequest one_class = train_request();
  one_class.tags = {"nucleus"};
  expect_error(ErrorCode::invalid_argument, [&] { train_pixel_model(*workspace_, one_class); }, "two classes");

  PixelTrainRequest unknown_tag = train_request();
  unknown_tag.tags = {"nucleus", "cytoplasm"};
  expect_error(ErrorCode::invalid_argument, [&] { train_pixel_model(*workspace_, unknown_tag); }, "cytoplasm");

  PixelTrainRequest unknown_set = train_request();
  unknown_set.set = "nope";
  expect_error(ErrorCode::not_found, [&] { train_pixel_model(*workspace_, unknown_set); }, "nope");

  // debris is a tag of the project, but nobody scribbled with it: one class has no pixels.
  PixelTrainRequest unlabelled_class = train_request();
  unlabelled_class.tags = {"nucleus", "debris"};
  expect_error(ErrorCode::invalid_argument, [&] { train_pixel_model(*workspace_, unlabelled_class); },
               "class 'debris' has no annotated pixels");
  // With two scribbled classes beside it, a forest would train and never predict debris: refused too.
  unlabelled_class.tags = {"nucleus", "background", "debris"};
  expect_error(ErrorCode::invalid_argument, [&] { train_pixel_model(*workspace_, unlabelled_class); },
               "class 'debris' has no annotated pixels");

  workspace_->catalog().ensure_set(project_, "bare");
  workspace_->catalog().add_to_set(project_, "bare", {images_[4].id, images_[5].id});
  PixelTrainRequest no_scribbles = train_request();
  no_scribbles.set = "bare";
  expect_error(ErrorCode::invalid_argument, [&] { train_pixel_model(*workspace_, no_scribbles); }, "no annotated pixels");

  // An image whose catalog record says 80 px wide while its pixels are 96: the scribbles would not fit.
  const catalog::ImageRecord odd = add_image("odd.png", cv::Mat(96, 96, CV_8U, cv::Scalar(9)), 80);
  scribble(odd, "nucleus", {{2, 2}, {20, 2}});
  scribble(odd, "background", {{2, 50}, {20, 50}});
  workspace_->catalog().ensure_set(project_, "odd");
  workspace_->catalog().add_to_set(project_, "odd", {odd.id});
  PixelTrainRequest mismatched = train_request();
  mismatched.set = "odd";
  expect_error(ErrorCode::invalid_argument, [&] { train_pixel_model(*workspace_, mismatched); }, "decodes to 96x96");

  EXPECT_EQ(model_count(), 0u);
  train_pixel_model(*workspace_, train_request());
  expect_error(ErrorCode::conflict, [&] { train_pixel_model(*workspace_, train_request()); }, "nuclei");
  EXPECT_EQ(model_count(), 1u);
}

TEST_F(LearnPixelsTest, AModelFileOfAnotherVersionOrNoModelIsRefusedAndNothingIsSuggested) {
  PixelTrainRequest request = train_request();
  request.out = dir_.path() / "nuclei.tsm";
  train_pixel_model(*workspace_, request);
  std::string bytes;
  {
    std::ifstream in(*request.out, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[6] = 7;  // the format version after the six-byte magic
  const auto other = dir_.path() / "other-version.tsm";
  std::ofstream(other, std::ios::binary) << bytes;

  PixelPredictRequest predict;
  predict.set = "cells";
  predict.model = other.string();
  predict.save = true;
  expect_error(ErrorCode::unsupported, [&] { predict_pixels(*workspace_, predict); }, "version");
  predict.model = "no-such-model";
  expect_error(ErrorCode::not_found, [&] { predict_pixels(*workspace_, predict); }, "no-such-model");
  for (const auto& image : images_) EXPECT_TRUE(suggested(image.id).empty());
}

TEST_F(LearnPixelsTest, ARoundChoosesUnannotatedImagesSuggestsMasksAndIsRecorded) {
  LearnRoundRequest request;
  request.set = "cells";
  request.tags = {"nucleus", "background"};
  request.options.models = 3;
  request.options.top = 2;
  request.options.patch = 48;
  request.options.trees = 10;
  request.actor = alice_;
  std::vector<double> fractions;
  const LearnRoundResult first =
      run_learn_round(*workspace_, request, [&](double f, const std::string&) { fractions.push_back(f); });
  EXPECT_EQ(first.round.number, 1);
  EXPECT_EQ(first.round.round_set_name, "cells-round-1");
  EXPECT_EQ(first.round.model_ids.size(), 3u);
  EXPECT_EQ(first.round.ranking.size(), 4u);  // the four images without scribbles
  EXPECT_TRUE(first.round.metrics["held_out_dice"].is_number()) << first.round.metrics.dump();
  EXPECT_EQ(first.round.metrics["chosen_images"], 2);
  EXPECT_EQ(first.suggested, 2);
  EXPECT_TRUE(std::is_sorted(fractions.begin(), fractions.end()));
  EXPECT_EQ(fractions.back(), 1.0);
  const auto chosen = workspace_->catalog().get_set(project_, "cells-round-1");
  EXPECT_EQ(chosen.image_count, 2);
  const Id top_image = first.round.ranking[0]["image_id"];
  ASSERT_EQ(suggested(top_image).size(), 1u);
  EXPECT_EQ(suggested(top_image)[0].state.source_ref["round_id"], first.round.id);
  EXPECT_GE(first.round.ranking[0]["uncertainty"].get<double>(), first.round.ranking[3]["uncertainty"].get<double>());

  const LearnRoundResult second = run_learn_round(*workspace_, request);
  EXPECT_EQ(second.round.number, 2);
  EXPECT_EQ(catalog::LearnStore(workspace_->catalog()).list_rounds(workspace_->catalog().get_set(project_, "cells").id).size(),
            2u);

  // A round that cannot train stores nothing.
  request.tags = {"nucleus", "debris"};
  EXPECT_THROW(run_learn_round(*workspace_, request), Error);
  request.tags = {"nucleus"};
  EXPECT_THROW(run_learn_round(*workspace_, request), Error);
  EXPECT_EQ(catalog::LearnStore(workspace_->catalog()).list_rounds(workspace_->catalog().get_set(project_, "cells").id).size(),
            2u);
  EXPECT_EQ(model_count(), 6u);
}

}  // namespace
}  // namespace tessera::app
