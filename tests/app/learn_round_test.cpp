#include "tessera/app/learn_round.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <opencv2/imgproc.hpp>
#include <random>

#include "tessera/core/error.hpp"
#include "tessera/ops/metrics.hpp"
#include "tessera/synth/timelapse.hpp"
#include "test_util.hpp"

namespace tessera::app {
namespace {

// Sparse scribbles from a ground-truth label image: nucleus strokes along each nucleus's eroded core and
// background strokes along rows from 2 px outside every nucleus, as a person tracing just outside the edge
// would, labels 1 = nucleus, 2 = background. (Strokes kept 4 px away left a band the forest filled with
// nucleus: masks twice the true area on every frame, an error no ranking could find.)
cv::Mat scribbles_from_truth(const cv::Mat& truth_labels) {
  const cv::Mat foreground = truth_labels > 0;
  cv::Mat core;
  cv::erode(foreground, core, cv::getStructuringElement(cv::MORPH_ELLIPSE, {3, 3}));
  cv::Mat labels = cv::Mat::zeros(truth_labels.size(), CV_8U);
  // A horizontal line through every other core row: strokes, not filled regions.
  for (int y = 0; y < core.rows; y += 2) labels.row(y).setTo(1, core.row(y));
  cv::Mat far_background;
  cv::dilate(foreground, far_background, cv::getStructuringElement(cv::MORPH_ELLIPSE, {3, 3}));
  far_background = far_background == 0;
  for (int y = 2; y < labels.rows; y += 12) labels.row(y).setTo(2, far_background.row(y));
  return labels;
}

// A frame with Gaussian noise of the given standard deviation (camera counts) added.
cv::Mat with_noise(const cv::Mat& frame, double sigma, std::uint64_t seed) {
  cv::Mat f;
  frame.convertTo(f, CV_32F);
  cv::Mat noise(f.size(), CV_32F);
  cv::RNG rng(seed);
  rng.fill(noise, cv::RNG::NORMAL, 0, sigma);
  return f + noise;
}

struct SelectionOutcome {
  double ranked_error = 0;  // mean (1 - Dice) of the images uncertainty ranks first
  double random_error = 0;  // mean (1 - Dice) of as many images chosen at random
  double oracle_error = 0;  // mean (1 - Dice) of the truly worst images: the most any ranking can reach
};

// One seed: a synthetic time-lapse position, two annotated frames (noise 60), 20 candidate frames with
// noise from none to 1500 counts (background ~500-1500, nuclei a few hundred above: the heavy end hides
// them even from the smooth features); the round's ranking vs a random pick of the same size.
SelectionOutcome run_selection(std::uint64_t seed) {
  synth::TimelapseOptions synth_options;
  synth_options.positions = 1;
  synth_options.frames = 22;
  synth_options.size = 128;
  synth_options.nuclei = 10;
  synth_options.seed = seed;
  const synth::TimelapseFrames movie = synth::generate_position(synth_options, 1);

  RoundOptions options;
  options.models = 5;
  options.trees = 20;
  options.patch = 64;
  options.seed = seed;
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> noise_level(0, 1);
  std::vector<TrainingPatch> patches;
  for (int t = 0; t < 2; ++t) {
    const cv::Mat frame = with_noise(movie.images[t], 60, seed * 100 + t);
    for (auto& p : training_patches(frame, scribbles_from_truth(movie.labels[t]), options.patch)) patches.push_back(p);
  }
  const Ensemble ensemble = train_ensemble(patches, {"nucleus", "background"}, options);

  std::vector<double> scores, errors;
  for (int t = 2; t < synth_options.frames; ++t) {
    const cv::Mat frame = with_noise(movie.images[t], 1500 * noise_level(random), seed * 100 + t);
    const ImageUncertainty u = score_image(ensemble, frame, options.patch);
    scores.push_back(u.score);
    errors.push_back(1 - ops::mask_overlap(u.classes == 1, movie.labels[t] > 0).dice());
  }
  constexpr std::size_t kChosen = 5;
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  std::vector<std::size_t> shuffled(order);
  std::shuffle(shuffled.begin(), shuffled.end(), random);
  std::vector<double> worst(errors);
  std::sort(worst.begin(), worst.end(), std::greater<>());
  SelectionOutcome out;
  for (std::size_t i = 0; i < kChosen; ++i) {
    out.ranked_error += errors[order[i]] / kChosen;
    out.random_error += errors[shuffled[i]] / kChosen;
    out.oracle_error += worst[i] / kChosen;
  }
  return out;
}

TEST(LearnRound, UncertaintyRankedSelectionHasHigherErrorThanRandomOverTenSeeds) {
  double ranked = 0, random = 0, oracle = 0;
  int wins = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const SelectionOutcome o = run_selection(seed);
    std::printf("seed %2llu: mean error of the 5 most uncertain %.3f, of 5 random %.3f, of the 5 worst %.3f\n",
                static_cast<unsigned long long>(seed), o.ranked_error, o.random_error, o.oracle_error);
    ranked += o.ranked_error / 10;
    random += o.random_error / 10;
    oracle += o.oracle_error / 10;
    wins += o.ranked_error > o.random_error;
  }
  const double captured = (ranked - random) / (oracle - random);
  std::printf("over 10 seeds: ranked %.3f vs random %.3f (worst %.3f): %.0f%% of the possible gain, higher in %d of 10\n",
              ranked, random, oracle, 100 * captured, wins);
  // Measured (2026-11-22): ranked 0.144 vs random 0.114, worst 0.146 (95% of the gain), higher in 10 of 10.
  // Before the scribbles reached the nuclei and the noise reached 1500: 0.400 vs 0.386, worst 0.410 (58%),
  // higher in 7 of 10; top-k% and boundary-band means of the uncertainty ranked no better than the mean.
  EXPECT_GE(captured, 0.75);
  EXPECT_GE(wins, 9);
}

TEST(LearnRound, TrainingPatchesAreTheTilesHoldingLabels) {
  cv::Mat image(100, 150, CV_8U, cv::Scalar(10));
  cv::Mat labels = cv::Mat::zeros(image.size(), CV_8U);
  labels.at<std::uint8_t>(5, 5) = 1;
  labels.at<std::uint8_t>(90, 140) = 2;
  const auto patches = training_patches(image, labels, 64);
  ASSERT_EQ(patches.size(), 2u);
  EXPECT_EQ(patches[0].image.size(), cv::Size(64, 64));
  EXPECT_EQ(patches[1].image.size(), cv::Size(150 - 128, 100 - 64));  // clipped at the border
  EXPECT_EQ(patches[1].labels.at<std::uint8_t>(90 - 64, 140 - 128), 2);
}

TEST(LearnRound, OptionsOutOfRangeOrUnknownAreNamed) {
  test::expect_invalid([] { round_options_from_json({{"models", 1}}); }, "models");
  test::expect_invalid([] { round_options_from_json({{"patch", 8}}); }, "patch");
  test::expect_invalid([] { round_options_from_json({{"top", "ten"}}); }, "top");
  test::expect_invalid([] { round_options_from_json({{"colour", 1}}); }, "colour");
  test::expect_invalid([] { round_options_from_json({{"held_out", 0.95}}); }, "held_out");
  const RoundOptions o = round_options_from_json({{"models", 3}, {"top", 4}, {"seed", 9}, {"with_masks", true}});
  EXPECT_EQ(o.models, 3);
  EXPECT_EQ(o.top, 4);
  EXPECT_EQ(o.seed, 9u);
  EXPECT_TRUE(o.with_masks);
  EXPECT_EQ(round_options_from_json(to_json(o)).models, 3);
}

TEST(LearnRound, AnEnsembleOnOneClassIsRefused) {
  cv::Mat image(64, 64, CV_8U, cv::Scalar(10));
  cv::Mat labels = cv::Mat::zeros(image.size(), CV_8U);
  labels.row(3).setTo(1);
  RoundOptions options;
  options.patch = 32;
  options.trees = 2;
  try {
    train_ensemble(training_patches(image, labels, options.patch), {"nucleus", "background"}, options);
    ADD_FAILURE() << "trained on one class";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.what();
  }
}

}  // namespace
}  // namespace tessera::app
