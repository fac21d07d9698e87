#include "tessera/app/export_dataset.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>

#include "app/annotations_mask.hpp"
#include "app/export_dataset_items.hpp"
#include "tessera/app/annotations.hpp"
#include "tessera/app/track_series.hpp"
#include "tessera/core/error.hpp"
#include "tessera/image/decode.hpp"

namespace tessera::app {
namespace {

using nlohmann::json;

constexpr std::int64_t kAllAnnotations = 1'000'000;  // the viewport query's ceiling

// The object of an annotation, or nullopt for kinds without an area (points, lines, skeletons).
std::optional<DatasetObject> object_of(Annotations& annotations, const catalog::Annotation& a) {
  const auto& s = a.state;
  DatasetObject object{a.id, s.tag_id, {}, {int(std::floor(s.bbox.x0)), int(std::floor(s.bbox.y0))}};
  if (s.kind == "mask") {
    const std::string png = annotations.mask_png(a);
    cv::Mat mask;
    try {
      mask = cv::imdecode(cv::Mat(1, int(png.size()), CV_8U, const_cast<char*>(png.data())), cv::IMREAD_GRAYSCALE);
    } catch (const cv::Exception& e) {
      throw Error(ErrorCode::corrupt, fmt::format("its mask PNG does not decode: {}", e.what()));
    }
    if (mask.empty()) throw Error(ErrorCode::corrupt, "its mask PNG does not decode");
    object.mask = mask;
  } else if (s.kind == "polygon" || s.kind == "box") {
    object.mask = rasterize_geometry(s);
  } else {
    return std::nullopt;
  }
  if (cv::countNonZero(object.mask) == 0) throw Error(ErrorCode::corrupt, "it covers no pixel");
  return object;
}

std::string base_name(const catalog::ImageRecord& record) {
  std::string name = std::filesystem::path(record.source_path).filename().string();
  if (name.empty()) name = fmt::format("image_{}.{}", record.id, record.format.empty() ? "png" : record.format);
  return name;
}

DatasetContents gather(Workspace& workspace, std::vector<catalog::ImageRecord> records, catalog::Id project_id,
                       const std::string& what, const ExportDatasetOptions& options) {
  if (records.empty()) throw Error(ErrorCode::invalid_argument, fmt::format("{} has no images", what));
  DatasetContents contents;
  std::map<std::string, int> name_uses;
  for (const auto& r : records) ++name_uses[base_name(r)];
  Annotations annotations(workspace);
  std::set<catalog::Id> tag_ids;
  for (size_t i = 0; i < records.size(); ++i) {
    DatasetImage image{records[i], base_name(records[i]), {}};
    if (name_uses[image.file_name] > 1) image.file_name = fmt::format("{}_{}", image.record.id, image.file_name);
    catalog::ViewportQuery query;
    query.image_id = image.record.id;
    query.frame_index = 0;
    query.limit = kAllAnnotations;
    for (const auto& a : annotations.in_viewport(query).annotations) {
      try {
        if (auto object = object_of(annotations, a)) {
          if (object->tag_id) tag_ids.insert(*object->tag_id);
          image.objects.push_back(std::move(*object));
          ++contents.objects;
        }
      } catch (const Error& e) {
        contents.problems.push_back(
            {image.record.id, a.id, fmt::format("annotation {} of image {} is left out: {}", a.id, image.record.id,
                                                e.what())});
      }
    }
    contents.images.push_back(std::move(image));
    report_progress(options, 0.3 * double(i + 1) / double(records.size()), "reading annotations");
  }
  if (contents.objects == 0 && contents.problems.empty()) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{} has no annotations (mask, polygon or box)", what));
  }
  for (const auto& tag : workspace.catalog().list_tags(project_id)) {
    if (tag_ids.count(tag.id)) contents.classes.push_back(tag);
  }
  std::sort(contents.classes.begin(), contents.classes.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return contents;
}

}  // namespace

std::string_view to_string(DatasetFormat format) {
  switch (format) {
    case DatasetFormat::npz: return "npz";
    case DatasetFormat::yolo: return "yolo";
    case DatasetFormat::coco: return "coco";
    case DatasetFormat::deepcell_label: return "deepcell-label";
  }
  return "npz";
}

DatasetFormat parse_dataset_format(std::string_view text) {
  for (auto f : {DatasetFormat::npz, DatasetFormat::yolo, DatasetFormat::coco, DatasetFormat::deepcell_label}) {
    if (text == to_string(f)) return f;
  }
  throw Error(ErrorCode::invalid_argument,
              fmt::format("'format' must be one of npz, yolo, coco, deepcell-label; got '{}'", text),
              {{"field", "format"}});
}

DatasetContents gather_set(Workspace& workspace, const ExportDatasetOptions& options) {
  auto& catalog = workspace.catalog();
  const catalog::Project project = catalog.get_project(options.project);
  catalog.get_set(project.id, options.set);  // Error{not_found} naming the set
  catalog::ImageQuery query;
  query.project_id = project.id;
  query.set = options.set;
  return gather(workspace, catalog.list_images(query), project.id, fmt::format("set '{}'", options.set), options);
}

DatasetContents gather_series(Workspace& workspace, const ExportDatasetOptions& options) {
  auto& catalog = workspace.catalog();
  const catalog::Project project = catalog.get_project(options.project);
  const catalog::Series series = find_project_series(workspace, options.project, options.series);
  catalog::ImageQuery query;
  query.project_id = project.id;
  query.series_id = series.id;
  query.order_by = "frame_index";
  return gather(workspace, catalog.list_images(query), project.id, fmt::format("series '{}'", series.name), options);
}

std::optional<int> class_index(const DatasetContents& contents, const DatasetObject& object) {
  if (!object.tag_id) return std::nullopt;
  for (size_t i = 0; i < contents.classes.size(); ++i) {
    if (contents.classes[i].id == *object.tag_id) return int(i);
  }
  return std::nullopt;
}

cv::Mat load_image_pixels(Workspace& workspace, const catalog::ImageRecord& record) {
  const std::string bytes = workspace.blobs().get(record.blob_hash);
  image::Image decoded = image::decode(bytes, record.source_path);
  if (decoded.frames.empty()) {
    throw Error(ErrorCode::corrupt, fmt::format("image {} ({}) has no pixels", record.id, record.source_path));
  }
  return decoded.frames.front();
}

cv::Mat label_image(const DatasetImage& image) {
  cv::Mat labels(image.record.height, image.record.width, CV_32SC1, cv::Scalar(0));
  const cv::Rect whole(0, 0, labels.cols, labels.rows);
  std::int32_t next = 1;
  for (const auto& object : image.objects) {
    const cv::Rect box = cv::Rect(object.offset, object.mask.size()) & whole;
    if (!box.empty()) {
      labels(box).setTo(next, object.mask(cv::Rect(box.tl() - object.offset, box.size())));
    }
    ++next;
  }
  return labels;
}

void report_progress(const ExportDatasetOptions& options, double fraction, const std::string& message) {
  if (options.progress) options.progress(fraction, message);
}

ExportDatasetReport export_dataset(Workspace& workspace, const ExportDatasetOptions& options) {
  if (options.out.empty()) throw Error(ErrorCode::invalid_argument, "export: 'out' is required", {{"field", "out"}});
  const bool by_series = options.format == DatasetFormat::deepcell_label;
  if (by_series && options.series.empty()) {
    throw Error(ErrorCode::invalid_argument, "export deepcell-label: 'series' is required", {{"field", "series"}});
  }
  if (!by_series && options.set.empty()) {
    throw Error(ErrorCode::invalid_argument, fmt::format("export {}: 'set' is required", to_string(options.format)),
                {{"field", "set"}});
  }
  if (options.dims != "2d" && options.dims != "3d") {
    throw Error(ErrorCode::invalid_argument, fmt::format("'dims' must be 2d or 3d, got '{}'", options.dims),
                {{"field", "dims"}});
  }
  if (!(options.val_fraction >= 0 && options.val_fraction <= 1)) {
    throw Error(ErrorCode::invalid_argument, fmt::format("'val' must be in [0, 1], got {}", options.val_fraction),
                {{"field", "val"}});
  }
  const DatasetContents contents = by_series ? gather_series(workspace, options) : gather_set(workspace, options);
  ExportDatasetReport report;
  report.images = std::int64_t(contents.images.size());
  report.objects = contents.objects;
  report.problems = contents.problems;
  for (const auto& tag : contents.classes) report.classes.push_back(tag.name);
  switch (options.format) {
    case DatasetFormat::npz: write_npz_export(workspace, options, contents, report); break;
    case DatasetFormat::yolo: write_yolo_export(workspace, options, contents, report); break;
    case DatasetFormat::coco: write_coco_export(options, contents, report); break;
    case DatasetFormat::deepcell_label: write_deepcell_label_export(workspace, options, contents, report); break;
  }
  if (options.format == DatasetFormat::yolo || options.format == DatasetFormat::coco) {
    for (const auto& image : contents.images) {
      for (const auto& object : image.objects) report.untagged += object.tag_id ? 0 : 1;
    }
  }
  for (const auto& file : report.files) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    if (!ec) report.bytes += std::int64_t(size);
  }
  report_progress(options, 1.0, "written");
  return report;
}

json ExportDatasetReport::to_json() const {
  json out = {{"files", json::array()}, {"images", images},   {"objects", objects}, {"untagged", untagged},
              {"classes", classes},     {"bytes", bytes},     {"problems", json::array()}};
  for (const auto& f : files) out["files"].push_back(f.string());
  for (const auto& p : problems) {
    json problem = {{"image_id", p.image_id}, {"reason", p.reason}};
    if (p.annotation_id) problem["annotation_id"] = *p.annotation_id;
    out["problems"].push_back(problem);
  }
  return out;
}

ExportDatasetOptions export_options_from_json(const json& params) {
  auto field = [&](const char* key) -> const json* {
    auto it = params.find(key);
    return it == params.end() || it->is_null() ? nullptr : &*it;
  };
  auto bad = [](const char* key, const std::string& problem) {
    return Error(ErrorCode::invalid_argument, fmt::format("export: '{}' {}", key, problem), {{"field", key}});
  };
  auto string_of = [&](const char* key) -> std::optional<std::string> {
    const json* v = field(key);
    if (!v) return std::nullopt;
    if (!v->is_string() || v->get<std::string>().empty()) throw bad(key, "must be a non-empty string");
    return v->get<std::string>();
  };
  if (!params.is_object()) throw Error(ErrorCode::invalid_argument, "export: the parameters must be a JSON object");
  static const std::set<std::string> kKnown = {"format", "set", "series", "dims", "task", "val",
                                               "seed",   "rle", "out",    "project"};
  for (const auto& [key, value] : params.items()) {
    if (!kKnown.count(key)) throw bad(key.c_str(), "is not a parameter of an export");
  }
  ExportDatasetOptions options;
  const auto format = string_of("format");
  if (!format) throw bad("format", "is required (npz, yolo, coco or deepcell-label)");
  options.format = parse_dataset_format(*format);
  if (auto v = string_of("project")) options.project = *v;
  if (auto v = string_of("set")) options.set = *v;
  if (auto v = string_of("series")) options.series = *v;
  if (auto v = string_of("dims")) options.dims = *v;
  if (auto v = string_of("task")) options.task = exchange::parse_yolo_task(*v);
  if (auto v = string_of("out")) options.out = *v;
  if (const json* v = field("val")) {
    if (!v->is_number() || v->get<double>() < 0 || v->get<double>() > 1) throw bad("val", "must be a number in [0, 1]");
    options.val_fraction = v->get<double>();
  }
  if (const json* v = field("seed")) {
    if (!v->is_number_integer() || v->get<std::int64_t>() < 0) throw bad("seed", "must be a non-negative integer");
    options.seed = v->get<std::uint64_t>();
  }
  if (const json* v = field("rle")) {
    if (!v->is_boolean()) throw bad("rle", "must be true or false");
    options.rle = v->get<bool>();
  }
  if (options.format == DatasetFormat::deepcell_label) {
    if (options.series.empty()) throw bad("series", "is required for a deepcell-label export");
  } else if (options.set.empty()) {
    throw bad("set", "is required");
  }
  if (options.dims != "2d" && options.dims != "3d") throw bad("dims", fmt::format("must be 2d or 3d, got '{}'", options.dims));
  return options;
}

std::string default_export_name(const ExportDatasetOptions& options) {
  std::string base = options.format == DatasetFormat::deepcell_label ? options.series : options.set;
  for (char& c : base) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  }
  if (base.empty() || base.front() == '.') base = "export" + base;
  switch (options.format) {
    case DatasetFormat::npz: return base + ".npz";
    case DatasetFormat::yolo: return fmt::format("{}-yolo-{}", base, exchange::to_string(options.task));
    case DatasetFormat::coco: return base + "-coco.json";
    case DatasetFormat::deepcell_label: return base + "-deepcell-label.zip";
  }
  return base;
}

}  // namespace tessera::app
