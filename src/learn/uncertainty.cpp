// Uncertainty maps and their summaries for choosing what to annotate next.

#include "tessera/learn/uncertainty.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "tessera/core/error.hpp"

namespace tessera::learn {
namespace {

// Probabilities below this count as this, so log(0) never appears and a confident 0 costs a finite amount.
constexpr float kFloor = 1e-7f;

Error bad(const std::string& field, const std::string& problem) {
  return Error(ErrorCode::invalid_argument, fmt::format("uncertainty: '{}' {}", field, problem));
}

void check_maps(const ProbabilityMaps& maps, const std::string& field) {
  if (maps.size() < 2) throw bad(field, fmt::format("needs at least two class maps, got {}", maps.size()));
  for (size_t c = 0; c < maps.size(); ++c) {
    if (maps[c].empty() || maps[c].type() != CV_32FC1) {
      throw bad(fmt::format("{}[{}]", field, c), "must be a non-empty CV_32F map");
    }
    if (maps[c].size() != maps[0].size()) {
      throw bad(fmt::format("{}[{}]", field, c),
                fmt::format("is {}x{} but map 0 is {}x{}", maps[c].cols, maps[c].rows, maps[0].cols, maps[0].rows));
    }
  }
}

void check_ensemble(const std::vector<ProbabilityMaps>& ensemble) {
  if (ensemble.empty()) throw bad("ensemble", "has no models");
  for (size_t m = 0; m < ensemble.size(); ++m) {
    check_maps(ensemble[m], fmt::format("ensemble[{}]", m));
    if (ensemble[m].size() != ensemble[0].size() || ensemble[m][0].size() != ensemble[0][0].size()) {
      throw bad(fmt::format("ensemble[{}]", m), "differs from model 0 in class count or map size");
    }
  }
}

float plogp(float p) {
  p = std::max(p, kFloor);
  return p * std::log(p);
}

}  // namespace

cv::Mat entropy_map(const ProbabilityMaps& probabilities) {
  check_maps(probabilities, "probabilities");
  const cv::Size size = probabilities[0].size();
  const float norm = 1.0f / std::log(static_cast<float>(probabilities.size()));
  cv::Mat out(size, CV_32F, cv::Scalar(0));
  for (const cv::Mat& p : probabilities) {
    for (int y = 0; y < size.height; ++y) {
      const float* in = p.ptr<float>(y);
      float* o = out.ptr<float>(y);
      for (int x = 0; x < size.width; ++x) o[x] -= plogp(in[x]) * norm;
    }
  }
  // Rounding can push a uniform prediction a hair above 1 or a certain one below 0.
  cv::min(cv::max(out, 0.0), 1.0, out);
  return out;
}

ProbabilityMaps mean_probabilities(const std::vector<ProbabilityMaps>& ensemble) {
  check_ensemble(ensemble);
  ProbabilityMaps mean;
  const double scale = 1.0 / static_cast<double>(ensemble.size());
  for (size_t c = 0; c < ensemble[0].size(); ++c) {
    cv::Mat sum(ensemble[0][c].size(), CV_32F, cv::Scalar(0));
    for (const auto& model : ensemble) sum += model[c];
    mean.push_back(sum * scale);
  }
  return mean;
}

cv::Mat disagreement_map(const std::vector<ProbabilityMaps>& ensemble) {
  // Mean KL(model || mean) = H(mean) - mean H(model): the mutual information (BALD).
  const ProbabilityMaps mean = mean_probabilities(ensemble);
  cv::Mat out = entropy_map(mean);
  const double scale = 1.0 / static_cast<double>(ensemble.size());
  for (const auto& model : ensemble) cv::scaleAdd(entropy_map(model), -scale, out, out);
  cv::max(out, 0.0, out);  // >= 0 in exact arithmetic; clears rounding
  return out;
}

cv::Mat vote_variance_map(const std::vector<ProbabilityMaps>& ensemble) {
  check_ensemble(ensemble);
  const int classes = static_cast<int>(ensemble[0].size());
  const cv::Size size = ensemble[0][0].size();
  const float models = static_cast<float>(ensemble.size());
  const float norm = 1.0f / (1.0f - 1.0f / static_cast<float>(classes));
  cv::Mat out(size, CV_32F);
  std::vector<float> votes(classes);
  for (int y = 0; y < size.height; ++y) {
    for (int x = 0; x < size.width; ++x) {
      std::fill(votes.begin(), votes.end(), 0.0f);
      for (const auto& model : ensemble) {
        int best = 0;
        for (int c = 1; c < classes; ++c) {
          if (model[c].at<float>(y, x) > model[best].at<float>(y, x)) best = c;
        }
        votes[best] += 1.0f;
      }
      float spread = 0;
      for (float v : votes) {
        const float f = v / models;
        spread += f * (1.0f - f);
      }
      out.at<float>(y, x) = spread * norm;
    }
  }
  return out;
}

cv::Mat uncertainty_map(const std::vector<ProbabilityMaps>& ensemble) {
  cv::Mat combined = entropy_map(mean_probabilities(ensemble)) + disagreement_map(ensemble);
  return combined * 0.5;
}

UncertaintyScore score_uncertainty(const cv::Mat& uncertainty, const cv::Mat& mask, double high_threshold) {
  if (uncertainty.empty() || uncertainty.type() != CV_32FC1) {
    throw bad("uncertainty", "must be a non-empty CV_32F map");
  }
  if (!mask.empty() && (mask.type() != CV_8UC1 || mask.size() != uncertainty.size())) {
    throw bad("mask", "must be CV_8U of the uncertainty map's size");
  }
  UncertaintyScore score;
  double sum = 0;
  long long high = 0;
  for (int y = 0; y < uncertainty.rows; ++y) {
    const float* u = uncertainty.ptr<float>(y);
    const std::uint8_t* m = mask.empty() ? nullptr : mask.ptr<std::uint8_t>(y);
    for (int x = 0; x < uncertainty.cols; ++x) {
      if (m && !m[x]) continue;
      sum += u[x];
      high += u[x] > high_threshold ? 1 : 0;
      ++score.pixels;
    }
  }
  if (score.pixels > 0) {
    score.mean = sum / static_cast<double>(score.pixels);
    score.high_share = static_cast<double>(high) / static_cast<double>(score.pixels);
  }
  return score;
}

std::vector<RegionScore> rank_regions(const cv::Mat& uncertainty, int size, int stride, const cv::Mat& mask,
                                      double min_mask_share) {
  if (size <= 0) throw bad("size", fmt::format("must be positive, got {}", size));
  if (stride <= 0) throw bad("stride", fmt::format("must be positive, got {}", stride));
  score_uncertainty(uncertainty, mask);  // validates both
  std::vector<RegionScore> regions;
  const cv::Rect image(0, 0, uncertainty.cols, uncertainty.rows);
  // Window origins tile the image; the last row/column of windows is pulled back to end at the border so
  // every pixel is covered by a full-size window where the image allows.
  auto origins = [&](int extent) {
    std::vector<int> starts;
    for (int s = 0;; s += stride) {
      const int clamped = std::max(0, std::min(s, extent - size));
      if (starts.empty() || clamped != starts.back()) starts.push_back(clamped);
      if (s + size >= extent) break;
    }
    return starts;
  };
  for (const int y : origins(uncertainty.rows)) {
    for (const int x : origins(uncertainty.cols)) {
      const cv::Rect window = cv::Rect(x, y, size, size) & image;
      const cv::Mat window_mask = mask.empty() ? cv::Mat() : mask(window);
      RegionScore region{window, score_uncertainty(uncertainty(window), window_mask)};
      if (region.score.pixels == 0) continue;
      if (static_cast<double>(region.score.pixels) < min_mask_share * window.area()) continue;
      regions.push_back(region);
    }
  }
  std::stable_sort(regions.begin(), regions.end(),
                   [](const RegionScore& a, const RegionScore& b) { return a.score.mean > b.score.mean; });
  return regions;
}

}  // namespace tessera::learn
