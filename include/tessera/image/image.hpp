#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

namespace tessera::image {

// Sample type of a pixel, as stored in the file and in the catalog ("u8", "u16", "f32", ...).
enum class PixelType { u8, i8, u16, i16, u32, i32, f32, f64 };

std::string_view to_string(PixelType type);
std::optional<PixelType> parse_pixel_type(std::string_view text);
PixelType pixel_type_of(const cv::Mat& mat);  // from the Mat's depth; throws Error{unsupported} for others

// What a file holds, known from its header (and for EXIF/TIFF tags, its metadata blocks).
struct ImageInfo {
  int width = 0;
  int height = 0;
  int channels = 0;
  int frames = 1;  // pages of a multi-page TIFF (time points or z planes), 1 for everything else
  PixelType pixel_type = PixelType::u8;
  std::string format;                      // "png", "jpeg", "tiff", ... (libvips loader family)
  std::optional<std::string> acquired_at;  // ISO 8601 from EXIF/TIFF DateTimeOriginal or DateTime
};

// A decoded image: one cv::Mat per frame, all of the same size and type. Channels are in file order
// (RGB, RGBA), not OpenCV's BGR: the encoders in this layer swap where OpenCV needs it.
struct Image {
  ImageInfo info;
  std::vector<cv::Mat> frames;
};

}  // namespace tessera::image
