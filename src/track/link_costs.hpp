#pragma once

#include <opencv2/core.hpp>
#include <optional>

#include "tessera/track/objects.hpp"

namespace tessera::track {

// The tracker's cost model in one place. Costs are unitless: an exact overlap with no motion and no
// size change costs 0; a link is taken only when it costs less than ending one track plus starting
// another (death + birth).
struct CostModel {
  double max_distance = 1.0;  // pixels per frame
  cv::Size frame;             // empty: no border rules

  // Starting or ending a track; cheaper for objects at the frame border, where cells enter and leave.
  double birth(const ObjectDesc& o) const;
  double death(const ObjectDesc& o) const { return birth(o); }

  // Search radius for a link that skips `skipped` frames (motion grows like a random walk).
  double radius(int skipped) const;

  // Cost of linking `from` to `to` with `skipped` frames missing between them, or nothing when the
  // centroids are farther apart than radius(skipped).
  std::optional<double> link(const ObjectDesc& from, const ObjectDesc& to, int skipped) const;

  // Cost of `mother` dividing into d1 and d2 in the next frame, or nothing when the three do not look
  // like a division (see Tracker). Accept when <= kMaxDivisionCost.
  std::optional<double> division(const ObjectDesc& mother, const ObjectDesc& d1, const ObjectDesc& d2) const;
};

inline constexpr double kMaxDivisionCost = 1.5;

}  // namespace tessera::track
