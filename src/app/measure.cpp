#include "tessera/app/measure.hpp"

#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "tessera/core/csv.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/core/parallel.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/ops/labels.hpp"
#include "tessera/ops/preprocess.hpp"
#include "tessera/ops/threshold.hpp"
#include "tessera/version.hpp"

namespace tessera::app {
namespace fs = std::filesystem;
namespace {

struct ThresholdRule {
  enum class Kind { otsu, quantile, value } kind = Kind::otsu;
  double number = 0;
};

ThresholdRule parse_threshold(const std::string& text) {
  ThresholdRule rule;
  if (text == "otsu") return rule;
  auto parse_number = [&](const std::string& s) {
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(v)) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("--threshold must be otsu, quantile:Q or a number, got '{}'", text));
    }
    return v;
  };
  if (text.starts_with("quantile:")) {
    rule.kind = ThresholdRule::Kind::quantile;
    rule.number = parse_number(text.substr(9));
    if (rule.number < 0 || rule.number > 1) {
      throw Error(ErrorCode::invalid_argument, fmt::format("--threshold quantile must be in [0, 1], got {}", rule.number));
    }
    return rule;
  }
  rule.kind = ThresholdRule::Kind::value;
  rule.number = parse_number(text);
  return rule;
}

}  // namespace

void validate_measure_options(const MeasureOptions& options) {
  parse_threshold(options.threshold);
  if (options.connectivity != 1 && options.connectivity != 2) {
    throw Error(ErrorCode::invalid_argument, fmt::format("--connectivity must be 1 or 2, got {}", options.connectivity));
  }
  if (options.min_area < 0) throw Error(ErrorCode::invalid_argument, fmt::format("--min-area must be >= 0, got {}", options.min_area));
  if (options.jobs < 1) throw Error(ErrorCode::invalid_argument, fmt::format("--jobs must be >= 1, got {}", options.jobs));
}

MeasuredImage measure_image(const cv::Mat& image, const MeasureOptions& options) {
  const cv::Mat gray = image.channels() == 1 ? image : ops::to_gray(image);
  const ThresholdRule rule = parse_threshold(options.threshold);
  MeasuredImage out;
  switch (rule.kind) {
    case ThresholdRule::Kind::otsu: out.threshold = ops::threshold_otsu(gray); break;
    case ThresholdRule::Kind::quantile: out.threshold = ops::threshold_quantile(gray, rule.number); break;
    case ThresholdRule::Kind::value: out.threshold = rule.number; break;
  }
  // Dropping whole components keeps the raster order of the rest, so one pass labels, drops and renumbers.
  const cv::Mat labels = ops::label(ops::threshold_mask(gray, out.threshold, options.dark_objects),
                                    options.connectivity, options.min_area);
  out.regions = ops::regionprops(labels, gray);
  return out;
}

std::string measure_csv_header() {
  std::string header = "image";
  for (const auto& column : ops::regionprops_columns()) header += "," + column;
  return header + "\n";
}

namespace {

// The CSV rows of one image. Formatting 20 floats at 17 digits per object costs about as much as measuring
// them, so workers format and the ordered consumer only writes.
std::string format_rows(const std::string& name, const MeasuredImage& measured) {
  const std::string prefix = csv_field(name);
  std::string buffer;
  for (const auto& region : measured.regions) {
    buffer += prefix;
    for (const auto& field : ops::format_row(region)) {
      buffer += ',';
      buffer += field;
    }
    buffer += '\n';
  }
  return buffer;
}

struct FileResult {
  std::optional<MeasuredImage> measured;
  std::string rows;  // CSV text
  std::string error;
};

}  // namespace

MeasureReport measure_files(const std::vector<fs::path>& files, const MeasureOptions& options, std::ostream& out) {
  validate_measure_options(options);
  const auto start = std::chrono::steady_clock::now();
  MeasureReport report;
  out << measure_csv_header();
  ordered_parallel_for<FileResult>(
      files.size(), options.jobs,
      [&](size_t i) {
        FileResult result;
        try {
          const std::string bytes = read_file(files[i]);
          image::Image decoded = image::decode(bytes, files[i].filename().string());
          result.measured = measure_image(decoded.frames.front(), options);
          result.rows = format_rows(files[i].filename().string(), *result.measured);
        } catch (const Error& e) {
          result.error = e.what();
        } catch (const cv::Exception& e) {
          result.error = fmt::format("{}: {}", files[i].filename().string(), e.what());
        }
        return result;
      },
      [&](size_t i, FileResult&& result) {
        if (!result.measured) {
          report.failed.push_back({files[i].string(), result.error});
          return;
        }
        out << result.rows;
        ++report.images;
        report.objects += static_cast<std::int64_t>(result.measured->regions.size());
      });
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

MeasureReport measure_set(Workspace& workspace, const std::string& project_name, const std::string& set,
                          const MeasureOptions& options, std::ostream* out) {
  validate_measure_options(options);
  const auto start = std::chrono::steady_clock::now();
  auto& catalog = workspace.catalog();
  const catalog::Project project = catalog.get_project(project_name);
  catalog.get_set(project.id, set);
  catalog::ImageQuery query;
  query.project_id = project.id;
  query.set = set;
  const std::vector<catalog::ImageRecord> images = catalog.list_images(query);

  const nlohmann::json spec = {{"kind", "measure"},
                               {"threshold", options.threshold},
                               {"dark_objects", options.dark_objects},
                               {"min_area", options.min_area},
                               {"connectivity", options.connectivity}};
  MeasureReport report;
  report.run_id = catalog.start_run(project.id, spec, kTesseraVersion, spec, {{"set", set}, {"images", images.size()}});
  if (out) *out << measure_csv_header();
  struct ImageResult {
    std::vector<MeasuredImage> frames;
    std::string rows;  // CSV text, when wanted
    std::string error;
  };
  try {
    ordered_parallel_for<ImageResult>(
        images.size(), options.jobs,
        [&](size_t i) {
          ImageResult result;
          try {
            const image::Image decoded = image::decode(workspace.blobs().get(images[i].blob_hash), images[i].source_path);
            for (const cv::Mat& frame : decoded.frames) {
              result.frames.push_back(measure_image(frame, options));
              if (out) result.rows += format_rows(fs::path(images[i].source_path).filename().string(), result.frames.back());
            }
          } catch (const Error& e) {
            result.error = e.what();
          }
          return result;
        },
        [&](size_t i, ImageResult&& result) {
          const catalog::ImageRecord& image = images[i];
          if (!result.error.empty()) {
            report.failed.push_back({fmt::format("image {} ({})", image.id, image.source_path), result.error});
            return;
          }
          std::vector<catalog::NewObject> objects;
          for (size_t f = 0; f < result.frames.size(); ++f) {
            for (const auto& region : result.frames[f].regions) {
              catalog::NewObject o;
              o.label = region.label;
              o.frame_index = static_cast<std::int64_t>(f);
              o.bbox_y0 = region.bbox[0];
              o.bbox_x0 = region.bbox[1];
              o.bbox_y1 = region.bbox[2];
              o.bbox_x1 = region.bbox[3];
              o.features = ops::to_json(region);
              objects.push_back(std::move(o));
            }
          }
          if (out) *out << result.rows;
          catalog.add_objects(project.id, report.run_id, image.id, objects);
          ++report.images;
          report.objects += static_cast<std::int64_t>(objects.size());
        });
  } catch (const std::exception& e) {
    catalog.finish_run(*report.run_id, "failed", {{"images", report.images}, {"objects", report.objects}}, std::string(e.what()),
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    throw;
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  catalog.finish_run(*report.run_id, report.failed.empty() ? "succeeded" : "failed",
                     {{"images", report.images}, {"objects", report.objects}, {"failed", report.failed.size()}},
                     report.failed.empty() ? std::nullopt : std::optional<std::string>(report.failed.front().reason),
                     report.seconds);
  return report;
}

}  // namespace tessera::app
