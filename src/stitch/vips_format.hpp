#pragma once

#include <vips/vips.h>

#include <opencv2/core.hpp>

namespace tessera::stitch {

// OpenCV depth for a libvips band format; -1 for complex formats. Unsigned 32-bit maps to CV_64F,
// as image::decode widens it.
inline int cv_depth_of(VipsBandFormat format) {
  switch (format) {
    case VIPS_FORMAT_UCHAR:
      return CV_8U;
    case VIPS_FORMAT_CHAR:
      return CV_8S;
    case VIPS_FORMAT_USHORT:
      return CV_16U;
    case VIPS_FORMAT_SHORT:
      return CV_16S;
    case VIPS_FORMAT_INT:
      return CV_32S;
    case VIPS_FORMAT_FLOAT:
      return CV_32F;
    case VIPS_FORMAT_UINT:
    case VIPS_FORMAT_DOUBLE:
      return CV_64F;
    default:
      return -1;
  }
}

// libvips band format for an OpenCV depth (CV_16F has none: -1 maps to VIPS_FORMAT_NOTSET).
inline VipsBandFormat vips_format_of(int depth) {
  switch (depth) {
    case CV_8U:
      return VIPS_FORMAT_UCHAR;
    case CV_8S:
      return VIPS_FORMAT_CHAR;
    case CV_16U:
      return VIPS_FORMAT_USHORT;
    case CV_16S:
      return VIPS_FORMAT_SHORT;
    case CV_32S:
      return VIPS_FORMAT_INT;
    case CV_32F:
      return VIPS_FORMAT_FLOAT;
    case CV_64F:
      return VIPS_FORMAT_DOUBLE;
    default:
      return VIPS_FORMAT_NOTSET;
  }
}

}  // namespace tessera::stitch
