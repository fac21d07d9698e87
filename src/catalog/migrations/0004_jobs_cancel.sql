-- Jobs: a cancel request for a running job (the runner sees it at the job's next progress report or
-- heartbeat and ends it 'cancelled'), and listing a project's jobs newest first without a scan.
ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_project ON jobs (project_id, id);
