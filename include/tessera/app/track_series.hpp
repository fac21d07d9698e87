#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "tessera/app/workspace.hpp"
#include "tessera/catalog/locks.hpp"
#include "tessera/catalog/tracks.hpp"
#include "tessera/track/files.hpp"
#include "tessera/track/tracker.hpp"

namespace tessera::app {

// Tracking a catalog series: the objects of its images (one image per frame, placed by its frame index),
// linked through time by track::Tracker, stored as the series' tracks (catalog::TrackStore), edited with
// a journal, and exported as Cell Tracking Challenge folders or deepcell .trk files.

// A series of the project by name, or by id when `name_or_id` is a number that names no series of the
// project. Error{not_found} naming it (and the project) otherwise.
catalog::Series find_project_series(Workspace& workspace, const std::string& project, const std::string& name_or_id);

struct TrackSeriesRequest {
  catalog::Id series_id = 0;
  // Whose objects to track: a run that stored objects in the series. Default: the latest such run (by
  // id); objects stored without a run are tracked only when no run stored any. Objects of different runs
  // are never mixed: two segmentations of one frame would be two overlapping sets of cells.
  std::optional<catalog::Id> objects_run;
  track::TrackOptions options;
  catalog::Actor actor{std::nullopt, "tessera"};
  // Called after each frame: fraction done and a line saying where. May throw to stop: nothing of the
  // tracking is stored, and the run is recorded cancelled (JobCancelled, JobInterrupted) or failed.
  std::function<void(double fraction, const std::string& message)> on_progress;
};

struct TrackSeriesReport {
  catalog::Id series_id = 0;
  std::string series;
  catalog::Id run_id = 0;  // the tracking run (kind "track")
  std::optional<catalog::Id> objects_run;
  std::int64_t first_frame = 0;
  std::int64_t last_frame = 0;
  std::int64_t images = 0;
  std::int64_t objects = 0;
  std::int64_t tracks = 0;
  std::int64_t divisions = 0;  // mothers with two or more daughters
  std::int64_t replaced_tracks = 0;
  double seconds = 0;
};

// Tracks the series' objects and replaces the series' tracks in one transaction, recorded as a run
// (kind "track": options, the series and the objects' run). An object with a mask (a PNG at its box)
// is tracked by its pixels; one without, by its features' area and centroid (else its box), overlap
// then estimated from discs. Frame numbers missing from the series are empty frames.
// Errors (nothing stored): Error{invalid_argument} for a series with fewer than two images, an image
// without a frame index, two images with one frame index, an image size that changes mid-series, a
// series without objects, bad options; Error{not_found} for an unknown series or a run that stored no
// objects in it (naming the runs that did); Error{unsupported} for multi-page images in the series.
TrackSeriesReport track_series(Workspace& workspace, const TrackSeriesRequest& request);

// Edits, each one transaction with a journal entry and a 'track.*' event. They follow track/edit.hpp:
// Error{invalid_argument} naming the tracks, frames and objects (their ids are the labels) when the edit
// would break the lineage, Error{not_found} for an unknown track.
// `from` joins `into` and disappears.
catalog::TrackEditResult merge_tracks(Workspace& workspace, catalog::Id into, catalog::Id from,
                                      const catalog::Actor& actor);
// Objects of `track` in frames >= frame go to a new track (the journal's other_track_id), with its children.
catalog::TrackEditResult split_track(Workspace& workspace, catalog::Id track, std::int64_t frame,
                                     const catalog::Actor& actor);
catalog::TrackEditResult set_track_parent(Workspace& workspace, catalog::Id child, catalog::Id parent,
                                          const catalog::Actor& actor);
catalog::TrackEditResult unset_track_parent(Workspace& workspace, catalog::Id child, const catalog::Actor& actor);

// The series' tracks as a movie: one frame per series image (in frame order), each object's mask painted
// with its track's number; tracks renumbered 1..N in (start frame, id) order, so ids fit 16-bit labels.
// raw: the images' pixels too. Error{not_found} when the series has no tracks, Error{unsupported} for a
// tracked object without a mask.
track::TrackedMovie series_movie(Workspace& workspace, catalog::Id series_id, bool raw);

struct TrackExportSummary {
  int frames = 0;
  int tracks = 0;
  std::int64_t objects = 0;
};

// Writes series_movie() as a Cell Tracking Challenge folder or a .trk file (format; Error{invalid_argument}
// when a .trk format is asked for a path not ending in .trk, or the other way round).
TrackExportSummary export_series_tracks(Workspace& workspace, catalog::Id series_id, const std::filesystem::path& out,
                                        track::SeriesFormat format, bool raw);

}  // namespace tessera::app
