#pragma once

#include <filesystem>
#include <string>

#include <opencv2/core.hpp>

namespace tessera::image {

// Encodes one frame (channels in file order, RGB) as PNG (8/16-bit) or TIFF (any depth); the format comes
// from the extension. Throws Error{invalid_argument} for a type the format cannot hold.
std::string encode(const cv::Mat& frame, const std::string& extension);

// encode() then an atomic write to path.
void write_image(const std::filesystem::path& path, const cv::Mat& frame);

}  // namespace tessera::image
