#include "split.hpp"

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "tessera/core/error.hpp"
#include "tessera/ops/labels.hpp"
#include "tessera/ops/regions.hpp"

namespace tessera::pipeline {
namespace {

using json = nlohmann::json;

const cv::Mat& facet_mat(const Object& object, const std::string& name, const char* role) {
  auto it = object.facets.find(name);
  if (it == object.facets.end() || it->second.mat.empty())
    throw Error(ErrorCode::invalid_argument, fmt::format("split: {} facet '{}' is missing on {}", role, name, object.id));
  return it->second.mat;
}

// Rows of a features table by label.
std::map<std::int64_t, json> rows_by_label(const Object& object, const std::string& facet) {
  std::map<std::int64_t, json> rows;
  if (facet.empty()) return rows;
  auto it = object.facets.find(facet);
  if (it == object.facets.end())
    throw Error(ErrorCode::invalid_argument, fmt::format("split: features facet '{}' is missing on {}", facet, object.id));
  const json& table = it->second.table;
  if (!table.is_array()) throw Error(ErrorCode::invalid_argument, fmt::format("split: features facet '{}' is not a table", facet));
  for (const json& row : table) {
    if (row.is_object() && row.contains("label") && row["label"].is_number_integer()) rows[row["label"].get<std::int64_t>()] = row;
  }
  return rows;
}

// For each region, the index of the outermost region whose holes contain it, or -1.
std::vector<int> find_containers(const std::vector<ops::RegionCrop>& regions) {
  const int n = static_cast<int>(regions.size());
  std::vector<int> container(n, -1);
  std::vector<cv::Mat> holes(n);  // filled mask minus the region, computed when first needed
  for (int outer = 0; outer < n; ++outer) {
    for (int inner = 0; inner < n; ++inner) {
      if (inner == outer) continue;
      const cv::Rect& o = regions[outer].object;
      const cv::Rect& r = regions[inner].object;
      if ((o & r) != r || r.area() >= o.area()) continue;  // a region in a hole lies strictly inside the box
      if (holes[outer].empty()) {
        const cv::Mat& mask = regions[outer].mask;
        cv::Mat filled = ops::fill_holes(mask, 0);
        holes[outer] = filled & ~mask;
      }
      // Any pixel of the inner region decides: regions do not overlap, so it is either in a hole or outside.
      const ops::RegionCrop& in = regions[inner];
      cv::Point probe(-1, -1);
      for (int y = 0; y < in.mask.rows && probe.x < 0; ++y) {
        const std::uint8_t* row = in.mask.ptr<std::uint8_t>(y);
        for (int x = 0; x < in.mask.cols; ++x) {
          if (row[x]) {
            probe = cv::Point(x, y) + in.box.tl();
            break;
          }
        }
      }
      const cv::Point local = probe - regions[outer].box.tl();
      if (probe.x < 0 || !regions[outer].box.contains(probe)) continue;
      if (holes[outer].at<std::uint8_t>(local) == 0) continue;
      // Keep the outermost container: the one with the largest box.
      if (container[inner] < 0 || regions[container[inner]].object.area() < o.area()) container[inner] = outer;
    }
  }
  // A container that is itself nested hands its regions to its own container.
  for (int i = 0; i < n; ++i) {
    int c = container[i];
    int guard = 0;
    while (c >= 0 && container[c] >= 0 && guard++ < n) c = container[c];
    container[i] = c;
  }
  return container;
}

}  // namespace

void split_regions(const SplitSpec& split, Batch& batch, int parent_index, int child_stage) {
  // Children are appended to batch.objects, which may move the parent: work from copies of its headers.
  const Object& parent = batch.objects[parent_index];
  const cv::Mat labels = facet_mat(parent, split.labels, "labels");
  std::vector<cv::Mat> crops;
  std::vector<ops::Facet> crop_facets;
  for (const std::string& name : split.crop) {
    const cv::Mat m = facet_mat(parent, name, "crop");
    if (m.size() != labels.size())
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("split: crop facet '{}' is {}x{} but the labels '{}' are {}x{}", name, m.cols, m.rows, split.labels,
                              labels.cols, labels.rows));
    crops.push_back(m);
    crop_facets.push_back(parent.facets.at(name));
  }
  // One implementation of cutting out regions: the extract_regions op's. Its image is the first crop (or
  // the labels themselves); the other crops are taken at the same boxes.
  std::vector<ops::RegionCrop> regions = ops::extract_regions(crops.empty() ? labels : crops.front(), labels, split.padding);
  auto rows = rows_by_label(parent, split.features);
  std::vector<int> container(regions.size(), -1);
  if (split.nested != SplitSpec::Nested::ignore && regions.size() > 1) container = find_containers(regions);
  std::vector<int> nested_count(regions.size(), 0);
  for (int c : container) {
    if (c >= 0) ++nested_count[c];
  }

  const cv::Point origin = parent.crop.tl();
  const std::string parent_id = parent.id;
  std::vector<int> child_index(regions.size(), -1);
  // Outer regions first, then (with nested = children) the nested ones after their container.
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < regions.size(); ++i) {
      const bool nested = container[i] >= 0;
      if (nested != (pass == 1)) continue;
      if (nested && split.nested == SplitSpec::Nested::count) continue;
      const ops::RegionCrop& r = regions[i];
      Object child;
      const int owner = nested ? child_index[container[i]] : parent_index;
      child.parent = owner;
      child.stage = child_stage;
      child.id = fmt::format("{}_{}", nested ? batch.objects[owner].id : parent_id, r.label);
      child.box = r.object + origin;
      child.crop = r.box + origin;
      for (size_t c = 0; c < split.crop.size(); ++c) {
        ops::Facet facet = crop_facets[c];
        facet.mat = c == 0 ? r.image : crops[c](r.box).clone();
        child.facets[split.crop[c]] = std::move(facet);
      }
      child.facets[split.mask] = ops::Facet::mask(r.mask);
      json meta = {{"label", r.label},
                   {"bbox", {child.box.x, child.box.y, child.box.br().x, child.box.br().y}},
                   {"crop", {child.crop.x, child.crop.y, child.crop.br().x, child.crop.br().y}},
                   {"parent", nested ? batch.objects[owner].id : parent_id}};
      if (split.nested != SplitSpec::Nested::ignore) meta["nested_count"] = nested_count[i];
      if (nested) meta["nested_in"] = regions[container[i]].label;
      auto row = rows.find(r.label);
      if (row != rows.end()) meta["features"] = std::move(row->second);
      child.metadata = std::move(meta);
      child_index[i] = static_cast<int>(batch.objects.size());
      batch.objects.push_back(std::move(child));
    }
  }
}

}  // namespace tessera::pipeline
