// Point-prompted masks on catalog images (tessera/app/generate_mask.hpp): the pixels come from the blob store,
// the mask from segment::Segmenter, the writes go through app::Annotations (journaled, lease-checked).

#include "tessera/app/generate_mask.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "app/annotations_mask.hpp"
#include "app/mask_edits_steps.hpp"
#include "tessera/app/annotations.hpp"
#include "tessera/core/base64.hpp"
#include "tessera/core/error.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/image/encode.hpp"

namespace tessera::app {

using catalog::Annotation;
using catalog::EditStatus;
using nlohmann::json;

namespace {

[[noreturn]] void bad_field(const std::string& field, const std::string& message, ErrorCode code = ErrorCode::invalid_argument) {
  throw Error(code, message, {{"field", field}});
}

cv::Rect bbox_rect(const catalog::BBox& b) {
  return {static_cast<int>(b.x0), static_cast<int>(b.y0), static_cast<int>(b.x1 - b.x0), static_cast<int>(b.y1 - b.y0)};
}

void check_request(Workspace& workspace, const catalog::ImageRecord& image, const GenerateMaskRequest& request) {
  const int frames = std::max(1, image.frames);
  if (request.frame_index < 0 || request.frame_index >= frames)
    bad_field("frame_index", fmt::format("frame_index {} is outside image {} (frames 0..{})", request.frame_index,
                                         image.id, frames - 1));
  if (request.tag_id) {
    const auto tags = workspace.catalog().list_tags(image.project_id);
    if (std::none_of(tags.begin(), tags.end(), [&](const catalog::Tag& t) { return t.id == *request.tag_id; }))
      bad_field("tag_id", fmt::format("tag_id {} is not a tag of image {}'s project", *request.tag_id, image.id),
                ErrorCode::not_found);
  }
  if (request.color) parse_rgba(*request.color, "mask_color");
  bool positive = false;
  for (std::size_t i = 0; i < request.points.size(); ++i) {
    const auto& p = request.points[i];
    if (!std::isfinite(p.x) || !std::isfinite(p.y) || p.x < 0 || p.y < 0 || p.x >= image.width || p.y >= image.height)
      bad_field("points", fmt::format("points[{}] = ({}, {}) lies outside the {}x{} image {}", i, p.x, p.y,
                                      image.width, image.height, image.id));
    positive = positive || p.positive;
  }
  if (!positive && !request.box) bad_field("points", "points need at least one positive point (x, y, \"+\")");
  if (request.box) {
    const cv::Rect b = *request.box;
    if (b.width <= 0 || b.height <= 0 || (b & cv::Rect(0, 0, image.width, image.height)).area() == 0)
      bad_field("box", fmt::format("box [{}, {}, {}, {}] does not cover pixels of the {}x{} image", b.x, b.y,
                                   b.x + b.width, b.y + b.height, image.width, image.height));
  }
}

cv::Mat decode_frame(Workspace& workspace, const catalog::ImageRecord& image, std::int64_t frame_index) {
  const image::Image decoded = image::decode(workspace.blobs().get(image.blob_hash), image.source_path);
  if (frame_index >= static_cast<std::int64_t>(decoded.frames.size()))
    bad_field("frame_index", fmt::format("frame_index {} is outside image {} ({} frames decoded)", frame_index,
                                         image.id, decoded.frames.size()));
  return decoded.frames[static_cast<std::size_t>(frame_index)];
}

// The other masks of the frame that share pixels with `mask`, with their pixels over `mask`'s bbox.
struct Neighbour {
  Annotation annotation;
  cv::Mat full;  // CV_8U image size
};

std::vector<Neighbour> overlapping_masks(Annotations& annotations, const catalog::ImageRecord& image,
                                         std::int64_t frame, const cv::Mat& mask, const cv::Rect& bbox) {
  catalog::ViewportQuery query;
  query.image_id = image.id;
  query.frame_index = frame;
  query.bbox = catalog::BBox{static_cast<double>(bbox.x), static_cast<double>(bbox.y),
                             static_cast<double>(bbox.x + bbox.width), static_cast<double>(bbox.y + bbox.height)};
  query.limit = 100'000;
  std::vector<Neighbour> out;
  for (const Annotation& a : annotations.in_viewport(query).annotations) {
    if (a.state.kind != "mask" || a.deleted) continue;
    Neighbour n{a, cv::Mat::zeros(mask.size(), CV_8U)};
    const cv::Rect box = bbox_rect(a.state.bbox) & cv::Rect(0, 0, mask.cols, mask.rows);
    const cv::Mat stored = decode_stored_mask(annotations, a);
    stored(box - bbox_rect(a.state.bbox).tl()).copyTo(n.full(box));
    if (cv::countNonZero(n.full & mask) > 0) out.push_back(std::move(n));
  }
  return out;
}

json points_json(const std::vector<segment::PromptPoint>& points) {
  json out = json::array();
  for (const auto& p : points) out.push_back({p.x, p.y, p.positive ? "+" : "-"});
  return out;
}

AnnotationDraft draft_of(const GenerateMaskOutcome& o, const GenerateMaskRequest& request) {
  AnnotationDraft draft;
  auto& s = draft.state;
  s.kind = "mask";
  s.frame_index = request.frame_index;
  s.tag_id = request.tag_id;
  if (request.color) {
    const auto rgba = parse_rgba(*request.color, "mask_color");
    s.color = fmt::format("#{:02x}{:02x}{:02x}", rgba[0], rgba[1], rgba[2]);
  }
  s.bbox = {static_cast<double>(o.bbox.x), static_cast<double>(o.bbox.y), static_cast<double>(o.bbox.x + o.bbox.width),
            static_cast<double>(o.bbox.y + o.bbox.height)};
  s.source = "generated";
  s.source_ref = {{"segmenter", o.segmenter}, {"points", points_json(request.points)}};
  if (request.box) {
    const cv::Rect b = *request.box;
    s.source_ref["box"] = {b.x, b.y, b.x + b.width, b.y + b.height};
  }
  if (request.overlap != MaskOverlap::allow) s.source_ref["overlap"] = request.overlap == MaskOverlap::take ? "take" : "clip";
  s.confidence = o.confidence;
  draft.mask_png = image::encode(o.mask(o.bbox), ".png");
  return draft;
}

// Stores the new mask and, with take, the others without its pixels: all or nothing through EditSteps.
void save(Workspace& workspace, const catalog::ImageRecord& image, const GenerateMaskRequest& request,
          const catalog::Actor& actor, const std::vector<Neighbour>& neighbours, GenerateMaskOutcome& outcome) {
  Annotations annotations(workspace);
  MaskEditOutcome steps_outcome;
  EditSteps steps(annotations, actor);
  const auto refused = [&] {
    outcome.status = steps_outcome.status;
    outcome.lease = steps_outcome.lease;
    outcome.current = steps_outcome.current;
    outcome.updated.clear();
    outcome.deleted.clear();
  };
  const AnnotationDraft draft = draft_of(outcome, request);
  const auto created = steps.apply(steps_outcome, [&] { return annotations.create(image, actor, draft); });
  if (!created) return refused();
  if (request.overlap == MaskOverlap::take) {
    for (const Neighbour& n : neighbours) {
      const cv::Mat remaining = n.full & ~outcome.mask;
      std::optional<Annotation> written;
      if (cv::countNonZero(remaining) == 0) {
        written = steps.apply(steps_outcome, [&] { return annotations.remove(n.annotation.id, actor, n.annotation.version); });
        if (written) outcome.deleted.push_back(n.annotation.id);
      } else {
        const cv::Rect pixels = cv::boundingRect(remaining);
        const json patch = {{"bbox", {pixels.x, pixels.y, pixels.x + pixels.width, pixels.y + pixels.height}},
                            {"mask_png_base64", base64_encode(image::encode(remaining(pixels), ".png"))}};
        written = steps.apply(steps_outcome, [&] {
          return annotations.update(n.annotation, image, actor, n.annotation.version, patch);
        });
        if (written) outcome.updated.push_back(*written);
      }
      if (!written) return refused();
    }
  }
  outcome.annotation = created;
}

}  // namespace

MaskOverlap parse_overlap(const std::string& text) {
  if (text == "allow") return MaskOverlap::allow;
  if (text == "take") return MaskOverlap::take;
  if (text == "clip") return MaskOverlap::clip;
  bad_field("overlap", fmt::format("overlap must be 'allow', 'take' or 'clip', got '{}'", text));
}

std::vector<segment::PromptPoint> parse_prompt_points(const json& points) {
  if (!points.is_array()) bad_field("points", "points must be an array of {x, y, positive} or [x, y, \"+\"|\"-\"]");
  std::vector<segment::PromptPoint> out;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const json& p = points[i];
    const std::string field = fmt::format("points[{}]", i);
    segment::PromptPoint point;
    if (p.is_object() && p.contains("x") && p.contains("y") && p["x"].is_number() && p["y"].is_number()) {
      point.x = p["x"].get<double>();
      point.y = p["y"].get<double>();
      if (p.contains("positive")) {
        if (!p["positive"].is_boolean()) bad_field(field, field + ".positive must be true or false");
        point.positive = p["positive"].get<bool>();
      }
    } else if (p.is_array() && (p.size() == 2 || p.size() == 3) && p[0].is_number() && p[1].is_number()) {
      point.x = p[0].get<double>();
      point.y = p[1].get<double>();
      if (p.size() == 3) {
        if (p[2] == "+" || p[2] == true) point.positive = true;
        else if (p[2] == "-" || p[2] == false) point.positive = false;
        else bad_field(field, field + ": the sign must be \"+\" or \"-\"");
      }
    } else {
      bad_field(field, field + " must be {\"x\": .., \"y\": .., \"positive\": true|false} or [x, y, \"+\"|\"-\"]");
    }
    out.push_back(point);
  }
  return out;
}

GenerateMaskOutcome generate_mask(Workspace& workspace, const GenerateMaskRequest& request,
                                  const catalog::Actor& actor) {
  const catalog::ImageRecord image = workspace.catalog().get_image(request.image_id);
  check_request(workspace, image, request);
  const auto segmenter = segment::make_segmenter(request.segmenter);
  const cv::Mat pixels = decode_frame(workspace, image, request.frame_index);
  segment::Prompts prompts;
  prompts.points = request.points;
  prompts.box = request.box;
  segment::SegmentResult result;
  try {
    result = segmenter->segment(pixels, prompts);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::invalid_argument) throw;
    bad_field("points", e.what());
  }
  GenerateMaskOutcome outcome;
  outcome.segmenter = segmenter->name();
  outcome.confidence = result.confidence;
  outcome.mask = result.mask;
  outcome.bbox = cv::boundingRect(outcome.mask);
  std::vector<Neighbour> neighbours;
  if (request.overlap != MaskOverlap::allow && !outcome.bbox.empty()) {
    Annotations annotations(workspace);
    neighbours = overlapping_masks(annotations, image, request.frame_index, outcome.mask, outcome.bbox);
    if (request.overlap == MaskOverlap::clip) {
      for (const Neighbour& n : neighbours) outcome.mask.setTo(0, n.full);
      neighbours.clear();
      outcome.bbox = cv::boundingRect(outcome.mask);
    }
  }
  if (!request.save) return outcome;
  if (outcome.bbox.empty())
    bad_field("points", fmt::format("the generated mask on image {} is empty{}; nothing was stored", image.id,
                                    request.overlap == MaskOverlap::clip ? " after clipping to the other masks" : ""));
  save(workspace, image, request, actor, neighbours, outcome);
  return outcome;
}

json generated_mask_json(const GenerateMaskOutcome& outcome, const std::string& format) {
  const cv::Rect b = outcome.bbox;
  json out = {{"bbox", {b.x, b.y, b.x + b.width, b.y + b.height}}};
  if (b.empty()) return out;
  if (format == "png") {
    out["mask_png_base64"] = base64_encode(image::encode(outcome.mask(b), ".png"));
  } else if (format == "rle") {
    out["mask_rle"] = mask_to_rle(outcome.mask(b));
  } else {
    bad_field("mask_format", fmt::format("mask_format must be 'rle' or 'png', got '{}'", format));
  }
  return out;
}

}  // namespace tessera::app
