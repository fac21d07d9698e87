#include "tessera/learn/uncertainty.hpp"

#include <cmath>

#include <gtest/gtest.h>

#include "../test_util.hpp"

using namespace tessera::learn;

namespace {

// Two-class maps with foreground probability p everywhere.
ProbabilityMaps uniform(float p, cv::Size size = {8, 8}) {
  return {cv::Mat(size, CV_32F, cv::Scalar(1 - p)), cv::Mat(size, CV_32F, cv::Scalar(p))};
}

}  // namespace

TEST(Uncertainty, EntropyIsZeroWhenCertainAndOneWhenUniform) {
  EXPECT_NEAR(entropy_map(uniform(1.0f)).at<float>(3, 3), 0.0f, 1e-5f);
  EXPECT_NEAR(entropy_map(uniform(0.5f)).at<float>(3, 3), 1.0f, 1e-5f);
  // H(0.9, 0.1) / log 2
  const double expected = -(0.9 * std::log(0.9) + 0.1 * std::log(0.1)) / std::log(2.0);
  EXPECT_NEAR(entropy_map(uniform(0.9f)).at<float>(0, 0), expected, 1e-5);
}

TEST(Uncertainty, DisagreementSeparatesConfidentDissentFromSharedDoubt) {
  // Two models equally unsure: high entropy, no disagreement.
  const cv::Mat shared_doubt = disagreement_map({uniform(0.5f), uniform(0.5f)});
  EXPECT_NEAR(shared_doubt.at<float>(0, 0), 0.0f, 1e-6f);
  // Two confident models that contradict each other: maximal disagreement and vote variance.
  const cv::Mat dissent = disagreement_map({uniform(1.0f), uniform(0.0f)});
  EXPECT_NEAR(dissent.at<float>(0, 0), 1.0f, 1e-4f);
  EXPECT_NEAR(vote_variance_map({uniform(1.0f), uniform(0.0f)}).at<float>(0, 0), 1.0f, 1e-6f);
  EXPECT_NEAR(vote_variance_map({uniform(0.8f), uniform(0.9f)}).at<float>(0, 0), 0.0f, 1e-6f);
  EXPECT_NEAR(uncertainty_map({uniform(1.0f), uniform(0.0f)}).at<float>(0, 0), 1.0f, 1e-4f);
}

TEST(Uncertainty, RegionsRankByMeanUncertainty) {
  cv::Mat map(64, 96, CV_32F, cv::Scalar(0.1));
  map(cv::Rect(64, 32, 32, 32)).setTo(0.9);
  const auto regions = rank_regions(map, 32, 32);
  ASSERT_EQ(regions.size(), 6u);
  EXPECT_EQ(regions.front().region, cv::Rect(64, 32, 32, 32));
  EXPECT_NEAR(regions.front().score.mean, 0.9, 1e-6);
  EXPECT_NEAR(regions.front().score.high_share, 1.0, 1e-9);
  EXPECT_NEAR(regions.back().score.mean, 0.1, 1e-6);
  const UncertaintyScore whole = score_uncertainty(map);
  EXPECT_NEAR(whole.mean, (0.1 * 5 + 0.9) / 6, 1e-6);
  EXPECT_EQ(whole.pixels, 64 * 96);
}

TEST(Uncertainty, BadInputIsNamed) {
  tessera::test::expect_invalid([] { entropy_map({cv::Mat(4, 4, CV_32F)}); }, "at least two class maps");
  tessera::test::expect_invalid([] { mean_probabilities({}); }, "'ensemble' has no models");
  tessera::test::expect_invalid([] { mean_probabilities({uniform(0.5f), uniform(0.5f, {4, 4})}); }, "ensemble[1]");
  tessera::test::expect_invalid([] { rank_regions(cv::Mat(8, 8, CV_32F, cv::Scalar(0)), 0); }, "'size'");
}
