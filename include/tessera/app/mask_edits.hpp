#pragma once

// Editing and managing the mask annotations of images and series: merging over-segmented masks (by a
// skeleton stroke or by ids), splitting a mask at point markers (optionally cut along an outline stroke),
// deleting one mask or every mask of a tag in a series, and listing masks by tag. The CLI, the HTTP API
// and anything else call these; the pixel work is segment/object_edit.hpp.

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include <opencv2/core.hpp>

#include "tessera/app/annotations.hpp"
#include "tessera/app/workspace.hpp"
#include "tessera/catalog/annotations.hpp"
#include "tessera/segment/object_edit.hpp"

namespace tessera::app {

// What an edit did. Every change goes through app::Annotations, so each one is a journaled, undoable
// version of its annotation. An edit spanning several annotations is all or nothing: when a later write is
// refused (stale, locked), the earlier ones are undone before returning.
struct MaskEditOutcome {
  catalog::EditStatus status = catalog::EditStatus::applied;
  std::vector<catalog::Annotation> updated;    // applied: annotations that now hold the result
  std::vector<catalog::Annotation> created;    // applied: new annotations (split parts)
  std::vector<catalog::Annotation> deleted;    // applied: annotations deleted (merged away, or removed)
  std::optional<catalog::Annotation> current;  // stale: the annotation that changed, as it is now
  std::optional<catalog::Lease> lease;         // locked: the lease that blocked the edit
};

// Merge the masks a stroke touches, or the masks named by id. The result is stored in the oldest of them
// (smallest id), which keeps its tag and colour and becomes source "manual"; the others are deleted.
struct MergeRequest {
  catalog::Id image_id = 0;
  std::int64_t frame_index = 0;                  // stroke: the frame whose masks it touches
  std::optional<segment::Stroke> stroke;         // image pixels
  std::vector<catalog::Id> annotation_ids;       // instead of a stroke: at least two masks of the image
  std::optional<catalog::Id> tag_id;             // stroke: only masks of this tag
  std::map<catalog::Id, std::int64_t> versions;  // If-Match per annotation; absent: the version read now
};

// Split one mask at markers (image pixels, at least two, inside the mask); the original keeps the first
// marker's part, each other marker's part becomes a new mask of the same tag, colour and frame.
struct SplitRequest {
  catalog::Id annotation_id = 0;
  std::vector<cv::Point2d> markers;
  std::optional<segment::Stroke> outline;  // certain background: the split cuts along it
  std::optional<std::int64_t> version;     // If-Match of the annotation
};

// A listing of masks, by image then id (series: by frame index, then image, then id).
struct MaskList {
  std::vector<catalog::Annotation> masks;
  bool truncated = false;  // some image had more masks than one page holds
};

// Requires nothing of the caller beyond the workspace. Errors: Error{invalid_argument} naming the field
// (stroke.points[i], stroke.width, markers, markers[i], outline..., annotation_ids[i], annotation_id) for
// bad input, Error{not_found} for unknown or deleted annotations, images, series and tags. Thread-safe.
class MaskEdits {
 public:
  explicit MaskEdits(Workspace& workspace);

  MaskEditOutcome merge(const MergeRequest& request, const catalog::Actor& actor);
  MaskEditOutcome split(const SplitRequest& request, const catalog::Actor& actor);
  // Deletes one mask (Error{invalid_argument} naming annotation_id when it is not a mask).
  MaskEditOutcome remove(catalog::Id annotation_id, const catalog::Actor& actor,
                         std::optional<std::int64_t> version = std::nullopt);
  // Deletes every mask of the tag in every frame of the series, each delete journaled; nothing is deleted
  // when another actor holds a lease on any image of the series.
  MaskEditOutcome remove_in_series(catalog::Id series_id, catalog::Id tag_id, const catalog::Actor& actor);

  MaskList list_in_image(catalog::Id image_id, std::optional<catalog::Id> tag_id = std::nullopt);
  MaskList list_in_series(catalog::Id series_id, std::optional<catalog::Id> tag_id = std::nullopt);

 private:
  Workspace& workspace_;
  Annotations annotations_;
};

}  // namespace tessera::app
