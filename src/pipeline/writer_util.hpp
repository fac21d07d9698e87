#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/ops/op.hpp"
#include "tessera/pipeline/object.hpp"

namespace tessera::pipeline {

// Indices of the objects of one stage that went through every node (failed ones and their descendants
// excluded), in batch order.
std::vector<int> written_objects(const Batch& batch, int stage);

// The root an object descends from.
const Object& root_of(const Batch& batch, int index);

// The object's facet encoded as a file of the given extension ("png", "tif"). Error naming the object and
// facet when it is missing or not an image.
std::string encode_facet(const Object& object, const std::string& facet, const std::string& extension);

// One flat record per object for tabular outputs: object_id, parent_id, source, frame, image_id, label,
// bbox_x0..bbox_y1, nested_count, the root's loader fields, then the features (arrays flattened as
// name-0, name-1, ...). Keys keep this order.
nlohmann::ordered_json flat_record(const Batch& batch, int index);

// Checks shared by writers: a required text field, a facet list naming facets of the stage.
void need_text(const nlohmann::json& node, const char* field, std::vector<std::string>& problems);
void need_facets(const nlohmann::json& node, const char* field, const std::map<std::string, ops::FacetKind>& facets,
                 bool required, std::vector<std::string>& problems);
std::vector<std::string> facet_list(const nlohmann::json& node, const char* field);

// Spools JSON lines to a temp file beside the final output so writers that need the union of columns
// before the first row keep flat memory. Removed on destruction.
class Spool {
 public:
  explicit Spool(const std::filesystem::path& beside);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;
  void append(const nlohmann::ordered_json& record);
  // Calls fn for each record in order.
  void replay(const std::function<void(const nlohmann::ordered_json&)>& fn);
  std::int64_t size() const { return count_; }

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  std::int64_t count_ = 0;
};

}  // namespace tessera::pipeline
