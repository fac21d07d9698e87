#pragma once

#include <array>
#include <string>
#include <string_view>

namespace tessera::catalog {

// Where an image stands in annotation work, as the image list filters it (ImageQuery::annotation_state,
// `?annotation_state=` on the API, `tessera ls images --annotation-state`, and the `annotation_state` field of
// the --where language, so a set made from such a filter keeps it in its query). Deleted annotations (kept for
// undo) never count; any kind and any frame does.
//   unannotated  no annotation at all
//   annotated    at least one made or accepted by people: source other than 'suggested', not flagged for review
//   suggested    at least one suggestion of the learning loop awaiting review (source 'suggested'; accepting
//                one changes its source)
//   review       at least one flagged for review that is not a suggestion (needs_review: propagated masks that
//                drifted, or flagged by a person)
// 'unannotated' and 'annotated' never overlap; an image holding only suggestions or flagged masks is neither,
// and an image may be annotated and suggested at once.
inline constexpr std::array<std::string_view, 4> kAnnotationStates = {"unannotated", "annotated", "suggested",
                                                                      "review"};

bool is_annotation_state(std::string_view state);

// "unannotated, annotated, suggested or review", for messages.
std::string annotation_states_text();

}  // namespace tessera::catalog
