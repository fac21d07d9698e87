#include "tessera/ops/regions.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "ops/builtin.hpp"
#include "tessera/core/error.hpp"
#include "tessera/ops/preprocess.hpp"

namespace tessera::ops {
namespace {

[[noreturn]] void fail(std::string_view op, const std::string& what) {
  throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", op, what), {{"op", op}});
}

// The label image as CV_32S ids, or Error for a float or multi-channel one.
cv::Mat label_ids(const cv::Mat& labels, std::string_view op) {
  if (labels.channels() != 1 || labels.depth() == CV_32F || labels.depth() == CV_64F ||
      labels.depth() == CV_16F) {
    fail(op, fmt::format("labels must be a one-channel integer image, got {}",
                         cv::typeToString(labels.type())));
  }
  if (labels.depth() == CV_32S) return labels;
  cv::Mat ids;
  labels.convertTo(ids, CV_32S);
  return ids;
}

void require_same_size(const cv::Mat& image, const cv::Mat& other, std::string_view what,
                       std::string_view op) {
  if (image.size() != other.size()) {
    fail(op, fmt::format("the image is {}x{} but the {} is {}x{}", image.cols, image.rows, what,
                         other.cols, other.rows));
  }
}

// Bounding box of every object (id > 0) in ascending id order, visiting each run of equal ids once.
std::map<std::int32_t, cv::Rect> object_boxes(const cv::Mat& ids) {
  struct Box {
    int x0, y0, x1, y1;  // half-open
  };
  std::map<std::int32_t, Box> boxes;
  for (int y = 0; y < ids.rows; ++y) {
    const std::int32_t* row = ids.ptr<std::int32_t>(y);
    for (int x = 0; x < ids.cols;) {
      const std::int32_t id = row[x];
      const int start = x;
      while (x < ids.cols && row[x] == id) ++x;
      if (id <= 0) continue;
      auto [it, added] = boxes.try_emplace(id, Box{start, y, x, y + 1});
      if (!added) {
        Box& b = it->second;
        b.x0 = std::min(b.x0, start);
        b.x1 = std::max(b.x1, x);
        b.y1 = y + 1;  // rows are visited in order
      }
    }
  }
  std::map<std::int32_t, cv::Rect> out;
  for (const auto& [id, b] : boxes) out.emplace(id, cv::Rect(b.x0, b.y0, b.x1 - b.x0, b.y1 - b.y0));
  return out;
}

// A colour given as fractions of white, as pixel values of a depth; grey images get its luma.
cv::Scalar colour_value(const cv::Scalar& color, int depth, int colour_channels) {
  const double white = white_level(depth);
  if (colour_channels == 1) {
    return cv::Scalar::all(white * (0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]));
  }
  return cv::Scalar(white * color[0], white * color[1], white * color[2], white);
}

}  // namespace

cv::Scalar parse_color(const std::string& text, const std::string& op) {
  std::string t = text;
  std::transform(t.begin(), t.end(), t.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static const std::map<std::string, cv::Scalar> named = {
      {"white", {1, 1, 1}},      {"black", {0, 0, 0}},  {"gray", {0.5, 0.5, 0.5}},
      {"grey", {0.5, 0.5, 0.5}}, {"red", {1, 0, 0}},    {"green", {0, 1, 0}},
      {"blue", {0, 0, 1}},       {"yellow", {1, 1, 0}}, {"cyan", {0, 1, 1}},
      {"magenta", {1, 0, 1}}};
  if (auto it = named.find(t); it != named.end()) return it->second;
  if (t.size() == 7 && t[0] == '#' &&
      std::all_of(t.begin() + 1, t.end(), [](unsigned char c) { return std::isxdigit(c); })) {
    const auto channel = [&](size_t at) { return std::stoi(t.substr(at, 2), nullptr, 16) / 255.0; };
    return {channel(1), channel(3), channel(5)};
  }
  throw Error(ErrorCode::invalid_argument,
              fmt::format("{}: parameter 'color' must be a colour name (white, black, gray, red, "
                          "green, blue, yellow, "
                          "cyan, magenta) or #rrggbb, got '{}'",
                          op, text),
              {{"op", op}, {"parameter", "color"}});
}

std::vector<RegionCrop> extract_regions(const cv::Mat& image, const cv::Mat& labels, int padding) {
  constexpr std::string_view op = "extract_regions";
  const cv::Mat ids = label_ids(labels, op);
  require_same_size(image, ids, "label image", op);
  if (padding < 0) fail(op, fmt::format("padding must not be negative, got {}", padding));
  std::vector<RegionCrop> crops;
  for (const auto& [id, object] : object_boxes(ids)) {
    const int x0 = std::max(0, object.x - padding);
    const int y0 = std::max(0, object.y - padding);
    const int x1 = std::min(image.cols, object.br().x + padding);
    const int y1 = std::min(image.rows, object.br().y + padding);
    RegionCrop c;
    c.label = id;
    c.object = object;
    c.box = cv::Rect(x0, y0, x1 - x0, y1 - y0);
    c.padding = {object.x - x0, object.y - y0, x1 - object.br().x, y1 - object.br().y};
    c.image = image(c.box).clone();
    c.mask = ids(c.box) == id;
    crops.push_back(std::move(c));
  }
  return crops;
}

cv::Mat fade_background(const cv::Mat& image, const cv::Mat& mask, double factor,
                        const cv::Scalar& color) {
  constexpr std::string_view op = "fade_background";
  const int channels = image.channels();
  if (channels > 4) {
    fail(op,
         fmt::format("expects a grey, grey+alpha, RGB or RGBA image, got {} channels", channels));
  }
  if (mask.type() != CV_8UC1) {
    fail(op, fmt::format("the mask must be CV_8UC1, got {}", cv::typeToString(mask.type())));
  }
  require_same_size(image, mask, "mask", op);
  if (!(factor >= 0 && factor <= 1)) {
    fail(op, fmt::format("factor must be in [0, 1], got {}", factor));
  }
  const int colour_channels = channels >= 3 ? 3 : 1;
  const cv::Scalar target = colour_value(color, image.depth(), colour_channels);
  const cv::Mat background = mask == 0;
  std::vector<cv::Mat> planes;
  cv::split(image, planes);
  for (int c = 0; c < colour_channels; ++c) {
    cv::Mat blended;
    planes[static_cast<size_t>(c)].convertTo(blended, image.depth(), 1.0 - factor,
                                             factor * target[c]);
    blended.copyTo(planes[static_cast<size_t>(c)], background);
  }
  cv::Mat out;
  cv::merge(planes, out);
  return out;
}

cv::Mat draw_contours(const cv::Mat& image, const cv::Mat& objects, const cv::Scalar& color,
                      int thickness) {
  constexpr std::string_view op = "draw_contours";
  const int channels = image.channels();
  if (channels > 4) {
    fail(op,
         fmt::format("expects a grey, grey+alpha, RGB or RGBA image, got {} channels", channels));
  }
  if (thickness < 1) fail(op, fmt::format("thickness must be at least 1, got {}", thickness));
  require_same_size(image, objects, objects.type() == CV_8UC1 ? "mask" : "label image", op);
  std::vector<cv::Mat> planes;
  cv::split(image, planes);
  if (channels < 3) planes = {planes[0], planes[0], planes[0]};
  planes.resize(3);
  cv::Mat out;
  cv::merge(planes, out);
  const cv::Scalar ink = colour_value(color, image.depth(), 3);
  std::vector<std::vector<cv::Point>> contours;
  if (objects.type() == CV_8UC1) {
    cv::findContours(objects != 0, contours, cv::RETR_LIST, cv::CHAIN_APPROX_NONE);
    cv::drawContours(out, contours, -1, ink, thickness, cv::LINE_8);
    return out;
  }
  const cv::Mat ids = label_ids(objects, op);
  for (const auto& [id, box] : object_boxes(ids)) {
    // Each object alone, within its box: neighbouring objects do not merge into one outline.
    cv::findContours(ids(box) == id, contours, cv::RETR_LIST, cv::CHAIN_APPROX_NONE, box.tl());
    cv::drawContours(out, contours, -1, ink, thickness, cv::LINE_8);
  }
  return out;
}

namespace {

FacetMap run_extract_regions(const OpCall& call) {
  const std::vector<RegionCrop> crops =
      extract_regions(call.mat("image"), call.mat("labels"), call.param<int>("padding"));
  std::vector<cv::Mat> images, masks;
  nlohmann::json rows = nlohmann::json::array();
  for (const RegionCrop& c : crops) {
    images.push_back(c.image);
    masks.push_back(c.mask);
    rows.push_back({{"label", c.label},
                    {"bbox", {c.box.x, c.box.y, c.box.br().x, c.box.br().y}},
                    {"object_bbox", {c.object.x, c.object.y, c.object.br().x, c.object.br().y}},
                    {"padding", {c.padding[0], c.padding[1], c.padding[2], c.padding[3]}}});
  }
  return {{"images", Facet::list(std::move(images), rows)},
          {"masks", Facet::list(std::move(masks), rows)}};
}

FacetMap run_fade_background(const OpCall& call) {
  const cv::Scalar color = parse_color(call.param<std::string>("color"), call.op());
  return {{"image", Facet::image(fade_background(call.mat("image"), call.mat("mask"),
                                                 call.param<double>("factor"), color))}};
}

FacetMap run_draw_contours(const OpCall& call) {
  const bool labelled = call.has("labels");
  if (!labelled && !call.has("mask")) fail("draw_contours", "needs an input 'labels' or 'mask'");
  cv::Mat objects = labelled ? call.mat("labels") : call.mat("mask");
  if (labelled && objects.depth() == CV_8U) {
    // An 8-bit label image would be taken for a mask: widen it so each id is outlined on its own.
    cv::Mat ids;
    objects.convertTo(ids, CV_32S);
    objects = ids;
  }
  const cv::Scalar color = parse_color(call.param<std::string>("color"), call.op());
  return {{"image", Facet::image(draw_contours(call.mat("image"), objects, color,
                                               call.param<int>("thickness")))}};
}

}  // namespace

void register_region_ops(OpRegistry& r) {
  r.add(
      {.name = "extract_regions",
       .summary = "Cut out every labelled object with some padding, plus its own mask",
       .inputs = {{"image", FacetKind::image, "the image to cut from"},
                  {"labels", FacetKind::labels, "label image of the same size; 0 = background"}},
       .outputs = {{"images", FacetKind::images,
                    "one crop per object in ascending label order; rows: label, bbox [x0, y0, x1, "
                    "y1] of the crop in "
                    "the image (x1, y1 exclusive), object_bbox, padding [left, top, right, bottom] "
                    "actually applied"},
                   {"masks", FacetKind::images,
                    "the object's own mask (CV_8UC1 0/255) in each crop, same rows"}},
       .params = {ParamSpec::integer(
           "padding", 10, {0, 1e5}, "pixels added around each object's box, clipped to the image")},
       .run = run_extract_regions});

  r.add({.name = "fade_background",
         .summary =
             "Blend the background towards a colour, keeping object pixels (EcoTaxa vignettes)",
         .inputs = {{"image", FacetKind::image, "grey, grey+alpha, RGB or RGBA image"},
                    {"mask", FacetKind::mask, "objects to keep, same size"}},
         .outputs = {{"image", FacetKind::image,
                      "same type; background = factor * color + (1 - factor) * pixel"}},
         .params = {ParamSpec::number("factor", 0.5, {0.0, 1.0},
                                      "0 keeps the background, 1 replaces it by the colour"),
                    ParamSpec::text("color", "white",
                                    "colour name (white, black, gray, red, ...) or #rrggbb")},
         .run = run_fade_background});

  r.add({.name = "draw_contours",
         .summary = "Draw object outlines over the image (RGB output)",
         .inputs = {{"image", FacetKind::image, "grey, grey+alpha, RGB or RGBA image"},
                    {"labels", FacetKind::labels,
                     "objects to outline, each on its own (or give 'mask')", true},
                    {"mask", FacetKind::mask,
                     "foreground to outline (used when 'labels' is not given)", true}},
         .outputs = {{"image", FacetKind::image,
                      "RGB copy of the image, same depth, with the outlines"}},
         .params = {ParamSpec::text("color", "red",
                                    "colour name (red, green, yellow, ...) or #rrggbb"),
                    ParamSpec::integer("thickness", 1, {1, 100}, "line width in pixels")},
         .run = run_draw_contours});
}

}  // namespace tessera::ops
