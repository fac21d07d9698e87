#pragma once

#include <filesystem>

#include "tessera/track/movie.hpp"

namespace tessera::track {

// deepcell-tracking's .trk: a tar archive (gzip-compressed when deepcell-tracking wrote it, plain from
// legacy DeepCell Label; both are read) holding lineage.json, raw.npy (frames, rows, cols, channels)
// and tracked.npy (int32, frames, rows, cols, 1). The lineage maps each label (as a string) to
// {"label", "frames" (where present, ascending; gaps allowed), "daughters", "frame_div" (the frame the
// daughters first appear in, or null), "parent" (or null), "capped"}.
//
// write_trk writes a plain tar (deepcell-tracking's load_trks opens either) with fixed member metadata,
// so the same movie gives the same bytes; a movie without raw frames gets a uint8 zero raw.npy (the
// format requires one). Error{invalid_argument} for an invalid movie, Error{io} when it cannot write.
void write_trk(const std::filesystem::path& path, const TrackedMovie& movie);

// Reads a .trk (or a .trks holding exactly one movie). Error{corrupt} for a damaged archive or array,
// Error{invalid_argument} naming the frame and label when lineage.json and tracked.npy disagree
// (a label without an entry or an entry without pixels, frames that differ from where the label is, a
// parent and daughter that do not name each other, a daughter that does not begin right after her
// mother ends), Error{unsupported} for array types tessera does not read.
TrackedMovie read_trk(const std::filesystem::path& path);

}  // namespace tessera::track
