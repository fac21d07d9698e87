-- Annotations at scale: free-form attributes per annotation, undo bookkeeping in the edit journal, and a
-- spatial index over the boxes of objects and annotations for viewport queries.
--
-- The spatial index is keyed by (image, frame, box) so a viewport on one image of a large catalog never
-- visits other images' boxes. SQLite: R*Tree virtual tables (32-bit integer coordinates, one dimension
-- each for image id and frame) kept in step by triggers, so every writer of objects/annotations keeps
-- them current without knowing they exist. The image and frame dimensions span [id, id + 1), not [id, id]:
-- SQLite picks where to insert by how much box volumes grow, and a zero-width dimension makes every volume
-- zero, which leaves the tree unsorted (measured: 20 ms instead of 0.1 ms per viewport over 300,000 boxes).
-- Queries match image_lo = id and frame_lo = frame. Annotation boxes may be fractional: the R*Tree holds a box
-- one pixel wider on each side and queries re-check the exact columns. PostgreSQL: a GiST index over
-- (image_id, frame_index, box); the scalar columns need btree_gist (postgresql-contrib), installed in
-- schema public so that catalogs living in other schemas of the same database share it.

ALTER TABLE annotations ADD COLUMN attributes {{json}} NOT NULL DEFAULT '{}';
-- An 'undo' entry names the edit it reverted, so a second undo reverts the change before that one.
ALTER TABLE annotation_edits ADD COLUMN undoes_edit_id BIGINT;
-- Who made the edit by name: local actors (the CLI without a login) have no user id.
ALTER TABLE annotation_edits ADD COLUMN actor TEXT;
CREATE INDEX annotation_edits_undoes ON annotation_edits (undoes_edit_id);
CREATE INDEX annotation_edits_user ON annotation_edits (user_id, id);
CREATE INDEX locks_holder ON locks (holder_id);

--@sqlite
CREATE VIRTUAL TABLE objects_rtree USING rtree_i32(id, image_lo, image_hi, frame_lo, frame_hi, x_lo, x_hi, y_lo, y_hi);
INSERT INTO objects_rtree
  SELECT id, image_id, image_id + 1, frame_index, frame_index + 1,
         max(-2147483647, min(2147483647, min(bbox_x0, bbox_x1))), max(-2147483647, min(2147483647, max(bbox_x0, bbox_x1))),
         max(-2147483647, min(2147483647, min(bbox_y0, bbox_y1))), max(-2147483647, min(2147483647, max(bbox_y0, bbox_y1)))
  FROM objects
  WHERE image_id IS NOT NULL AND bbox_x0 IS NOT NULL AND bbox_y0 IS NOT NULL AND bbox_x1 IS NOT NULL AND bbox_y1 IS NOT NULL;
CREATE TRIGGER objects_rtree_insert AFTER INSERT ON objects
  WHEN NEW.image_id IS NOT NULL AND NEW.bbox_x0 IS NOT NULL AND NEW.bbox_y0 IS NOT NULL
       AND NEW.bbox_x1 IS NOT NULL AND NEW.bbox_y1 IS NOT NULL
BEGIN
  INSERT INTO objects_rtree VALUES (NEW.id, NEW.image_id, NEW.image_id + 1, NEW.frame_index, NEW.frame_index + 1,
    max(-2147483647, min(2147483647, min(NEW.bbox_x0, NEW.bbox_x1))), max(-2147483647, min(2147483647, max(NEW.bbox_x0, NEW.bbox_x1))),
    max(-2147483647, min(2147483647, min(NEW.bbox_y0, NEW.bbox_y1))), max(-2147483647, min(2147483647, max(NEW.bbox_y0, NEW.bbox_y1))));
END;
CREATE TRIGGER objects_rtree_update AFTER UPDATE OF image_id, frame_index, bbox_x0, bbox_y0, bbox_x1, bbox_y1 ON objects
  WHEN OLD.image_id IS NOT NEW.image_id OR OLD.frame_index IS NOT NEW.frame_index OR OLD.bbox_x0 IS NOT NEW.bbox_x0
       OR OLD.bbox_y0 IS NOT NEW.bbox_y0 OR OLD.bbox_x1 IS NOT NEW.bbox_x1 OR OLD.bbox_y1 IS NOT NEW.bbox_y1
BEGIN
  DELETE FROM objects_rtree WHERE id = OLD.id;
  INSERT INTO objects_rtree
    SELECT NEW.id, NEW.image_id, NEW.image_id + 1, NEW.frame_index, NEW.frame_index + 1,
      max(-2147483647, min(2147483647, min(NEW.bbox_x0, NEW.bbox_x1))), max(-2147483647, min(2147483647, max(NEW.bbox_x0, NEW.bbox_x1))),
      max(-2147483647, min(2147483647, min(NEW.bbox_y0, NEW.bbox_y1))), max(-2147483647, min(2147483647, max(NEW.bbox_y0, NEW.bbox_y1)))
    WHERE NEW.image_id IS NOT NULL AND NEW.bbox_x0 IS NOT NULL AND NEW.bbox_y0 IS NOT NULL
      AND NEW.bbox_x1 IS NOT NULL AND NEW.bbox_y1 IS NOT NULL;
END;
CREATE TRIGGER objects_rtree_delete AFTER DELETE ON objects
BEGIN
  DELETE FROM objects_rtree WHERE id = OLD.id;
END;

CREATE VIRTUAL TABLE annotations_rtree USING rtree_i32(id, image_lo, image_hi, frame_lo, frame_hi, x_lo, x_hi, y_lo, y_hi);
INSERT INTO annotations_rtree
  SELECT id, image_id, image_id + 1, frame_index, frame_index + 1,
         max(-2147483647, min(2147483647, CAST(min(bbox_x0, bbox_x1) AS INTEGER) - 1)), max(-2147483647, min(2147483647, CAST(max(bbox_x0, bbox_x1) AS INTEGER) + 1)),
         max(-2147483647, min(2147483647, CAST(min(bbox_y0, bbox_y1) AS INTEGER) - 1)), max(-2147483647, min(2147483647, CAST(max(bbox_y0, bbox_y1) AS INTEGER) + 1))
  FROM annotations
  WHERE bbox_x0 IS NOT NULL AND bbox_y0 IS NOT NULL AND bbox_x1 IS NOT NULL AND bbox_y1 IS NOT NULL;
CREATE TRIGGER annotations_rtree_insert AFTER INSERT ON annotations
  WHEN NEW.bbox_x0 IS NOT NULL AND NEW.bbox_y0 IS NOT NULL AND NEW.bbox_x1 IS NOT NULL AND NEW.bbox_y1 IS NOT NULL
BEGIN
  INSERT INTO annotations_rtree VALUES (NEW.id, NEW.image_id, NEW.image_id + 1, NEW.frame_index, NEW.frame_index + 1,
    max(-2147483647, min(2147483647, CAST(min(NEW.bbox_x0, NEW.bbox_x1) AS INTEGER) - 1)), max(-2147483647, min(2147483647, CAST(max(NEW.bbox_x0, NEW.bbox_x1) AS INTEGER) + 1)),
    max(-2147483647, min(2147483647, CAST(min(NEW.bbox_y0, NEW.bbox_y1) AS INTEGER) - 1)), max(-2147483647, min(2147483647, CAST(max(NEW.bbox_y0, NEW.bbox_y1) AS INTEGER) + 1)));
END;
-- Only when the box moves: an annotation's writes rewrite every column, and most leave the box alone.
CREATE TRIGGER annotations_rtree_update AFTER UPDATE OF image_id, frame_index, bbox_x0, bbox_y0, bbox_x1, bbox_y1 ON annotations
  WHEN OLD.image_id IS NOT NEW.image_id OR OLD.frame_index IS NOT NEW.frame_index OR OLD.bbox_x0 IS NOT NEW.bbox_x0
       OR OLD.bbox_y0 IS NOT NEW.bbox_y0 OR OLD.bbox_x1 IS NOT NEW.bbox_x1 OR OLD.bbox_y1 IS NOT NEW.bbox_y1
BEGIN
  DELETE FROM annotations_rtree WHERE id = OLD.id;
  INSERT INTO annotations_rtree
    SELECT NEW.id, NEW.image_id, NEW.image_id + 1, NEW.frame_index, NEW.frame_index + 1,
      max(-2147483647, min(2147483647, CAST(min(NEW.bbox_x0, NEW.bbox_x1) AS INTEGER) - 1)), max(-2147483647, min(2147483647, CAST(max(NEW.bbox_x0, NEW.bbox_x1) AS INTEGER) + 1)),
      max(-2147483647, min(2147483647, CAST(min(NEW.bbox_y0, NEW.bbox_y1) AS INTEGER) - 1)), max(-2147483647, min(2147483647, CAST(max(NEW.bbox_y0, NEW.bbox_y1) AS INTEGER) + 1))
    WHERE NEW.bbox_x0 IS NOT NULL AND NEW.bbox_y0 IS NOT NULL AND NEW.bbox_x1 IS NOT NULL AND NEW.bbox_y1 IS NOT NULL;
END;
CREATE TRIGGER annotations_rtree_delete AFTER DELETE ON annotations
BEGIN
  DELETE FROM annotations_rtree WHERE id = OLD.id;
END;

--@postgresql
-- Without btree_gist (an extension the catalog's role may not create), the index covers the box alone
-- and the image is filtered after it: slower on catalogs with many images, still correct.
DO $$
BEGIN
  BEGIN
    CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;
  EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'btree_gist is not available (%); spatial indexes cover the box only', SQLERRM;
  END;
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'btree_gist') THEN
    CREATE INDEX objects_viewport ON objects
      USING gist (image_id, frame_index, box(point(bbox_x0, bbox_y0), point(bbox_x1, bbox_y1)));
    CREATE INDEX annotations_viewport ON annotations
      USING gist (image_id, frame_index, box(point(bbox_x0, bbox_y0), point(bbox_x1, bbox_y1)));
  ELSE
    CREATE INDEX objects_viewport ON objects USING gist (box(point(bbox_x0, bbox_y0), point(bbox_x1, bbox_y1)));
    CREATE INDEX annotations_viewport ON annotations USING gist (box(point(bbox_x0, bbox_y0), point(bbox_x1, bbox_y1)));
  END IF;
END $$;
