#include "tessera/track/track_set.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <unordered_map>

#include "tessera/core/error.hpp"

namespace tessera::track {
namespace {

[[noreturn]] void fail(const std::string& message) {
  throw Error(ErrorCode::invalid_argument, "track set: " + message);
}

}  // namespace

const Track* TrackSet::find_track(std::int32_t id) const {
  const auto it =
      std::lower_bound(tracks.begin(), tracks.end(), id, [](const Track& t, std::int32_t v) { return t.id < v; });
  return it != tracks.end() && it->id == id ? &*it : nullptr;
}

std::optional<std::int32_t> TrackSet::find_object(int frame, std::int32_t label) const {
  if (frame < 0 || frame >= static_cast<int>(frames.size())) return std::nullopt;
  const auto& objects = frames[static_cast<size_t>(frame)];
  const auto it = std::lower_bound(objects.begin(), objects.end(), label,
                                   [](const ObjectTrack& o, std::int32_t v) { return o.label < v; });
  if (it == objects.end() || it->label != label) return std::nullopt;
  return it->track;
}

std::vector<std::int32_t> TrackSet::children(std::int32_t id) const {
  std::vector<std::int32_t> out;
  for (const Track& t : tracks) {
    if (t.parent == id) out.push_back(t.id);
  }
  return out;
}

std::int32_t TrackSet::next_id() const { return tracks.empty() ? 1 : tracks.back().id + 1; }

void validate(const TrackSet& set) {
  for (size_t k = 0; k < set.tracks.size(); ++k) {
    const Track& t = set.tracks[k];
    if (t.id < 1) fail(fmt::format("track id {} is not positive", t.id));
    if (k > 0 && set.tracks[k - 1].id >= t.id) {
      fail(fmt::format("track {} is listed after track {} (ids must ascend, once each)", t.id, set.tracks[k - 1].id));
    }
    if (t.begin > t.end) fail(fmt::format("track {} begins at frame {} after its end {}", t.id, t.begin, t.end));
  }
  struct Seen {
    int first = std::numeric_limits<int>::max();
    int last = -1;
  };
  std::unordered_map<std::int32_t, Seen> seen;
  std::unordered_map<std::int32_t, std::int32_t> label_in_frame;  // track -> label, this frame
  for (size_t f = 0; f < set.frames.size(); ++f) {
    const int frame = static_cast<int>(f);
    label_in_frame.clear();
    const auto& objects = set.frames[f];
    for (size_t k = 0; k < objects.size(); ++k) {
      const ObjectTrack& o = objects[k];
      if (o.label < 1) fail(fmt::format("frame {}: label {} is not positive", frame, o.label));
      if (k > 0 && objects[k - 1].label >= o.label) {
        fail(fmt::format("frame {}: label {} is listed after label {} (labels must ascend, once each)", frame, o.label,
                         objects[k - 1].label));
      }
      if (set.find_track(o.track) == nullptr) {
        fail(fmt::format("frame {}, label {}: track {} does not exist", frame, o.label, o.track));
      }
      const auto [it, fresh] = label_in_frame.emplace(o.track, o.label);
      if (!fresh) {
        fail(fmt::format("frame {}: track {} holds both label {} and label {}", frame, o.track, it->second, o.label));
      }
      Seen& s = seen[o.track];
      s.first = std::min(s.first, frame);
      s.last = frame;
    }
  }
  for (const Track& t : set.tracks) {
    const auto it = seen.find(t.id);
    if (it == seen.end()) fail(fmt::format("track {} holds no object", t.id));
    if (it->second.first != t.begin || it->second.last != t.end) {
      fail(fmt::format("track {} says frames {}-{} but its objects are in frames {}-{}", t.id, t.begin, t.end,
                       it->second.first, it->second.last));
    }
    if (t.parent != 0) {
      const Track* parent = set.find_track(t.parent);
      if (parent == nullptr) fail(fmt::format("track {}: parent track {} does not exist", t.id, t.parent));
      if (t.parent == t.id) fail(fmt::format("track {} is its own parent", t.id));
      if (parent->end >= t.begin) {
        fail(
            fmt::format("track {} begins at frame {} but its parent track {} ends at frame {} (a parent "
                        "must end before its child begins)",
                        t.id, t.begin, parent->id, parent->end));
      }
    }
  }
}

void refresh_extents(TrackSet& set) {
  std::unordered_map<std::int32_t, std::pair<int, int>> extent;
  for (size_t f = 0; f < set.frames.size(); ++f) {
    for (const ObjectTrack& o : set.frames[f]) {
      auto [it, fresh] = extent.emplace(o.track, std::pair{static_cast<int>(f), static_cast<int>(f)});
      if (!fresh) it->second.second = static_cast<int>(f);
    }
  }
  std::vector<std::int32_t> dropped;
  std::erase_if(set.tracks, [&](const Track& t) {
    const bool empty = !extent.contains(t.id);
    if (empty) dropped.push_back(t.id);
    return empty;
  });
  for (Track& t : set.tracks) {
    const auto& e = extent.at(t.id);
    t.begin = e.first;
    t.end = e.second;
    if (std::find(dropped.begin(), dropped.end(), t.parent) != dropped.end()) t.parent = 0;
  }
}

}  // namespace tessera::track
