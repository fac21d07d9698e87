#include "track/link_costs.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tessera::track {
namespace {

constexpr double kBirth = 0.8;
constexpr double kBorderBirth = 0.6;
constexpr double kAreaWeight = 0.5;
constexpr double kBorderAreaWeight = 0.15;
constexpr double kGapPenalty = 0.2;  // per missed frame: a direct link wins over a gap of equal cost
// Daughters' combined area relative to the mother's: telophase nuclei are condensed, so ~0.55 in the
// synthetic movies and up to ~1 in cell (cytoplasm) segmentations; the cost is centred between.
constexpr double kDaughterShare = 0.75;

double log_ratio(double a, double b) { return std::abs(std::log(a / b)); }

}  // namespace

double CostModel::birth(const ObjectDesc& o) const { return touches_border(o, frame) ? kBorderBirth : kBirth; }

double CostModel::radius(int skipped) const { return max_distance * std::sqrt(1.0 + skipped); }

std::optional<double> CostModel::link(const ObjectDesc& from, const ObjectDesc& to, int skipped) const {
  const double d = std::hypot(from.row - to.row, from.col - to.col);
  const double r = radius(skipped);
  if (d > r) return std::nullopt;
  const double a = static_cast<double>(from.area);
  const double b = static_cast<double>(to.area);
  const double shared = shared_area(from, to);
  double overlap = shared / (a + b - shared);
  double area_weight = kAreaWeight;
  if (touches_border(from, frame) && touches_border(to, frame)) {
    // Cut by the border, a cell entering or leaving changes its visible area fast: judge the overlap by
    // the smaller part and weigh the area change less.
    overlap = std::max(overlap, shared / std::min(a, b));
    area_weight = kBorderAreaWeight;
  }
  const double move = d / r;
  return (1.0 - overlap) + move * move + area_weight * log_ratio(b, a) + kGapPenalty * skipped;
}

std::optional<double> CostModel::division(const ObjectDesc& m, const ObjectDesc& d1, const ObjectDesc& d2) const {
  const double am = static_cast<double>(m.area);
  const double a1 = static_cast<double>(d1.area);
  const double a2 = static_cast<double>(d2.area);
  const double r1 = a1 / am;
  const double r2 = a2 / am;
  // A daughter cut by the frame border shows only part of her area, which excuses a lopsided pair.
  const ObjectDesc& smaller = a1 <= a2 ? d1 : d2;
  const bool clipped = touches_border(smaller, frame);
  const double min_share = clipped ? 0.03 : 0.1;
  // Each daughter is clearly smaller than her mother; together they hold a plausible share of her.
  if (r1 < min_share || r1 > 0.85 || r2 < min_share || r2 > 0.85) return std::nullopt;
  const double share = r1 + r2;
  if (share < (clipped ? 0.15 : 0.3) || share > 1.5) return std::nullopt;
  const double asymmetry = log_ratio(a1, a2);
  if (!clipped && asymmetry > std::log(3.0)) return std::nullopt;
  // On opposite sides of the mother's centroid, their midpoint close to it.
  const double v1r = d1.row - m.row;
  const double v1c = d1.col - m.col;
  const double v2r = d2.row - m.row;
  const double v2c = d2.col - m.col;
  if (v1r * v2r + v1c * v2c >= 0.0) return std::nullopt;
  const double radius = std::sqrt(am / std::numbers::pi);
  const double offset = std::hypot((v1r + v2r) / 2.0, (v1c + v2c) / 2.0) / radius;
  if (offset > 1.0) return std::nullopt;

  const double clip_weight = clipped ? 0.3 : 1.0;
  double cost = clip_weight * (asymmetry + log_ratio(share, kDaughterShare)) + offset;
  if (!m.runs.empty() && !d1.runs.empty() && !d2.runs.empty()) {
    // Daughters appear where the mother was (she does not move much in one frame).
    const double inside = static_cast<double>(overlap_area(d1.runs, m.runs) + overlap_area(d2.runs, m.runs));
    cost += 1.0 - inside / (a1 + a2);
  } else {
    cost += 0.5;  // unknown: as if half inside
  }
  if (std::isfinite(d1.intensity_mean) && std::isfinite(d2.intensity_mean) && d1.intensity_mean > 0.0 &&
      d2.intensity_mean > 0.0) {
    cost += 0.5 * log_ratio(d1.intensity_mean, d2.intensity_mean);
  }
  // A cell entering at the border beside another is the usual look-alike, unless the mother was at the
  // border herself.
  if ((touches_border(d1, frame) || touches_border(d2, frame)) && !touches_border(m, frame)) cost += 0.5;
  return cost;
}

}  // namespace tessera::track
