#include "pipeline_sources.hpp"

#include <map>

#include <fmt/format.h>

#include "tessera/app/import.hpp"
#include "tessera/app/path_pattern.hpp"
#include "tessera/blob/blob_store.hpp"
#include "tessera/catalog/catalog.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/core/sha256.hpp"
#include "tessera/image/decode.hpp"

namespace tessera::app {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// The roots of one decoded file: one per frame.
void add_frames(pipeline::Batch& batch, const image::Image& decoded, const std::string& id, const json& base) {
  const bool several = decoded.frames.size() > 1;
  for (size_t f = 0; f < decoded.frames.size(); ++f) {
    pipeline::Object root;
    root.id = several ? fmt::format("{}_f{}", id, f) : id;
    root.box = root.crop = cv::Rect(0, 0, decoded.frames[f].cols, decoded.frames[f].rows);
    root.facets["raw"] = ops::Facet::image(decoded.frames[f]);
    root.metadata = base;
    root.metadata["frame"] = f;
    batch.objects.push_back(std::move(root));
  }
}

// Turns the failures of reading one item into its load error, so the run goes on.
template <typename Fn>
void guarded_load(pipeline::Batch& batch, Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    batch.load_error = e.what();
  } catch (const std::exception& e) {
    batch.load_error = e.what();
  }
  if (!batch.load_error.empty()) batch.objects.clear();
}

}  // namespace

std::string safe_id(const std::string& text) {
  std::string out;
  for (char c : text) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') ? c : '_';
  return out.empty() ? "_" : out;
}

pipeline::Batch CatalogSource::load(std::size_t index) const {
  pipeline::Batch batch;
  const catalog::Id id = ids_[index];
  batch.source = fmt::format("image {}", id);
  guarded_load(batch, [&] {
    const catalog::ImageRecord record = workspace_.catalog().get_image(id);
    batch.source = fmt::format("image {} ({})", id, record.source_path);
    const image::Image decoded = image::decode(workspace_.blobs().get(record.blob_hash), record.source_path);
    json fields = record.metadata.is_object() ? record.metadata : json::object();
    if (record.series_name) fields["series"] = *record.series_name;
    if (record.frame_index) fields["series_frame"] = *record.frame_index;
    add_frames(batch, decoded, fmt::format("img{}", id), {{"source", record.source_path}, {"image_id", id}, {"fields", fields}});
  });
  return batch;
}

DirectorySource::DirectorySource(fs::path dir, const std::string& pattern) : dir_(std::move(dir)) {
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) throw Error(ErrorCode::not_found, fmt::format("input folder {} does not exist", dir_.string()));
  std::optional<PathPattern> matcher;
  if (!pattern.empty()) matcher.emplace(pattern);
  for (ImageFile& f : scan_image_files({dir_})) {
    json fields = json::object();
    if (matcher) {
      auto matched = matcher->match(f.relative);
      if (!matched) {
        ++unmatched_;
        continue;
      }
      fields = std::move(*matched);
    }
    const std::string id = safe_id(fs::path(f.relative).replace_extension().generic_string());
    files_.push_back({std::move(f.path), std::move(f.relative), std::move(fields), id});
  }
  // Paths that differ only in characters an id cannot hold ('st01/img 7.png', 'st01_img_7.png') would
  // share an id, and their objects would overwrite each other in every output: those get a suffix from
  // their path's hash, which stays the same from run to run.
  std::map<std::string, int> uses;
  for (const File& f : files_) ++uses[f.id];
  for (File& f : files_) {
    if (uses[f.id] > 1) f.id += "_" + sha256_hex(f.relative).substr(0, 8);
  }
}

pipeline::Batch DirectorySource::load(std::size_t index) const {
  const File& file = files_[index];
  pipeline::Batch batch;
  batch.source = file.path.string();
  guarded_load(batch, [&] {
    const image::Image decoded = image::decode(read_file(file.path), file.relative);
    add_frames(batch, decoded, file.id, {{"source", file.relative}, {"fields", file.fields}});
  });
  return batch;
}

std::string DirectorySource::digest() const {
  std::string text;
  for (const File& f : files_) {
    std::error_code ec;
    const auto size = fs::file_size(f.path, ec);
    const auto time = fs::last_write_time(f.path, ec).time_since_epoch().count();
    text += fmt::format("{}\t{}\t{}\n", f.relative, size, time);
  }
  return sha256_hex(text);
}

std::vector<catalog::Id> resolve_image_ids(Workspace& workspace, catalog::Id project_id, const PipelineInput& input) {
  catalog::ImageQuery query;
  query.project_id = project_id;
  query.set = input.set;
  query.where = input.where;
  if (input.set) workspace.catalog().get_set(project_id, *input.set);  // Error{not_found} naming it
  query.limit = 10000;
  std::vector<catalog::Id> ids;
  for (;;) {
    const auto page = workspace.catalog().list_images(query);
    for (const auto& record : page) ids.push_back(record.id);
    if (static_cast<std::int64_t>(page.size()) < query.limit) break;
    query.after_id = page.back().id;
  }
  return ids;
}

json id_ranges(const std::vector<catalog::Id>& ids) {
  json ranges = json::array();
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
    ranges.push_back({ids[i], ids[j]});
    i = j + 1;
  }
  return ranges;
}

std::vector<catalog::Id> ids_from_ranges(const json& ranges) {
  std::vector<catalog::Id> ids;
  if (!ranges.is_array()) throw Error(ErrorCode::corrupt, "run record: image id ranges are not a list");
  for (const json& r : ranges) {
    if (!r.is_array() || r.size() != 2 || !r[0].is_number_integer() || !r[1].is_number_integer() || r[0] > r[1])
      throw Error(ErrorCode::corrupt, fmt::format("run record: bad image id range {}", r.dump()));
    for (catalog::Id id = r[0].get<catalog::Id>(); id <= r[1].get<catalog::Id>(); ++id) ids.push_back(id);
  }
  return ids;
}

}  // namespace tessera::app
