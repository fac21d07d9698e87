#include "tessera/ops/augment.hpp"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ops/builtin.hpp"

namespace tessera::ops {
namespace {

// cv::transpose (behind cv::rotate) handles pixels of up to four channels; wider ones turn plane by
// plane.
cv::Mat rotate_planes(const cv::Mat& image, int code) {
  cv::Mat out;
  if (image.channels() <= 4) {
    cv::rotate(image, out, code);
    return out;
  }
  std::vector<cv::Mat> planes;
  cv::split(image, planes);
  for (cv::Mat& p : planes) cv::rotate(p, p, code);
  cv::merge(planes, out);
  return out;
}

// Index of the source pixel for position p on an axis of length len, or -1 outside (constant
// border).
int source_index(std::int64_t p, std::int64_t len, Border border) {
  if (p >= 0 && p < len) return static_cast<int>(p);
  if (border == Border::constant) return -1;
  if (border == Border::wrap) return static_cast<int>(((p % len) + len) % len);
  const std::int64_t period = 2 * len;  // reflect: abcd dcba abcd ...
  const std::int64_t m = ((p % period) + period) % period;
  return static_cast<int>(m < len ? m : period - 1 - m);
}

}  // namespace

cv::Mat rotate90(const cv::Mat& image, int k) {
  switch (((k % 4) + 4) % 4) {
    case 1: return rotate_planes(image, cv::ROTATE_90_COUNTERCLOCKWISE);
    case 2: return rotate_planes(image, cv::ROTATE_180);
    case 3: return rotate_planes(image, cv::ROTATE_90_CLOCKWISE);
    default: return image.clone();
  }
}

cv::Mat flip(const cv::Mat& image, FlipAxis axis) {
  cv::Mat out;
  cv::flip(image, out, axis == FlipAxis::horizontal ? 1 : axis == FlipAxis::vertical ? 0 : -1);
  return out;
}

cv::Mat translate(const cv::Mat& image, int dx, int dy, Border border, double fill) {
  cv::Mat out(image.size(), image.type());
  if (image.empty()) return out;
  std::vector<int> xs(static_cast<size_t>(image.cols));
  std::vector<int> ys(static_cast<size_t>(image.rows));
  for (int x = 0; x < image.cols; ++x) {
    xs[static_cast<size_t>(x)] = source_index(std::int64_t{x} - dx, image.cols, border);
  }
  for (int y = 0; y < image.rows; ++y) {
    ys[static_cast<size_t>(y)] = source_index(std::int64_t{y} - dy, image.rows, border);
  }
  // One pixel of the fill value in the image's type, saturated like any conversion.
  cv::Mat fill_pixel;
  cv::Mat(1, image.channels(), CV_64FC1, cv::Scalar(fill)).convertTo(fill_pixel, image.depth());
  const std::uint8_t* fill_bytes = fill_pixel.ptr<std::uint8_t>(0);
  const size_t size = image.elemSize();
  for (int y = 0; y < image.rows; ++y) {
    std::uint8_t* o = out.ptr<std::uint8_t>(y);
    const int sy = ys[static_cast<size_t>(y)];
    const std::uint8_t* s = sy < 0 ? nullptr : image.ptr<std::uint8_t>(sy);
    for (int x = 0; x < image.cols; ++x) {
      const int sx = xs[static_cast<size_t>(x)];
      const std::uint8_t* from =
          (s == nullptr || sx < 0) ? fill_bytes : s + static_cast<size_t>(sx) * size;
      std::memcpy(o + static_cast<size_t>(x) * size, from, size);
    }
  }
  return out;
}

namespace {

// Augmentations hand back the kind they were given, so a mask stays a mask in a pipeline.
Facet same_kind(const Facet& input, cv::Mat result) {
  Facet out = input;
  out.mat = std::move(result);
  return out;
}

FacetMap run_rotate90(const OpCall& call) {
  const Facet& input = call.input("image");
  return {{"image", same_kind(input, rotate90(input.mat, call.param<int>("k")))}};
}

FacetMap run_flip(const OpCall& call) {
  const Facet& input = call.input("image");
  const std::string axis = call.param<std::string>("axis");
  const FlipAxis a = axis == "horizontal" ? FlipAxis::horizontal
                     : axis == "vertical" ? FlipAxis::vertical
                                          : FlipAxis::both;
  return {{"image", same_kind(input, flip(input.mat, a))}};
}

FacetMap run_translate(const OpCall& call) {
  const Facet& input = call.input("image");
  const std::string mode = call.param<std::string>("border");
  const Border border = mode == "reflect" ? Border::reflect
                        : mode == "wrap"  ? Border::wrap
                                          : Border::constant;
  return {
      {"image", same_kind(input, translate(input.mat, call.param<int>("dx"), call.param<int>("dy"),
                                           border, call.param<double>("fill")))}};
}

}  // namespace

void register_augment_ops(OpRegistry& r) {
  const FacetSpec any_in{"image", FacetKind::image,
                         "an image, mask or label image (values are moved, never blended)"};
  const FacetSpec same_out{"image", FacetKind::image,
                           "the result, of the same kind and type as the input"};

  r.add({.name = "rotate90",
         .summary = "Rotate by quarter turns counterclockwise (numpy.rot90)",
         .inputs = {any_in},
         .outputs = {same_out},
         .params = {ParamSpec::integer("k", 1, {-3, 3},
                                       "quarter turns counterclockwise; negative turns clockwise")},
         .run = run_rotate90});

  r.add({.name = "flip",
         .summary = "Mirror left-right, top-bottom or both",
         .inputs = {any_in},
         .outputs = {same_out},
         .params = {ParamSpec::choice(
             "axis", "horizontal", {"horizontal", "vertical", "both"},
             "horizontal: left-right; vertical: top-bottom; both: a half turn")},
         .run = run_flip});

  r.add(
      {.name = "translate",
       .summary = "Shift by whole pixels, filling the uncovered side by a border rule",
       .inputs = {any_in},
       .outputs = {same_out},
       .params =
           {ParamSpec::integer("dx", 0, {-1e6, 1e6}, "columns to shift right (negative: left)"),
            ParamSpec::integer("dy", 0, {-1e6, 1e6}, "rows to shift down (negative: up)"),
            ParamSpec::choice(
                "border", "constant", {"constant", "reflect", "wrap"},
                "constant: the fill value; reflect: mirror with the edge repeated; wrap: periodic"),
            ParamSpec::number("fill", 0.0, {-1e12, 1e12},
                              "value of uncovered pixels (border constant), every channel")},
       .run = run_translate});
}

}  // namespace tessera::ops
