#include "tessera/catalog/annotation_state.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "catalog/annotation_state_sql.hpp"
#include "tessera/core/error.hpp"

namespace tessera::catalog {

bool is_annotation_state(std::string_view state) {
  return std::find(kAnnotationStates.begin(), kAnnotationStates.end(), state) != kAnnotationStates.end();
}

std::string annotation_states_text() {
  std::string text;
  for (size_t k = 0; k < kAnnotationStates.size(); ++k) {
    if (k > 0) text += k + 1 == kAnnotationStates.size() ? " or " : ", ";
    text += kAnnotationStates[k];
  }
  return text;
}

std::string annotation_state_sql(std::string_view state, std::string_view field) {
  // The literals are fixed text chosen here, never the caller's: the state only selects among them.
  constexpr const char* kLive = "SELECT 1 FROM annotations a WHERE a.image_id = i.id AND a.deleted = 0";
  if (state == "unannotated") return fmt::format("NOT EXISTS ({})", kLive);
  if (state == "annotated") return fmt::format("EXISTS ({} AND a.source <> 'suggested' AND a.needs_review = 0)", kLive);
  if (state == "suggested") return fmt::format("EXISTS ({} AND a.source = 'suggested')", kLive);
  if (state == "review") return fmt::format("EXISTS ({} AND a.source <> 'suggested' AND a.needs_review <> 0)", kLive);
  throw Error(ErrorCode::invalid_argument,
              fmt::format("{}: unknown annotation state '{}': use {}", field, state, annotation_states_text()),
              nlohmann::json{{"field", std::string(field)}});
}

}  // namespace tessera::catalog
