#pragma once

#include <string>
#include <string_view>

namespace tessera::catalog {

// The SQL predicate (same text on SQLite and PostgreSQL, no parameters) that an image aliased `i` is in the
// annotation state (include/tessera/catalog/annotation_state.hpp). A correlated EXISTS over the
// (image_id, ...) index of annotations: one index probe per candidate image, so a page stops as soon as it is
// full, whatever the project's size. Error{invalid_argument, details.field = field} for an unknown state.
std::string annotation_state_sql(std::string_view state, std::string_view field = "annotation_state");

}  // namespace tessera::catalog
