#pragma once

#include <string>
#include <string_view>

#include "catalog/db.hpp"

namespace tessera::catalog {

// A `--where` filter compiled to a SQL boolean expression over the images table aliased `i`, with every
// user value bound as a parameter: no SQL is ever built from the user's text, field names included
// (they are checked to be identifiers and passed as JSON paths).
//
// Grammar (keywords case-insensitive):
//   expr  := and ('or' and)*          and := unary ('and' unary)*
//   unary := 'not' unary | '(' expr ')' | field cmp
//   cmp   := ('=' | '==' | '!=' | '<>' | '<' | '<=' | '>' | '>=') value
//          | ['not'] 'in' '(' value (',' value)* ')' | ['not'] 'like' string | 'is' ['not'] 'null'
//   field := name ('.' name)*   value := number | 'text' | "text" | true | false
// Fields that name image columns (id, width, height, channels, frames, pixel_type, format, focus, path,
// hash, size, acquired_at, imported_at, series, frame) compare the column; any other name is a metadata
// field (from import path tokens), compared with its JSON type: numbers as numbers, text as text.
// `annotation_state` (=, !=, in, not in with 'unannotated', 'annotated', 'suggested', 'review') tests the
// image's annotations (tessera/catalog/annotation_state.hpp).
// `meta.NAME` forces the metadata field when it shadows a column. LIKE is case-insensitive on both
// backends. Errors are Error{invalid_argument} with the position and a caret under it.
struct SqlFilter {
  std::string sql;  // "TRUE"-equivalent "1=1" for an empty filter
  SqlParams params;
};

SqlFilter compile_where(std::string_view text, Dialect dialect);

}  // namespace tessera::catalog
