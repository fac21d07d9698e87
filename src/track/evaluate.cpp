#include "tessera/track/evaluate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tessera/core/error.hpp"

namespace tessera::track {
namespace {

using ObjectKey = std::pair<int, std::int32_t>;  // (frame, label)
using Link = std::pair<ObjectKey, ObjectKey>;

struct Events {
  std::vector<Link> links;  // sorted (a set would take ~4x the memory on million-link series)
  std::map<ObjectKey, std::set<ObjectKey>> divisions;  // mother's last object -> daughters' first
};

Events events_of(const TrackSet& set) {
  std::unordered_map<std::int32_t, ObjectKey> last;   // track -> latest object seen
  std::unordered_map<std::int32_t, ObjectKey> first;  // track -> first object
  Events ev;
  for (size_t f = 0; f < set.frames.size(); ++f) {
    for (const ObjectTrack& o : set.frames[f]) {
      const ObjectKey key{static_cast<int>(f), o.label};
      const auto it = last.find(o.track);
      if (it != last.end())
        ev.links.push_back({it->second, key});
      else
        first[o.track] = key;
      last[o.track] = key;
    }
  }
  for (const Track& t : set.tracks) {
    if (t.parent == 0) continue;
    const auto mother = last.find(t.parent);
    const auto daughter = first.find(t.id);
    if (mother == last.end() || daughter == first.end()) continue;
    ev.divisions[mother->second].insert(daughter->second);
  }
  std::sort(ev.links.begin(), ev.links.end());
  // A single child is a gap (Cell Tracking Challenge style), not a division.
  std::erase_if(ev.divisions, [](const auto& d) { return d.second.size() < 2; });
  return ev;
}

double ratio(std::int64_t a, std::int64_t b) { return b == 0 ? 1.0 : static_cast<double>(a) / static_cast<double>(b); }

}  // namespace

double TrackingScore::link_recall() const { return ratio(found_links, true_links); }
double TrackingScore::link_precision() const { return ratio(found_links, result_links); }
double TrackingScore::division_precision() const { return ratio(matched_divisions, result_divisions); }
double TrackingScore::division_recall() const { return ratio(matched_divisions, true_divisions); }
double TrackingScore::division_f1() const {
  const double p = division_precision();
  const double r = division_recall();
  return p + r == 0.0 ? 0.0 : 2.0 * p * r / (p + r);
}

TrackingScore score_tracking(const TrackSet& truth, const TrackSet& result) {
  if (truth.frames.size() != result.frames.size()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("score: truth has {} frames, result {}", truth.frames.size(), result.frames.size()));
  }
  for (size_t f = 0; f < truth.frames.size(); ++f) {
    const auto& a = truth.frames[f];
    const auto& b = result.frames[f];
    for (size_t k = 0; k < std::max(a.size(), b.size()); ++k) {
      if (k >= a.size() || k >= b.size() || a[k].label != b[k].label) {
        const std::int32_t label = k < a.size() ? a[k].label : b[k].label;
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("score: frame {}: label {} is not in both the truth and the result", f, label));
      }
    }
  }
  const Events t = events_of(truth);
  const Events r = events_of(result);
  TrackingScore s;
  s.true_links = static_cast<std::int64_t>(t.links.size());
  s.result_links = static_cast<std::int64_t>(r.links.size());
  for (const Link& l : t.links) s.found_links += std::binary_search(r.links.begin(), r.links.end(), l) ? 1 : 0;
  s.true_divisions = static_cast<std::int64_t>(t.divisions.size());
  s.result_divisions = static_cast<std::int64_t>(r.divisions.size());
  for (const auto& [mother, daughters] : t.divisions) {
    const auto it = r.divisions.find(mother);
    if (it != r.divisions.end() && it->second == daughters) ++s.matched_divisions;
  }
  return s;
}

}  // namespace tessera::track
