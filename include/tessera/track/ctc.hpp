#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/track/movie.hpp"

namespace tessera::track {

// Cell Tracking Challenge tracking results (and ground truth): in one folder, per frame a 16-bit label
// TIFF <prefix><t>.tif whose values are track labels (t zero-padded to 3 digits, 4 from 1,000 frames
// on), and a text file of lines "L B E P": label, first and last frame (0-based, inclusive), parent
// label or 0. A label is present in every frame from B to E and in no other; a gap is written as a new
// label whose parent is the label before the gap; a division gives two labels the same parent.
// Raw frames, when the movie has them, go beside as t<t>.tif (the challenge keeps them in a sibling
// folder; tessera reads them back from the same one).
struct CtcNames {
  std::string mask_prefix = "mask";          // "mask" for results, "man_track" / "man_seg" for truth
  std::string track_file = "res_track.txt";  // or "man_track.txt"
};

// Writes the movie (validated; gaps split as above) into dir, created if missing; files are replaced
// atomically. Error{invalid_argument} for a label above 65535 (naming frame and label) or an invalid
// movie; Error{conflict} when dir already holds frames of this prefix beyond the movie's last frame
// (a reader would take them for part of it); Error{io} when a file cannot be written.
void write_ctc(const std::filesystem::path& dir, const TrackedMovie& movie, const CtcNames& names = {});

// Reads a folder written by write_ctc or by the challenge's tools: masks "mask", else "man_track",
// else "man_seg" files; lineage res_track.txt, else man_track.txt. Frames must run 0..N-1 without a
// hole. Every check of validate(movie, contiguous = true) applies, so a lineage line whose label is in
// no mask, a label missing from a frame inside its B-E span or present outside it, a mask label with
// no line, or a mask whose size changes mid-series is an Error{invalid_argument} naming the frame's
// file and the label. Error{not_found} when the folder holds no masks or no lineage file.
TrackedMovie read_ctc(const std::filesystem::path& dir);

// The lineage text, one "L B E P" line per track in id order.
std::string format_ctc_tracks(const std::vector<Track>& tracks);

// Parses lineage text; Error{invalid_argument} naming `name` and the line for a malformed line.
std::vector<Track> parse_ctc_tracks(std::string_view text, const std::string& name);

}  // namespace tessera::track
