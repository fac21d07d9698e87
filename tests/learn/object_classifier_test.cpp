#include "tessera/learn/object_classifier.hpp"

#include <random>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "../test_util.hpp"

using namespace tessera::learn;
using tessera::test::expect_invalid;

namespace {

// Round dim objects ("round") and elongated bright ones ("rod") drawn into one label image.
struct Scene {
  cv::Mat labels;
  cv::Mat intensity;
  std::vector<std::string> tags;  // by label
};

Scene scene(std::uint64_t seed, int per_class) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> jitter(-2, 2), angle(0, 180);
  Scene s{cv::Mat(60 * per_class, 120, CV_32S, cv::Scalar(0)), cv::Mat(60 * per_class, 120, CV_8U, cv::Scalar(10)),
          {}};
  int label = 0;
  for (int i = 0; i < per_class; ++i) {
    const cv::Point round_centre(30, 30 + 60 * i), rod_centre(90, 30 + 60 * i);
    const cv::Size round_size(12 + static_cast<int>(jitter(rng)), 11), rod_size(22 + static_cast<int>(jitter(rng)), 5);
    const double round_angle = angle(rng), rod_angle = angle(rng);
    cv::ellipse(s.labels, round_centre, round_size, round_angle, 0, 360, cv::Scalar(++label), cv::FILLED);
    cv::ellipse(s.intensity, round_centre, round_size, round_angle, 0, 360, cv::Scalar(80 + jitter(rng) * 5),
                cv::FILLED);
    s.tags.emplace_back("round");
    cv::ellipse(s.labels, rod_centre, rod_size, rod_angle, 0, 360, cv::Scalar(++label), cv::FILLED);
    cv::ellipse(s.intensity, rod_centre, rod_size, rod_angle, 0, 360, cv::Scalar(200 + jitter(rng) * 5), cv::FILLED);
    s.tags.emplace_back("rod");
  }
  return s;
}

}  // namespace

TEST(ObjectClassifier, TellsRoundFromRodAndSavesWithProvenance) {
  const Scene train = scene(1, 10);
  std::vector<int> labels;
  const FeatureTable table = measure_objects(train.labels, train.intensity, &labels);
  ASSERT_EQ(table.rows.size(), 20u);
  EXPECT_EQ(labels.front(), 1);
  ObjectTrainingOptions options;
  options.forest.trees = 20;
  options.provenance = {{"project", "plankton"}};
  const auto model = ObjectClassifier::train(table, train.tags, options);
  EXPECT_EQ(model.class_names(), (std::vector<std::string>{"rod", "round"}));

  const Scene test = scene(2, 5);
  FeatureTable test_table = measure_objects(test.labels, test.intensity);
  // Columns are matched by name: reversing their order changes nothing.
  FeatureTable reversed = test_table;
  std::reverse(reversed.columns.begin(), reversed.columns.end());
  for (auto& row : reversed.rows) std::reverse(row.begin(), row.end());
  const auto loaded = ObjectClassifier::load(model.save());
  EXPECT_EQ(loaded.provenance()["project"], "plankton");
  EXPECT_EQ(loaded.provenance()["objects"]["rod"], 10);
  const auto predictions = loaded.predict(reversed);
  ASSERT_EQ(predictions.size(), 10u);
  for (size_t i = 0; i < predictions.size(); ++i) {
    EXPECT_EQ(predictions[i].tag, test.tags[i]) << i << " p=" << predictions[i].probability;
    EXPECT_NEAR(predictions[i].probabilities[0] + predictions[i].probabilities[1], 1.0, 1e-5);
  }
  // Nothing is certain enough above probability 1.
  for (const auto& p : model.predict(test_table, 1.0)) {
    if (p.probability < 1.0) {
      EXPECT_EQ(p.tag, kUnclearTag);
    }
  }
}

TEST(ObjectClassifier, BadInputIsNamed) {
  const Scene s = scene(3, 3);
  const FeatureTable table = measure_objects(s.labels, s.intensity);
  expect_invalid([&] { ObjectClassifier::train(table, std::vector<std::string>(6, "rod")); }, "one class only");
  expect_invalid([&] { ObjectClassifier::train(table, {"rod"}); }, "1 tags for 6 rows");
  auto tags = s.tags;
  tags[2] = "unclear";
  expect_invalid([&] { ObjectClassifier::train(table, tags); }, "tags[2]");
  FeatureTable with_nan = table;
  with_nan.rows[4][1] = std::nan("");
  expect_invalid([&] { ObjectClassifier::train(with_nan, s.tags); }, "('perimeter') is nan");
  const auto model = ObjectClassifier::train(table, s.tags, {.forest = {.trees = 5}});
  FeatureTable missing = table;
  missing.columns.erase(missing.columns.begin());
  for (auto& row : missing.rows) row.erase(row.begin());
  expect_invalid([&] { model.predict(missing); }, "lacks the column 'area'");
  expect_invalid([&] { model.predict(table, 1.5); }, "unclear_below");
  std::string bytes = model.save();
  bytes[6] = 9;
  try {
    ObjectClassifier::load(bytes);
    ADD_FAILURE() << "loaded a model of another version";
  } catch (const tessera::Error& e) {
    EXPECT_EQ(e.code(), tessera::ErrorCode::unsupported);
  }
}
