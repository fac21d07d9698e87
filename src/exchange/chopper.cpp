// Overlapping chopper geometry and log (formats.md 1.3).
#include <fmt/format.h>

#include "tessera/core/error.hpp"
#include "tessera/exchange/montage.hpp"
#include "exchange/montage_json.hpp"

namespace tessera::exchange {

ChopperGeometry chopper_geometry(int rows, int cols, const ChopperParams& params) {
  if (params.num_x_segments < 1) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("chopper: num_x_segments must be >= 1, got {}", params.num_x_segments));
  }
  if (params.num_y_segments < 1) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("chopper: num_y_segments must be >= 1, got {}", params.num_y_segments));
  }
  if (params.overlap_perc < 0 || params.overlap_perc > 100) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("chopper: overlap_perc must be in [0, 100], got {}", params.overlap_perc));
  }
  if (rows < params.num_y_segments || cols < params.num_x_segments) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("chopper: a {}x{} image cannot be cut into {}x{} tiles", cols, rows,
                            params.num_x_segments, params.num_y_segments));
  }
  ChopperGeometry g;
  g.params = params;
  g.original_y = rows;
  g.original_x = cols;
  g.start_y = rows / params.num_y_segments;
  g.start_x = cols / params.num_x_segments;
  // int(start * perc / 100) in Python truncates a float; the integer product does the same for >= 0.
  g.overlap_y = g.start_y * params.overlap_perc / 100;
  g.overlap_x = g.start_x * params.overlap_perc / 100;
  return g;
}

cv::Mat chop_tile(const cv::Mat& image, const ChopperGeometry& g, int i, int j) {
  if (image.rows != g.original_y || image.cols != g.original_x) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("chopper: image is {}x{}, the geometry was made for {}x{}", image.cols, image.rows,
                            g.original_x, g.original_y));
  }
  if (i < 0 || i >= g.params.num_x_segments || j < 0 || j >= g.params.num_y_segments) {
    throw Error(ErrorCode::invalid_argument, fmt::format("chopper: tile ({}, {}) out of range", i, j));
  }
  cv::Mat tile = cv::Mat::zeros(g.tile_rows(), g.tile_cols(), image.type());
  cv::Rect wanted(i * g.start_x - g.overlap_x, j * g.start_y - g.overlap_y, g.tile_cols(), g.tile_rows());
  cv::Rect inside = wanted & cv::Rect(0, 0, image.cols, image.rows);
  if (inside.area() > 0) {
    image(inside).copyTo(tile(cv::Rect(inside.x - wanted.x, inside.y - wanted.y, inside.width, inside.height)));
  }
  return tile;
}

nlohmann::json chopper_log(const ChopperGeometry& g, std::string_view identifier, std::string_view date,
                           int num_images) {
  nlohmann::json y_starts = nlohmann::json::array();
  nlohmann::json x_starts = nlohmann::json::array();
  for (int j = 0; j < g.params.num_y_segments; ++j) y_starts.push_back(j * g.start_y);
  for (int i = 0; i < g.params.num_x_segments; ++i) x_starts.push_back(i * g.start_x);
  return {{"date", date},
          {"num_x_segments", g.params.num_x_segments},
          {"num_y_segments", g.params.num_y_segments},
          {"overlap_perc", g.params.overlap_perc},
          {"identifier", identifier},
          {"y_start_indices", y_starts},
          {"x_start_indices", x_starts},
          {"overlapping_x_pix", g.overlap_x},
          {"overlapping_y_pix", g.overlap_y},
          {"original_y", g.original_y},
          {"original_x", g.original_x},
          {"frame_offset", 0},
          {"num_images", num_images}};
}

ChopperGeometry parse_chopper_log(const nlohmann::json& log, std::string_view source) {
  ChopperParams params;
  params.num_x_segments = json_int(log, "num_x_segments", source);
  params.num_y_segments = json_int(log, "num_y_segments", source);
  params.overlap_perc = json_int(log, "overlap_perc", source);
  int rows = json_int(log, "original_y", source);
  int cols = json_int(log, "original_x", source);
  ChopperGeometry g = chopper_geometry(rows, cols, params);
  // The recorded overlaps must be the ones the parameters give, or the tiles were cut differently.
  if (json_int(log, "overlapping_y_pix", source) != g.overlap_y ||
      json_int(log, "overlapping_x_pix", source) != g.overlap_x) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: overlapping_x_pix/overlapping_y_pix disagree with overlap_perc and the image size",
                            source));
  }
  return g;
}

}  // namespace tessera::exchange
