#pragma once

// Test images made in memory by the project's own code (and libtiff for multi-page TIFFs with tags).

#include <tiffio.h>

#include <cstring>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

namespace tessera::test {

// Gradient plus a few sharp squares, so focus and decoding have something to see.
inline cv::Mat pattern_image(int width, int height, int type, int seed = 0) {
  cv::Mat out(height, width, type);
  cv::RNG rng(static_cast<uint64_t>(seed) + 1);
  const double scale = CV_MAT_DEPTH(type) == CV_16U ? 257.0 : CV_MAT_DEPTH(type) == CV_32F ? 1.0 / 255.0 : 1.0;
  cv::Mat base(height, width, CV_64FC(out.channels()));
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < out.channels(); ++c) {
        double v = (x * 200.0 / width) + c * 20 + ((x / 8 + y / 8) % 2) * 40 + rng.uniform(0, 10);
        base.ptr<double>(y)[x * out.channels() + c] = v;
      }
    }
  }
  base.convertTo(out, type, scale);
  return out;
}

inline std::string encode_with_opencv(const cv::Mat& m, const std::string& ext) {
  std::vector<uchar> buf;
  cv::imencode(ext, m, buf);
  return std::string(buf.begin(), buf.end());
}

// A multi-page TIFF (one page per Mat; all single-channel, same type) with an optional DateTime tag.
inline std::string write_tiff(const std::vector<cv::Mat>& pages, const std::string& datetime = "") {
  char name[] = "/tmp/tessera-tiff-XXXXXX";
  const int fd = mkstemp(name);
  close(fd);
  TIFF* tif = TIFFOpen(name, "w");
  for (const cv::Mat& page : pages) {
    const int depth = page.depth();
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, page.cols);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, page.rows);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, page.channels());
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, static_cast<int>(page.elemSize1() * 8));
    TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, depth == CV_32F ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, page.channels() == 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, page.rows);
    if (!datetime.empty()) TIFFSetField(tif, TIFFTAG_DATETIME, datetime.c_str());
    if (pages.size() > 1) {
      TIFFSetField(tif, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
    }
    for (int y = 0; y < page.rows; ++y) TIFFWriteScanline(tif, const_cast<uchar*>(page.ptr(y)), y, 0);
    TIFFWriteDirectory(tif);
  }
  TIFFClose(tif);
  std::ifstream in(name, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(name);
  return bytes;
}

// A JPEG with an EXIF APP1 segment holding DateTimeOriginal (tag 0x9003 in the Exif sub-IFD).
inline std::string jpeg_with_exif_date(const cv::Mat& image, const std::string& datetime) {
  std::string jpeg = encode_with_opencv(image, ".jpg");
  std::string tiff;
  auto u16 = [&](uint16_t v) { tiff.push_back(static_cast<char>(v & 0xff)); tiff.push_back(static_cast<char>(v >> 8)); };
  auto u32 = [&](uint32_t v) { for (int i = 0; i < 4; ++i) tiff.push_back(static_cast<char>((v >> (8 * i)) & 0xff)); };
  tiff += "II";
  u16(42);
  u32(8);  // IFD0 at 8
  // IFD0: one entry, ExifIFD pointer -> 26
  u16(1);
  u16(0x8769); u16(4); u32(1); u32(26);
  u32(0);  // next IFD
  // Exif IFD at 26: one entry, DateTimeOriginal ASCII count 20 at offset 44
  u16(1);
  u16(0x9003); u16(2); u32(20); u32(44);
  u32(0);
  tiff += datetime;
  tiff.push_back('\0');
  std::string app1 = std::string("Exif\0\0", 6) + tiff;
  const uint16_t length = static_cast<uint16_t>(app1.size() + 2);
  std::string segment = "\xFF\xE1";
  segment.push_back(static_cast<char>(length >> 8));
  segment.push_back(static_cast<char>(length & 0xff));
  segment += app1;
  return jpeg.substr(0, 2) + segment + jpeg.substr(2);
}

}  // namespace tessera::test
