#pragma once

#include <cstdint>

#include "tessera/track/track_set.hpp"

namespace tessera::track {

// How a tracking result agrees with the truth over the same objects ((frame, label) pairs).
// A link joins two consecutive appearances of one track (across a gap too); a division is a mother's
// last object with the set of her daughters' first objects.
struct TrackingScore {
  std::int64_t true_links = 0;    // links in the truth
  std::int64_t found_links = 0;   // of those, also links in the result
  std::int64_t result_links = 0;  // links in the result
  std::int64_t true_divisions = 0;
  std::int64_t result_divisions = 0;
  std::int64_t matched_divisions = 0;  // same mother object and same daughter objects

  double link_recall() const;     // found / true links (1 when there are none)
  double link_precision() const;  // found / result links (1 when there are none)
  double division_precision() const;
  double division_recall() const;
  double division_f1() const;
};

// Error{invalid_argument} when the two sets do not hold the same objects (naming the frame and label).
TrackingScore score_tracking(const TrackSet& truth, const TrackSet& result);

}  // namespace tessera::track
