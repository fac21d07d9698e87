#pragma once

#include <memory>
#include <opencv2/core.hpp>
#include <vector>

#include "tessera/track/objects.hpp"
#include "tessera/track/track_set.hpp"

namespace tessera::track {

// How objects are linked through time. Ranges are checked by validate().
struct TrackOptions {
  int max_gap = 2;  // frames an object may be missing and its track still continue, [0, 100]
  // Pixels a centroid may move per frame, [0, 1e6]; 0 = automatic: 1.5 x the median object diameter of
  // the first frame that has objects (at least 5).
  double max_distance = 0.0;
  bool divisions = true;  // detect one mother -> two daughters
};

// Throws Error{invalid_argument} naming the first option out of range and its value.
void validate(const TrackOptions& options);

// Links the objects of a time-lapse frame by frame, keeping only a window of max_gap + 1 frames, so
// memory holds the output (one ObjectTrack per object) and not the input.
//
// Each new frame is matched to the previous one, and to tracks lost in the last max_gap frames, by one
// global linear assignment whose costs add 1 - IoU, the squared centroid distance over max_distance and
// the log of the area change (gap closing adds a penalty per missed frame); a "no link" choice costs a
// death plus a birth, cheaper at the frame border where cells come and go. Candidate pairs come from a
// spatial grid (no all-pairs), and the assignment is solved per connected group of candidates, so the
// time grows linearly with frames and objects. Then a new object next to a mother that vanished or
// shrank becomes a division when the two daughters are smaller than the mother, similar to each other
// (area, mean intensity), on opposite sides of where she was and inside her former outline; the mother's
// track then ends and both daughters start tracks whose parent is hers.
//
// Not thread-safe; one tracker per series.
class Tracker {
 public:
  // frame_size: the image size, for the border rules (empty: no border rules). Validates options.
  explicit Tracker(const TrackOptions& options = {}, cv::Size frame_size = {});
  ~Tracker();
  Tracker(Tracker&&) noexcept;
  Tracker& operator=(Tracker&&) noexcept;

  // Adds the next frame (index frames()). An empty frame is allowed: its tracks wait up to max_gap
  // frames. Error{invalid_argument} naming the frame and label for a label < 1, a repeated label or an
  // area < 1.
  void add_frame(std::vector<ObjectDesc> objects);
  int frames() const;
  double max_distance() const;  // in use (0 until the first frame with objects when automatic)

  // The tracks; the tracker is empty afterwards. Error{invalid_argument} for fewer than 2 frames.
  TrackSet finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Tracker over a whole series held in memory: frames[t] are the objects of frame t.
TrackSet track(const std::vector<std::vector<ObjectDesc>>& frames, const TrackOptions& options = {},
               cv::Size frame_size = {});

}  // namespace tessera::track
