#include "tessera/ops/preprocess.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "ops/builtin.hpp"
#include "tessera/core/error.hpp"

namespace tessera::ops {
namespace {

[[noreturn]] void fail(std::string_view op, const std::string& what) {
  throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", op, what), {{"op", op}});
}

std::string type_name(const cv::Mat& m) { return cv::typeToString(m.type()); }

bool is_float_depth(int depth) { return depth == CV_32F || depth == CV_64F || depth == CV_16F; }

// cv::resize rejects some depths (8S, 32S, 16F) for interpolating modes and AREA more than four
// channels.
cv::Mat resize_planes(const cv::Mat& src, cv::Size size, int flag) {
  cv::Mat out;
  if (src.channels() <= 4) {
    cv::resize(src, out, size, 0, 0, flag);
    return out;
  }
  std::vector<cv::Mat> planes;
  cv::split(src, planes);
  for (cv::Mat& p : planes) cv::resize(p, p, size, 0, 0, flag);
  cv::merge(planes, out);
  return out;
}

// Scales each channel of a float flat field to mean 1 and floors it, so dividing by it keeps the
// brightness and never blows up where the field is (nearly) zero.
cv::Mat normalise_flat(const cv::Mat& flat) {
  std::vector<cv::Mat> planes;
  cv::split(flat, planes);
  for (cv::Mat& p : planes) {
    const double mean = cv::mean(p)[0];
    if (!(mean > 0)) {
      p.setTo(1.0);
    } else {
      p.convertTo(p, CV_32F, 1.0 / mean);
      cv::max(p, 1e-3, p);
    }
  }
  cv::Mat out;
  cv::merge(planes, out);
  return out;
}

// Extends src on each side with 2 * edge - mirror image, which continues a gradient straight on (a
// plain mirror would fold it back and bias a blur near the border).
cv::Mat pad_point_reflect(const cv::Mat& src, int left, int top, int right, int bottom) {
  cv::Mat out = src;
  if (left > 0 || right > 0) {
    cv::Mat mirror, edge;
    cv::copyMakeBorder(out, mirror, 0, 0, left, right, cv::BORDER_REFLECT_101);
    cv::copyMakeBorder(out, edge, 0, 0, left, right, cv::BORDER_REPLICATE);
    for (const cv::Range cols : {cv::Range(0, left), cv::Range(mirror.cols - right, mirror.cols)}) {
      if (cols.size() == 0) continue;
      cv::Mat strip = mirror.colRange(cols);
      cv::addWeighted(edge.colRange(cols), 2.0, strip, -1.0, 0.0, strip);
    }
    out = mirror;
  }
  if (top > 0 || bottom > 0) {
    cv::Mat mirror, edge;
    cv::copyMakeBorder(out, mirror, top, bottom, 0, 0, cv::BORDER_REFLECT_101);
    cv::copyMakeBorder(out, edge, top, bottom, 0, 0, cv::BORDER_REPLICATE);
    for (const cv::Range rows : {cv::Range(0, top), cv::Range(mirror.rows - bottom, mirror.rows)}) {
      if (rows.size() == 0) continue;
      cv::Mat strip = mirror.rowRange(rows);
      cv::addWeighted(edge.rowRange(rows), 2.0, strip, -1.0, 0.0, strip);
    }
    out = mirror;
  }
  return out;
}

template <typename T>
void median_rows(const std::vector<cv::Mat>& stack, cv::Mat& out) {
  const size_t n = stack.size();
  const size_t mid = n / 2;
  std::vector<double> values(n);
  std::vector<const T*> rows(n);
  const int width = out.cols * out.channels();
  for (int y = 0; y < out.rows; ++y) {
    for (size_t j = 0; j < n; ++j) rows[j] = stack[j].ptr<T>(y);
    float* o = out.ptr<float>(y);
    for (int x = 0; x < width; ++x) {
      for (size_t j = 0; j < n; ++j) values[j] = static_cast<double>(rows[j][x]);
      std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid),
                       values.end());
      double m = values[mid];
      if (n % 2 == 0) {
        m = 0.5 * (m + *std::max_element(values.begin(),
                                         values.begin() + static_cast<std::ptrdiff_t>(mid)));
      }
      o[x] = static_cast<float>(m);
    }
  }
}

// The k-th and (k+1)-th smallest values (0-based) of an unsigned integer image, from its histogram.
template <typename T>
std::pair<double, double> order_stats_by_histogram(const cv::Mat& row, size_t k) {
  std::vector<size_t> hist(size_t{std::numeric_limits<T>::max()} + 1, 0);
  const T* p = row.ptr<T>(0);
  for (size_t i = 0; i < row.total(); ++i) ++hist[p[i]];
  double first = -1;
  size_t seen = 0;
  for (size_t v = 0; v < hist.size(); ++v) {
    seen += hist[v];
    if (first < 0 && seen > k) first = static_cast<double>(v);
    if (seen > k + 1) return {first, static_cast<double>(v)};
  }
  return {first, first};  // k is the last index
}

}  // namespace

double white_level(int depth) {
  switch (depth) {
    case CV_8U: return 255.0;
    case CV_8S: return 127.0;
    case CV_16U: return 65535.0;
    case CV_16S: return 32767.0;
    case CV_32S: return static_cast<double>(std::numeric_limits<std::int32_t>::max());
    default: return 1.0;
  }
}

cv::Mat to_gray(const cv::Mat& image) {
  const int channels = image.channels();
  if (channels > 4) {
    fail("to_gray",
         fmt::format("expects 1 to 4 channels (grey, grey+alpha, RGB or RGBA), got {}", channels));
  }
  cv::Mat out;
  if (channels == 1) return image.clone();
  if (channels == 2) {
    cv::extractChannel(image, out, 0);
    return out;
  }
  const int depth = image.depth();
  if (depth == CV_8U || depth == CV_16U || depth == CV_32F) {
    cv::cvtColor(image, out, channels == 3 ? cv::COLOR_RGB2GRAY : cv::COLOR_RGBA2GRAY);
    return out;
  }
  cv::Mat wide, luma;
  image.convertTo(wide, CV_64F);
  if (channels == 3) {
    cv::transform(wide, luma, cv::Matx13d(0.299, 0.587, 0.114));
  } else {
    cv::transform(wide, luma, cv::Matx14d(0.299, 0.587, 0.114, 0.0));
  }
  luma.convertTo(out, depth);
  return out;
}

double percentile(const cv::Mat& image, double p) {
  if (image.empty()) fail("percentile", "the image is empty");
  const cv::Mat row = (image.isContinuous() ? image : image.clone()).reshape(1, 1);
  const size_t n = row.total();
  const double position = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(n - 1);
  const size_t k = std::min(static_cast<size_t>(std::floor(position)), n - 1);
  const double fraction = position - static_cast<double>(k);
  std::pair<double, double> at;  // the k-th and (k+1)-th smallest values
  if (row.depth() == CV_8U) {
    at = order_stats_by_histogram<std::uint8_t>(row, k);
  } else if (row.depth() == CV_16U) {
    at = order_stats_by_histogram<std::uint16_t>(row, k);
  } else {
    cv::Mat wide;
    row.convertTo(wide, CV_64F);
    std::vector<double> values(wide.begin<double>(), wide.end<double>());
    const auto kth = values.begin() + static_cast<std::ptrdiff_t>(k);
    std::nth_element(values.begin(), kth, values.end());
    at.first = *kth;
    at.second = k + 1 < n ? *std::min_element(kth + 1, values.end()) : at.first;
  }
  return at.first + fraction * (at.second - at.first);
}

cv::Mat normalize_intensity(const cv::Mat& image, const NormalizeOptions& options) {
  const int depth = options.depth < 0 ? image.depth() : options.depth;
  double low = 0, high = 0;
  if (options.mode == NormalizeMode::min_max) {
    cv::minMaxLoc(image.reshape(1), &low, &high);
  } else {
    if (options.low > options.high) {
      fail("normalize", fmt::format("the low percentile ({}) must not exceed the high one ({})",
                                    options.low, options.high));
    }
    low = percentile(image, options.low);
    high = percentile(image, options.high);
  }
  const int type = CV_MAKETYPE(depth, image.channels());
  if (!(high > low)) return cv::Mat::zeros(image.size(), type);
  const double white = white_level(depth);
  const double scale = white / (high - low);
  cv::Mat out;
  image.convertTo(out, depth, scale, -low * scale);
  if (options.clip && is_float_depth(depth)) {
    cv::Mat values = out.reshape(1);
    cv::min(values, white, values);
    cv::max(values, 0.0, values);
  }
  return out;
}

cv::Mat resize_image(const cv::Mat& image, cv::Size size, Interpolation interpolation) {
  if (size.width <= 0 || size.height <= 0) {
    fail("resize",
         fmt::format("the target size must be positive, got {}x{}", size.width, size.height));
  }
  cv::Mat out;
  if (interpolation == Interpolation::nearest) {
    cv::resize(image, out, size, 0, 0, cv::INTER_NEAREST_EXACT);
    return out;
  }
  const int flag = interpolation == Interpolation::linear ? cv::INTER_LINEAR
                   : interpolation == Interpolation::area ? cv::INTER_AREA
                                                          : cv::INTER_CUBIC;
  const int depth = image.depth();
  const bool native = depth == CV_8U || depth == CV_16U || depth == CV_16S || is_float_depth(depth);
  if (native && depth != CV_16F) return resize_planes(image, size, flag);
  cv::Mat wide;
  image.convertTo(wide, CV_64F);
  resize_planes(wide, size, flag).convertTo(out, depth);
  return out;
}

cv::Mat adjust_gamma(const cv::Mat& image, double gamma) {
  if (!(gamma > 0)) fail("gamma", fmt::format("gamma must be positive, got {}", gamma));
  const int depth = image.depth();
  cv::Mat out;
  if (depth == CV_8U) {
    cv::Mat table(1, 256, CV_8U);
    for (int v = 0; v < 256; ++v) {
      table.at<std::uint8_t>(v) =
          cv::saturate_cast<std::uint8_t>(255.0 * std::pow(v / 255.0, gamma));
    }
    cv::LUT(image, table, out);
    return out;
  }
  if (depth == CV_16U) {
    std::vector<std::uint16_t> table(65536);
    for (size_t v = 0; v < table.size(); ++v) {
      table[v] = cv::saturate_cast<std::uint16_t>(
          65535.0 * std::pow(static_cast<double>(v) / 65535.0, gamma));
    }
    out = image.clone();
    const int width = out.cols * out.channels();
    for (int y = 0; y < out.rows; ++y) {
      std::uint16_t* p = out.ptr<std::uint16_t>(y);
      for (int x = 0; x < width; ++x) p[x] = table[p[x]];
    }
    return out;
  }
  double minimum = 0;
  cv::minMaxLoc(image.reshape(1), &minimum, nullptr);
  if (minimum < 0) {
    fail("gamma",
         fmt::format("the image has negative values (minimum {}); normalize it first", minimum));
  }
  const double white = white_level(depth);
  cv::Mat unit;
  image.convertTo(unit, CV_64F, 1.0 / white);
  cv::pow(unit, gamma, unit);
  unit.convertTo(out, depth, white);
  return out;
}

cv::Mat clahe(const cv::Mat& image, double clip_limit, int tile_grid) {
  const int depth = image.depth();
  const int channels = image.channels();
  if (depth != CV_8U && depth != CV_16U) {
    fail("clahe",
         fmt::format(
             "needs 8- or 16-bit unsigned pixels, got {}; normalize with depth u8 or u16 first",
             type_name(image)));
  }
  if (channels != 1 && channels != 3 && channels != 4) {
    fail("clahe", fmt::format("expects a grey, RGB or RGBA image, got {} channels", channels));
  }
  if (tile_grid < 1) fail("clahe", fmt::format("tile_grid must be at least 1, got {}", tile_grid));
  const cv::Ptr<cv::CLAHE> equalizer = cv::createCLAHE(clip_limit, cv::Size(tile_grid, tile_grid));
  cv::Mat out;
  if (channels == 1) {
    equalizer->apply(image, out);
    return out;
  }
  std::vector<cv::Mat> planes;
  cv::split(image, planes);
  cv::Mat rgb;
  cv::merge(std::vector<cv::Mat>(planes.begin(), planes.begin() + 3), rgb);
  // OpenCV's Lab works on 8U (L scaled to 0..255) and floats (L in 0..100); 16-bit goes through
  // float with L mapped to 0..65535 for the equaliser.
  const double l_scale = depth == CV_8U ? 1.0 : 65535.0 / 100.0;
  cv::Mat lab;
  if (depth == CV_8U) {
    cv::cvtColor(rgb, lab, cv::COLOR_RGB2Lab);
  } else {
    rgb.convertTo(lab, CV_32F, 1.0 / 65535.0);
    cv::cvtColor(lab, lab, cv::COLOR_RGB2Lab);
  }
  std::vector<cv::Mat> lab_planes;
  cv::split(lab, lab_planes);
  cv::Mat lightness;
  lab_planes[0].convertTo(lightness, depth, l_scale);
  equalizer->apply(lightness, lightness);
  lightness.convertTo(lab_planes[0], lab_planes[0].depth(), 1.0 / l_scale);
  cv::merge(lab_planes, lab);
  cv::cvtColor(lab, rgb, cv::COLOR_Lab2RGB);
  if (depth == CV_16U) rgb.convertTo(rgb, CV_16U, 65535.0);
  if (channels == 3) return rgb;
  std::vector<cv::Mat> rgba;
  cv::split(rgb, rgba);
  rgba.push_back(planes[3]);
  cv::merge(rgba, out);
  return out;
}

cv::Mat flat_field_blur(const cv::Mat& image, double sigma) {
  if (image.empty()) fail("vignette_correct", "the image is empty");
  const cv::Size size = image.size();
  if (sigma <= 0) sigma = std::max(size.width, size.height) / 8.0;
  cv::Mat values;
  image.convertTo(values, CV_32F);
  // A blur this wide only needs a few pixels per sigma: average f x f blocks, blur, grow back. The
  // flat field is smooth, so nothing is lost, and a 4000-pixel image blurs as fast as a 64-pixel
  // one. Sizes are padded to whole blocks so the way back is an exact factor f, and the small field
  // gets one more pixel of linear extrapolation so the outermost pixels are interpolated rather
  // than clamped.
  const int f = std::clamp(static_cast<int>(std::min(sigma / 4.0, 1e6)), 1,
                           std::max(1, std::min(size.width, size.height) / 4));
  const cv::Size blocks((size.width + f - 1) / f, (size.height + f - 1) / f);
  cv::Mat small = values;
  if (f > 1) {
    const cv::Mat whole = pad_point_reflect(values, 0, 0, blocks.width * f - size.width,
                                            blocks.height * f - size.height);
    small = resize_planes(whole, blocks, cv::INTER_AREA);
  }
  // Beyond a few image widths a wider blur changes nothing but the cost.
  const double s = std::min(sigma / f, 4.0 * std::max(small.cols, small.rows));
  const int reach = static_cast<int>(std::ceil(3.0 * s));
  const int px = std::min(reach, small.cols - 1);
  const int py = std::min(reach, small.rows - 1);
  const auto blur = [&](const cv::Mat& m) {
    cv::Mat out;
    cv::GaussianBlur(pad_point_reflect(m, px, py, px, py), out, cv::Size(0, 0), s, s,
                     cv::BORDER_REPLICATE);
    return cv::Mat(out(cv::Rect(px, py, m.cols, m.rows)));
  };
  // Twicing (Tukey): 2 B - blur(B) undoes the blur's own flattening of the illumination's
  // curvature, which would otherwise leave corners a few percent too dark, and keeps small objects
  // out all the same.
  const cv::Mat once = blur(small);
  cv::Mat flat;
  cv::addWeighted(once, 2.0, blur(once), -1.0, 0.0, flat);
  if (f > 1) {
    const int ex = std::min(1, small.cols - 1);
    const int ey = std::min(1, small.rows - 1);
    const cv::Mat grown = resize_planes(
        pad_point_reflect(flat, ex, ey, ex, ey),
        cv::Size((small.cols + 2 * ex) * f, (small.rows + 2 * ey) * f), cv::INTER_LINEAR);
    flat = grown(cv::Rect(ex * f, ey * f, size.width, size.height));
  }
  return normalise_flat(flat.clone());
}

cv::Mat flat_field_median(const std::vector<cv::Mat>& stack) {
  if (stack.empty()) fail("vignette_correct", "the stack is empty");
  const cv::Mat& first = stack.front();
  for (size_t i = 0; i < stack.size(); ++i) {
    const cv::Mat& m = stack[i];
    if (m.empty()) fail("vignette_correct", fmt::format("stack image {} is empty", i));
    if (m.size() != first.size() || m.type() != first.type()) {
      fail("vignette_correct",
           fmt::format("stack image {} is {}x{} {}, but image 0 is {}x{} {}; a stack needs one "
                       "size and type",
                       i, m.cols, m.rows, type_name(m), first.cols, first.rows, type_name(first)));
    }
  }
  std::vector<cv::Mat> planes = stack;
  if (first.depth() == CV_16F) {
    for (cv::Mat& p : planes) p.convertTo(p, CV_32F);
  }
  cv::Mat median(first.size(), CV_32FC(first.channels()));
  switch (planes.front().depth()) {
    case CV_8U: median_rows<std::uint8_t>(planes, median); break;
    case CV_8S: median_rows<std::int8_t>(planes, median); break;
    case CV_16U: median_rows<std::uint16_t>(planes, median); break;
    case CV_16S: median_rows<std::int16_t>(planes, median); break;
    case CV_32S: median_rows<std::int32_t>(planes, median); break;
    case CV_32F: median_rows<float>(planes, median); break;
    default: median_rows<double>(planes, median); break;
  }
  return normalise_flat(median);
}

cv::Mat divide_flat_field(const cv::Mat& image, const cv::Mat& flat) {
  if (flat.size() != image.size() || flat.channels() != image.channels()) {
    fail("vignette_correct",
         fmt::format("the image is {}x{} with {} channels but the flat field is {}x{} with {}",
                     image.cols, image.rows, image.channels(), flat.cols, flat.rows,
                     flat.channels()));
  }
  // Doubles keep 32-bit integers exact; everything else fits a float's 24-bit mantissa.
  const int work = image.depth() == CV_32S || image.depth() == CV_64F ? CV_64F : CV_32F;
  cv::Mat values, divisor = flat, out;
  image.convertTo(values, work);
  if (flat.depth() != work) flat.convertTo(divisor, work);  // the blur's flat field is float already
  cv::divide(values, divisor, values);
  values.convertTo(out, image.depth());
  return out;
}

cv::Mat crop(const cv::Mat& image, const cv::Rect& area) {
  if (area.x < 0 || area.y < 0 || area.x >= image.cols || area.y >= image.rows) {
    fail("crop", fmt::format("the corner x={} y={} is outside the {}x{} image", area.x, area.y,
                             image.cols, image.rows));
  }
  if (area.width <= 0 || area.height <= 0) {
    fail("crop",
         fmt::format("width and height must be positive, got {}x{}", area.width, area.height));
  }
  if (std::int64_t{area.x} + area.width > image.cols ||
      std::int64_t{area.y} + area.height > image.rows) {
    fail("crop", fmt::format("area x={} y={} width={} height={} reaches past the {}x{} image",
                             area.x, area.y, area.width, area.height, image.cols, image.rows));
  }
  return image(area).clone();
}

namespace {

// Geometric ops hand back the kind they were given, so a mask stays a mask in a pipeline.
Facet same_kind(const Facet& input, cv::Mat result) {
  Facet out = input;
  out.mat = std::move(result);
  return out;
}

FacetMap run_to_gray(const OpCall& call) {
  return {{"image", Facet::image(to_gray(call.mat("image")))}};
}

FacetMap run_normalize(const OpCall& call) {
  NormalizeOptions options;
  options.mode = call.param<std::string>("mode") == "min_max" ? NormalizeMode::min_max
                                                              : NormalizeMode::percentile;
  options.low = call.param<double>("low");
  options.high = call.param<double>("high");
  const std::string depth = call.param<std::string>("depth");
  options.depth = depth == "u8" ? CV_8U : depth == "u16" ? CV_16U : depth == "f32" ? CV_32F : -1;
  options.clip = call.param<bool>("clip");
  return {{"image", Facet::image(normalize_intensity(call.mat("image"), options))}};
}

FacetMap run_resize(const OpCall& call) {
  const Facet& input = call.input("image");
  const cv::Mat& image = input.mat;
  const int width = call.param<int>("width");
  const int height = call.param<int>("height");
  const double scale = call.param<double>("scale");
  if ((width > 0 || height > 0) && scale != 1.0) {
    fail("resize", "give width and/or height, or scale, not both");
  }
  const auto scaled = [](int length, double factor) {
    return static_cast<int>(std::max(1.0, std::round(length * factor)));
  };
  cv::Size size;
  if (width > 0 && height > 0) {
    size = {width, height};
  } else if (width > 0) {
    size = {width, scaled(image.rows, static_cast<double>(width) / image.cols)};
  } else if (height > 0) {
    size = {scaled(image.cols, static_cast<double>(height) / image.rows), height};
  } else {
    if (image.cols * scale > 1e6 || image.rows * scale > 1e6) {
      fail("resize",
           fmt::format("scale {} would make the {}x{} image larger than 1000000 pixels across",
                       scale, image.cols, image.rows));
    }
    size = {scaled(image.cols, scale), scaled(image.rows, scale)};
  }
  const std::string mode = call.param<std::string>("interpolation");
  const Interpolation interpolation = mode == "nearest" ? Interpolation::nearest
                                      : mode == "area"  ? Interpolation::area
                                      : mode == "cubic" ? Interpolation::cubic
                                                        : Interpolation::linear;
  if (interpolation != Interpolation::nearest &&
      (input.kind == FacetKind::mask || input.kind == FacetKind::labels)) {
    fail("resize", fmt::format("a {} input must be resized with interpolation=nearest, got {}",
                               to_string(input.kind), mode));
  }
  return {{"image", same_kind(input, resize_image(image, size, interpolation))}};
}

FacetMap run_gamma(const OpCall& call) {
  return {{"image", Facet::image(adjust_gamma(call.mat("image"), call.param<double>("gamma")))}};
}

FacetMap run_clahe(const OpCall& call) {
  return {{"image", Facet::image(clahe(call.mat("image"), call.param<double>("clip_limit"),
                                       call.param<int>("tile_grid")))}};
}

FacetMap run_vignette_correct(const OpCall& call) {
  const bool median = call.param<std::string>("mode") == "stack_median";
  const double sigma = call.param<double>("sigma");
  const bool has_image = call.has("image");
  const bool has_stack = call.has("stack");
  if (!has_image && !has_stack) {
    fail("vignette_correct", "needs an input 'image', a 'stack' of images, or both");
  }
  if (median && !has_stack) {
    fail("vignette_correct",
         "mode stack_median needs the input 'stack', whose per-pixel median is the flat field");
  }
  FacetMap out;
  cv::Mat shared_flat;
  if (median) {
    shared_flat = flat_field_median(call.input("stack").mats);
    out["flat"] = Facet::image(shared_flat);
  }
  if (has_image) {
    const cv::Mat& image = call.mat("image");
    if (image.empty()) fail("vignette_correct", "input 'image' is empty");
    const cv::Mat flat = median ? shared_flat : flat_field_blur(image, sigma);
    if (!median) out["flat"] = Facet::image(flat);
    out["image"] = Facet::image(divide_flat_field(image, flat));
  }
  if (has_stack) {
    std::vector<cv::Mat> corrected;
    for (const cv::Mat& frame : call.input("stack").mats) {
      if (frame.empty()) fail("vignette_correct", "the stack holds an empty image");
      corrected.push_back(
          divide_flat_field(frame, median ? shared_flat : flat_field_blur(frame, sigma)));
    }
    out["images"] = Facet::list(std::move(corrected), call.input("stack").table);
  }
  return out;
}

FacetMap run_crop(const OpCall& call) {
  const Facet& input = call.input("image");
  const int x = call.param<int>("x");
  const int y = call.param<int>("y");
  int width = call.param<int>("width");
  int height = call.param<int>("height");
  // 0 reaches the edge; it stays 0 only when the corner is outside, which crop reports.
  if (width == 0) width = std::max(0, input.mat.cols - x);
  if (height == 0) height = std::max(0, input.mat.rows - y);
  return {{"image", same_kind(input, crop(input.mat, cv::Rect(x, y, width, height)))}};
}

}  // namespace

void register_preprocess_ops(OpRegistry& r) {
  const FacetSpec any_in{"image", FacetKind::image, "an image, mask or label image"};
  const FacetSpec same_out{"image", FacetKind::image,
                           "the result, of the same kind as the input (image, mask or labels)"};

  r.add({.name = "to_gray",
         .summary = "One-channel grey image: Rec.601 luma of RGB(A), same depth",
         .inputs = {{"image", FacetKind::image, "grey, grey+alpha, RGB or RGBA image"}},
         .outputs = {{"image", FacetKind::image, "one-channel image of the input's depth"}},
         .params = {},
         .run = run_to_gray});

  r.add(
      {.name = "normalize",
       .summary = "Stretch intensities so a low and a high value map to black and white",
       .inputs = {{"image", FacetKind::image, "any image; all channels are stretched together"}},
       .outputs = {{"image", FacetKind::image,
                    "stretched image: [0, 255] u8, [0, 65535] u16, [0, 1] float"}},
       .params =
           {ParamSpec::choice("mode", "percentile", {"min_max", "percentile"},
                              "min_max: the extremes; percentile: the low and high percentiles"),
            ParamSpec::number("low", 1.0, {0.0, 100.0},
                              "percentile mapped to black (mode percentile)"),
            ParamSpec::number("high", 99.8, {0.0, 100.0},
                              "percentile mapped to white (mode percentile)"),
            ParamSpec::choice("depth", "same", {"same", "u8", "u16", "f32"}, "output pixel depth"),
            ParamSpec::boolean("clip", true,
                               "clamp float outputs to [0, 1] (integer outputs always saturate)")},
       .run = run_normalize});

  r.add({.name = "resize",
         .summary = "Resize to a width and/or height, or by a scale factor",
         .inputs = {any_in},
         .outputs = {same_out},
         .params =
             {ParamSpec::integer("width", 0, {0, 1e6},
                                 "target width; 0 = from height keeping the aspect, or scale"),
              ParamSpec::integer("height", 0, {0, 1e6},
                                 "target height; 0 = from width keeping the aspect, or scale"),
              ParamSpec::number("scale", 1.0, {1e-3, 1e3},
                                "scale factor, used when width and height are 0"),
              ParamSpec::choice(
                  "interpolation", "linear", {"nearest", "linear", "area", "cubic"},
                  "nearest (required for masks and labels), linear, area (best to shrink), cubic")},
         .run = run_resize});

  r.add({.name = "gamma",
         .summary = "Gamma correction over the pixel type's full range: out = W * (in / W)^gamma",
         .inputs = {{"image", FacetKind::image, "image without negative values"}},
         .outputs = {{"image", FacetKind::image, "corrected image of the same type"}},
         .params = {ParamSpec::number("gamma", 1.0, {1e-3, 1e3},
                                      "exponent; < 1 brightens, > 1 darkens")},
         .run = run_gamma});

  r.add({.name = "clahe",
         .summary = "Contrast-limited adaptive histogram equalisation (OpenCV); colour images on "
                    "Lab lightness",
         .inputs = {{"image", FacetKind::image, "8- or 16-bit unsigned grey, RGB or RGBA image"}},
         .outputs = {{"image", FacetKind::image, "equalised image of the same type"}},
         .params = {ParamSpec::number("clip_limit", 2.0, {0.0, 1000.0},
                                      "contrast limit relative to the mean bin count; 0 = none"),
                    ParamSpec::integer("tile_grid", 8, {1, 256}, "tiles along each axis")},
         .run = run_clahe});

  r.add({.name = "vignette_correct",
         .summary = "Remove uneven illumination by dividing by a flat field (own blur, or median "
                    "of a stack)",
         .inputs = {{"image", FacetKind::image, "image to correct (optional when a stack is given)",
                     true},
                    {"stack", FacetKind::images,
                     "images of one size and type: the flat field source in stack_median mode; "
                     "each is corrected too",
                     true}},
         .outputs = {{"image", FacetKind::image,
                      "the corrected image, same type (when 'image' was given)", true},
                     {"images", FacetKind::images,
                      "each stack image corrected, same order (when 'stack' was given)", true},
                     {"flat", FacetKind::image,
                      "the flat field, 32-bit float, mean 1 per channel (blur mode: the image's)",
                      true}},
         .params = {ParamSpec::choice("mode", "blur", {"blur", "stack_median"},
                                      "blur: each image's own heavy Gaussian blur; stack_median: "
                                      "per-pixel median of 'stack'"),
                    ParamSpec::number("sigma", 0.0, {0.0, 1e6},
                                      "blur sigma in pixels; 0 = max(width, height) / 8")},
         .run = run_vignette_correct});

  r.add({.name = "crop",
         .summary = "Cut out a rectangle of the image",
         .inputs = {any_in},
         .outputs = {same_out},
         .params = {ParamSpec::integer("x", 0, {0, 1e9}, "left column"),
                    ParamSpec::integer("y", 0, {0, 1e9}, "top row"),
                    ParamSpec::integer("width", 0, {0, 1e9}, "width; 0 = up to the right edge"),
                    ParamSpec::integer("height", 0, {0, 1e9}, "height; 0 = up to the bottom edge")},
         .run = run_crop});
}

}  // namespace tessera::ops
