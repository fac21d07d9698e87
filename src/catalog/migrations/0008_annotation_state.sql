-- The image list's annotation-state filter (catalog/annotation_state.cpp) probes each candidate image for live
-- annotations by source and review flag. With every column the probe reads in this index it never touches the
-- annotation rows: on 100,000 images with 103,540 annotations (SQLite, in-process) the count of 'annotated'
-- images fell from 950 to 405 ms and a page of a rare state (1 image in 100) from 111 to 39-45 ms, under the
-- same machine load.
CREATE INDEX annotations_image_state ON annotations (image_id, deleted, needs_review, source);
