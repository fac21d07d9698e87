#include "writer_util.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "tessera/core/error.hpp"
#include "tessera/image/encode.hpp"

namespace tessera::pipeline {
namespace fs = std::filesystem;
using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

std::vector<int> written_objects(const Batch& batch, int stage) {
  std::vector<int> out;
  for (size_t i = 0; i < batch.objects.size(); ++i) {
    if (batch.objects[i].stage == stage && !batch.is_failed(static_cast<int>(i))) out.push_back(static_cast<int>(i));
  }
  return out;
}

const Object& root_of(const Batch& batch, int index) {
  while (batch.objects[index].parent >= 0) index = batch.objects[index].parent;
  return batch.objects[index];
}

std::string encode_facet(const Object& object, const std::string& facet, const std::string& extension) {
  auto it = object.facets.find(facet);
  if (it == object.facets.end() || it->second.mat.empty())
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: facet '{}' holds no image", object.id, facet));
  cv::Mat mat = it->second.mat;
  if (it->second.kind == ops::FacetKind::labels && extension == "png" && mat.depth() == CV_32S) {
    // PNG holds at most 16 bits: label images with more objects than that go to TIFF.
    double max_label = 0;
    cv::minMaxLoc(mat, nullptr, &max_label);
    if (max_label > 65535)
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: labels '{}' go up to {}, more than a PNG holds; write them as tif", object.id, facet, max_label));
    mat.convertTo(mat, CV_16U);
  }
  return image::encode(mat, "." + extension);
}

namespace {

void add_features(ojson& record, const std::string& name, const json& value) {
  if (value.is_array()) {
    for (size_t k = 0; k < value.size(); ++k) add_features(record, fmt::format("{}-{}", name, k), value[k]);
  } else if (!value.is_object()) {
    record[name] = value;
  }
}

}  // namespace

ojson flat_record(const Batch& batch, int index) {
  const Object& o = batch.objects[index];
  const Object& root = root_of(batch, index);
  ojson r;
  r["object_id"] = o.id;
  r["parent_id"] = o.parent >= 0 ? batch.objects[o.parent].id : "";
  r["source"] = root.metadata.value("source", "");
  r["frame"] = root.metadata.value("frame", 0);
  if (root.metadata.contains("image_id")) r["image_id"] = root.metadata["image_id"];
  if (o.metadata.contains("label")) r["label"] = o.metadata["label"];
  r["bbox_x0"] = o.box.x;
  r["bbox_y0"] = o.box.y;
  r["bbox_x1"] = o.box.br().x;
  r["bbox_y1"] = o.box.br().y;
  if (o.metadata.contains("nested_count")) r["nested_count"] = o.metadata["nested_count"];
  if (root.metadata.contains("fields")) {
    for (const auto& [key, value] : root.metadata["fields"].items()) {
      if (!r.contains(key)) add_features(r, key, value);
    }
  }
  if (o.metadata.contains("features")) {
    for (const auto& [key, value] : o.metadata["features"].items()) {
      if (key != "label" && !r.contains(key)) add_features(r, key, value);
    }
  }
  return r;
}

void need_text(const json& node, const char* field, std::vector<std::string>& problems) {
  if (!node.contains(field) || !node[field].is_string() || node[field].get<std::string>().empty())
    problems.push_back(fmt::format("'{}' is required (a path)", field));
}

std::vector<std::string> facet_list(const json& node, const char* field) {
  std::vector<std::string> out;
  if (!node.contains(field)) return out;
  const json& v = node[field];
  if (v.is_string()) out.push_back(v.get<std::string>());
  if (v.is_array()) {
    for (const json& e : v) {
      if (e.is_string()) out.push_back(e.get<std::string>());
    }
  }
  return out;
}

void need_facets(const json& node, const char* field, const std::map<std::string, ops::FacetKind>& facets, bool required,
                 std::vector<std::string>& problems) {
  if (!node.contains(field)) {
    if (required) problems.push_back(fmt::format("'{}' is required (facet names)", field));
    return;
  }
  const json& v = node[field];
  const bool ok = v.is_string() || (v.is_array() && std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_string(); }));
  if (!ok) {
    problems.push_back(fmt::format("'{}' must be a facet name or a list of facet names", field));
    return;
  }
  for (const std::string& name : facet_list(node, field)) {
    auto it = facets.find(name);
    if (it == facets.end()) {
      problems.push_back(fmt::format("'{}' names the facet '{}', which objects at this point do not have", field, name));
    } else if (it->second == ops::FacetKind::table || it->second == ops::FacetKind::images) {
      problems.push_back(fmt::format("'{}' names the facet '{}', a {}, not an image", field, name, ops::to_string(it->second)));
    }
  }
}

Spool::Spool(const fs::path& beside) {
  std::string pattern = (beside.parent_path().empty() ? fs::path(".") : beside.parent_path()) / ("." + beside.filename().string() + ".spool.XXXXXX");
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) throw Error(ErrorCode::io, fmt::format("{}: cannot create a spool file: {}", beside.string(), std::strerror(errno)));
  path_ = pattern;
  file_ = ::fdopen(fd, "w+");
  if (!file_) {
    ::close(fd);
    throw Error(ErrorCode::io, fmt::format("{}: cannot open the spool file", beside.string()));
  }
}

Spool::~Spool() {
  if (file_) std::fclose(file_);
  std::error_code ec;
  fs::remove(path_, ec);
}

void Spool::append(const ojson& record) {
  const std::string line = record.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size())
    throw Error(ErrorCode::io, fmt::format("{}: write failed: {}", path_.string(), std::strerror(errno)));
  ++count_;
}

void Spool::replay(const std::function<void(const ojson&)>& fn) {
  if (std::fflush(file_) != 0 || std::fseek(file_, 0, SEEK_SET) != 0)
    throw Error(ErrorCode::io, fmt::format("{}: cannot read back: {}", path_.string(), std::strerror(errno)));
  std::string line;
  char buffer[1 << 16];
  while (std::fgets(buffer, sizeof buffer, file_)) {
    line += buffer;
    if (line.empty() || line.back() != '\n') continue;
    fn(ojson::parse(line));
    line.clear();
  }
  std::fseek(file_, 0, SEEK_END);
}

}  // namespace tessera::pipeline
