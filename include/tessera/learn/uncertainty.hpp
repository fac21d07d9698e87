#pragma once

// Uncertainty of pixel predictions, for the active-learning loop: which images and regions the models are
// least sure about, so people annotate those next. Probability maps are the CV_32F per-class maps of
// PixelPrediction; an ensemble is one such vector per model (bootstrap forests with different seeds).

#include <vector>

#include <opencv2/core.hpp>

namespace tessera::learn {

using ProbabilityMaps = std::vector<cv::Mat>;  // one CV_32F map per class, all of one size

// Shannon entropy per pixel divided by log(class count): CV_32F in [0, 1], 0 = certain, 1 = uniform.
// Error{invalid_argument} naming "probabilities" for fewer than two maps, mixed sizes or types.
cv::Mat entropy_map(const ProbabilityMaps& probabilities);

// Per-pixel mean of the models' probabilities (the ensemble's prediction). Error{invalid_argument} naming
// "ensemble" for no models, models with different class counts or map sizes.
ProbabilityMaps mean_probabilities(const std::vector<ProbabilityMaps>& ensemble);

// Ensemble disagreement per pixel: the mean KL divergence of each model from the ensemble mean (= the
// mutual information between prediction and model, BALD), divided by log(class count): CV_32F in [0, 1].
// 0 when all models agree, whatever their confidence. Errors as mean_probabilities; one model gives 0.
cv::Mat disagreement_map(const std::vector<ProbabilityMaps>& ensemble);

// Variance of the models' winning-class votes per pixel: for each class the fraction f of models voting
// for it, summed f(1 - f) over classes, divided by its maximum (1 - 1/class count): CV_32F in [0, 1].
cv::Mat vote_variance_map(const std::vector<ProbabilityMaps>& ensemble);

// Combined per-pixel uncertainty: entropy of the mean plus disagreement, halved: CV_32F in [0, 1].
cv::Mat uncertainty_map(const std::vector<ProbabilityMaps>& ensemble);

// Summary of an uncertainty map over an image or region.
struct UncertaintyScore {
  double mean = 0;        // mean over the pixels considered
  double high_share = 0;  // share of those pixels above high_threshold
  long long pixels = 0;   // pixels considered
};

// Scores a CV_32F map; `mask` (CV_8U, same size, non-zero = consider) limits the pixels, empty = all.
// Error{invalid_argument} naming "uncertainty" or "mask".
UncertaintyScore score_uncertainty(const cv::Mat& uncertainty, const cv::Mat& mask = cv::Mat(),
                                   double high_threshold = 0.5);

struct RegionScore {
  cv::Rect region;
  UncertaintyScore score;
};

// Square windows of `size` px (clipped at the borders) tiled with `stride`, sorted by descending mean
// (ties: raster order). Windows whose mask share is below min_mask_share are skipped. Error{invalid_argument}
// naming "size" or "stride" when not positive.
std::vector<RegionScore> rank_regions(const cv::Mat& uncertainty, int size = 256, int stride = 128,
                                      const cv::Mat& mask = cv::Mat(), double min_mask_share = 0.0);

}  // namespace tessera::learn
