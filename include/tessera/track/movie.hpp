#pragma once

#include <functional>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "tessera/track/track_set.hpp"

namespace tessera::track {

// A tracked time-lapse as the exchange formats hold it: label images whose pixel values are track ids,
// the lineage, and optionally the raw frames.
struct TrackedMovie {
  std::vector<cv::Mat> labels;  // per frame, CV_32SC1, 0 = background, else a track id
  std::vector<cv::Mat> raw;     // empty, or per frame, all of one size and type (any channels)
  std::vector<Track> tracks;    // sorted by id
};

// Names for error messages: the file of a frame ("mask003.tif") and of the lineage ("res_track.txt").
struct MovieNames {
  std::function<std::string(int)> frame = [](int t) { return fmt_frame(t); };
  std::string lineage = "lineage";
  static std::string fmt_frame(int t);  // "frame 3"
};

// Checks that the labels and the lineage agree: every label image has one size, every nonzero value is
// a track and every track appears; begin/end are the first and last frames where the track appears
// and, when `contiguous` (Cell Tracking Challenge), it appears in every frame in between; a parent
// exists and ends before its child begins; raw frames, if any, match in number and size. Throws
// Error{invalid_argument} naming the frame (file) and label.
void validate(const TrackedMovie& movie, bool contiguous, const MovieNames& names = {});

// Paints each object of the segmentation (per frame, CV_8U/16U/32S labels, as tracked) with its track
// id. Error{invalid_argument} naming the frame and label for a label of the segmentation that the set
// does not track, or frame counts or sizes that differ.
TrackedMovie make_movie(const std::vector<cv::Mat>& segmentation, const TrackSet& set, std::vector<cv::Mat> raw = {});

// The track set of a movie: in each frame the objects are its pixel values, each its own track.
TrackSet track_set_of(const TrackedMovie& movie);

// Gives every stretch of a track after a missing frame a new id (above all others), whose parent is the
// stretch before: the Cell Tracking Challenge's way of writing a gap. Children follow the last stretch.
TrackedMovie split_gaps(const TrackedMovie& movie);

}  // namespace tessera::track
