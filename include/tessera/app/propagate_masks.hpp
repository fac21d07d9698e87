#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/app/workspace.hpp"
#include "tessera/catalog/locks.hpp"
#include "tessera/catalog/tracks.hpp"
#include "tessera/segment/propagate.hpp"

namespace tessera::app {

// Propagating the masks of one annotated frame through a series (segment/propagate.hpp), forward and/or
// backward, each step stored as a mask annotation of the same tag on the frame's image:
//   source = "propagated", source_ref = {"from_frame": F, "from_annotation": id, "propagation": "<run>"},
//   confidence, needs_review (with the reason in attributes.review_reason).
// A person's work is never overwritten:
//  - a frame holding an annotation of the tag made by a person (source manual or generated) is left as it
//    is, and the propagation stops there in that direction (past it, the person's frame is the source to
//    propagate from);
//  - a propagated mask edited since (its journal shows a change not made by a propagation) is kept, and
//    the next frame is propagated from it;
//  - otherwise a re-propagation updates the earlier propagated mask of the same object (a journaled update,
//    so it can be undone), and creates one where there was none.

struct PropagateMasksRequest {
  catalog::Id series_id = 0;
  std::int64_t frame = 0;  // frame index (in the series) of the annotated source frame
  catalog::Id tag_id = 0;  // the source masks: every mask annotation of this tag on that frame
  bool forward = true;
  bool backward = true;
  // Stop a direction at the first frame flagged for review (its mask is still stored, flagged); default:
  // go on, every flagged frame is stored flagged.
  bool stop_on_review = false;
  segment::PropagateOptions options;
  catalog::Actor actor{std::nullopt, "tessera"};
  // After each frame: fraction done and a line saying where. May throw to stop (masks stored so far stay).
  std::function<void(double fraction, const std::string& message)> on_progress;
};

// What happened on one frame to one source object.
struct PropagatedFrame {
  std::int64_t frame = 0;
  catalog::Id image_id = 0;
  catalog::Id from_annotation = 0;
  std::optional<catalog::Id> annotation_id;  // the stored (or kept) annotation
  std::string action;  // created | updated | kept_edited | manual_frame | locked | vanished
  double confidence = 0;
  bool needs_review = false;
  std::string reason;  // why it was flagged, or kept
};

struct PropagateMasksReport {
  catalog::Id series_id = 0;
  std::string series;
  std::int64_t frame = 0;
  catalog::Id tag_id = 0;
  std::vector<catalog::Id> sources;  // the source annotations
  std::int64_t created = 0;
  std::int64_t updated = 0;
  std::int64_t kept = 0;     // edited propagated masks and manual frames left alone
  std::int64_t flagged = 0;  // stored with needs_review
  std::int64_t frames = 0;   // frames visited
  std::vector<PropagatedFrame> steps;  // by direction, then frame
  double seconds = 0;
};

// The request checked against the catalog before any work (the HTTP route and the job's validation call
// it): Error{not_found} for an unknown series or a tag not of the series' project; Error{invalid_argument}
// (details.field "frame") for a frame that is not one of the series' frames, (details.field "tag_id")
// when the frame holds no mask of the tag; Error{invalid_argument} for bad options, naming the option.
// Returns the source annotations' ids.
std::vector<catalog::Id> check_propagation_request(Workspace& workspace, const PropagateMasksRequest& request);

// The first image of the series leased to someone other than `actor`, if any: propagation writes every
// frame, so a lease held by another annotator refuses it up front (HTTP 423) rather than half way.
std::optional<catalog::Lease> find_foreign_lease(Workspace& workspace, catalog::Id series_id,
                                                 const catalog::Actor& actor);

// Propagates as described above. Errors as check_propagation_request, and Error{conflict} (details.reason
// "locked", details.image_id) when find_foreign_lease finds a lease; a lease taken while the
// propagation runs skips that frame (action "locked") and stops the direction.
PropagateMasksReport propagate_masks(Workspace& workspace, const PropagateMasksRequest& request);

nlohmann::json report_json(const PropagateMasksReport& report);

}  // namespace tessera::app
