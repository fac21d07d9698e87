#pragma once

// The images and objects of an export, read once from the catalog and shared by the format writers.
// Private to the app layer.

#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "tessera/app/export_dataset.hpp"
#include "tessera/catalog/annotations.hpp"

namespace tessera::app {

// One object: its pixels over the box whose top-left pixel is `offset` (image coordinates).
struct DatasetObject {
  catalog::Id annotation_id = 0;
  std::optional<catalog::Id> tag_id;
  cv::Mat mask;  // CV_8UC1, non-zero = set
  cv::Point offset;
};

struct DatasetImage {
  catalog::ImageRecord record;
  std::string file_name;  // unique within the export: the source file's name, "<id>_<name>" on a clash
  std::vector<DatasetObject> objects;
};

struct DatasetContents {
  std::vector<DatasetImage> images;  // image id order
  std::vector<catalog::Tag> classes;  // tags carried by the objects, tag id order
  std::vector<ExportProblem> problems;
  std::int64_t objects = 0;
};

// The images of a set (or of a series, by frame index) with their objects. Error{not_found} for an
// unknown project/set/series, Error{invalid_argument} when there are no images or no objects at all.
DatasetContents gather_set(Workspace& workspace, const ExportDatasetOptions& options);
DatasetContents gather_series(Workspace& workspace, const ExportDatasetOptions& options);

// The class index of an object among contents.classes; nullopt for an untagged object.
std::optional<int> class_index(const DatasetContents& contents, const DatasetObject& object);

// The image's pixels, frame 0, decoded from its blob.
cv::Mat load_image_pixels(Workspace& workspace, const catalog::ImageRecord& record);

// Object labels 1..n in object order over the whole image (CV_32SC1); later objects win where they overlap.
cv::Mat label_image(const DatasetImage& image);

void report_progress(const ExportDatasetOptions& options, double fraction, const std::string& message);

// Writers per format; each fills report.files.
void write_npz_export(Workspace& workspace, const ExportDatasetOptions& options, const DatasetContents& contents,
                      ExportDatasetReport& report);
void write_yolo_export(Workspace& workspace, const ExportDatasetOptions& options, const DatasetContents& contents,
                       ExportDatasetReport& report);
void write_coco_export(const ExportDatasetOptions& options, const DatasetContents& contents,
                       ExportDatasetReport& report);
void write_deepcell_label_export(Workspace& workspace, const ExportDatasetOptions& options,
                                 const DatasetContents& contents, ExportDatasetReport& report);

}  // namespace tessera::app
