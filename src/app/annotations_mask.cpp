#include "app/annotations_mask.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "tessera/core/error.hpp"

namespace tessera::app {
namespace {

std::uint32_t big_endian_u32(const std::string& bytes, size_t at) {
  return (std::uint32_t(std::uint8_t(bytes[at])) << 24) | (std::uint32_t(std::uint8_t(bytes[at + 1])) << 16) |
         (std::uint32_t(std::uint8_t(bytes[at + 2])) << 8) | std::uint32_t(std::uint8_t(bytes[at + 3]));
}

// Only 0 and 255, and something marked: anything else is a mask the client did not mean to send.
void check_mask_values(const cv::Mat& mask, const std::string& field) {
  cv::Mat other = (mask != 0) & (mask != 255);
  if (cv::countNonZero(other) > 0) bad_annotation_field(field, "must hold only the values 0 and 255", true);
  if (cv::countNonZero(mask) == 0) bad_annotation_field(field, "has no foreground (255) pixel", true);
}

// OpenCV draws integer coordinates at pixel centres; image coordinates put pixel i's centre at i + 0.5.
// Points are given with 4 fractional bits (shift = 4) to keep sub-pixel positions.
constexpr int kShift = 4;
cv::Point to_canvas(const nlohmann::json& point, const catalog::BBox& box) {
  const double x = point.at(0).get<double>() - box.x0 - 0.5;
  const double y = point.at(1).get<double>() - box.y0 - 0.5;
  return {static_cast<int>(std::lround(x * (1 << kShift))), static_cast<int>(std::lround(y * (1 << kShift)))};
}

std::vector<cv::Point> canvas_points(const nlohmann::json& points, const catalog::BBox& box) {
  std::vector<cv::Point> out;
  out.reserve(points.size());
  for (const auto& p : points) out.push_back(to_canvas(p, box));
  return out;
}

}  // namespace

void bad_annotation_field(const std::string& field, const std::string& problem, bool unprocessable) {
  nlohmann::json details = {{"field", field}};
  if (unprocessable) details["unprocessable"] = true;
  throw Error(ErrorCode::invalid_argument, fmt::format("annotation field '{}' {}", field, problem), details);
}

cv::Mat decode_mask_png(const std::string& png, int width, int height, const std::string& field) {
  static const std::string kSignature("\x89PNG\r\n\x1a\n", 8);
  if (png.size() < 33 || png.compare(0, 8, kSignature) != 0 || png.compare(12, 4, "IHDR") != 0) {
    bad_annotation_field(field, "is not a PNG image");
  }
  const std::uint32_t png_width = big_endian_u32(png, 16);
  const std::uint32_t png_height = big_endian_u32(png, 20);
  const int bit_depth = std::uint8_t(png[24]);
  const int colour_type = std::uint8_t(png[25]);
  if (png_width != std::uint32_t(width) || png_height != std::uint32_t(height)) {
    bad_annotation_field(
        field, fmt::format("is {}x{} pixels but its bbox is {}x{}", png_width, png_height, width, height), true);
  }
  if (bit_depth != 8 || colour_type != 0) {
    bad_annotation_field(
        field, fmt::format("must be an 8-bit greyscale PNG (got bit depth {}, colour type {})", bit_depth, colour_type),
        true);
  }
  cv::Mat mask;
  try {
    mask = cv::imdecode(cv::Mat(1, static_cast<int>(png.size()), CV_8U, const_cast<char*>(png.data())),
                        cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    bad_annotation_field(field, fmt::format("is a damaged PNG: {}", e.what()));
  }
  if (mask.empty() || mask.type() != CV_8UC1 || mask.cols != width || mask.rows != height) {
    bad_annotation_field(field, "is a damaged or truncated PNG");
  }
  check_mask_values(mask, field);
  return mask;
}

cv::Mat decode_mask_rle(const nlohmann::json& rle, int width, int height, const std::string& field) {
  if (!rle.is_object()) bad_annotation_field(field, "must be an object {\"size\": [h, w], \"counts\": [...]}");
  const auto size = rle.find("size");
  const auto counts = rle.find("counts");
  if (size == rle.end() || !size->is_array() || size->size() != 2 || !is_whole_count((*size)[0]) ||
      !is_whole_count((*size)[1])) {
    bad_annotation_field(field + ".size", "must be [height, width] in pixels");
  }
  if (counts == rle.end() || !counts->is_array()) {
    bad_annotation_field(field + ".counts", "must be an array of run lengths (uncompressed COCO RLE)");
  }
  const std::uint64_t h = (*size)[0].get<std::uint64_t>();
  const std::uint64_t w = (*size)[1].get<std::uint64_t>();
  if (h != std::uint64_t(height) || w != std::uint64_t(width)) {
    bad_annotation_field(field + ".size", fmt::format("is {}x{} (h x w) but the bbox is {}x{}", h, w, height, width),
                         true);
  }
  const std::uint64_t total = h * w;
  // Column-major runs fill the transposed image row by row.
  cv::Mat transposed(width, height, CV_8U, cv::Scalar(0));
  std::uint64_t filled = 0;
  std::uint8_t value = 0;
  for (size_t i = 0; i < counts->size(); ++i) {
    const auto& run = (*counts)[i];
    if (!is_whole_count(run)) {
      bad_annotation_field(fmt::format("{}.counts[{}]", field, i), "must be a non-negative integer");
    }
    const std::uint64_t length = run.get<std::uint64_t>();
    if (length > total - filled) {
      bad_annotation_field(field + ".counts", fmt::format("add up to more than the bbox's {} pixels", total), true);
    }
    if (value != 0) std::fill_n(transposed.data + filled, length, value);
    filled += length;
    value = value == 0 ? 255 : 0;
  }
  if (filled != total) {
    bad_annotation_field(field + ".counts", fmt::format("add up to {} pixels, not the bbox's {}", filled, total), true);
  }
  cv::Mat mask;
  cv::transpose(transposed, mask);
  check_mask_values(mask, field);
  return mask;
}

nlohmann::json mask_to_rle(const cv::Mat& mask) {
  cv::Mat transposed;
  cv::transpose(mask, transposed);
  const cv::Mat column_major = transposed.isContinuous() ? transposed : transposed.clone();
  nlohmann::json counts = nlohmann::json::array();
  const size_t total = column_major.total();
  bool foreground = false;
  std::uint64_t run = 0;
  for (size_t i = 0; i < total; ++i) {
    const bool on = column_major.data[i] != 0;
    if (on != foreground) {
      counts.push_back(run);
      run = 0;
      foreground = on;
    }
    ++run;
  }
  counts.push_back(run);
  return {{"size", {mask.rows, mask.cols}}, {"counts", counts}};
}

cv::Mat rasterize_geometry(const catalog::AnnotationState& state) {
  const catalog::BBox& box = state.bbox;
  const int width = std::max(1, static_cast<int>(box.x1 - box.x0));
  const int height = std::max(1, static_cast<int>(box.y1 - box.y0));
  cv::Mat canvas(height, width, CV_8U, cv::Scalar(0));
  const nlohmann::json& g = state.geometry;
  const cv::Scalar on(255);
  if (state.kind == "box") {
    canvas.setTo(on);
  } else if (state.kind == "polygon") {
    const std::vector<std::vector<cv::Point>> rings = {canvas_points(g.at("points"), box)};
    cv::fillPoly(canvas, rings, on, cv::LINE_8, kShift);
  } else if (state.kind == "polyline" || state.kind == "scribble") {
    const int thickness = std::max(1, static_cast<int>(std::lround(g.value("width", 1.0))));
    const std::vector<cv::Point> points = canvas_points(g.at("points"), box);
    if (points.size() == 1) {
      cv::circle(canvas, points[0], std::max(0, thickness / 2) << kShift, on, cv::FILLED, cv::LINE_8, kShift);
    } else {
      cv::polylines(canvas, std::vector<std::vector<cv::Point>>{points}, false, on, thickness, cv::LINE_8, kShift);
    }
  } else if (state.kind == "skeleton") {
    const std::vector<cv::Point> nodes = canvas_points(g.at("nodes"), box);
    for (const auto& edge : g.value("edges", nlohmann::json::array())) {
      cv::line(canvas, nodes.at(edge.at(0).get<size_t>()), nodes.at(edge.at(1).get<size_t>()), on, 1, cv::LINE_8,
               kShift);
    }
    for (const cv::Point& node : nodes) cv::circle(canvas, node, 0, on, cv::FILLED, cv::LINE_8, kShift);
  } else if (state.kind == "point") {
    for (const cv::Point& p : canvas_points(g.at("points"), box)) {
      cv::circle(canvas, p, 0, on, cv::FILLED, cv::LINE_8, kShift);
    }
  } else {
    throw Error(ErrorCode::invalid_argument, fmt::format("cannot draw an annotation of kind '{}'", state.kind));
  }
  return canvas;
}

}  // namespace tessera::app
