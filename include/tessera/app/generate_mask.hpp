#pragma once

// Point-prompted mask generation on a catalog image, the one use case under `tessera annotate generate` and
// POST /api/v1/images/{id}/masks:generate: decode the image's frame, segment it from the clicks, optionally keep
// the image's masks non-overlapping, and with `save` store the mask as a generated annotation.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "tessera/app/workspace.hpp"
#include "tessera/catalog/annotations.hpp"
#include "tessera/segment/segmenter.hpp"

namespace tessera::app {

// How the new mask meets the image's other masks of the same frame.
enum class MaskOverlap {
  allow,  // masks may overlap (default)
  take,   // the new mask takes its pixels from the others, which are updated (a mask left empty is deleted)
  clip,   // the new mask loses the pixels others hold
};

// "allow" | "take" | "clip"; Error{invalid_argument} naming the field `overlap` otherwise.
MaskOverlap parse_overlap(const std::string& text);

struct GenerateMaskRequest {
  catalog::Id image_id = 0;
  std::int64_t frame_index = 0;
  std::vector<segment::PromptPoint> points;  // image pixels
  std::optional<cv::Rect> box;
  std::optional<catalog::Id> tag_id;
  std::optional<std::string> color;  // "#rrggbb"
  MaskOverlap overlap = MaskOverlap::allow;
  bool save = false;  // without save nothing is written (overlap "take" then only previews the new mask)
  segment::SegmenterConfig segmenter;
};

struct GenerateMaskOutcome {
  catalog::EditStatus status = catalog::EditStatus::applied;  // locked / stale: nothing was stored
  cv::Mat mask;                                  // CV_8U, image size, 0/255, after overlap handling
  cv::Rect bbox;                                 // the mask's pixels (empty when none)
  double confidence = 0;                         // the segmenter's estimate, 0..1
  std::string segmenter;                         // its name
  std::optional<catalog::Annotation> annotation;  // save: the stored mask
  std::vector<catalog::Annotation> updated;      // save + take: other masks that gave up pixels
  std::vector<catalog::Id> deleted;              // save + take: other masks left empty, deleted
  std::optional<catalog::Lease> lease;           // locked: who holds the image
  std::optional<catalog::Annotation> current;    // stale: another mask changed meanwhile, as it is now
};

// Errors (nothing stored): Error{not_found} for an unknown image or tag (field tag_id), Error{invalid_argument}
// naming the field for a frame outside the image (frame_index), a point outside the image or no positive
// point (points), a bad colour (mask_color), a box outside the image (box), an empty generated mask with save
// (points); ONNX segmenter errors as segment::make_segmenter. With save, the writes (the new mask, and with
// take the others) are all or nothing: a refused write (locked, stale) undoes the earlier ones. Thread-safe.
GenerateMaskOutcome generate_mask(Workspace& workspace, const GenerateMaskRequest& request,
                                  const catalog::Actor& actor);

// Points as JSON: [{"x":..,"y":..,"positive":true}, ...] or [[x, y, "+"|"-"], ...] (also [x, y] = positive);
// Error{invalid_argument} naming points[i].
std::vector<segment::PromptPoint> parse_prompt_points(const nlohmann::json& points);

// The mask part of an answer: {"bbox": [x0, y0, x1, y1], "mask_rle": {...}} or with "mask_png_base64"
// (format "rle" | "png"); the mask is cropped to bbox as annotation masks are.
nlohmann::json generated_mask_json(const GenerateMaskOutcome& outcome, const std::string& format);

}  // namespace tessera::app
