-- Keyset paging through large projects (100,000 images and more): every sort order the image list offers
-- for walking a whole project gets an index on (project, sort key, id), so a page is one index range scan
-- whatever its depth. Before, the planner used the (project, path, hash) unique index for the project and
-- sorted all its images for every page: 30-50 ms a page on SQLite by id, and 100 ms at the end of a
-- path-sorted walk on PostgreSQL (bench_annotators.sh, paging). The expressions are the sort keys' own
-- (catalog.cpp sort_key) so the planner matches them. Width, height, size and frame index are left to a scan.
CREATE INDEX images_project_id ON images (project_id, id);
CREATE INDEX images_project_path ON images (project_id, source_path, id);
CREATE INDEX images_project_imported ON images (project_id, imported_at, id);
CREATE INDEX images_project_acquired ON images (project_id, (COALESCE(acquired_at, '')), id);
CREATE INDEX images_project_focus ON images (project_id, (COALESCE(focus, -1e300)), id);
