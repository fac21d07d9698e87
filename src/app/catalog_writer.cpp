#include "catalog_writer.hpp"

#include <map>

#include <fmt/format.h>

#include "tessera/blob/blob_store.hpp"
#include "tessera/catalog/catalog.hpp"
#include "tessera/core/error.hpp"
#include "tessera/image/encode.hpp"

namespace tessera::app {
namespace {

using json = nlohmann::json;

struct PreparedObjects : pipeline::Prepared {
  struct Item {
    int index = 0;  // in the batch
    catalog::Id image_id = 0;
    catalog::NewObject object;
  };
  std::vector<Item> items;
};

class CatalogWriter : public pipeline::Writer {
 public:
  CatalogWriter(std::shared_ptr<CatalogTarget> target, const json& node)
      : target_(std::move(target)), mask_facet_(node.contains("mask") && node["mask"].is_string() ? node["mask"].get<std::string>() : "mask"),
        store_masks_(!(node.contains("mask") && node["mask"].is_boolean() && !node["mask"].get<bool>())) {}

  std::unique_ptr<pipeline::Prepared> prepare(const pipeline::Batch& batch, int stage) const override {
    auto out = std::make_unique<PreparedObjects>();
    for (size_t i = 0; i < batch.objects.size(); ++i) {
      const pipeline::Object& o = batch.objects[i];
      if (o.stage != stage || batch.is_failed(static_cast<int>(i))) continue;
      int r = static_cast<int>(i);
      while (batch.objects[r].parent >= 0) r = batch.objects[r].parent;
      const pipeline::Object& root = batch.objects[r];
      if (!root.metadata.contains("image_id"))
        throw Error(ErrorCode::invalid_argument, fmt::format("catalog writer: {} was not loaded from the catalog", root.id));
      PreparedObjects::Item item;
      item.index = static_cast<int>(i);
      item.image_id = root.metadata["image_id"].get<catalog::Id>();
      catalog::NewObject& n = item.object;
      n.label = o.metadata.value("label", std::int64_t{0});
      n.frame_index = root.metadata.value("frame", std::int64_t{0});
      n.bbox_x0 = o.box.x;
      n.bbox_y0 = o.box.y;
      n.bbox_x1 = o.box.br().x;
      n.bbox_y1 = o.box.br().y;
      n.features = o.metadata.value("features", json::object());
      if (o.metadata.contains("nested_count")) n.features["nested_count"] = o.metadata["nested_count"];
      n.features["object_id"] = o.id;
      if (store_masks_) {
        auto mask = o.facets.find(mask_facet_);
        if (mask != o.facets.end() && !mask->second.mat.empty()) {
          // Stored at the object's box (what the record holds), not at its padded crop: a reader places
          // the mask at (bbox_x0, bbox_y0) without knowing how much padding the border allowed.
          cv::Mat m = mask->second.mat;
          const cv::Rect in_crop(o.box.tl() - o.crop.tl(), o.box.size());
          if (m.size() == o.crop.size() && (in_crop & cv::Rect(0, 0, m.cols, m.rows)) == in_crop) m = m(in_crop);
          n.mask_blob = target_->workspace->blobs().put(image::encode(m, ".png"));
        }
      }
      out->items.push_back(std::move(item));
    }
    return out;
  }

  void write(const pipeline::Batch& batch, int, std::unique_ptr<pipeline::Prepared> prepared) override {
    auto& items = static_cast<PreparedObjects*>(prepared.get())->items;
    if (items.empty()) return;
    catalog::Catalog& catalog = target_->workspace->catalog();
    // Objects of one image in one call, parents first so nested regions can point at them.
    std::map<int, catalog::Id> stored;  // batch index -> catalog id
    std::map<catalog::Id, std::vector<PreparedObjects::Item*>> by_image;
    for (auto& item : items) by_image[item.image_id].push_back(&item);
    for (auto& [image_id, group] : by_image) {
      for (int pass = 0; pass < 2; ++pass) {
        std::vector<catalog::NewObject> objects;
        std::vector<int> indices;
        for (auto* item : group) {
          // A region nested in another (split with nested = children) has a parent of its own stage: it
          // goes in the second pass, pointing at its outer region's record.
          const pipeline::Object& o = batch.objects[item->index];
          const bool nested = o.parent >= 0 && batch.objects[o.parent].stage == o.stage;
          if ((pass == 1) != nested) continue;
          if (nested) {
            auto parent = stored.find(o.parent);
            if (parent == stored.end())
              throw Error(ErrorCode::internal, fmt::format("catalog writer: {} was written before its outer object", o.id));
            item->object.parent_id = parent->second;
          }
          objects.push_back(item->object);
          indices.push_back(item->index);
        }
        if (objects.empty()) continue;
        const auto ids = catalog.add_objects(target_->project_id, target_->run_id, image_id, objects);
        for (size_t k = 0; k < ids.size(); ++k) stored[indices[k]] = ids[k];
        written_ += static_cast<std::int64_t>(ids.size());
      }
    }
  }

  void finish() override {}

  json summary() const override { return {{"writer", "catalog"}, {"objects", written_}}; }

 private:
  std::shared_ptr<CatalogTarget> target_;
  std::string mask_facet_;
  bool store_masks_;
  std::int64_t written_ = 0;
};

}  // namespace

pipeline::WriterKind catalog_writer_kind(std::shared_ptr<CatalogTarget> target) {
  return {.name = "catalog",
          .summary = "Objects into the catalog: parent image, box, features, mask blob, linked to the run",
          .fields = {"mask"},
          .check =
              [](const json& node, const std::map<std::string, ops::FacetKind>& facets, int stage) {
                std::vector<std::string> problems;
                if (stage == 0) problems.push_back("needs objects: put a split node (extract_regions) before it");
                if (node.contains("mask")) {
                  const json& m = node["mask"];
                  if (m.is_string()) {
                    if (!facets.count(m.get<std::string>()))
                      problems.push_back(fmt::format("'mask' names the facet '{}', which objects at this point do not have", m.get<std::string>()));
                  } else if (!(m.is_boolean() && !m.get<bool>())) {
                    problems.push_back("'mask' must be a facet name or false");
                  }
                }
                return problems;
              },
          .create = [target](const json& node) -> std::unique_ptr<pipeline::Writer> {
            return std::make_unique<CatalogWriter>(target, node);
          }};
}

}  // namespace tessera::app
