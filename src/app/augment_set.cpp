// Geometric augmentation of an annotated set: the eighths scheme, images and masks moved identically.
#include "tessera/app/augment_set.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "tessera/app/annotations.hpp"
#include "tessera/app/upload.hpp"
#include "tessera/core/error.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/image/encode.hpp"
#include "tessera/ops/augment.hpp"

namespace tessera::app {
namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(sep, start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

int parse_int(const std::string& text, const std::string& option) {
  try {
    size_t used = 0;
    int value = std::stoi(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  throw Error(ErrorCode::invalid_argument, fmt::format("{}: '{}' is not a whole number", option, text));
}

// "k/8" -> k in 1..7
int parse_eighth(const std::string& text) {
  auto parts = split(text, '/');
  if (parts.size() != 2 || parts[1] != "8") {
    throw Error(ErrorCode::invalid_argument, fmt::format("--translate: '{}' is not an eighth k/8", text));
  }
  int k = parse_int(parts[0], "--translate");
  if (k < 1 || k > 7) throw Error(ErrorCode::invalid_argument, fmt::format("--translate: '{}' must be 1/8..7/8", text));
  return k;
}

}  // namespace

AugmentScheme parse_augment_scheme(const std::string& rotations, bool flip, const std::string& translate, int size) {
  AugmentScheme scheme;
  scheme.flip = flip;
  scheme.size = size;
  if (size < 0 || size > 65536) throw Error(ErrorCode::invalid_argument, fmt::format("--size must be in [1, 65536], got {}", size));
  scheme.rotations.clear();
  for (const auto& r : split(rotations.empty() ? "0" : rotations, ',')) {
    int degrees = parse_int(r, "--rot");
    if (degrees != 0 && degrees != 90 && degrees != 180 && degrees != 270) {
      throw Error(ErrorCode::invalid_argument, fmt::format("--rot: {} is not one of 0, 90, 180, 270", degrees));
    }
    if (std::find(scheme.rotations.begin(), scheme.rotations.end(), degrees) != scheme.rotations.end()) {
      throw Error(ErrorCode::invalid_argument, fmt::format("--rot: {} given twice", degrees));
    }
    scheme.rotations.push_back(degrees);
  }
  if (!translate.empty()) {
    for (const auto& item : split(translate, ',')) {
      auto range = split(item, ':');
      if (range.size() > 2) throw Error(ErrorCode::invalid_argument, fmt::format("--translate: bad range '{}'", item));
      int from = parse_eighth(range.front());
      int to = parse_eighth(range.back());
      if (to < from) throw Error(ErrorCode::invalid_argument, fmt::format("--translate: empty range '{}'", item));
      for (int k = from; k <= to; ++k) {
        if (std::find(scheme.eighths.begin(), scheme.eighths.end(), k) == scheme.eighths.end()) scheme.eighths.push_back(k);
      }
    }
  }
  return scheme;
}

std::string AugmentVariant::name() const {
  if (is_identity()) return "orig";
  return fmt::format("r{}_{}_x{}_y{}", rotation, flip ? "f" : "n", shift_x, shift_y);
}

std::vector<AugmentVariant> augment_variants(const AugmentScheme& scheme) {
  std::vector<AugmentVariant> variants{AugmentVariant{}};
  for (int rotation : scheme.rotations) {
    for (bool flip : {false, true}) {
      if (flip && !scheme.flip) continue;
      AugmentVariant d{rotation, flip, 0, 0};
      if (scheme.eighths.empty()) {
        if (!d.is_identity()) variants.push_back(d);
        continue;
      }
      for (int k : scheme.eighths) variants.push_back({rotation, flip, k, 0});
      for (int k : scheme.eighths) variants.push_back({rotation, flip, 0, k});
    }
  }
  return variants;
}

cv::Mat apply_variant(const cv::Mat& image, const AugmentVariant& v, int size, bool labels) {
  cv::Mat out = image;
  if (size > 0 && (image.rows != size || image.cols != size)) {
    cv::resize(image, out, cv::Size(size, size), 0, 0, labels ? cv::INTER_NEAREST_EXACT : cv::INTER_AREA);
  }
  if (v.rotation != 0) out = ops::rotate90(out, v.rotation / 90);
  if (v.flip) out = ops::flip(out, ops::FlipAxis::horizontal);
  if (v.shift_x != 0 || v.shift_y != 0) {
    out = ops::translate(out, out.cols * v.shift_x / 8, out.rows * v.shift_y / 8, ops::Border::constant, 0);
  }
  return out.data == image.data ? image.clone() : out;
}

namespace {

struct SourceObject {
  catalog::Annotation annotation;
  int label = 0;
};

// The image's frame-0 mask annotations painted into one label image (1..N in id order; later ones on top).
cv::Mat paint_masks(Annotations& annotations, const catalog::ImageRecord& record, std::vector<SourceObject>& objects) {
  catalog::ViewportQuery query;
  query.image_id = record.id;
  query.frame_index = 0;
  query.limit = 1000000;
  catalog::AnnotationPage page = annotations.in_viewport(query);
  cv::Mat labels = cv::Mat::zeros(record.height, record.width, CV_32SC1);
  for (const auto& a : page.annotations) {
    if (a.state.kind != "mask" || a.deleted) continue;
    cv::Mat mask = image::decode(annotations.mask_png(a), "mask").frames.at(0);
    cv::Rect box(static_cast<int>(a.state.bbox.x0), static_cast<int>(a.state.bbox.y0), mask.cols, mask.rows);
    cv::Rect inside = box & cv::Rect(0, 0, labels.cols, labels.rows);
    if (inside.area() == 0) continue;
    int label = static_cast<int>(objects.size()) + 1;
    labels(inside).setTo(label, mask(cv::Rect(inside.x - box.x, inside.y - box.y, inside.width, inside.height)) != 0);
    objects.push_back({a, label});
  }
  return labels;
}

}  // namespace

AugmentSetResult augment_set(Workspace& workspace, catalog::Id project_id, const AugmentSetOptions& options) {
  catalog::Catalog& catalog = workspace.catalog();
  catalog.get_set(project_id, options.set);  // Error{not_found} naming it
  AugmentSetResult result;
  result.out_set = options.out_set.empty() ? options.set + "_augmented" : options.out_set;
  if (result.out_set == options.set) {
    throw Error(ErrorCode::invalid_argument, fmt::format("augment: the output set must differ from '{}'", options.set));
  }
  std::vector<AugmentVariant> variants = augment_variants(options.scheme);
  result.variants_per_image = static_cast<int>(variants.size());
  catalog::ImageQuery query;
  query.project_id = project_id;
  query.set = options.set;
  std::vector<catalog::ImageRecord> images = catalog.list_images(query);
  result.images_in = static_cast<int>(images.size());

  Annotations annotations(workspace);
  struct Prepared {
    catalog::ImageRecord record;
    cv::Mat pixels;
    cv::Mat labels;
    std::vector<SourceObject> objects;
  };
  std::vector<Prepared> prepared;
  size_t mask_count = 0;
  for (const auto& record : images) {
    try {
      image::Image decoded = image::decode(workspace.blobs().get(record.blob_hash), record.source_path);
      if (decoded.frames.size() != 1) {
        throw Error(ErrorCode::invalid_argument, fmt::format("{} frames; only single-frame images are augmented", decoded.frames.size()));
      }
      Prepared p{record, decoded.frames.front(), {}, {}};
      p.labels = paint_masks(annotations, record, p.objects);
      mask_count += p.objects.size();
      prepared.push_back(std::move(p));
    } catch (const Error& e) {
      result.problems.push_back(fmt::format("image {} ({}): {}", record.id, record.source_path, e.what()));
    }
  }
  if (mask_count == 0) {
    throw Error(ErrorCode::invalid_argument, fmt::format("augment: set '{}' has no mask annotations", options.set));
  }
  catalog.ensure_set(project_id, result.out_set);
  catalog::Actor actor{std::nullopt, options.actor};
  for (const auto& p : prepared) {
    std::string stem = std::filesystem::path(p.record.source_path).stem().string();
    bool is_float = p.pixels.depth() == CV_32F || p.pixels.depth() == CV_64F;
    for (const auto& v : variants) {
      cv::Mat pixels = apply_variant(p.pixels, v, options.scheme.size, false);
      cv::Mat labels = apply_variant(p.labels, v, options.scheme.size, true);
      Upload upload;
      upload.name = fmt::format("{}_{}_{}{}", stem, p.record.id, v.name(), is_float ? ".tif" : ".png");
      upload.bytes = image::encode(pixels, is_float ? ".tif" : ".png");
      upload.metadata = {{"augment",
                          {{"source_image", p.record.id}, {"source_set", options.set}, {"variant", v.name()},
                           {"rotation", v.rotation}, {"flip", v.flip}, {"shift_x_eighths", v.shift_x},
                           {"shift_y_eighths", v.shift_y}, {"size", options.scheme.size}}}};
      UploadResult stored = upload_image(workspace, project_id, upload);
      catalog.add_to_set(project_id, result.out_set, {stored.record.id});
      ++result.images_out;
      if (!stored.created) continue;  // same bytes already there (a re-run): its annotations are there too
      for (const auto& object : p.objects) {
        cv::Mat mask = labels == object.label;
        cv::Rect box = cv::boundingRect(mask);
        if (box.area() == 0) continue;  // moved out of the frame
        AnnotationDraft draft;
        draft.state.kind = "mask";
        draft.state.tag_id = object.annotation.state.tag_id;
        draft.state.color = object.annotation.state.color;
        draft.state.bbox = {static_cast<double>(box.x), static_cast<double>(box.y),
                            static_cast<double>(box.x + box.width), static_cast<double>(box.y + box.height)};
        draft.state.source = "generated";
        draft.state.source_ref = {{"augment_of", object.annotation.id}, {"variant", v.name()}};
        draft.state.attributes = object.annotation.state.attributes;
        draft.mask_png = image::encode(cv::Mat(mask(box)).clone(), ".png");
        annotations.create(stored.record, actor, draft);
        ++result.annotations_out;
      }
    }
  }
  return result;
}

}  // namespace tessera::app
