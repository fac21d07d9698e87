// COCO instance segmentation JSON (formats.md 5): images, categories and annotations numbered from 1 in
// export order, so the same catalog contents give the same bytes.
#include "app/export_dataset_items.hpp"
#include "tessera/core/file.hpp"
#include "tessera/exchange/coco.hpp"

namespace tessera::app {

void write_coco_export(const ExportDatasetOptions& options, const DatasetContents& contents,
                       ExportDatasetReport& report) {
  exchange::CocoDataset dataset;
  dataset.description = options.set;
  for (size_t i = 0; i < contents.classes.size(); ++i) {
    dataset.categories.push_back({std::int64_t(i + 1), contents.classes[i].name, ""});
  }
  std::int64_t next_annotation = 1;
  for (size_t i = 0; i < contents.images.size(); ++i) {
    const DatasetImage& image = contents.images[i];
    const std::int64_t image_id = std::int64_t(i + 1);
    const cv::Size size(image.record.width, image.record.height);
    dataset.images.push_back({image_id, size.width, size.height, image.file_name});
    for (const auto& object : image.objects) {
      const auto class_id = class_index(contents, object);
      if (!class_id) continue;
      exchange::CocoAnnotation a = exchange::coco_annotation_from_mask(object.mask, object.offset, size, options.rle);
      a.id = next_annotation++;
      a.image_id = image_id;
      a.category_id = *class_id + 1;
      dataset.annotations.push_back(std::move(a));
    }
    report_progress(options, 0.3 + 0.6 * double(i + 1) / double(contents.images.size()), "encoding masks");
  }
  if (!options.out.parent_path().empty()) std::filesystem::create_directories(options.out.parent_path());
  write_file_atomic(options.out, exchange::write_coco_json(dataset));
  report.files.push_back(options.out);
}

}  // namespace tessera::app
