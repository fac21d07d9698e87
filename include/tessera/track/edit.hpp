#pragma once

#include <cstdint>

#include "tessera/track/track_set.hpp"

namespace tessera::track {

// Editing primitives: pure functions from a valid track set to a new valid one. Each throws
// Error{invalid_argument} naming the tracks, frames and labels involved when the edit would break an
// invariant of TrackSet (the input is left as it was), or Error{not_found} for a track that does not
// exist.

// Every object of track `from` joins track `into`, and `from` disappears. The two may not both hold an
// object in the same frame. The merged track keeps the parent of the one that begins first; the later
// one may only have no parent or the earlier one as parent (a bridged gap). Children of either become
// children of `into`, and must still begin after the merged track ends.
TrackSet merge_tracks(const TrackSet& set, std::int32_t into, std::int32_t from);

// Objects of track `id` in frames >= `frame` move to a new track (id set.next_id(), no parent) and the
// children of `id` follow them. `id` must hold objects both before `frame` and from `frame` on.
struct SplitResult {
  TrackSet set;
  std::int32_t new_track = 0;
};
SplitResult split_track(const TrackSet& set, std::int32_t id, int frame);

// Makes `parent` the parent of `child` (replacing any other); the parent must end before the child
// begins.
TrackSet set_parent(const TrackSet& set, std::int32_t child, std::int32_t parent);

// `child` no longer has a parent (a no-op when it had none).
TrackSet unset_parent(const TrackSet& set, std::int32_t child);

}  // namespace tessera::track
