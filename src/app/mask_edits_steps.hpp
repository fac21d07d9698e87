#pragma once

// What the mask edit use cases share (mask_edits.cpp, mask_edits_manage.cpp): running a sequence of
// annotation writes as all or nothing. Private to the app layer.

#include <functional>
#include <optional>
#include <vector>

#include "tessera/app/annotations.hpp"
#include "tessera/app/mask_edits.hpp"

namespace tessera::app {

// Collects the writes of one edit; on a refused write, undoes those already applied (newest first) so the
// images look as before the edit, and reports why.
class EditSteps {
 public:
  EditSteps(Annotations& annotations, const catalog::Actor& actor) : annotations_(annotations), actor_(actor) {}

  // Runs one write and returns the annotation as written (recorded for undo); when the write is refused,
  // copies the refusal into `outcome`, clears what it listed, undoes every earlier write and returns empty.
  std::optional<catalog::Annotation> apply(MaskEditOutcome& outcome, const std::function<catalog::EditResult()>& write);

 private:
  Annotations& annotations_;
  const catalog::Actor& actor_;
  std::vector<catalog::Id> done_;
};

// The 8-bit mask (0/255) of a mask annotation over its bbox. Error{corrupt} when it does not decode.
cv::Mat decode_stored_mask(Annotations& annotations, const catalog::Annotation& annotation);

// Refuses annotations that are not live masks: not_found when deleted, invalid_argument naming `field`
// for other kinds.
void require_mask(const catalog::Annotation& annotation, const std::string& field);

// The JSON patch storing `mask` (CV_8U over `roi` of the image) cropped to its pixels, made source manual.
nlohmann::json mask_patch(const cv::Mat& mask, const cv::Rect& roi);

}  // namespace tessera::app
