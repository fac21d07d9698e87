#include "tessera/learn/pixel_classifier.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "../test_util.hpp"

using namespace tessera::learn;
using tessera::test::expect_invalid;

namespace {

// Bright disks on a dark noisy background, with scribbles: a short stroke inside each disk (2) and a few
// background strokes (1).
LabelledImage disks(int seed) {
  cv::Mat image(96, 96, CV_16U);
  cv::randn(image, 300 + seed, 40);
  cv::Mat truth(image.size(), CV_8U, cv::Scalar(0));
  const std::vector<cv::Point> centres = {{24, 24}, {70, 30}, {40, 70}};
  for (const auto& c : centres) cv::circle(truth, c, 10, cv::Scalar(255), cv::FILLED);
  image.setTo(cv::Scalar(2000), truth);
  cv::GaussianBlur(image, image, cv::Size(5, 5), 1.2);
  cv::Mat labels(image.size(), CV_8U, cv::Scalar(0));
  for (const auto& c : centres) cv::line(labels, c - cv::Point(4, 0), c + cv::Point(4, 0), cv::Scalar(2));
  cv::line(labels, {2, 50}, {20, 50}, cv::Scalar(1));
  cv::line(labels, {60, 90}, {90, 90}, cv::Scalar(1));
  return {image, labels};
}

PixelTrainingOptions small_options() {
  PixelTrainingOptions options;
  options.features.sigmas = {1.0, 2.0};
  options.forest.trees = 10;
  options.provenance = {{"set", "demo"}};
  return options;
}

}  // namespace

TEST(PixelClassifier, SegmentsDisksFromAFewStrokes) {
  const auto model = PixelClassifier::train({disks(0)}, {"background", "nucleus"}, small_options());
  const LabelledImage other = disks(5);
  const PixelPrediction p = model.predict(other.image);
  ASSERT_EQ(p.probabilities.size(), 2u);
  EXPECT_EQ(p.classes.type(), CV_8U);
  EXPECT_EQ(p.classes.at<std::uint8_t>(24, 24), 2);
  EXPECT_EQ(p.classes.at<std::uint8_t>(5, 90), 1);
  EXPECT_GT(p.probabilities[1].at<float>(30, 70), 0.9f);  // row 30, column 70: a disk centre
  cv::Mat sum = p.probabilities[0] + p.probabilities[1];
  EXPECT_LT(cv::norm(sum, cv::Mat::ones(sum.size(), CV_32F), cv::NORM_INF), 1e-5);
  // The three disks come out as three instances.
  EXPECT_EQ(cv::countNonZero(instance_labels(p.probabilities[1]) > 0) > 0, true);
  double max_label = 0;
  cv::minMaxLoc(instance_labels(p.probabilities[1]), nullptr, &max_label);
  EXPECT_EQ(max_label, 3);
}

TEST(PixelClassifier, SavedModelLoadsWithProvenanceAndPredictsTheSame) {
  const auto model = PixelClassifier::train({disks(0)}, {"background", "nucleus"}, small_options());
  const auto loaded = PixelClassifier::load(model.save());
  EXPECT_EQ(loaded.class_names(), model.class_names());
  EXPECT_EQ(loaded.provenance()["set"], "demo");
  EXPECT_EQ(loaded.provenance()["format_version"], kPixelModelFormatVersion);
  EXPECT_EQ(loaded.provenance()["labelled_pixels"]["nucleus"], 27);
  const cv::Mat image = disks(3).image;
  EXPECT_EQ(cv::norm(model.predict(image).probabilities[1], loaded.predict(image).probabilities[1], cv::NORM_INF), 0);
}

TEST(PixelClassifier, ModelOfAnotherFormatVersionIsRefusedByName) {
  const std::string saved = PixelClassifier::train({disks(0)}, {"background", "nucleus"}, small_options()).save();
  // Version 1 (forests with float thresholds) came before; a newer version may come after. The little-endian
  // version follows the six-byte magic.
  for (const int version : {1, kPixelModelFormatVersion + 1}) {
    std::string bytes = saved;
    bytes[6] = static_cast<char>(version);
    try {
      PixelClassifier::load(bytes);
      ADD_FAILURE() << "loaded a model of version " << version;
    } catch (const tessera::Error& e) {
      EXPECT_EQ(e.code(), tessera::ErrorCode::unsupported);
      const std::string message = e.what();
      EXPECT_NE(message.find(fmt::format("format version {} cannot be read", version)), std::string::npos) << message;
      EXPECT_NE(message.find(fmt::format("reads version {}", kPixelModelFormatVersion)), std::string::npos)
          << message;
    }
  }
  try {
    PixelClassifier::load("not a model at all, just some text");
    ADD_FAILURE() << "loaded text";
  } catch (const tessera::Error& e) {
    EXPECT_EQ(e.code(), tessera::ErrorCode::corrupt);
  }
}

TEST(PixelClassifier, BadTrainingInputIsNamed) {
  const auto options = small_options();
  LabelledImage one_class = disks(0);
  one_class.labels.setTo(0, one_class.labels == 1);
  expect_invalid([&] { PixelClassifier::train({one_class}, {"background", "nucleus"}, options); },
                 "one class only ('nucleus')");
  LabelledImage unlabelled = disks(0);
  unlabelled.labels.setTo(0);
  expect_invalid([&] { PixelClassifier::train({unlabelled}, {"background", "nucleus"}, options); },
                 "no labelled pixels");
  LabelledImage mismatched = disks(0);
  mismatched.labels = cv::Mat(50, 96, CV_8U, cv::Scalar(1));
  expect_invalid([&] { PixelClassifier::train({disks(1), mismatched}, {"background", "nucleus"}, options); },
                 "images[1].labels' is 96x50 but the image is 96x96");
  LabelledImage too_high = disks(0);
  too_high.labels.at<std::uint8_t>(0, 0) = 3;
  expect_invalid([&] { PixelClassifier::train({too_high}, {"background", "nucleus"}, options); }, "label 3");
  expect_invalid([&] { PixelClassifier::train({disks(0)}, {"nucleus"}, options); }, "class_names");
  expect_invalid([&] { PixelClassifier::train(std::vector<LabelledImage>{}, {"background", "nucleus"}, options); },
                 "'images' is empty");
  LabelledImage nan_image = disks(0);
  nan_image.image.convertTo(nan_image.image, CV_32F);
  nan_image.image.at<float>(3, 3) = std::numeric_limits<float>::quiet_NaN();
  expect_invalid([&] { PixelClassifier::train({nan_image}, {"background", "nucleus"}, options); }, "NaN");
}

TEST(PixelClassifier, SampleCapKeepsEveryClassShare) {
  auto options = small_options();
  options.sample_cap = 100;
  LabelledImage dense = disks(0);
  dense.labels.setTo(1);
  dense.labels(cv::Rect(0, 0, 96, 24)).setTo(2);  // a quarter class 2
  const PixelSamples samples = collect_pixel_samples({dense}, 2, options);
  EXPECT_EQ(samples.rows.rows, 100);
  EXPECT_EQ(std::count(samples.classes.begin(), samples.classes.end(), 1), 25);
  EXPECT_EQ(samples.class_pixels[1], 96 * 24);
}

TEST(InstanceLabels, TwoTouchingDisksSplitAtTheirNeck) {
  cv::Mat probability(80, 120, CV_32F, cv::Scalar(0.05));
  cv::circle(probability, {40, 40}, 18, cv::Scalar(0.95), cv::FILLED);
  cv::circle(probability, {72, 40}, 16, cv::Scalar(0.95), cv::FILLED);
  const cv::Mat labels = instance_labels(probability);
  EXPECT_EQ(labels.type(), CV_32S);
  EXPECT_NE(labels.at<std::int32_t>(40, 30), labels.at<std::int32_t>(40, 80));
  EXPECT_GT(labels.at<std::int32_t>(40, 30), 0);
  EXPECT_GT(labels.at<std::int32_t>(40, 80), 0);
  double max_label = 0;
  cv::minMaxLoc(labels, nullptr, &max_label);
  EXPECT_EQ(max_label, 2);
  expect_invalid([&] { instance_labels(probability, {.threshold = 1.5}); }, "'threshold'");
}

// Features handed in by a caller are checked against their names before any plane is read (a missing plane
// or planes smaller than `size` were read out of bounds).
TEST(PixelClassifier, FeaturesWhosePlanesDoNotMatchTheirNamesAreRefused) {
  const auto model = PixelClassifier::train({disks(0)}, {"background", "nucleus"}, small_options());
  const PixelFeatures good = compute_pixel_features(disks(5).image, small_options().features);
  EXPECT_NO_THROW(model.predict(good));
  PixelFeatures missing = good;
  missing.planes.pop_back();
  expect_invalid([&] { model.predict(missing); }, "planes");
  PixelFeatures larger = good;
  larger.size = {good.size.width + 1, good.size.height};
  expect_invalid([&] { model.predict(larger); }, "is not CV_32F of 97x96");
  PixelFeatures wrong_type = good;
  wrong_type.planes[1].convertTo(wrong_type.planes[1], CV_64F);
  expect_invalid([&] { model.predict(wrong_type); }, wrong_type.names[1]);
}
