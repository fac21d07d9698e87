#include "tessera/image/decode.hpp"

#include <tiffio.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "image/vips_session.hpp"
#include "tessera/core/error.hpp"
#include "tessera/image/focus.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace tessera::image {
namespace detail {

void ensure_vips() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (VIPS_INIT("tessera") != 0) {
      throw Error(ErrorCode::internal, "libvips failed to start: " + take_vips_error());
    }
    // Loaders also log warnings ("error in tile ...") to stderr; the same problems reach the caller as
    // errors through fail_on, so the log lines would only repeat them without the file name.
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING, [](const gchar*, GLogLevelFlags, const gchar*, gpointer) {},
                      nullptr);
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    // tessera parallelises across images itself; one libvips worker per call avoids oversubscription.
    vips_concurrency_set(1);
  });
}

std::string take_vips_error() {
  std::string message = vips_error_buffer();
  vips_error_clear();
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  std::replace(message.begin(), message.end(), '\n', ';');
  return message;
}

}  // namespace detail

namespace {

using detail::VipsRef;

struct LoaderChoice {
  std::string loader;  // libvips nickname, e.g. "tiffload_buffer"
  std::string format;  // "tiff"
};

LoaderChoice find_loader(std::string_view bytes, std::string_view name) {
  detail::ensure_vips();
  if (bytes.empty()) throw Error(ErrorCode::corrupt, fmt::format("{}: empty file", name));
  const char* loader = vips_foreign_find_load_buffer(bytes.data(), bytes.size());
  if (loader == nullptr) {
    detail::take_vips_error();
    throw Error(ErrorCode::unsupported, fmt::format("{}: not an image format tessera can read", name));
  }
  // libvips names the loader's type, e.g. "VipsForeignLoadPngBuffer"; the format is the middle word.
  std::string type = loader;
  std::string format = type;
  if (format.starts_with("VipsForeignLoad")) format = format.substr(15);
  if (format.ends_with("Buffer")) format.resize(format.size() - 6);
  std::transform(format.begin(), format.end(), format.begin(), [](unsigned char c) { return std::tolower(c); });
  if (format == "spng") format = "png";
  if (format == "nsgif") format = "gif";
  if (format == "jp2k") format = "jp2";
  return {type, format};
}

PixelType pixel_type_from_vips(VipsBandFormat format, std::string_view name) {
  switch (format) {
    case VIPS_FORMAT_UCHAR: return PixelType::u8;
    case VIPS_FORMAT_CHAR: return PixelType::i8;
    case VIPS_FORMAT_USHORT: return PixelType::u16;
    case VIPS_FORMAT_SHORT: return PixelType::i16;
    case VIPS_FORMAT_UINT: return PixelType::u32;
    case VIPS_FORMAT_INT: return PixelType::i32;
    case VIPS_FORMAT_FLOAT: return PixelType::f32;
    case VIPS_FORMAT_DOUBLE: return PixelType::f64;
    default:
      throw Error(ErrorCode::unsupported, fmt::format("{}: complex-valued pixels are not supported", name));
  }
}

// Opens the file lazily (header only); with all_pages, pages are stacked vertically as libvips does.
VipsRef open_lazy(std::string_view bytes, const LoaderChoice& choice, bool all_pages,
                  VipsAccess access, std::string_view name) {
  VipsImage* image = nullptr;
  if (all_pages) {
    image = vips_image_new_from_buffer(bytes.data(), bytes.size(), "", "access", access, "fail_on",
                                       VIPS_FAIL_ON_ERROR, "n", -1, nullptr);
  } else {
    image = vips_image_new_from_buffer(bytes.data(), bytes.size(), "", "access", access, "fail_on",
                                       VIPS_FAIL_ON_ERROR, nullptr);
  }
  if (image == nullptr) {
    throw Error(ErrorCode::corrupt,
                fmt::format("{}: cannot read {} header: {}", name, choice.format, detail::take_vips_error()));
  }
  return VipsRef(image);
}

bool supports_pages(const LoaderChoice& choice) {
  return choice.format == "tiff" || choice.format == "gif" || choice.format == "webp" ||
         choice.format == "heif";
}

// "2019:03:04 10:11:12 (…)" or "2019:03:04 10:11:12" -> "2019-03-04T10:11:12"; empty when malformed.
std::string exif_to_iso(std::string_view text) {
  if (text.size() < 19) return {};
  std::string iso(text.substr(0, 19));
  if (iso[4] != ':' || iso[7] != ':' || iso[10] != ' ' || iso[13] != ':' || iso[16] != ':') return {};
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) {
    if (iso[i] < '0' || iso[i] > '9') return {};
  }
  if (iso.starts_with("0000")) return {};
  iso[4] = '-';
  iso[7] = '-';
  iso[10] = 'T';
  return iso;
}

std::optional<std::string> exif_time(VipsImage* image) {
  for (const char* field : {"exif-ifd2-DateTimeOriginal", "exif-ifd2-DateTimeDigitized", "exif-ifd0-DateTime"}) {
    if (vips_image_get_typeof(image, field) == 0) continue;
    const char* value = nullptr;
    if (vips_image_get_string(image, field, &value) == 0 && value != nullptr) {
      std::string iso = exif_to_iso(value);
      if (!iso.empty()) return iso;
    }
  }
  return std::nullopt;
}

// libvips does not surface the TIFF DateTime tag (306), which microscopes write; libtiff reads it from
// memory through client procs.
struct TiffMemory {
  std::string_view bytes;
  toff_t offset = 0;
};

std::optional<std::string> tiff_time(std::string_view bytes) {
  TiffMemory memory{bytes, 0};
  auto read = [](thandle_t h, tdata_t buf, tsize_t size) -> tsize_t {
    auto* m = static_cast<TiffMemory*>(h);
    if (m->offset >= m->bytes.size()) return 0;
    const tsize_t n = std::min<tsize_t>(size, static_cast<tsize_t>(m->bytes.size() - m->offset));
    std::memcpy(buf, m->bytes.data() + m->offset, static_cast<size_t>(n));
    m->offset += static_cast<toff_t>(n);
    return n;
  };
  auto write = [](thandle_t, tdata_t, tsize_t) -> tsize_t { return -1; };
  auto seek = [](thandle_t h, toff_t off, int whence) -> toff_t {
    auto* m = static_cast<TiffMemory*>(h);
    if (whence == SEEK_SET) m->offset = off;
    else if (whence == SEEK_CUR) m->offset += off;
    else if (whence == SEEK_END) m->offset = m->bytes.size() + off;
    return m->offset;
  };
  auto close = [](thandle_t) -> int { return 0; };
  auto size = [](thandle_t h) -> toff_t { return static_cast<TiffMemory*>(h)->bytes.size(); };
  auto map = [](thandle_t, tdata_t*, toff_t*) -> int { return 0; };
  auto unmap = [](thandle_t, tdata_t, toff_t) {};
  // Silence libtiff's stderr chatter about unknown tags; libvips reports real problems.
  TIFFSetWarningHandler(nullptr);
  TIFF* tif = TIFFClientOpen("memory", "rm", &memory, read, write, seek, close, size, map, unmap);
  if (tif == nullptr) return std::nullopt;
  std::optional<std::string> result;
  char* value = nullptr;
  if (TIFFGetField(tif, TIFFTAG_DATETIME, &value) == 1 && value != nullptr) {
    std::string iso = exif_to_iso(value);
    if (!iso.empty()) result = iso;
  }
  TIFFClose(tif);
  return result;
}

ImageInfo info_from(VipsImage* image, const LoaderChoice& choice, std::string_view bytes,
                    std::string_view name) {
  ImageInfo info;
  info.format = choice.format;
  info.width = vips_image_get_width(image);
  info.channels = vips_image_get_bands(image);
  info.frames = std::max(1, vips_image_get_n_pages(image));
  info.height = info.frames > 1 ? vips_image_get_page_height(image) : vips_image_get_height(image);
  info.pixel_type = pixel_type_from_vips(vips_image_get_format(image), name);
  info.acquired_at = exif_time(image);
  if (!info.acquired_at && choice.format == "tiff") info.acquired_at = tiff_time(bytes);
  return info;
}

int cv_depth(PixelType type) {
  switch (type) {
    case PixelType::u8: return CV_8U;
    case PixelType::i8: return CV_8S;
    case PixelType::u16: return CV_16U;
    case PixelType::i16: return CV_16S;
    case PixelType::i32: return CV_32S;
    case PixelType::f32: return CV_32F;
    case PixelType::u32:  // OpenCV has no unsigned 32-bit type; widened to double without loss
    case PixelType::f64: return CV_64F;
  }
  return CV_8U;
}

// Materialises all pages; libvips stacks them vertically, each page_height rows.
std::vector<cv::Mat> to_frames(VipsImage* image, const ImageInfo& info, std::string_view name) {
  VipsRef source;
  VipsImage* in = image;
  if (info.pixel_type == PixelType::u32) {
    if (vips_cast(image, source.out(), VIPS_FORMAT_DOUBLE, nullptr) != 0) {
      throw Error(ErrorCode::corrupt, fmt::format("{}: {}", name, detail::take_vips_error()));
    }
    in = source.get();
  }
  size_t size = 0;
  void* memory = vips_image_write_to_memory(in, &size);
  if (memory == nullptr) {
    throw Error(ErrorCode::corrupt, fmt::format("{}: cannot decode pixels: {}", name, detail::take_vips_error()));
  }
  const int type = CV_MAKETYPE(cv_depth(info.pixel_type), info.channels);
  std::vector<cv::Mat> frames;
  frames.reserve(static_cast<size_t>(info.frames));
  const size_t frame_bytes = static_cast<size_t>(info.width) * info.height * CV_ELEM_SIZE(type);
  if (size < frame_bytes * static_cast<size_t>(info.frames)) {
    g_free(memory);
    throw Error(ErrorCode::corrupt, fmt::format("{}: decoded size does not match the header", name));
  }
  for (int f = 0; f < info.frames; ++f) {
    cv::Mat view(info.height, info.width, type, static_cast<char*>(memory) + frame_bytes * f);
    frames.push_back(view.clone());
  }
  g_free(memory);
  return frames;
}

bool is_multi_page(VipsImage* header) { return vips_image_get_n_pages(header) > 1; }


// PNG and JPEG (the bulk of most imports) decode through OpenCV's libpng/libjpeg-turbo path: measured
// 5.2 ms against libvips' 7.2 ms for a 512x512 8-bit PNG, since libvips' pipeline adds per-image set-up.
// libvips still reads the header (size, bands, EXIF) and handles every other case.
std::optional<std::vector<cv::Mat>> decode_with_opencv(std::string_view bytes, const ImageInfo& info,
                                                       std::string_view name) {
  if (info.format == "jpeg") {
    // libjpeg only warns about a truncated stream and fills the rest with grey; a complete JPEG ends
    // with the end-of-image marker (possibly followed by padding).
    const size_t end = bytes.find_last_not_of('\0');
    if (end == std::string_view::npos || end < 1 || static_cast<unsigned char>(bytes[end - 1]) != 0xFF ||
        static_cast<unsigned char>(bytes[end]) != 0xD9) {
      throw Error(ErrorCode::corrupt, fmt::format("{}: truncated JPEG (no end-of-image marker)", name));
    }
  }
  cv::Mat mat;
  try {
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
    mat = cv::imdecode(buffer, cv::IMREAD_UNCHANGED | cv::IMREAD_IGNORE_ORIENTATION);
  } catch (const cv::Exception& e) {
    throw Error(ErrorCode::corrupt, fmt::format("{}: cannot decode {} data: {}", name, info.format, e.what()));
  }
  if (mat.empty()) throw Error(ErrorCode::corrupt, fmt::format("{}: cannot decode {} data", name, info.format));
  // OpenCV expands grey+alpha to BGRA and may differ from libvips on exotic layouts: let libvips decide.
  if (mat.cols != info.width || mat.rows != info.height || mat.channels() != info.channels ||
      pixel_type_of(mat) != info.pixel_type) {
    return std::nullopt;
  }
  if (mat.channels() == 3) cv::cvtColor(mat, mat, cv::COLOR_BGR2RGB);
  if (mat.channels() == 4) cv::cvtColor(mat, mat, cv::COLOR_BGRA2RGBA);
  return std::vector<cv::Mat>{std::move(mat)};
}

// Full decode given the loader and an open header.
Image decode_opened(std::string_view bytes, const LoaderChoice& choice, VipsImage* header, std::string_view name) {
  Image out;
  if (choice.format == "png" || choice.format == "jpeg") {
    out.info = info_from(header, choice, bytes, name);
    if (auto frames = decode_with_opencv(bytes, out.info, name)) {
      out.frames = std::move(*frames);
      return out;
    }
  }
  const bool pages = supports_pages(choice) && is_multi_page(header);
  VipsRef image = open_lazy(bytes, choice, pages, VIPS_ACCESS_SEQUENTIAL, name);
  out.info = info_from(image.get(), choice, bytes, name);
  out.frames = to_frames(image.get(), out.info, name);
  return out;
}

}  // namespace

ImageInfo probe(std::string_view bytes) {
  const LoaderChoice choice = find_loader(bytes, "image");
  VipsRef header = open_lazy(bytes, choice, false, VIPS_ACCESS_RANDOM, "image");
  return info_from(header.get(), choice, bytes, "image");
}

Image decode(std::string_view bytes, std::string_view name) {
  const LoaderChoice choice = find_loader(bytes, name);
  VipsRef header = open_lazy(bytes, choice, false, VIPS_ACCESS_RANDOM, name);
  return decode_opened(bytes, choice, header.get(), name);
}

ImportDecode decode_for_import(std::string_view bytes, std::string_view name, long long large_pixels) {
  const LoaderChoice choice = find_loader(bytes, name);
  VipsRef header = open_lazy(bytes, choice, false, VIPS_ACCESS_RANDOM, name);
  const long long pixels = static_cast<long long>(vips_image_get_width(header.get())) *
                           vips_image_get_height(header.get());
  ImportDecode result;
  if (pixels <= large_pixels) {
    Image image = decode_opened(bytes, choice, header.get(), name);
    result.info = image.info;
    result.focus = focus_score(image.frames.front());
    return result;
  }
  // Large image: one streaming pass proves every tile decodes; focus comes from a 2048-px thumbnail.
  result.info = info_from(header.get(), choice, bytes, name);
  double mean = 0;
  if (vips_avg(header.get(), &mean, nullptr) != 0) {
    throw Error(ErrorCode::corrupt, fmt::format("{}: {}", name, detail::take_vips_error()));
  }
  VipsRef thumb;
  if (vips_thumbnail_buffer(const_cast<char*>(bytes.data()), bytes.size(), thumb.out(), 2048, "size",
                            VIPS_SIZE_DOWN, nullptr) != 0) {
    throw Error(ErrorCode::corrupt, fmt::format("{}: {}", name, detail::take_vips_error()));
  }
  ImageInfo thumb_info = result.info;
  thumb_info.width = vips_image_get_width(thumb.get());
  thumb_info.height = vips_image_get_height(thumb.get());
  thumb_info.frames = 1;
  thumb_info.pixel_type = pixel_type_from_vips(vips_image_get_format(thumb.get()), name);
  thumb_info.channels = vips_image_get_bands(thumb.get());
  result.focus = focus_score(to_frames(thumb.get(), thumb_info, name).front());
  return result;
}

bool has_image_extension(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".tif" || ext == ".tiff" ||
         ext == ".webp" || ext == ".gif" || ext == ".bmp" || ext == ".jp2" || ext == ".svs" ||
         ext == ".ndpi" || ext == ".scn" || ext == ".mrxs";
}

}  // namespace tessera::image
