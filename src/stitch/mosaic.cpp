#include "tessera/stitch/mosaic.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <system_error>

#include "stitch/blend_image.hpp"
#include "tessera/core/error.hpp"

namespace tessera::stitch {
namespace {

namespace fs = std::filesystem;
using image::detail::take_vips_error;

[[noreturn]] void invalid(const std::string& what) {
  throw Error(ErrorCode::invalid_argument, "stitch: " + what);
}

std::string lower_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext;
}

VipsForeignTiffCompression tiff_compression(const std::string& name) {
  if (name == "none") return VIPS_FOREIGN_TIFF_COMPRESSION_NONE;
  if (name == "deflate") return VIPS_FOREIGN_TIFF_COMPRESSION_DEFLATE;
  if (name == "lzw") return VIPS_FOREIGN_TIFF_COMPRESSION_LZW;
  invalid(fmt::format("parameter 'compression' must be none, deflate or lzw, got '{}'", name));
}

}  // namespace

void check_mosaic_output(const fs::path& path, const TileFormat& format,
                         const MosaicOptions& options) {
  const std::string ext = lower_extension(path);
  if (ext == ".png") {
    const int depth = CV_MAT_DEPTH(format.type);
    if (depth != CV_8U && depth != CV_16U) {
      invalid(fmt::format("'{}': PNG holds 8- or 16-bit pixels, the tiles are {}; write a .tif",
                          path.string(), cv::typeToString(format.type)));
    }
  } else if (ext == ".tif" || ext == ".tiff") {
    tiff_compression(options.compression);
  } else {
    invalid(fmt::format("'{}': the mosaic is written as .tif, .tiff or .png, not '{}'",
                        path.string(), ext));
  }
  if (options.feather < 0)
    invalid(fmt::format("parameter 'feather' must be >= 0, got {}", options.feather));
}

namespace {

// Beside the target, so the final rename stays on one file system; the extension picks nothing here
// (the saver is explicit) but keeps the temp file recognisable.
fs::path temp_path_for(const fs::path& path) {
  std::random_device rd;
  return path.parent_path() /
         fmt::format(".{}.tmp-{:08x}{}", path.filename().string(), rd(), path.extension().string());
}

void save(VipsImage* image, const fs::path& tmp, const fs::path& path, const TileFormat& format,
          const MosaicOptions& options) {
  int status = 0;
  if (lower_extension(path) == ".png") {
    status = vips_pngsave(image, tmp.c_str(), "compression", 6, nullptr);
  } else {
    const double bytes = static_cast<double>(vips_image_get_width(image)) *
                         vips_image_get_height(image) *
                         static_cast<double>(CV_ELEM_SIZE(format.type));
    // Classic TIFF offsets are 32-bit; leave room for the pyramid and the tile index.
    const gboolean big = bytes > 3.0e9 ? TRUE : FALSE;
    status = vips_tiffsave(image, tmp.c_str(), "tile", TRUE, "tile_width", 256, "tile_height", 256,
                           "compression", tiff_compression(options.compression), "pyramid",
                           options.pyramid ? TRUE : FALSE, "bigtiff", big, nullptr);
  }
  if (status != 0) {
    throw Error(ErrorCode::io, fmt::format("stitch: cannot write mosaic '{}': {}", path.string(),
                                           take_vips_error()));
  }
}

}  // namespace

MosaicInfo render_mosaic(const Placement& placement, const fs::path& path,
                         const MosaicOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  check_mosaic_output(path, placement.format, options);
  detail::BlendImage mosaic(placement, options.feather);
  const fs::path tmp = temp_path_for(path);
  try {
    save(mosaic.get(), tmp, path, placement.format, options);
    fs::rename(tmp, path);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  MosaicInfo info;
  info.size = placement.mosaic_size();
  info.tile_opens = mosaic.tiles_opened();
  info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return info;
}

cv::Mat compose(const Placement& placement, const MosaicOptions& options) {
  if (options.feather < 0)
    invalid(fmt::format("parameter 'feather' must be >= 0, got {}", options.feather));
  detail::BlendImage mosaic(placement, options.feather);
  size_t size = 0;
  void* memory = vips_image_write_to_memory(mosaic.get(), &size);
  if (memory == nullptr) {
    throw Error(ErrorCode::corrupt,
                fmt::format("stitch: cannot blend the mosaic: {}", take_vips_error()));
  }
  const cv::Size dims = placement.mosaic_size();
  cv::Mat out(dims, placement.format.type);
  std::memcpy(out.data, memory, std::min(size, out.total() * out.elemSize()));
  g_free(memory);
  return out;
}

}  // namespace tessera::stitch
