#include "tiles/tile_encode.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/tiles/tile_grid.hpp"

namespace tessera::tiles::detail {
namespace {

// OpenCV's encoders take BGR(A); tiles carry channels in file order (RGB(A)).
cv::Mat to_bgr_order(const cv::Mat& rgb) {
  cv::Mat out;
  if (rgb.channels() == 3)
    cv::cvtColor(rgb, out, cv::COLOR_RGB2BGR);
  else if (rgb.channels() == 4)
    cv::cvtColor(rgb, out, cv::COLOR_RGBA2BGRA);
  else
    out = rgb;
  return out;
}

// BGRA with opaque alpha from grey, RGB or RGBA (whose own alpha is kept).
cv::Mat to_bgra(const cv::Mat& rgb) {
  cv::Mat out;
  if (rgb.channels() == 1)
    cv::cvtColor(rgb, out, cv::COLOR_GRAY2BGRA);
  else if (rgb.channels() == 3)
    cv::cvtColor(rgb, out, cv::COLOR_RGB2BGRA);
  else
    cv::cvtColor(rgb, out, cv::COLOR_RGBA2BGRA);
  return out;
}

cv::Mat without_alpha_bgr(const cv::Mat& rgb) {
  cv::Mat out;
  if (rgb.channels() == 4)
    cv::cvtColor(rgb, out, cv::COLOR_RGBA2BGR);
  else
    out = to_bgr_order(rgb);
  return out;
}

// The tile as the encoder should see it: BGR(A) order, 256 x 256, padded where the level ends.
cv::Mat prepare(const cv::Mat& pixels, TileFormat format) {
  const bool full = pixels.cols == kTileSize && pixels.rows == kTileSize;
  const cv::Rect inside(0, 0, pixels.cols, pixels.rows);
  if (format == TileFormat::jpg) {
    cv::Mat bgr = without_alpha_bgr(pixels);
    if (full) return bgr;
    cv::Mat canvas(kTileSize, kTileSize, bgr.type(), cv::Scalar::all(0));
    bgr.copyTo(canvas(inside));
    return canvas;
  }
  if (full) return to_bgr_order(pixels);
  cv::Mat canvas(kTileSize, kTileSize, CV_8UC4, cv::Scalar::all(0));
  to_bgra(pixels).copyTo(canvas(inside));
  return canvas;
}

std::vector<int> encoder_parameters(TileFormat format) {
  switch (format) {
    // Level 1 with the run-length strategy: fastest to build and smaller than the default on display
    // tiles of microscopy images (measured for frames in image/encode.cpp; tiles behave alike).
    case TileFormat::png:
      return {cv::IMWRITE_PNG_COMPRESSION, 1, cv::IMWRITE_PNG_STRATEGY, cv::IMWRITE_PNG_STRATEGY_RLE};
    case TileFormat::jpg:
      return {cv::IMWRITE_JPEG_QUALITY, 90};
    case TileFormat::webp:
      return {cv::IMWRITE_WEBP_QUALITY, 90};
  }
  return {};
}

std::uint32_t little_endian_u32(std::string_view bytes, size_t at) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 2])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 3])) << 24;
}

}  // namespace

std::string encode_tile(const cv::Mat& pixels, TileFormat format) {
  const int channels = pixels.channels();
  if (pixels.depth() != CV_8U || (channels != 1 && channels != 3 && channels != 4) || pixels.empty() ||
      pixels.cols > kTileSize || pixels.rows > kTileSize) {
    throw Error(ErrorCode::internal, fmt::format("tiles: cannot encode a {}x{} {} tile", pixels.cols, pixels.rows,
                                                 cv::typeToString(pixels.type())));
  }
  const cv::Mat ready = prepare(pixels, format);
  std::vector<uchar> buffer;
  const std::string extension = fmt::format(".{}", to_string(format));
  try {
    if (!cv::imencode(extension, ready, buffer, encoder_parameters(format))) {
      throw Error(ErrorCode::internal, fmt::format("tiles: the {} encoder refused a tile", to_string(format)));
    }
  } catch (const cv::Exception& e) {
    throw Error(ErrorCode::internal, fmt::format("tiles: cannot encode a {} tile: {}", to_string(format), e.what()));
  }
  return std::string(buffer.begin(), buffer.end());
}

bool is_complete_tile(std::string_view bytes, TileFormat format) {
  switch (format) {
    case TileFormat::png:
      // The last chunk is IEND: length 0, type, CRC.
      return bytes.size() > 20 && bytes.starts_with("\x89PNG") && bytes.substr(bytes.size() - 8, 4) == "IEND";
    case TileFormat::jpg:
      return bytes.size() > 4 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
             static_cast<unsigned char>(bytes[bytes.size() - 2]) == 0xFF &&
             static_cast<unsigned char>(bytes[bytes.size() - 1]) == 0xD9;
    case TileFormat::webp:
      // RIFF header: "RIFF", size of what follows, "WEBP".
      return bytes.size() > 12 && bytes.starts_with("RIFF") && bytes.substr(8, 4) == "WEBP" &&
             little_endian_u32(bytes, 4) + 8 == bytes.size();
  }
  return false;
}

}  // namespace tessera::tiles::detail
