#pragma once

#include <vector>

#include <opencv2/core.hpp>

namespace tessera::exchange {

// A polygon as a list of vertices (x = column, y = row), not closed (the first vertex is not repeated).
using Polygon = std::vector<cv::Point2d>;

// The outer outlines of a binary mask (8-bit, non-zero = set) in COCO's pixel-corner coordinates
// (formats.md 5.3: pixel (c, r) covers [c, c+1) x [r, r+1)), one polygon per 4-connected part, holes
// left out (a polygon cannot express them), only the corners kept. Each starts at the top-left corner
// of its part's first pixel in row-major order and runs clockwise on screen (rows down); parts come in
// the row-major order of those pixels. rasterize_corner_polygons() gives back the mask with its holes
// filled, exactly.
std::vector<Polygon> corner_outlines(const cv::Mat& mask, cv::Point offset = {0, 0});

// The pixels whose centres lie inside at least one polygon (each by the even-odd rule), as a CV_8UC1
// mask of `size` (255 = set). Vertices in pixel-corner coordinates, as corner_outlines() writes them.
cv::Mat rasterize_corner_polygons(const std::vector<Polygon>& polygons, cv::Size size);

// The outer contours of a binary mask as pixel indices, as Ultralytics converts masks to polygons
// (OpenCV external contours, CHAIN_APPROX_SIMPLE; formats.md 4.2), one per 8-connected part, ordered by
// their first (top-most, then left-most) pixel. A part of one or two pixels repeats its last vertex so
// that every polygon has at least three.
std::vector<std::vector<cv::Point>> pixel_contours(const cv::Mat& mask);

// The opposite, as Ultralytics draws them: OpenCV fillPoly, boundary pixels included, union of the parts.
cv::Mat fill_pixel_contours(const std::vector<std::vector<cv::Point>>& contours, cv::Size size);

}  // namespace tessera::exchange
