#pragma once

#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tessera::app {

// A path pattern such as '{experiment}/{well}/t{time:int}_c{channel}.tif', matched against a file's path
// relative to the import source, with '/' separators. `{name}` or `{name:str}` matches text without '/',
// `{name:int}` digits (stored as a JSON integer), `{name:float}` a decimal number; `*` matches any text
// without '/', `**` any text. The whole path must match; nothing is guessed.
class PathPattern {
 public:
  struct Field {
    std::string name;
    std::string type;  // "str", "int" or "float"
  };

  // Error{invalid_argument} naming the position for a malformed pattern or a repeated field.
  explicit PathPattern(const std::string& pattern);

  // The typed fields of a matching path, or nullopt when it does not match.
  std::optional<nlohmann::json> match(const std::string& relative_path) const;

  const std::vector<Field>& fields() const { return fields_; }
  const Field* find_field(const std::string& name) const;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::vector<Field> fields_;
  std::regex regex_;
};

}  // namespace tessera::app
