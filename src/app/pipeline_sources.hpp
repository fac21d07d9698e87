#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/app/pipeline_run.hpp"
#include "tessera/app/workspace.hpp"
#include "tessera/pipeline/engine.hpp"

namespace tessera::app {

// Catalog images by id: each frame of each image becomes a root with facet "raw" and metadata
// {source, image_id, frame, fields: the image's metadata plus series and series_frame}.
class CatalogSource : public pipeline::Source {
 public:
  CatalogSource(Workspace& workspace, std::vector<catalog::Id> ids) : workspace_(workspace), ids_(std::move(ids)) {}
  std::size_t size() const override { return ids_.size(); }
  pipeline::Batch load(std::size_t index) const override;
  const std::vector<catalog::Id>& ids() const { return ids_; }

 private:
  Workspace& workspace_;
  std::vector<catalog::Id> ids_;
};

// Image files under a folder; a path pattern selects them and its fields become the roots' fields.
class DirectorySource : public pipeline::Source {
 public:
  DirectorySource(std::filesystem::path dir, const std::string& pattern);
  std::size_t size() const override { return files_.size(); }
  pipeline::Batch load(std::size_t index) const override;
  std::int64_t unmatched() const { return unmatched_; }
  // SHA-256 over every selected file's relative path, size and modification time: what a repeat checks.
  std::string digest() const;

 private:
  struct File {
    std::filesystem::path path;
    std::string relative;
    nlohmann::json fields;
    std::string id;  // root id: the path made safe, unique among the files
  };
  std::filesystem::path dir_;
  std::vector<File> files_;
  std::int64_t unmatched_ = 0;
};

// Image ids of a set and/or filter, ascending, read page by page.
std::vector<catalog::Id> resolve_image_ids(Workspace& workspace, catalog::Id project_id, const PipelineInput& input);

// Ids as ascending [first, last] ranges (compact in run records) and back.
nlohmann::json id_ranges(const std::vector<catalog::Id>& ids);
std::vector<catalog::Id> ids_from_ranges(const nlohmann::json& ranges);

// A root id from a path or name: letters, digits, '.', '-' and '_' kept, anything else '_'.
std::string safe_id(const std::string& text);

}  // namespace tessera::app
