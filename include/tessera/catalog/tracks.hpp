#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tessera/catalog/catalog.hpp"
#include "tessera/catalog/locks.hpp"

namespace tessera::catalog {

// Frames of a series are its images' frame indices (images.frame_index): a track runs from start_frame
// to end_frame in those numbers, and a missing frame number is a time point without an image.

// One track of a series: the same object followed from start_frame to end_frame (possibly missing from
// some frames in between), and the track it divided from.
struct TrackRecord {
  Id id = 0;
  Id series_id = 0;
  std::optional<Id> parent_id;
  std::int64_t start_frame = 0;
  std::int64_t end_frame = 0;
  std::optional<Id> run_id;  // the tracking run that made it
  std::string created_at;
  std::int64_t objects = 0;  // objects carrying this track id
};

// An image of a series, as tracking sees it.
struct SeriesImage {
  Id id = 0;
  std::optional<std::int64_t> frame_index;
  int width = 0;
  int height = 0;
  int frames = 1;  // pages
  std::string source_path;
  std::string blob_hash;
};

// Which runs stored objects in a series (top-level objects only: regions nested in another are not
// tracked), newest run first; run_id nullopt counts objects stored without a run.
struct ObjectRunCount {
  std::optional<Id> run_id;
  std::int64_t objects = 0;
  std::int64_t images = 0;  // images holding at least one of them
};

// A top-level object of a series image with what tracking reads: box, features and mask.
struct SeriesObject {
  Id id = 0;
  Id image_id = 0;
  std::int64_t frame = 0;  // the image's frame index in the series
  std::int64_t label = 0;
  std::int64_t bbox_x0 = 0, bbox_y0 = 0, bbox_x1 = 0, bbox_y1 = 0;  // pixels, half-open
  nlohmann::json features = nlohmann::json::object();
  std::optional<std::string> mask_blob;  // PNG of the object's pixels cropped to its box
  std::optional<Id> run_id;
  std::optional<Id> track_id;
};

// A track to store by replace_tracks: parent is the index of another entry of the same list.
struct NewTrack {
  std::int64_t start_frame = 0;
  std::int64_t end_frame = 0;
  std::optional<std::size_t> parent;
  std::vector<Id> objects;
};

struct ReplacedTracks {
  std::vector<Id> ids;        // the new tracks' ids, in list order
  std::int64_t replaced = 0;  // tracks the series had before
};

// One entry of the tracks' edit journal.
struct TrackEdit {
  Id id = 0;
  Id series_id = 0;
  Id track_id = 0;                   // the track the edit was asked on
  std::optional<Id> other_track_id;  // merge: the track merged away; split: the new track; parent: the parent
  std::optional<Id> user_id;
  std::string actor;  // who, by name at the time
  std::string at;
  std::string action;  // merge | split | set_parent | unset_parent
  // {"tracks": [{id, start_frame, end_frame, parent_id, objects}, ...]} for every track the edit
  // changed, before and after it; "after" also lists "deleted" track ids, "moved_objects" (object ids
  // that changed track) and the edit's own arguments (e.g. "frame" for a split).
  nlohmann::json before = nlohmann::json::object();
  nlohmann::json after = nlohmann::json::object();
};

// An object of a track as edits see it.
struct TrackedObject {
  Id id = 0;
  std::int64_t frame = 0;
  Id track_id = 0;
};

// What an edit works on, read inside its transaction: the tracks it names, their parents and their
// children (all of one series), with their objects.
struct TrackSnapshot {
  Id series_id = 0;
  Id project_id = 0;
  std::vector<TrackRecord> tracks;     // by id
  std::vector<TrackedObject> objects;  // by (frame, id)
};

// The state an edit leaves the snapshot's tracks in. Snapshot tracks without a row are deleted.
struct TrackPlan {
  struct Row {
    std::optional<Id> id;  // a track of the snapshot; nullopt: a new track
    std::int64_t start_frame = 0;
    std::int64_t end_frame = 0;
    std::optional<Id> parent_id;            // an existing track, or
    std::optional<std::size_t> parent_row;  // a row of this plan (a new track)
  };
  std::string action;  // journal action: merge | split | set_parent | unset_parent
  Id track_id = 0;     // the journal's track; other_track: a track id, or the row of a new one
  std::optional<Id> other_track_id;
  std::optional<std::size_t> other_track_row;
  nlohmann::json arguments = nlohmann::json::object();  // kept in the journal's "after"
  std::vector<Row> rows;
  std::vector<std::pair<Id, std::size_t>> moves;  // object -> row, for objects that change track
};

struct TrackEditResult {
  TrackEdit edit;
  std::vector<TrackRecord> tracks;  // the plan's rows as stored, in row order
};

// As the journal, the CLI and the API show them: {id, series_id, start_frame, end_frame, parent_id,
// run_id, created_at, objects} (absent values null) and {id, series_id, track_id, other_track_id,
// user_id, actor, at, action, before, after}.
nlohmann::json to_json(const TrackRecord& track);
nlohmann::json to_json(const TrackEdit& edit);

// Tracks of series (lineage: objects.track_id, tracks.parent_track_id), replaced whole by a tracking run
// and edited one change at a time with an edit journal (migration 0005: track_edits). Every write is one
// transaction holding the change, its journal entry and its activity event, and writes to one series are
// serialised (PostgreSQL: the series row is locked). Thread-safe.
class TrackStore {
 public:
  explicit TrackStore(Catalog& catalog) : catalog_(catalog) {}

  Series get_series(Id series_id);  // Error{not_found}
  std::optional<Series> find_series(Id project_id, const std::string& name);
  std::vector<SeriesImage> series_images(Id series_id);  // by (frame index, id); unnumbered ones last
  std::vector<ObjectRunCount> object_runs(Id series_id);
  // The top-level objects of one image of the series stored by run_id (nullopt: stored without a run),
  // by id.
  std::vector<SeriesObject> image_objects(Id image_id, std::optional<Id> run_id);
  // Every object of the series that belongs to a track, by (frame, id).
  std::vector<SeriesObject> tracked_objects(Id series_id);

  // Replaces every track of the series by `tracks` (made by tracking run run_id): objects of the series
  // lose their old track, the listed ones get their new one, and a 'series.tracked' event carrying
  // `summary` is added. Error{invalid_argument} for a parent index out of range or naming itself, an
  // object listed twice, or an object that is not a top-level object of the series.
  ReplacedTracks replace_tracks(Id series_id, std::optional<Id> run_id, const std::vector<NewTrack>& tracks,
                                const Actor& actor, const nlohmann::json& summary);

  std::vector<TrackRecord> list(Id series_id);  // by (start frame, id)
  std::optional<TrackRecord> find(Id track_id);
  TrackRecord get(Id track_id);  // Error{not_found}

  // One edit in one transaction: reads the snapshot of track_ids (Error{not_found} naming a missing
  // track, Error{invalid_argument} when they belong to different series), asks `plan` for the state to
  // leave (plan may throw to refuse; it runs under the catalog's lock and must not call the catalog),
  // writes it, its journal entry and a 'track.<action>' event. Error{invalid_argument} for a plan that
  // names tracks or objects outside the snapshot.
  TrackEditResult edit(const std::vector<Id>& track_ids, const Actor& actor,
                       const std::function<TrackPlan(const TrackSnapshot&)>& plan);

  // Journal entries naming the track (as the edited or the other track), oldest first. Entries outlive
  // the tracks they name (a merged-away track keeps its history).
  std::vector<TrackEdit> history(Id track_id, std::int64_t limit = 1000);

 private:
  Catalog& catalog_;
};

}  // namespace tessera::catalog
