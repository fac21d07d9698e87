#include "tessera/app/annotations.hpp"

#include <fmt/format.h>

#include <opencv2/imgcodecs.hpp>

#include "app/annotations_mask.hpp"
#include "tessera/core/error.hpp"
#include "tessera/image/encode.hpp"

namespace tessera::app {

using catalog::Actor;
using catalog::Annotation;
using catalog::EditResult;
using catalog::EditStatus;
using catalog::Id;

Annotations::Annotations(Workspace& workspace)
    : workspace_(workspace), store_(workspace.catalog()), locks_(workspace.catalog()) {}

EditResult Annotations::create(const catalog::ImageRecord& image, const Actor& actor, const nlohmann::json& body) {
  return create(image, actor, parse_annotation(body, image));
}

EditResult Annotations::create(const catalog::ImageRecord& image, const Actor& actor, const AnnotationDraft& draft) {
  catalog::AnnotationState state = draft.state;
  // The mask is stored before the record naming it: a crash in between leaves an unreferenced blob, never
  // a record whose mask is missing. A refused write (locked image) leaves such a blob too; content
  // addressing makes the next attempt reuse it.
  if (draft.mask_png) state.mask_blob = workspace_.blobs().put(*draft.mask_png);
  return store_.create(image.id, actor, state);
}

EditResult Annotations::update(Id id, const Actor& actor, std::int64_t if_match, const nlohmann::json& patch) {
  const Annotation current = store_.get(id);
  return update(current, workspace_.catalog().get_image(current.image_id), actor, if_match, patch);
}

EditResult Annotations::update(const Annotation& current, const catalog::ImageRecord& image, const Actor& actor,
                               std::int64_t if_match, const nlohmann::json& patch) {
  // The patch applies to the version the caller saw; the store re-checks the version in its transaction.
  if (current.version != if_match) return {EditStatus::stale, current, std::nullopt, std::nullopt};
  AnnotationDraft draft = parse_annotation(patch, image, &current.state);
  if (draft.mask_png) draft.state.mask_blob = workspace_.blobs().put(*draft.mask_png);
  return store_.update(current.id, actor, if_match, [&](catalog::AnnotationState& state) { state = draft.state; });
}

EditResult Annotations::remove(Id id, const Actor& actor, std::int64_t if_match) {
  return store_.remove(id, actor, if_match);
}

EditResult Annotations::undo(Id id, const Actor& actor, std::optional<std::int64_t> if_match) {
  return store_.undo(id, actor, if_match);
}

EditResult Annotations::undo_in_image(Id image_id, const Actor& actor) { return store_.undo_in_image(image_id, actor); }

Annotation Annotations::get(Id id) { return store_.get(id); }

std::vector<catalog::AnnotationEdit> Annotations::history(Id id) { return store_.history(id); }

catalog::AnnotationPage Annotations::in_viewport(const catalog::ViewportQuery& query) {
  return store_.in_viewport(query);
}

catalog::ObjectPage Annotations::objects_in_viewport(const catalog::ViewportQuery& query) {
  return store_.objects_in_viewport(query);
}

nlohmann::json mask_png_to_rle(const std::string& png) {
  const cv::Mat mask = cv::imdecode(cv::Mat(1, static_cast<int>(png.size()), CV_8U, const_cast<char*>(png.data())),
                                    cv::IMREAD_GRAYSCALE);
  if (mask.empty()) throw Error(ErrorCode::corrupt, "a stored mask does not decode as a PNG");
  return mask_to_rle(mask);
}

std::string Annotations::mask_png(const Annotation& annotation) {
  if (annotation.state.kind != "mask" || !annotation.state.mask_blob) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("annotation {} is a {}, not a mask", annotation.id, annotation.state.kind));
  }
  return workspace_.blobs().get(*annotation.state.mask_blob);
}

std::string Annotations::overlay_png(const Annotation& annotation, const std::array<std::uint8_t, 4>& color) {
  cv::Mat pixels;
  if (annotation.state.kind == "mask") {
    const std::string png = mask_png(annotation);
    pixels = cv::imdecode(cv::Mat(1, static_cast<int>(png.size()), CV_8U, const_cast<char*>(png.data())),
                          cv::IMREAD_GRAYSCALE);
    if (pixels.empty()) {
      throw Error(ErrorCode::corrupt, fmt::format("the mask of annotation {} does not decode", annotation.id));
    }
  } else {
    pixels = rasterize_geometry(annotation.state);
  }
  cv::Mat rgba(pixels.size(), CV_8UC4, cv::Scalar(0, 0, 0, 0));
  rgba.setTo(cv::Scalar(color[0], color[1], color[2], color[3]), pixels);
  return image::encode(rgba, ".png");
}

catalog::LockResult Annotations::acquire_lock(Id image_id, const Actor& actor, double ttl_seconds) {
  return locks_.acquire(image_id, actor, ttl_seconds);
}

catalog::LockResult Annotations::renew_lock(Id image_id, const Actor& actor, const std::string& token,
                                            double ttl_seconds) {
  return locks_.renew(image_id, actor, token, ttl_seconds);
}

catalog::LockResult Annotations::release_lock(Id image_id, const Actor& actor, const std::string& token) {
  return locks_.release(image_id, actor, token);
}

std::optional<catalog::Lease> Annotations::find_lock(Id image_id) { return locks_.find(image_id); }

}  // namespace tessera::app
