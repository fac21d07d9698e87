#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace tessera::synth {

// What to simulate: a widefield nuclear-stain time-lapse of several fields of view. Lengths scale
// with `size` (a 1024 movie is the 512 one at twice the resolution) except the PSF and the edge
// softness, which are optical and stay in pixels. Ranges are checked by validate().
struct TimelapseOptions {
  int positions = 3;       // independent fields of view, [1, 1000]
  int frames = 30;         // time points per position, [1, 100000]
  int size = 512;          // square image side in pixels, [32, 16384]
  int nuclei = 20;         // nuclei in the field at frame 0, [0, 10000]; fewer if they don't fit
  std::uint64_t seed = 1;  // same options -> byte-identical output
  std::string experiment = "exp1";  // folder name: 1..64 of [A-Za-z0-9._-], not "." or ".."
  int cycle_frames = 90;            // mean frames between divisions, [0, 1000000]; 0 = no division
  double touching_fraction = 0.25;  // share of the frame-0 nuclei placed touching a partner, [0, 1]
};

// One line of a Cell Tracking Challenge man_track.txt: the label is present in the mask of every
// frame in [begin, end] and in no other; parent is the label it divided from, 0 for none. A label
// (track id) is never reused, and a parent's end is its daughters' begin - 1.
struct TrackRecord {
  int label = 0;
  int begin = 0;
  int end = 0;
  int parent = 0;
  friend bool operator==(const TrackRecord&, const TrackRecord&) = default;
};

struct TimelapseSummary {
  int images = 0;     // image files written (masks not counted): positions * frames
  int tracks = 0;     // track records over all positions
  int divisions = 0;  // mothers over all positions; each has exactly two daughters
};

// The exact ellipse behind one label in one frame. Pixel (x, y) has its centre at integer (x, y)
// and belongs to the label iff that centre lies inside the ellipse (and in the field); the image is
// drawn from the same ellipse, so the mask edge is the half-maximum of the nucleus's soft edge
// before blur.
struct NucleusGeometry {
  int label = 0;
  double x = 0.0;  // centre, pixels; may lie outside the field for a nucleus at the border
  double y = 0.0;
  double semi_major = 0.0;  // pixels, semi_major >= semi_minor
  double semi_minor = 0.0;
  double angle = 0.0;  // of the major axis, radians in [0, pi), from +x towards +y (image rows)
};

// One position held in memory: frame t of images and labels, both CV_16UC1 of size x size.
struct TimelapseFrames {
  std::vector<cv::Mat> images;                       // camera counts, background ~500-1500
  std::vector<cv::Mat> labels;                       // 0 background, else the track's label
  std::vector<TrackRecord> tracks;                   // sorted by label
  std::vector<std::vector<NucleusGeometry>> nuclei;  // per frame, sorted by label
};

// Throws Error{invalid_argument} naming the first option out of range and its value.
void validate(const TimelapseOptions& options);

// Simulates position `position` (1-based, as in the pos<PP> folders) and returns its frames, the
// same pixels write_timelapse() writes for it. Frame t does not depend on options.frames or on
// other positions, so a shorter movie is a prefix of a longer one. Throws Error{invalid_argument}
// for bad options or a position outside [1, options.positions]. Thread-safe (no shared state).
TimelapseFrames generate_position(const TimelapseOptions& options, int position);

// Writes every position under out (created if missing; existing files are replaced atomically):
//   images/<experiment>/pos<PP>/t<TTT>_c0.png   16-bit one-channel camera image
//   masks/<experiment>/pos<PP>/t<TTT>.png       16-bit labels, as TimelapseFrames::labels
//   tracks/<experiment>_pos<PP>.txt             "label begin end parent" lines, sorted by label
//   manifest.json                               options, summary and layout; written last
// PP counts from 01 and TTT from 000, zero-padded to at least 2 and 3 digits. Frames are streamed,
// so memory does not grow with options.frames. Throws Error{invalid_argument} for bad options and
// Error{io} when a folder or file cannot be written.
TimelapseSummary write_timelapse(const std::filesystem::path& out, const TimelapseOptions& options);

}  // namespace tessera::synth
