-- Learning: active-learning rounds over a set, and the models (table 'models', schema v1) each round trained.
-- A round is numbered within its set (1, 2, ...) so rounds read as a sequence that can be compared; the set
-- of the images it chose ('<set>-round-<number>') may be deleted by people without losing the round's record.
CREATE TABLE learn_rounds (
  id {{pk}},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  set_id BIGINT NOT NULL REFERENCES image_sets(id) ON DELETE CASCADE,
  number BIGINT NOT NULL,
  round_set_id BIGINT REFERENCES image_sets(id) ON DELETE SET NULL,
  parameters {{json}} NOT NULL DEFAULT '{}',
  metrics {{json}} NOT NULL DEFAULT '{}',
  ranking {{json}} NOT NULL DEFAULT '[]',
  job_id BIGINT REFERENCES jobs(id) ON DELETE SET NULL,
  user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
  actor TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (set_id, number)
);
CREATE INDEX learn_rounds_project ON learn_rounds (project_id, id);
-- The round whose ensemble a model belongs to; models trained on their own (learn pixels/objects train) have none.
ALTER TABLE models ADD COLUMN round_id BIGINT REFERENCES learn_rounds(id) ON DELETE SET NULL;
CREATE INDEX models_round ON models (round_id);
