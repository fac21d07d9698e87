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
  if (ext == ".png") params = {cv::IMWRITE_PNG_COMPRESSION, 3};
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
