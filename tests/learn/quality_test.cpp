// Quality of the pixel classifier trained from scribbles (issue 8): scribbles generated from ground truth
// cover at most 2% of the pixels of the training images; the foreground Dice on held-back images must be
// >= 0.85. Data: the DSB 2018 fluorescence nuclei of ../shared/data (train on two quadrants, test on the
// other two) and the synthetic nuclear time-lapse (train on frames 0-1, test on frames 3-5).

#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "scribbles.hpp"
#include "tessera/learn/pixel_classifier.hpp"
#include "tessera/ops/metrics.hpp"
#include "tessera/synth/timelapse.hpp"

namespace fs = std::filesystem;
using namespace tessera::learn;

namespace {

const fs::path kData = fs::path(TESSERA_SOURCE_DIR) / ".." / "shared" / "data";

struct Sample {
  cv::Mat image;
  cv::Mat labels;  // CV_32S instances
};

// Trains on `train` from scribbles, predicts `test`; returns the pooled foreground Dice, printing per image.
double scribble_dice(const std::string& dataset, const std::vector<Sample>& train, const std::vector<Sample>& test) {
  std::vector<LabelledImage> labelled;
  long long scribbled = 0, pixels = 0, foreground = 0, foreground_scribbled = 0;
  for (const Sample& s : train) {
    const cv::Mat scribbles = test::scribbles_from_truth(s.labels);
    scribbled += cv::countNonZero(scribbles);
    foreground_scribbled += cv::countNonZero(scribbles == 2);
    pixels += static_cast<long long>(s.labels.total());
    foreground += cv::countNonZero(s.labels);
    labelled.push_back({s.image, scribbles});
  }
  const double share = static_cast<double>(scribbled) / static_cast<double>(pixels);
  fmt::print("{}: scribbles cover {:.2f}% of the training pixels ({} px; {:.2f}% of the object pixels)\n", dataset,
             100 * share, scribbled, 100.0 * static_cast<double>(foreground_scribbled) / static_cast<double>(foreground));
  EXPECT_LE(share, 0.02) << dataset;
  const PixelClassifier model = PixelClassifier::train(labelled, {"background", "nucleus"});
  tessera::ops::MaskOverlap pooled;
  for (size_t i = 0; i < test.size(); ++i) {
    const PixelPrediction prediction = model.predict(test[i].image);
    const cv::Mat predicted = prediction.classes == 2;
    const auto overlap = tessera::ops::mask_overlap(predicted, test[i].labels != 0);
    fmt::print("{}: held-back image {} foreground Dice {:.3f}\n", dataset, i, overlap.dice());
    pooled.area_a += overlap.area_a;
    pooled.area_b += overlap.area_b;
    pooled.intersection += overlap.intersection;
  }
  fmt::print("{}: pooled held-back foreground Dice {:.3f}\n", dataset, pooled.dice());
  return pooled.dice();
}

}  // namespace

TEST(PixelClassifierQuality, ScribblesOnTwoQuadrantsOfDsbNucleiSegmentTheOtherTwo) {
  const fs::path dir = kData / "stardist_test_images";
  if (!fs::exists(dir / "img2d.tif")) GTEST_SKIP() << "no ../shared/data";
  const cv::Mat image = cv::imread((dir / "img2d.tif").string(), cv::IMREAD_UNCHANGED);
  cv::Mat labels;
  cv::imread((dir / "mask2d.tif").string(), cv::IMREAD_UNCHANGED).convertTo(labels, CV_32S);
  ASSERT_FALSE(image.empty());
  const int h = image.rows / 2, w = image.cols / 2;
  auto quadrant = [&](int qy, int qx) {
    const cv::Rect r(qx * w, qy * h, w, h);
    return Sample{image(r).clone(), labels(r).clone()};
  };
  const double dice = scribble_dice("DSB2018 nuclei", {quadrant(0, 0), quadrant(1, 1)},
                                    {quadrant(0, 1), quadrant(1, 0)});
  EXPECT_GE(dice, 0.85);
}

TEST(PixelClassifierQuality, ScribblesOnTwoSyntheticFramesSegmentLaterFrames) {
  tessera::synth::TimelapseOptions options;
  options.positions = 1;
  options.frames = 6;
  options.size = 256;
  options.nuclei = 15;
  options.seed = 8;
  const auto frames = tessera::synth::generate_position(options, 1);
  auto sample = [&](int t) {
    cv::Mat labels;
    frames.labels[t].convertTo(labels, CV_32S);
    return Sample{frames.images[t], labels};
  };
  const double dice = scribble_dice("synthetic time-lapse", {sample(0), sample(1)}, {sample(3), sample(4), sample(5)});
  EXPECT_GE(dice, 0.85);
}
