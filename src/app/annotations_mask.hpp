#pragma once

// Mask pixels for the annotation use cases: decoding what clients send (PNG, COCO RLE) with the checks
// that make a bad mask a clear 400/422 instead of a stored surprise, and drawing any annotation's pixels
// for overlays. Private to the app layer.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>

#include "tessera/catalog/annotations.hpp"

namespace tessera::app {

// A JSON integer >= 0 (parsed text gives unsigned numbers, built JSON signed ones: both count).
inline bool is_whole_count(const nlohmann::json& v) {
  return v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0);
}

// Throws Error{invalid_argument} for `field` with details {"field", and "unprocessable": true when set}.
[[noreturn]] void bad_annotation_field(const std::string& field, const std::string& problem,
                                       bool unprocessable = false);

// An 8-bit single-channel mask of exactly width x height holding only 0 and 255 with at least one 255,
// from PNG bytes. The size is read from the PNG header before decoding, so a mismatched (or enormous)
// image is refused without decompressing it.
cv::Mat decode_mask_png(const std::string& png, int width, int height, const std::string& field);

// The same from COCO uncompressed RLE {"size": [h, w], "counts": [...]} (column-major, first run of 0s).
cv::Mat decode_mask_rle(const nlohmann::json& rle, int width, int height, const std::string& field);

// COCO uncompressed RLE of an 8-bit mask (non-zero = foreground).
nlohmann::json mask_to_rle(const cv::Mat& mask);

// The pixels of a non-mask annotation over its bbox (255 inside), for overlays.
cv::Mat rasterize_geometry(const catalog::AnnotationState& state);

}  // namespace tessera::app
