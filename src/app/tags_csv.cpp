#include "tessera/app/tags_csv.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"

namespace tessera::app {

std::vector<std::vector<std::string>> parse_csv(const std::string& text, const std::string& name) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false;
  bool field_started = false;
  int line = 1;
  int quote_line = 0;
  size_t i = 0;
  if (text.starts_with("\xEF\xBB\xBF")) i = 3;  // UTF-8 byte order mark written by spreadsheet programs
  auto end_record = [&] {
    record.push_back(std::move(field));
    field.clear();
    if (!(record.size() == 1 && record[0].empty())) records.push_back(std::move(record));
    record.clear();
    field_started = false;
  };
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
    } else if (c == '"' && !field_started) {
      quoted = true;
      field_started = true;
      quote_line = line;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_record();
      ++line;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (quoted) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: line {}: quoted field is never closed", name, quote_line));
  }
  if (field_started || !record.empty()) end_record();
  return records;
}

std::vector<catalog::TagSpec> parse_tags_csv(const std::string& text, const std::string& name) {
  auto records = parse_csv(text, name);
  if (records.empty()) throw Error(ErrorCode::invalid_argument, fmt::format("{}: empty file, expected a header line", name));
  std::map<std::string, size_t> column;
  for (size_t c = 0; c < records[0].size(); ++c) {
    std::string h = records[0][c];
    std::transform(h.begin(), h.end(), h.begin(), [](unsigned char ch) { return std::tolower(ch); });
    h.erase(0, h.find_first_not_of(' '));
    h.erase(h.find_last_not_of(' ') + 1);
    if (h == "colour") h = "color";
    if (h != "name" && h != "color" && h != "kind" && h != "parent") {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: line 1: unknown column '{}' (expected name, color, kind, parent)", name, records[0][c]));
    }
    column[h] = c;
  }
  if (!column.count("name")) throw Error(ErrorCode::invalid_argument, fmt::format("{}: line 1: no 'name' column", name));
  std::vector<catalog::TagSpec> tags;
  for (size_t r = 1; r < records.size(); ++r) {
    const auto& rec = records[r];
    if (rec.size() != records[0].size()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: record {}: {} fields, the header has {}", name, r + 1, rec.size(), records[0].size()));
    }
    auto get = [&](const char* key) -> std::string { return column.count(key) ? rec[column[key]] : std::string(); };
    catalog::TagSpec tag;
    tag.name = get("name");
    if (tag.name.empty()) throw Error(ErrorCode::invalid_argument, fmt::format("{}: record {}: field 'name' is empty", name, r + 1));
    if (!get("color").empty()) {
      tag.color = get("color");
      if (tag.color[0] != '#') tag.color = "#" + tag.color;
      std::transform(tag.color.begin(), tag.color.end(), tag.color.begin(), [](unsigned char ch) { return std::tolower(ch); });
      bool hex = tag.color.size() == 7;
      for (size_t k = 1; hex && k < 7; ++k) hex = std::isxdigit(static_cast<unsigned char>(tag.color[k])) != 0;
      if (!hex) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("{}: record {}: field 'color' must be #RRGGBB, got '{}'", name, r + 1, get("color")));
      }
    }
    if (!get("kind").empty()) tag.kind = get("kind");
    if (!get("parent").empty()) tag.parent = get("parent");
    tags.push_back(std::move(tag));
  }
  return tags;
}

std::vector<catalog::TagSpec> read_tags_csv(const std::filesystem::path& path) {
  return parse_tags_csv(read_file(path), path.string());
}

}  // namespace tessera::app
