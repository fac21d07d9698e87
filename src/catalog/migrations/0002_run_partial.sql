-- A pipeline run where some objects failed ends 'partial' (with a count), not 'succeeded' or 'failed'.
-- Widening a CHECK constraint: PostgreSQL alters it; SQLite cannot, and rebuilding the table would fire
-- the ON DELETE actions of the objects that reference it, so the table's stored definition is edited in
-- place (SQLite's documented procedure for changing CHECK constraints; existing rows satisfy the wider one).
--@postgresql
ALTER TABLE pipeline_runs DROP CONSTRAINT pipeline_runs_status_check;
ALTER TABLE pipeline_runs ADD CONSTRAINT pipeline_runs_status_check
  CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'cancelled'));
--@sqlite
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql, '''failed'', ''cancelled'')', '''partial'', ''failed'', ''cancelled'')')
  WHERE type = 'table' AND name = 'pipeline_runs';
PRAGMA writable_schema = OFF;
