#include "tessera/image/encode.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"

namespace tessera::image {

std::string encode(const cv::Mat& frame, const std::string& extension) {
  std::string ext = extension;
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".png" && frame.depth() != CV_8U && frame.depth() != CV_16U) {
    throw Error(ErrorCode::invalid_argument, "PNG holds only 8- or 16-bit unsigned pixels");
  }
  // OpenCV's encoders expect BGR(A); tessera keeps channels in file order (RGB(A)).
  // (A fresh Mat: converting into a header that shares frame's pixels would swap the caller's image.)
  cv::Mat bgr;
  if (frame.channels() == 3) cv::cvtColor(frame, bgr, cv::COLOR_RGB2BGR);
  else if (frame.channels() == 4) cv::cvtColor(frame, bgr, cv::COLOR_RGBA2BGRA);
  else bgr = frame;
  std::vector<uchar> buffer;
  std::vector<int> params;
  // zlib's run-length strategy at level 1: measured on microscopy frames, EM images, plankton scenes and
  // their crops it is both faster (0.5 vs 0.9 ms a crop, 72 vs 119 ms a megapixel frame) and smaller
  // (-11%) than the default strategy at level 3, because PNG's row filters leave mostly runs to code.
  if (ext == ".png") params = {cv::IMWRITE_PNG_COMPRESSION, 1, cv::IMWRITE_PNG_STRATEGY, cv::IMWRITE_PNG_STRATEGY_RLE};
  try {
    if (!cv::imencode(ext, bgr, buffer, params)) {
      throw Error(ErrorCode::invalid_argument, fmt::format("cannot encode image as '{}'", ext));
    }
  } catch (const cv::Exception& e) {
    throw Error(ErrorCode::invalid_argument, fmt::format("cannot encode image as '{}': {}", ext, e.what()));
  }
  return std::string(buffer.begin(), buffer.end());
}

void write_image(const std::filesystem::path& path, const cv::Mat& frame) {
  write_file_atomic(path, encode(frame, path.extension().string()));
}

}  // namespace tessera::image
