-- Tracks: the edit journal (merge, split, set/unset parent), read back per track, and the indexes that
-- listing a series' tracks and a track's children use.
-- track_id and other_track_id carry no foreign key: the journal outlives the tracks it names (a merge
-- deletes one of its two tracks; tracking the series again replaces them all).
CREATE TABLE track_edits (
  id {{pk}},
  series_id BIGINT NOT NULL REFERENCES series(id) ON DELETE CASCADE,
  track_id BIGINT NOT NULL,
  other_track_id BIGINT,
  user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
  actor TEXT NOT NULL,
  at TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('merge', 'split', 'set_parent', 'unset_parent')),
  before_state {{json}} NOT NULL DEFAULT '{}',
  after_state {{json}} NOT NULL DEFAULT '{}'
);
CREATE INDEX track_edits_track ON track_edits (track_id, id);
CREATE INDEX track_edits_other ON track_edits (other_track_id, id);
CREATE INDEX tracks_parent ON tracks (parent_track_id);
