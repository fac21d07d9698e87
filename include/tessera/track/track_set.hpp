#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace tessera::track {

// One track: the same cell followed through frames [begin, end] (it may be missing from some frames in
// between, where gap closing bridged a missed detection). parent is the track it divided from, 0 for
// none. `capped` is deepcell's flag that the track does not go on (kept for .trk round trips; the
// tracker sets it for mothers).
struct Track {
  std::int32_t id = 0;  // >= 1
  std::int32_t begin = 0;
  std::int32_t end = 0;
  std::int32_t parent = 0;
  bool capped = false;
  friend bool operator==(const Track&, const Track&) = default;
};

// Which track an object belongs to: the object is (frame, label) of the input series.
struct ObjectTrack {
  std::int32_t label = 0;
  std::int32_t track = 0;
  friend bool operator==(const ObjectTrack&, const ObjectTrack&) = default;
};

// The result of tracking, and what the editing primitives (edit.hpp) work on.
// Invariants (checked by validate()): tracks sorted by id, ids >= 1 and unique; frames[t] sorted by
// label, labels unique; every object's track exists; a track has at most one object per frame and its
// begin/end are the first/last frames holding its objects; a parent exists, is not the track itself,
// and ends before the child begins.
struct TrackSet {
  std::vector<Track> tracks;
  std::vector<std::vector<ObjectTrack>> frames;

  const Track* find_track(std::int32_t id) const;                                // nullptr when absent
  std::optional<std::int32_t> find_object(int frame, std::int32_t label) const;  // its track
  std::vector<std::int32_t> children(std::int32_t id) const;                     // ascending ids
  std::int32_t next_id() const;  // one above the largest id (1 for an empty set)
  friend bool operator==(const TrackSet&, const TrackSet&) = default;
};

// Throws Error{invalid_argument} naming the frame, label and track of the first broken invariant.
void validate(const TrackSet& set);

// Recomputes every track's begin/end from its objects and drops tracks that hold no object (their
// children lose the parent). Used after edits; keeps ids.
void refresh_extents(TrackSet& set);

}  // namespace tessera::track
