#include "tessera/exchange/coco.hpp"

#include <cmath>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "tessera/core/error.hpp"

namespace tessera::exchange {
namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;  // written documents keep their keys in the order of formats.md

// Whole numbers as JSON integers ([1, 1, 3, 3] as pycocotools users expect), others as doubles.
ojson number(double value) {
  if (std::isfinite(value) && std::floor(value) == value && std::fabs(value) < 9.0e15) {
    return static_cast<std::int64_t>(value);
  }
  return value;
}

ojson segmentation_json(const CocoSegmentation& s) {
  if (s.rle) {
    ojson counts;
    if (s.compressed) {
      counts = rle_compress(s.rle->counts);
    } else {
      counts = s.rle->counts;
    }
    return ojson{{"size", {s.rle->height, s.rle->width}}, {"counts", counts}};
  }
  ojson polygons = ojson::array();
  for (const auto& polygon : s.polygons) {
    ojson flat = ojson::array();
    for (const auto& p : polygon) {
      flat.push_back(number(p.x));
      flat.push_back(number(p.y));
    }
    polygons.push_back(std::move(flat));
  }
  return polygons;
}

[[noreturn]] void bad(std::string_view name, const std::string& where, const std::string& problem) {
  throw Error(ErrorCode::corrupt, fmt::format("{}: {} {}", name, where, problem), {{"field", where}});
}

const json& member(const json& object, const char* key, std::string_view name, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end()) bad(name, where + "." + key, "is missing");
  return *it;
}

std::int64_t integer(const json& object, const char* key, std::string_view name, const std::string& where) {
  const json& v = member(object, key, name, where);
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()) {
    return static_cast<std::int64_t>(v.get<double>());
  }
  bad(name, where + "." + key, "must be an integer");
}

double real(const json& object, const char* key, std::string_view name, const std::string& where) {
  const json& v = member(object, key, name, where);
  if (!v.is_number()) bad(name, where + "." + key, "must be a number");
  return v.get<double>();
}

std::string text(const json& object, const char* key, std::string_view name, const std::string& where) {
  const json& v = member(object, key, name, where);
  if (!v.is_string()) bad(name, where + "." + key, "must be a string");
  return v.get<std::string>();
}

CocoSegmentation parse_segmentation(const json& v, std::string_view name, const std::string& where) {
  CocoSegmentation s;
  if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) {
      const json& flat = v[i];
      const std::string at = fmt::format("{}[{}]", where, i);
      if (!flat.is_array() || flat.size() < 6 || flat.size() % 2 != 0) {
        bad(name, at, "must be a list of at least 3 x, y pairs");
      }
      Polygon polygon;
      for (size_t k = 0; k < flat.size(); k += 2) {
        if (!flat[k].is_number() || !flat[k + 1].is_number()) bad(name, at, "must hold only numbers");
        polygon.emplace_back(flat[k].get<double>(), flat[k + 1].get<double>());
      }
      s.polygons.push_back(std::move(polygon));
    }
    return s;
  }
  if (!v.is_object()) bad(name, where, "must be a list of polygons or an RLE object");
  const json& size = member(v, "size", name, where);
  if (!size.is_array() || size.size() != 2 || !size[0].is_number_integer() || !size[1].is_number_integer()) {
    bad(name, where + ".size", "must be [height, width]");
  }
  CocoRle rle{size[0].get<int>(), size[1].get<int>(), {}};
  const json& counts = member(v, "counts", name, where);
  if (counts.is_string()) {
    rle.counts = rle_decompress(counts.get<std::string>(), fmt::format("{}: {}.counts", name, where));
    s.compressed = true;
  } else if (counts.is_array()) {
    for (const auto& c : counts) {
      if (!c.is_number_integer() || c.get<std::int64_t>() < 0 || c.get<std::int64_t>() > std::int64_t(UINT32_MAX)) {
        bad(name, where + ".counts", "must hold only non-negative integers");
      }
      rle.counts.push_back(c.get<std::uint32_t>());
    }
    s.compressed = false;
  } else {
    bad(name, where + ".counts", "must be a string or a list of integers");
  }
  s.rle = std::move(rle);
  return s;
}

// The mask with the unset pixels the border cannot reach (moving diagonally too) set: what the union of
// its corner outlines covers, islands inside holes included.
cv::Mat holes_filled(const cv::Mat& mask) {
  cv::Mat padded;
  cv::copyMakeBorder(mask != 0, padded, 1, 1, 1, 1, cv::BORDER_CONSTANT, cv::Scalar(0));
  cv::floodFill(padded, cv::Point(0, 0), cv::Scalar(128), nullptr, cv::Scalar(0), cv::Scalar(0), 8);
  cv::Mat filled = padded != 128;
  return filled(cv::Rect(1, 1, mask.cols, mask.rows)).clone();
}

}  // namespace

CocoAnnotation coco_annotation_from_mask(const cv::Mat& mask, cv::Point offset, cv::Size image_size, bool use_rle) {
  if (mask.type() != CV_8UC1) {
    throw Error(ErrorCode::invalid_argument, "coco_annotation_from_mask: the mask must be 8-bit single-channel");
  }
  if (cv::countNonZero(mask) == 0) {
    throw Error(ErrorCode::invalid_argument, "coco_annotation_from_mask: the mask has no set pixel");
  }
  // Polygons cannot carry holes, so they describe the mask with its holes filled; area and bbox are
  // measured on the pixels the written segmentation gives back, as pycocotools would measure them.
  const cv::Mat pixels = use_rle ? mask : holes_filled(mask);
  const cv::Rect box = cv::boundingRect(pixels);
  CocoAnnotation a;
  a.area = cv::countNonZero(pixels);
  a.bbox = {double(offset.x + box.x), double(offset.y + box.y), double(box.width), double(box.height)};
  if (use_rle) {
    cv::Mat full(image_size, CV_8UC1, cv::Scalar(0));
    const cv::Rect target(offset, mask.size());
    const cv::Rect inside = target & cv::Rect({0, 0}, image_size);
    mask(cv::Rect(inside.tl() - offset, inside.size())).copyTo(full(inside));
    a.segmentation.rle = rle_encode(full);
    a.segmentation.compressed = true;
  } else {
    a.segmentation.polygons = corner_outlines(pixels, offset);
  }
  return a;
}

cv::Mat coco_annotation_mask(const CocoAnnotation& annotation, cv::Size size) {
  const auto& s = annotation.segmentation;
  const std::string name = fmt::format("annotation {}", annotation.id);
  if (s.rle) {
    if (s.rle->height != size.height || s.rle->width != size.width) {
      throw Error(ErrorCode::corrupt, fmt::format("{}: RLE size [{}, {}] differs from its image's [{}, {}]", name,
                                                  s.rle->height, s.rle->width, size.height, size.width));
    }
    return rle_decode(*s.rle, name);
  }
  return rasterize_corner_polygons(s.polygons, size);
}

std::string write_coco_json(const CocoDataset& dataset) {
  ojson images = ojson::array();
  for (const auto& image : dataset.images) {
    images.push_back(ojson{{"id", image.id},
                      {"width", image.width},
                      {"height", image.height},
                      {"file_name", image.file_name},
                      {"license", 1},
                      {"date_captured", ""}});
  }
  ojson annotations = ojson::array();
  for (const auto& a : dataset.annotations) {
    ojson bbox = ojson::array();
    for (double v : a.bbox) bbox.push_back(number(v));
    annotations.push_back(ojson{{"id", a.id},
                           {"image_id", a.image_id},
                           {"category_id", a.category_id},
                           {"iscrowd", a.iscrowd},
                           {"area", number(a.area)},
                           {"bbox", bbox},
                           {"segmentation", segmentation_json(a.segmentation)}});
  }
  ojson categories = ojson::array();
  for (const auto& c : dataset.categories) {
    categories.push_back(ojson{{"id", c.id}, {"name", c.name}, {"supercategory", c.supercategory}});
  }
  ojson out;
  out["info"] = ojson{{"year", 0},         {"version", "1"}, {"description", dataset.description},
                                       {"contributor", ""}, {"url", ""},      {"date_created", ""}};
  out["licenses"] = ojson::array({ojson{{"id", 1}, {"name", ""}, {"url", ""}}});
  out["images"] = std::move(images);
  out["annotations"] = std::move(annotations);
  out["categories"] = std::move(categories);
  return out.dump() + "\n";
}

CocoDataset read_coco_json(std::string_view text_in, std::string_view name) {
  json doc;
  try {
    doc = json::parse(text_in);
  } catch (const json::exception& e) {
    throw Error(ErrorCode::corrupt, fmt::format("{}: not valid JSON: {}", name, e.what()));
  }
  if (!doc.is_object()) bad(name, "the document", "must be a JSON object");
  CocoDataset d;
  if (auto info = doc.find("info"); info != doc.end() && info->is_object()) {
    if (auto it = info->find("description"); it != info->end() && it->is_string()) d.description = *it;
  }
  auto list = [&](const char* key) -> const json& {
    const json& v = member(doc, key, name, "the document");
    if (!v.is_array()) bad(name, key, "must be a list");
    return v;
  };
  std::set<std::int64_t> image_ids, category_ids, annotation_ids;
  const json& images = list("images");
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string at = fmt::format("images[{}]", i);
    CocoImage image{integer(images[i], "id", name, at), int(integer(images[i], "width", name, at)),
                    int(integer(images[i], "height", name, at)), text(images[i], "file_name", name, at)};
    if (image.width <= 0 || image.height <= 0) bad(name, at, "must have a positive width and height");
    if (!image_ids.insert(image.id).second) bad(name, at + ".id", fmt::format("{} is used twice", image.id));
    d.images.push_back(std::move(image));
  }
  const json& categories = list("categories");
  for (size_t i = 0; i < categories.size(); ++i) {
    const std::string at = fmt::format("categories[{}]", i);
    CocoCategory c{integer(categories[i], "id", name, at), text(categories[i], "name", name, at), ""};
    if (auto it = categories[i].find("supercategory"); it != categories[i].end() && it->is_string()) {
      c.supercategory = *it;
    }
    if (!category_ids.insert(c.id).second) bad(name, at + ".id", fmt::format("{} is used twice", c.id));
    d.categories.push_back(std::move(c));
  }
  const json& annotations = list("annotations");
  for (size_t i = 0; i < annotations.size(); ++i) {
    const json& v = annotations[i];
    const std::string at = fmt::format("annotations[{}]", i);
    CocoAnnotation a;
    a.id = integer(v, "id", name, at);
    a.image_id = integer(v, "image_id", name, at);
    a.category_id = integer(v, "category_id", name, at);
    if (!annotation_ids.insert(a.id).second) bad(name, at + ".id", fmt::format("{} is used twice", a.id));
    if (!image_ids.count(a.image_id)) bad(name, at + ".image_id", fmt::format("{} names no image", a.image_id));
    if (!category_ids.count(a.category_id)) {
      bad(name, at + ".category_id", fmt::format("{} names no category", a.category_id));
    }
    if (v.contains("iscrowd")) a.iscrowd = int(integer(v, "iscrowd", name, at));
    if (v.contains("area")) a.area = real(v, "area", name, at);
    if (v.contains("bbox")) {
      const json& b = v["bbox"];
      if (!b.is_array() || b.size() != 4) bad(name, at + ".bbox", "must be [x, y, width, height]");
      for (size_t k = 0; k < 4; ++k) {
        if (!b[k].is_number()) bad(name, at + ".bbox", "must hold numbers");
        a.bbox[k] = b[k].get<double>();
      }
    }
    a.segmentation = parse_segmentation(member(v, "segmentation", name, at), name, at + ".segmentation");
    d.annotations.push_back(std::move(a));
  }
  return d;
}

}  // namespace tessera::exchange
