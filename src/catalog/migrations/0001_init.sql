-- Schema v1: the whole design (see ../shared/docs/design.md); later migrations add indexes and columns.
-- Written once for both backends: {{pk}} is the auto-increment primary key, {{json}} a JSON document
-- (TEXT on SQLite, JSONB on PostgreSQL). Times are ISO 8601 UTC text, which sorts correctly.

CREATE TABLE users (
  id {{pk}},
  name TEXT NOT NULL UNIQUE,
  display_name TEXT,
  password_hash TEXT,
  created_at TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE api_tokens (
  id {{pk}},
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash TEXT NOT NULL UNIQUE,
  label TEXT,
  created_at TEXT NOT NULL,
  expires_at TEXT,
  revoked_at TEXT
);

CREATE TABLE projects (
  id {{pk}},
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  settings {{json}} NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL
);

CREATE TABLE memberships (
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
  PRIMARY KEY (project_id, user_id)
);

-- An ordered sequence of images: a time-lapse, a z-stack or a video's frames.
CREATE TABLE series (
  id {{pk}},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('timelapse', 'zstack', 'video', 'other')),
  key {{json}} NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  UNIQUE (project_id, name)
);

-- One imported file. Pixels live in the blob store under blob_hash; frames > 1 for multi-page files.
CREATE TABLE images (
  id {{pk}},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  blob_hash TEXT NOT NULL,
  source_path TEXT NOT NULL,
  format TEXT NOT NULL,
  byte_size BIGINT NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  channels INTEGER NOT NULL,
  pixel_type TEXT NOT NULL,
  frames INTEGER NOT NULL DEFAULT 1,
  acquired_at TEXT,
  imported_at TEXT NOT NULL,
  metadata {{json}} NOT NULL DEFAULT '{}',
  focus DOUBLE PRECISION,
  series_id BIGINT REFERENCES series(id) ON DELETE SET NULL,
  frame_index BIGINT,
  UNIQUE (project_id, source_path, blob_hash)
);
CREATE INDEX images_blob ON images (blob_hash);
CREATE INDEX images_series ON images (series_id, frame_index);

CREATE TABLE image_sets (
  id {{pk}},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  query TEXT,
  created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
  created_at TEXT NOT NULL,
  UNIQUE (project_id, name)
);

CREATE TABLE image_set_members (
  set_id BIGINT NOT NULL REFERENCES image_sets(id) ON DELETE CASCADE,
  image_id BIGINT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  added_at TEXT NOT NULL,
  PRIMARY KEY (set_id, image_id)
);
CREATE INDEX image_set_members_image ON image_set_members (image_id);

-- kind: 'label' (annotation class), 'image' (whole-image tag), 'object' (object class), 'scribble' class.
CREATE TABLE tags (
  id {{pk}},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  color TEXT NOT NULL DEFAULT '#ff0000',
  kind TEXT NOT NULL DEFAULT 'label',
  parent_id BIGINT REFERENCES tags(id) ON DELETE SET NULL,
  created_at TEXT NOT NULL,
  UNIQUE (project_id, name)
);

CREATE TABLE image_tags (
  image_id BIGINT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  tag_id BIGINT NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
  PRIMARY KEY (image_id, tag_id)
);

CREATE TABLE annotations (
  id {{pk}},
  image_id BIGINT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  frame_index BIGINT NOT NULL DEFAULT 0,
  tag_id BIGINT REFERENCES tags(id) ON DELETE SET NULL,
  kind TEXT NOT NULL CHECK (kind IN ('mask', 'polygon', 'box', 'point', 'polyline', 'skeleton', 'scribble')),
  geometry {{json}},
  mask_blob TEXT,
  bbox_x0 DOUBLE PRECISION,
  bbox_y0 DOUBLE PRECISION,
  bbox_x1 DOUBLE PRECISION,
  bbox_y1 DOUBLE PRECISION,
  color TEXT,
  author_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
  source TEXT NOT NULL DEFAULT 'manual'
    CHECK (source IN ('manual', 'generated', 'propagated', 'suggested', 'imported')),
  source_ref {{json}},
  confidence DOUBLE PRECISION,
  needs_review INTEGER NOT NULL DEFAULT 0,
  version BIGINT NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX annotations_image ON annotations (image_id, frame_index);
CREATE INDEX annotations_tag ON annotations (tag_id);

-- The edit journal: every annotation change, so history can be read and undone.
CREATE TABLE annotation_edits (
  id {{pk}},
  annotation_id BIGINT NOT NULL REFERENCES annotations(id) ON DELETE CASCADE,
  user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
  at TEXT NOT NULL,
  action TEXT NOT NULL,
  before_version BIGINT,
  after_version BIGINT,
  diff {{json}} NOT NULL DEFAULT '{}'
);
CREATE INDEX annotation_edits_annotation ON annotation_edits (annotation_id, id);

-- Image leases: one holder at a time until expires_at.
CREATE TABLE locks (
  image_id BIGINT PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
  holder_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
  holder TEXT NOT NULL,
  token TEXT NOT NULL,
  acquired_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);

-- The activity feed.
CREATE TABLE events (
  id {{pk}},
  project_id BIGINT REFERENCES projects(id) ON DELETE CASCADE,
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  actor TEXT,
  subject_type TEXT,
  subject_id BIGINT,
  payload {{json}} NOT NULL DEFAULT '{}'
);
CREATE INDEX events_project ON events (project_id, id);

CREATE TABLE jobs (
  id {{pk}},
  project_id BIGINT REFERENCES projects(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  params {{json}} NOT NULL DEFAULT '{}',
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  progress DOUBLE PRECISION NOT NULL DEFAULT 0,
  message TEXT,
  result {{json}},
  created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  worker TEXT,
  heartbeat_at TEXT,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_state ON jobs (state, id);

CREATE TABLE pipeline_runs (
  id {{pk}},
  project_id BIGINT REFERENCES projects(id) ON DELETE CASCADE,
  spec {{json}} NOT NULL,
  tessera_version TEXT NOT NULL,
  params {{json}} NOT NULL DEFAULT '{}',
  inputs {{json}} NOT NULL DEFAULT '{}',
  counts {{json}} NOT NULL DEFAULT '{}',
  status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
  error TEXT,
  job_id BIGINT REFERENCES jobs(id) ON DELETE SET NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  duration_s DOUBLE PRECISION
);

-- Lineage of tracked objects through a series.
CREATE TABLE tracks (
  id {{pk}},
  series_id BIGINT NOT NULL REFERENCES series(id) ON DELETE CASCADE,
  parent_track_id BIGINT REFERENCES tracks(id) ON DELETE SET NULL,
  start_frame BIGINT NOT NULL,
  end_frame BIGINT NOT NULL,
  run_id BIGINT REFERENCES pipeline_runs(id) ON DELETE SET NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX tracks_series ON tracks (series_id);

-- Measured objects: regions of an image (or of a parent object) with bbox and features.
CREATE TABLE objects (
  id {{pk}},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  image_id BIGINT REFERENCES images(id) ON DELETE CASCADE,
  frame_index BIGINT NOT NULL DEFAULT 0,
  parent_id BIGINT REFERENCES objects(id) ON DELETE CASCADE,
  run_id BIGINT REFERENCES pipeline_runs(id) ON DELETE SET NULL,
  label BIGINT,
  bbox_x0 BIGINT,
  bbox_y0 BIGINT,
  bbox_x1 BIGINT,
  bbox_y1 BIGINT,
  mask_blob TEXT,
  features {{json}} NOT NULL DEFAULT '{}',
  tag_id BIGINT REFERENCES tags(id) ON DELETE SET NULL,
  class_probabilities {{json}},
  track_id BIGINT REFERENCES tracks(id) ON DELETE SET NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX objects_image ON objects (image_id, frame_index);
CREATE INDEX objects_parent ON objects (parent_id);
CREATE INDEX objects_run ON objects (run_id);
CREATE INDEX objects_track ON objects (track_id);

-- Trained models (pixel/object classifiers) stored as blobs, with their provenance.
CREATE TABLE models (
  id {{pk}},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  blob_hash TEXT NOT NULL,
  provenance {{json}} NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  UNIQUE (project_id, name)
);
