#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "tessera/app/workspace.hpp"
#include "tessera/ops/regionprops.hpp"

namespace tessera::app {

// The measurement chain: threshold -> label -> drop small objects -> relabel in raster order -> regionprops,
// with scikit-image 0.19's definitions throughout.
struct MeasureOptions {
  std::string threshold = "otsu";  // "otsu", "quantile:Q" (0 <= Q <= 1) or a number
  bool dark_objects = false;
  std::int64_t min_area = 0;       // objects with fewer pixels are dropped
  int connectivity = 2;            // 1 = 4-neighbours, 2 = 8-neighbours
  int jobs = 1;
};

// Error{invalid_argument} naming the option for a malformed threshold, connectivity or min_area.
void validate_measure_options(const MeasureOptions& options);

struct MeasuredImage {
  double threshold = 0;
  std::vector<ops::RegionProps> regions;
};

// Measures one image (one channel, or colour converted with to_gray). Error{invalid_argument} for NaN,
// infinite values or an unsupported pixel type.
MeasuredImage measure_image(const cv::Mat& image, const MeasureOptions& options);

struct MeasureProblem {
  std::string source;
  std::string reason;
};

struct MeasureReport {
  std::int64_t images = 0;    // measured
  std::int64_t objects = 0;
  std::vector<MeasureProblem> failed;
  double seconds = 0;
  std::optional<catalog::Id> run_id;
};

// The CSV header: "image" then scikit-image's regionprops_table column names.
std::string measure_csv_header();

// Measures files (first frame of each), writing one CSV (header, then rows in file order) to out. A file
// that cannot be read or measured is reported in failed; the others are measured.
MeasureReport measure_files(const std::vector<std::filesystem::path>& files, const MeasureOptions& options,
                            std::ostream& out);

// Measures every frame of every image of a set and stores the objects, with their features, in the catalog
// under one run (kind "measure"); also writes the CSV when out is given.
MeasureReport measure_set(Workspace& workspace, const std::string& project, const std::string& set,
                          const MeasureOptions& options, std::ostream* out);

}  // namespace tessera::app
