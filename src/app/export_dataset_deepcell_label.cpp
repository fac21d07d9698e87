// A series as a DeepCell Label project (formats.md 2.2: the X.npy / y.npy zip DCL imports). Labels are
// numbered per frame in annotation order; the same number in two frames is not the same cell.
#include <cstring>

#include <fmt/format.h>

#include "app/export_dataset_items.hpp"
#include "tessera/core/error.hpp"
#include "tessera/exchange/deepcell_label.hpp"

namespace tessera::app {

void write_deepcell_label_export(Workspace& workspace, const ExportDatasetOptions& options,
                                 const DatasetContents& contents, ExportDatasetReport& report) {
  std::vector<cv::Mat> raw, labels;
  for (size_t i = 0; i < contents.images.size(); ++i) {
    const DatasetImage& image = contents.images[i];
    cv::Mat pixels = load_image_pixels(workspace, image.record);
    if (!raw.empty() && (pixels.size() != raw.front().size() || pixels.channels() != raw.front().channels())) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("deepcell-label export: frame {} (image {}) differs in size or channels from frame 0",
                              i, image.record.id));
    }
    if (pixels.depth() != CV_32F) pixels.convertTo(pixels, CV_32F);
    raw.push_back(pixels);
    labels.push_back(label_image(image));
    report_progress(options, 0.3 + 0.6 * double(i + 1) / double(contents.images.size()), "reading frames");
  }
  const exchange::NpyArray x = exchange::npy_from_mats(raw);
  const exchange::NpyArray y = exchange::npy_from_mats(labels);
  if (!options.out.parent_path().empty()) std::filesystem::create_directories(options.out.parent_path());
  exchange::write_deepcell_label_zip(options.out, x, y, exchange::cells_of_labels(y));
  report.files.push_back(options.out);
}

}  // namespace tessera::app
