#include "tessera/track/edit.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "tessera/core/error.hpp"

namespace tessera::track {
namespace {

const Track& get_track(const TrackSet& set, std::int32_t id, const char* what) {
  const Track* t = set.find_track(id);
  if (t == nullptr) throw Error(ErrorCode::not_found, fmt::format("{}: track {} does not exist", what, id));
  return *t;
}

// Precondition: the track exists (checked through get_track on the input).
Track& mutable_track(TrackSet& set, std::int32_t id) {
  return *std::find_if(set.tracks.begin(), set.tracks.end(), [&](const Track& t) { return t.id == id; });
}

[[noreturn]] void invalid(const std::string& message) { throw Error(ErrorCode::invalid_argument, message); }

}  // namespace

TrackSet merge_tracks(const TrackSet& set, std::int32_t into, std::int32_t from) {
  const Track& a = get_track(set, into, "merge tracks");
  const Track& b = get_track(set, from, "merge tracks");
  if (into == from) invalid(fmt::format("merge tracks: cannot merge track {} with itself", into));
  for (size_t f = 0; f < set.frames.size(); ++f) {
    std::int32_t label_a = 0;
    std::int32_t label_b = 0;
    for (const ObjectTrack& o : set.frames[f]) {
      if (o.track == into) label_a = o.label;
      if (o.track == from) label_b = o.label;
    }
    if (label_a != 0 && label_b != 0) {
      invalid(
          fmt::format("merge tracks: frame {} holds both track {} (label {}) and track {} (label {}); a track "
                      "has one object per frame",
                      f, into, label_a, from, label_b));
    }
  }
  const Track& early = a.begin <= b.begin ? a : b;
  const Track& late = a.begin <= b.begin ? b : a;
  if (late.parent != 0 && late.parent != early.id) {
    invalid(
        fmt::format("merge tracks: track {} (frames {}-{}) has parent track {}; only the earlier track {} "
                    "may keep a parent (unset it first)",
                    late.id, late.begin, late.end, late.parent, early.id));
  }
  const std::int32_t parent = early.parent;
  const int end = std::max(a.end, b.end);
  TrackSet out = set;
  for (Track& t : out.tracks) {
    if ((t.parent != into && t.parent != from) || t.id == into || t.id == from) continue;
    if (t.begin <= end) {
      invalid(
          fmt::format("merge tracks: track {}, a child of track {}, begins at frame {}, but the merged track "
                      "would end at frame {}",
                      t.id, t.parent, t.begin, end));
    }
    t.parent = into;
  }
  for (auto& frame : out.frames) {
    for (ObjectTrack& o : frame) {
      if (o.track == from) o.track = into;
    }
  }
  mutable_track(out, into).parent = parent;
  mutable_track(out, into).capped = a.capped || b.capped;
  std::erase_if(out.tracks, [&](const Track& t) { return t.id == from; });
  refresh_extents(out);
  validate(out);
  return out;
}

SplitResult split_track(const TrackSet& set, std::int32_t id, int frame) {
  const Track& t = get_track(set, id, "split track");
  if (frame <= t.begin || frame > t.end) {
    invalid(fmt::format("split track: track {} spans frames {}-{}; a split frame must be in {}-{}", id, t.begin, t.end,
                        t.begin + 1, t.end));
  }
  SplitResult result{set, set.next_id()};
  TrackSet& out = result.set;
  bool moved = false;
  for (size_t f = static_cast<size_t>(frame); f < out.frames.size(); ++f) {
    for (ObjectTrack& o : out.frames[f]) {
      if (o.track == id) {
        o.track = result.new_track;
        moved = true;
      }
    }
  }
  if (!moved) invalid(fmt::format("split track: track {} has no object from frame {} on", id, frame));
  for (Track& c : out.tracks) {
    if (c.parent == id) c.parent = result.new_track;
  }
  out.tracks.push_back({result.new_track, frame, t.end, 0, t.capped});
  mutable_track(out, id).capped = false;
  refresh_extents(out);
  validate(out);
  return result;
}

TrackSet set_parent(const TrackSet& set, std::int32_t child, std::int32_t parent) {
  const Track& c = get_track(set, child, "set parent");
  const Track& p = get_track(set, parent, "set parent");
  if (child == parent) invalid(fmt::format("set parent: track {} cannot be its own parent", child));
  if (p.end >= c.begin) {
    invalid(fmt::format("set parent: track {} ends at frame {}, not before track {} begins at frame {}", parent, p.end,
                        child, c.begin));
  }
  TrackSet out = set;
  mutable_track(out, child).parent = parent;
  return out;
}

TrackSet unset_parent(const TrackSet& set, std::int32_t child) {
  get_track(set, child, "unset parent");
  TrackSet out = set;
  mutable_track(out, child).parent = 0;
  return out;
}

}  // namespace tessera::track
