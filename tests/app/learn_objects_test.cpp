// Object classification as a use case, through the app layer and through the real CLI: generated images
// of two classes that differ in shape and brightness, measured into the catalog, people's point marks on
// the objects of half the images as classes; the classifier's probabilities are stored with every object,
// objects below the chosen probability are left 'unclear', and the held-out objects are classified right.
#include "tessera/app/learn_objects.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "catalog/access.hpp"
#include "learn_test_data.hpp"
#include "tessera/app/measure.hpp"
#include "tessera/catalog/learn.hpp"
#include "test_util.hpp"

namespace tessera::app {
namespace {

using learn_testing::json;
using ::testing::HasSubstr;

constexpr int kImages = 8;
constexpr int kMarked = 4;  // images whose objects people marked; the other four are held out
constexpr int kObjectsPerImage = 16;

// An object as stored after prediction.
struct StoredObject {
  catalog::Id image_id = 0;
  std::int64_t x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  std::optional<catalog::Id> tag_id;
  json class_probabilities;
};

std::vector<StoredObject> stored_objects(Workspace& workspace) {
  return catalog::CatalogAccess::read(workspace.catalog(), [](catalog::Connection& db) {
    const catalog::Rows r = db.query(
        "SELECT image_id, bbox_x0, bbox_y0, bbox_x1, bbox_y1, tag_id, class_probabilities FROM objects "
        "WHERE parent_id IS NULL ORDER BY id",
        {});
    std::vector<StoredObject> out;
    for (size_t i = 0; i < r.size(); ++i) {
      const std::optional<std::string> probabilities = r.opt_text(i, 6);
      out.push_back({r.i64(i, 0), r.i64(i, 1), r.i64(i, 2), r.i64(i, 3), r.i64(i, 4), r.opt_i64(i, 5),
                     probabilities ? json::parse(*probabilities) : json()});
    }
    return out;
  });
}

// The generated object whose centre lies in the stored object's box.
const learn_testing::PlacedObject* truth_of(const learn_testing::ObjectScene& scene, const StoredObject& o) {
  for (const auto& placed : scene.truth.at(o.image_id)) {
    if (placed.x >= o.x0 && placed.x < o.x1 && placed.y >= o.y0 && placed.y < o.y1) return &placed;
  }
  return nullptr;
}

struct Outcome {
  int held_out = 0, held_out_right = 0, held_out_unclear = 0, unclear = 0;
};

// Checks the stored verdict of every object of the scene against min_probability and counts how the held-out ones fared.
Outcome check_verdicts(Workspace& workspace, const learn_testing::ObjectScene& scene, double min_probability) {
  std::set<catalog::Id> held_out_images;
  for (int i = kMarked; i < kImages; ++i) held_out_images.insert(scene.images[static_cast<std::size_t>(i)].id);
  Outcome out;
  std::vector<StoredObject> objects;  // of the scene's images (a test may measure others too)
  for (StoredObject& o : stored_objects(workspace))
    if (scene.truth.count(o.image_id)) objects.push_back(std::move(o));
  EXPECT_EQ(objects.size(), static_cast<std::size_t>(kImages * kObjectsPerImage));
  for (const StoredObject& o : objects) {
    const json& p = o.class_probabilities;
    EXPECT_TRUE(p.is_object()) << "an object without stored probabilities";
    if (!p.is_object()) continue;
    const double round = p["probabilities"].value("round", -1.0), elongated = p["probabilities"].value("elongated", -1.0);
    EXPECT_NEAR(round + elongated, 1.0, 1e-6) << p.dump();
    EXPECT_DOUBLE_EQ(p["probability"].get<double>(), std::max(round, elongated)) << p.dump();
    EXPECT_EQ(p["min_probability"], min_probability);
    const bool unclear = p["probability"].get<double>() < min_probability;
    out.unclear += unclear;
    if (unclear) {
      EXPECT_EQ(p["class"], "unclear") << p.dump();
      EXPECT_FALSE(o.tag_id) << "an unclear object kept a tag";
    } else {
      EXPECT_EQ(o.tag_id, scene.tags.at(p["class"].get<std::string>())) << p.dump();
    }
    if (!held_out_images.count(o.image_id)) continue;
    const learn_testing::PlacedObject* truth = truth_of(scene, o);
    EXPECT_NE(truth, nullptr) << "a measured object matches no generated one";
    if (!truth) continue;
    ++out.held_out;
    out.held_out_unclear += unclear;
    out.held_out_right += !unclear && p["class"] == truth->truth;
  }
  return out;
}

class LearnObjectsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    workspace_ = std::make_unique<Workspace>(Workspace::init(dir_ / "ws", ""));
    project_ = workspace_->catalog().ensure_project("default").id;
    scene_ = learn_testing::object_scene(*workspace_, project_, kImages, kMarked);
    MeasureOptions measure;
    measure.threshold = "70";  // between the background (~40) and the dimmer class (~120)
    measure.min_area = 20;
    const MeasureReport report = measure_set(*workspace_, "default", "plankton", measure, nullptr);
    ASSERT_EQ(report.objects, kImages * kObjectsPerImage);
  }

  test::TempDir dir_{"tessera-learn-objects"};
  std::unique_ptr<Workspace> workspace_;
  catalog::Id project_ = 0;
  learn_testing::ObjectScene scene_;
};

TEST_F(LearnObjectsTest, TagsTrainAClassifierWhoseProbabilitiesAreStoredWithEachObject) {
  ObjectTrainRequest train;
  train.set = "plankton";
  train.tags = {"round", "elongated"};
  train.model_name = "plankton";
  train.trees = 50;
  const ObjectTrainResult trained = train_object_model(*workspace_, train);
  EXPECT_EQ(trained.objects, kMarked * kObjectsPerImage);
  EXPECT_EQ(trained.model.kind, "object_classifier");
  EXPECT_THAT(trained.columns, ::testing::Contains("area"));
  EXPECT_THAT(trained.columns, ::testing::Not(::testing::Contains("centroid-0")));
  // Which objects trained (the classifier's own "objects" counts them per class).
  EXPECT_EQ(trained.model.provenance["object_ids"].size(), static_cast<std::size_t>(kMarked * kObjectsPerImage));

  ObjectPredictRequest predict;
  predict.set = "plankton";
  predict.model = "plankton";
  predict.min_probability = 0.8;
  const ObjectPredictResult predicted = predict_objects(*workspace_, predict);
  EXPECT_EQ(predicted.objects, kImages * kObjectsPerImage);

  const Outcome o = check_verdicts(*workspace_, scene_, predict.min_probability);
  EXPECT_EQ(o.unclear, predicted.unclear);
  const double accuracy = static_cast<double>(o.held_out_right) / o.held_out;
  std::printf("held-out objects: %d, right %d (accuracy %.3f), unclear %d; unclear over all %d\n", o.held_out,
              o.held_out_right, accuracy, o.held_out_unclear, o.unclear);
  EXPECT_EQ(o.held_out, (kImages - kMarked) * kObjectsPerImage);
  EXPECT_GE(accuracy, 0.95);

}

// Objects whose two cues disagree (the round class's brightness on the elongated class's shape, and the other
// way round), 4 x 4 on one 160 x 160 image: neither class fits them, which is what 'unclear' is for.
cv::Mat conflicting_objects_image() {
  cv::Mat pixels(160, 160, CV_8U, cv::Scalar(30));
  for (int row = 0; row < 4; ++row) {
    for (int col = 0; col < 4; ++col) {
      const cv::Point centre(20 + 40 * col, 20 + 40 * row);
      if ((row + col) % 2 == 0)
        cv::ellipse(pixels, centre, {14, 4}, 45 * col, 0, 360, 200, cv::FILLED);
      else
        cv::circle(pixels, centre, 8, 120, cv::FILLED);
    }
  }
  cv::Mat noise(pixels.size(), CV_8U);
  cv::RNG(99).fill(noise, cv::RNG::UNIFORM, 0, 20);
  return pixels + noise;
}

// The verdicts' probabilities (the winner's) of the objects measured on one image.
std::vector<double> winner_probabilities(Workspace& workspace, catalog::Id image_id) {
  std::vector<double> out;
  for (const StoredObject& o : stored_objects(workspace))
    if (o.image_id == image_id) out.push_back(o.class_probabilities["probability"].get<double>());
  return out;
}

TEST_F(LearnObjectsTest, ObjectsNeitherClassFitsAreLeftUnclearWhileTheClassesStayClassified) {
  const catalog::ImageRecord odd = learn_testing::add_image(*workspace_, project_, "odd/conflicting.png",
                                                            conflicting_objects_image());
  learn_testing::add_to_set(*workspace_, project_, "odd", {odd});
  MeasureOptions measure;
  measure.threshold = "70";
  measure.min_area = 20;
  ASSERT_EQ(measure_set(*workspace_, "default", "odd", measure, nullptr).objects, kObjectsPerImage);

  ObjectTrainRequest train;
  train.set = "plankton";
  train.tags = {"round", "elongated"};
  train.model_name = "plankton";
  train.trees = 50;
  train_object_model(*workspace_, train);
  ObjectPredictRequest predict;
  predict.model = "plankton";
  predict.min_probability = 0.8;
  predict.set = "odd";
  const ObjectPredictResult odd_verdicts = predict_objects(*workspace_, predict);
  predict.set = "plankton";
  predict_objects(*workspace_, predict);

  const std::vector<double> odd_p = winner_probabilities(*workspace_, odd.id);
  ASSERT_EQ(odd_p.size(), static_cast<std::size_t>(kObjectsPerImage));
  const auto unclear_odd = std::count_if(odd_p.begin(), odd_p.end(), [](double p) { return p < 0.8; });
  EXPECT_EQ(odd_verdicts.unclear, unclear_odd);
  const Outcome held_out = check_verdicts(*workspace_, scene_, predict.min_probability);
  std::printf("conflicting objects: %lld of %d unclear (winner probability %.2f-%.2f); held-out unclear %d of %d\n",
              static_cast<long long>(unclear_odd), kObjectsPerImage, *std::min_element(odd_p.begin(), odd_p.end()),
              *std::max_element(odd_p.begin(), odd_p.end()), held_out.held_out_unclear, held_out.held_out);
  // Most conflicting objects are left unclear; of the objects like the training ones, hardly any.
  EXPECT_GE(unclear_odd, kObjectsPerImage * 3 / 4);
  EXPECT_LE(held_out.held_out_unclear, held_out.held_out / 20);
  EXPECT_GE(held_out.held_out_right, held_out.held_out * 95 / 100);
}

TEST_F(LearnObjectsTest, TrainingWithoutTwoClassesOrObjectsIsRefusedAndStoresNoModel) {
  ObjectTrainRequest train;
  train.set = "plankton";
  train.model_name = "plankton";
  train.tags = {"round"};
  test::expect_invalid([&] { train_object_model(*workspace_, train); }, "at least two classes");
  // 'debris' is a tag nobody marked an object with: the marked objects are of one class.
  train.tags = {"round", "debris"};
  test::expect_invalid([&] { train_object_model(*workspace_, train); }, "tags");
  workspace_->catalog().ensure_set(project_, "empty");
  train.set = "empty";
  train.tags = {"round", "elongated"};
  test::expect_invalid([&] { train_object_model(*workspace_, train); }, "no measured objects");
  EXPECT_TRUE(catalog::LearnStore(workspace_->catalog()).list_models(project_).empty());
}

// The same use case through `tessera learn objects train|predict`, on the workspace the fixture made.
TEST_F(LearnObjectsTest, TheCliTrainsAndPredictsAndStoresTheVerdicts) {
  workspace_.reset();  // the CLI opens the catalog itself
  const learn_testing::CliRun trained =
      learn_testing::run_cli(dir_.path(), "learn objects train --set plankton --tags round,elongated --out plankton.tsm "
                                          "--trees 50 --json");
  ASSERT_EQ(trained.status, 0) << trained.err;
  const json t = json::parse(trained.out);
  EXPECT_EQ(t["objects"], kMarked * kObjectsPerImage);
  EXPECT_EQ(t["model"]["name"], "plankton");
  EXPECT_TRUE(std::filesystem::exists(dir_ / "plankton.tsm"));

  // By the model file: the verdicts name it.
  const learn_testing::CliRun predicted = learn_testing::run_cli(
      dir_.path(), "learn objects predict --model plankton.tsm --set plankton --min-probability 0.8");
  ASSERT_EQ(predicted.status, 0) << predicted.err;
  EXPECT_THAT(predicted.out, HasSubstr(fmt::format("{} object(s) classified", kImages * kObjectsPerImage)));

  workspace_ = std::make_unique<Workspace>(Workspace::open(dir_ / "ws"));
  const Outcome o = check_verdicts(*workspace_, scene_, 0.8);
  EXPECT_GE(static_cast<double>(o.held_out_right) / o.held_out, 0.95);
  for (const StoredObject& s : stored_objects(*workspace_)) EXPECT_EQ(s.class_probabilities["model_file"], "plankton.tsm");
}

}  // namespace
}  // namespace tessera::app
