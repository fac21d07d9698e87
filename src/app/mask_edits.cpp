// Merging and splitting mask annotations (tessera/app/mask_edits.hpp): the pixels come from the blob
// store, the edit from segment/object_edit.hpp, the writes go through app::Annotations.

#include "tessera/app/mask_edits.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "app/mask_edits_steps.hpp"
#include "tessera/core/base64.hpp"
#include "tessera/core/error.hpp"
#include "tessera/image/encode.hpp"

namespace tessera::app {

using catalog::Actor;
using catalog::Annotation;
using catalog::EditStatus;
using catalog::Id;
using nlohmann::json;

namespace {

constexpr std::int64_t kMaxMasksPerQuery = 100'000;

[[noreturn]] void bad_field(const std::string& field, const std::string& message) {
  throw Error(ErrorCode::invalid_argument, message, {{"field", field}});
}

cv::Rect bbox_rect(const catalog::BBox& b) {
  return {static_cast<int>(b.x0), static_cast<int>(b.y0), static_cast<int>(b.x1 - b.x0), static_cast<int>(b.y1 - b.y0)};
}

// The pixels a stroke covers, one pixel of slack on each side, within the image.
cv::Rect stroke_rect(const segment::Stroke& stroke, const cv::Rect& image) {
  const double reach = stroke.width / 2 + 1;
  double x0 = stroke.points[0].x, y0 = stroke.points[0].y, x1 = x0, y1 = y0;
  for (const cv::Point2d& p : stroke.points) {
    x0 = std::min(x0, p.x), y0 = std::min(y0, p.y), x1 = std::max(x1, p.x), y1 = std::max(y1, p.y);
  }
  const cv::Rect r(cv::Point(static_cast<int>(std::floor(x0 - reach)), static_cast<int>(std::floor(y0 - reach))),
                   cv::Point(static_cast<int>(std::ceil(x1 + reach)) + 1, static_cast<int>(std::ceil(y1 + reach)) + 1));
  return r & image;
}

segment::Stroke shifted(segment::Stroke stroke, const cv::Point& origin) {
  for (cv::Point2d& p : stroke.points) p -= cv::Point2d(origin);
  return stroke;
}

// The mask placed in a zero image of the roi's size.
cv::Mat mask_in_roi(Annotations& annotations, const Annotation& a, const cv::Rect& roi) {
  cv::Mat out(roi.size(), CV_8U, cv::Scalar(0));
  const cv::Rect box = bbox_rect(a.state.bbox);
  decode_stored_mask(annotations, a).copyTo(out(box - roi.tl()));
  return out;
}

void check_frame(const catalog::ImageRecord& image, std::int64_t frame) {
  if (frame < 0 || frame >= std::max(1, image.frames)) {
    bad_field("frame_index", fmt::format("frame_index {} is outside image {} (frames 0..{})", frame, image.id,
                                         std::max(1, image.frames) - 1));
  }
}

}  // namespace

std::optional<Annotation> EditSteps::apply(MaskEditOutcome& outcome,
                                           const std::function<catalog::EditResult()>& write) {
  const catalog::EditResult result = write();
  if (result.status == EditStatus::applied) {
    done_.push_back(result.annotation->id);
    return result.annotation;
  }
  // Newest first, so an annotation written twice returns to its first state.
  for (auto it = done_.rbegin(); it != done_.rend(); ++it) {
    const catalog::EditResult undone = annotations_.undo(*it, actor_, std::nullopt);
    if (undone.status != EditStatus::applied) {
      throw Error(ErrorCode::conflict,
                  fmt::format("an edit was refused part way and annotation {} could not be restored: it changed "
                              "meanwhile; see its history",
                              *it),
                  {{"annotation_id", *it}});
    }
  }
  done_.clear();
  outcome = MaskEditOutcome{};
  outcome.status = result.status;
  if (result.status == EditStatus::stale) outcome.current = result.annotation;
  outcome.lease = result.lease;
  return std::nullopt;
}

cv::Mat decode_stored_mask(Annotations& annotations, const Annotation& annotation) {
  const std::string png = annotations.mask_png(annotation);
  cv::Mat mask = cv::imdecode(cv::Mat(1, static_cast<int>(png.size()), CV_8U, const_cast<char*>(png.data())),
                              cv::IMREAD_GRAYSCALE);
  const cv::Rect box = bbox_rect(annotation.state.bbox);
  if (mask.empty() || mask.size() != box.size()) {
    throw Error(ErrorCode::corrupt, fmt::format("the mask of annotation {} does not decode to its {}x{} bbox",
                                                annotation.id, box.width, box.height));
  }
  return mask;
}

void require_mask(const Annotation& annotation, const std::string& field) {
  if (annotation.deleted) {
    throw Error(ErrorCode::not_found, fmt::format("annotation {} is deleted", annotation.id), {{"field", field}});
  }
  if (annotation.state.kind != "mask") {
    bad_field(field, fmt::format("{}: annotation {} is a {}, not a mask", field, annotation.id, annotation.state.kind));
  }
}

json mask_patch(const cv::Mat& mask, const cv::Rect& roi) {
  const cv::Rect pixels = cv::boundingRect(mask);
  const cv::Mat crop = (mask(pixels) != 0);
  const cv::Rect box = pixels + roi.tl();
  return {{"bbox", {box.x, box.y, box.x + box.width, box.y + box.height}},
          {"mask_png_base64", base64_encode(image::encode(crop, ".png"))},
          {"source", "manual"}};
}

MaskEdits::MaskEdits(Workspace& workspace) : workspace_(workspace), annotations_(workspace) {}

MaskEditOutcome MaskEdits::merge(const MergeRequest& request, const Actor& actor) {
  const catalog::ImageRecord image = workspace_.catalog().get_image(request.image_id);
  const cv::Rect whole(0, 0, image.width, image.height);
  std::vector<Annotation> parts;
  cv::Rect roi;
  cv::Mat merged;
  if (request.stroke && !request.annotation_ids.empty()) {
    bad_field("stroke", "send either a stroke or annotation_ids, not both");
  }
  if (request.stroke) {
    segment::check_stroke(*request.stroke, whole.size(), "stroke");
    check_frame(image, request.frame_index);
    roi = stroke_rect(*request.stroke, whole);
    catalog::ViewportQuery query;
    query.image_id = image.id;
    query.bbox = catalog::BBox{double(roi.x), double(roi.y), double(roi.br().x), double(roi.br().y)};
    query.frame_index = request.frame_index;
    query.tag_id = request.tag_id;
    query.limit = kMaxMasksPerQuery;
    std::vector<Annotation> candidates;
    for (Annotation& a : annotations_.in_viewport(query).annotations) {
      if (a.state.kind == "mask" && a.state.mask_blob) candidates.push_back(std::move(a));
    }
    for (const Annotation& a : candidates) roi |= bbox_rect(a.state.bbox);
    roi &= whole;
    std::vector<cv::Mat> masks;
    for (const Annotation& a : candidates) masks.push_back(mask_in_roi(annotations_, a, roi));
    if (masks.size() < 2) {
      bad_field("stroke", fmt::format("stroke touches {} mask(s) of image {} frame {}; a merge needs at least two",
                                      masks.size(), image.id, request.frame_index));
    }
    const segment::MaskMerge result = segment::merge_masks_by_stroke(masks, shifted(*request.stroke, roi.tl()));
    for (std::size_t i : result.merged) parts.push_back(candidates[i]);
    merged = result.mask;
  } else {
    if (request.annotation_ids.size() < 2) {
      bad_field("annotation_ids", fmt::format("a merge needs a stroke or at least two annotation_ids, got {}",
                                              request.annotation_ids.size()));
    }
    std::set<Id> seen;
    for (std::size_t i = 0; i < request.annotation_ids.size(); ++i) {
      const std::string field = fmt::format("annotation_ids[{}]", i);
      const Id id = request.annotation_ids[i];
      if (!seen.insert(id).second) bad_field(field, fmt::format("{}: annotation {} is named twice", field, id));
      Annotation a = annotations_.get(id);
      require_mask(a, field);
      if (a.image_id != image.id) {
        bad_field(field, fmt::format("{}: annotation {} belongs to image {}, not {}", field, id, a.image_id, image.id));
      }
      roi = i == 0 ? bbox_rect(a.state.bbox) : (roi | bbox_rect(a.state.bbox));
      parts.push_back(std::move(a));
    }
    merged = cv::Mat(roi.size(), CV_8U, cv::Scalar(0));
    for (const Annotation& a : parts) merged |= mask_in_roi(annotations_, a, roi);
  }
  std::sort(parts.begin(), parts.end(), [](const Annotation& a, const Annotation& b) { return a.id < b.id; });
  const auto version_of = [&](const Annotation& a) {
    const auto it = request.versions.find(a.id);
    return it == request.versions.end() ? a.version : it->second;
  };

  MaskEditOutcome out;
  EditSteps steps(annotations_, actor);
  const json patch = mask_patch(merged, roi);
  const auto kept =
      steps.apply(out, [&] { return annotations_.update(parts[0], image, actor, version_of(parts[0]), patch); });
  if (!kept) return out;
  out.updated.push_back(*kept);
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const auto gone = steps.apply(out, [&] { return annotations_.remove(parts[i].id, actor, version_of(parts[i])); });
    if (!gone) return out;
    out.deleted.push_back(*gone);
  }
  return out;
}

MaskEditOutcome MaskEdits::split(const SplitRequest& request, const Actor& actor) {
  const Annotation original = annotations_.get(request.annotation_id);
  require_mask(original, "annotation_id");
  const catalog::ImageRecord image = workspace_.catalog().get_image(original.image_id);
  const cv::Rect whole(0, 0, image.width, image.height);
  if (request.markers.size() < 2) {
    bad_field("markers", fmt::format("markers: a split needs at least two markers, got {}", request.markers.size()));
  }
  // Markers and outline are checked against the image first, so their errors speak of the image, not of
  // the region cut out around the mask.
  cv::Rect roi = bbox_rect(original.state.bbox);
  for (std::size_t i = 0; i < request.markers.size(); ++i) {
    const cv::Point2d& m = request.markers[i];
    if (!std::isfinite(m.x) || !std::isfinite(m.y) || m.x < 0 || m.y < 0 || m.x >= image.width || m.y >= image.height) {
      bad_field(fmt::format("markers[{}]", i), fmt::format("markers[{}] = ({:g}, {:g}) lies outside the {}x{} image", i,
                                                           m.x, m.y, image.width, image.height));
    }
    roi |= cv::Rect(static_cast<int>(m.x), static_cast<int>(m.y), 1, 1);
  }
  if (request.outline) {
    segment::check_stroke(*request.outline, whole.size(), "outline");
    roi |= stroke_rect(*request.outline, whole);
  }
  roi &= whole;
  std::vector<cv::Point2d> markers;
  for (const cv::Point2d& m : request.markers) markers.push_back(m - cv::Point2d(roi.tl()));
  std::optional<segment::Stroke> outline;
  if (request.outline) outline = shifted(*request.outline, roi.tl());
  const segment::ObjectSplit result =
      segment::split_by_markers(mask_in_roi(annotations_, original, roi), markers, outline);

  MaskEditOutcome out;
  EditSteps steps(annotations_, actor);
  const std::int64_t version = request.version.value_or(original.version);
  const json first = mask_patch(result.labels == 1, roi);
  const auto kept = steps.apply(out, [&] { return annotations_.update(original, image, actor, version, first); });
  if (!kept) return out;
  out.updated.push_back(*kept);
  for (std::size_t i = 1; i < markers.size(); ++i) {
    json body = mask_patch(result.labels == static_cast<std::int32_t>(i + 1), roi);
    body["kind"] = "mask";
    body["frame_index"] = original.state.frame_index;
    if (original.state.tag_id) body["tag_id"] = *original.state.tag_id;
    if (original.state.color) body["color"] = *original.state.color;
    body["source_ref"] = {{"split_from", original.id}};
    const auto part = steps.apply(out, [&] { return annotations_.create(image, actor, body); });
    if (!part) return out;
    out.created.push_back(*part);
  }
  return out;
}

}  // namespace tessera::app
