#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tessera/catalog/records.hpp"

namespace tessera::app {

// Reads a tag list: CSV with a header naming the columns name (required), color/colour, kind, parent, in
// any order; quoted fields may hold commas, quotes ("") and newlines. Errors name the file, line and column.
std::vector<catalog::TagSpec> read_tags_csv(const std::filesystem::path& path);
std::vector<catalog::TagSpec> parse_tags_csv(const std::string& text, const std::string& name);

// RFC 4180 records of a CSV text (used by every CSV reader in tessera). Error{invalid_argument} for an
// unterminated quote, naming the line.
std::vector<std::vector<std::string>> parse_csv(const std::string& text, const std::string& name);

}  // namespace tessera::app
