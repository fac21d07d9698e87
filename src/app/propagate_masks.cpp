// app::propagate_masks: a frame's masks carried through its series by segment::MaskPropagator and stored
// as journaled annotations, leaving a person's work alone (include/tessera/app/propagate_masks.hpp).
#include "tessera/app/propagate_masks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <set>

#include "annotations_mask.hpp"
#include "tessera/app/annotations.hpp"
#include "tessera/core/error.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/image/encode.hpp"

namespace tessera::app {
namespace {

using json = nlohmann::json;
using catalog::Annotation;
using catalog::Id;

const std::set<std::string> kAreaKinds = {"mask", "polygon", "box"};

bool is_area(const Annotation& a) { return kAreaKinds.count(a.state.kind) > 0; }

// The series' numbered one-page images by frame index: the frames propagation steps through.
std::vector<catalog::SeriesImage> series_frames(catalog::TrackStore& store, const catalog::Series& series) {
  std::vector<catalog::SeriesImage> frames;
  for (const catalog::SeriesImage& image : store.series_images(series.id)) {
    if (!image.frame_index) continue;  // not placed in time: no neighbour to propagate to
    if (!frames.empty() && frames.back().frame_index == image.frame_index) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("series '{}': images {} and {} are both frame {}; propagation needs one image per frame",
                              series.name, frames.back().id, image.id, *image.frame_index));
    }
    frames.push_back(image);
  }
  return frames;
}

std::vector<Annotation> tag_annotations(Annotations& annotations, Id image_id, Id tag_id) {
  catalog::ViewportQuery query;
  query.image_id = image_id;
  query.tag_id = tag_id;
  query.limit = 100000;
  std::vector<Annotation> out;
  for (Annotation& a : annotations.in_viewport(query).annotations) {
    if (is_area(a)) out.push_back(std::move(a));
  }
  return out;
}

// The annotation's pixels on a frame-sized canvas (255 inside).
cv::Mat full_mask(Annotations& annotations, const Annotation& a, cv::Size size) {
  cv::Mat crop;
  if (a.state.kind == "mask") {
    const std::string png = annotations.mask_png(a);
    const std::vector<std::uint8_t> buffer(png.begin(), png.end());
    crop = cv::imdecode(buffer, cv::IMREAD_GRAYSCALE);
    if (crop.empty()) throw Error(ErrorCode::corrupt, fmt::format("annotation {}: its mask does not decode", a.id));
  } else {
    crop = rasterize_geometry(a.state);
  }
  cv::Mat canvas = cv::Mat::zeros(size, CV_8U);
  const cv::Rect at(static_cast<int>(a.state.bbox.x0), static_cast<int>(a.state.bbox.y0), crop.cols, crop.rows);
  const cv::Rect inside = at & cv::Rect(0, 0, size.width, size.height);
  if (inside.area() > 0) {
    crop(cv::Rect(inside.x - at.x, inside.y - at.y, inside.width, inside.height)).copyTo(canvas(inside));
  }
  cv::Mat binary;
  cv::compare(canvas, 0, binary, cv::CMP_NE);
  return binary;
}

bool is_propagation_edit(const catalog::AnnotationEdit& edit) {
  if (edit.action != "update") return false;
  const auto after = edit.diff.find("after");
  if (after == edit.diff.end() || !after->contains("source_ref")) return false;
  const json& ref = (*after)["source_ref"];
  return ref.is_object() && ref.contains("propagation");
}

// A propagated annotation somebody changed: any journal entry after its creation that a propagation did
// not write (updates, deletes, undos by a person).
bool edited_by_person(Annotations& annotations, const Annotation& a) {
  for (const catalog::AnnotationEdit& edit : annotations.history(a.id)) {
    if (edit.action == "create") continue;
    if (!is_propagation_edit(edit)) return true;
  }
  return false;
}

double bbox_iou(const catalog::BBox& a, const catalog::BBox& b) {
  const double ix = std::max(0.0, std::min(a.x1, b.x1) - std::max(a.x0, b.x0));
  const double iy = std::max(0.0, std::min(a.y1, b.y1) - std::max(a.y0, b.y0));
  const double inter = ix * iy;
  const double uni = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter;
  return uni <= 0 ? 0.0 : inter / uni;
}

catalog::BBox box_of(const cv::Rect& r) {
  return {static_cast<double>(r.x), static_cast<double>(r.y), static_cast<double>(r.x + r.width),
          static_cast<double>(r.y + r.height)};
}

// A token naming one propagation run: every update it writes changes source_ref, so the journal tells a
// propagation's edits from a person's.
std::string run_token() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  std::random_device device;
  return fmt::format("{:x}-{:04x}", std::chrono::duration_cast<std::chrono::milliseconds>(now).count(),
                     device() & 0xffffu);
}

// One object followed through the frames: the annotation it started from and its current mask.
struct Carried {
  Id root = 0;
  std::optional<std::string> color;
  cv::Mat mask;
};

struct Run {
  Workspace& workspace;
  const PropagateMasksRequest& request;
  Annotations annotations;
  catalog::TrackStore tracks;
  std::unique_ptr<segment::Segmenter> segmenter;
  segment::MaskPropagator propagator;
  std::string token;
  PropagateMasksReport report;
  std::int64_t total_steps = 1;

  Run(Workspace& ws, const PropagateMasksRequest& r)
      : workspace(ws),
        request(r),
        annotations(ws),
        tracks(ws.catalog()),
        segmenter(segment::make_segmenter()),
        propagator(*segmenter, r.options),
        token(run_token()) {}

  cv::Mat pixels(const catalog::SeriesImage& image) {
    return image::decode(workspace.blobs().get(image.blob_hash), image.source_path).frames.front();
  }

  json source_ref(std::int64_t source_frame, Id root) const {
    return {{"from_frame", source_frame}, {"from_annotation", root}, {"propagation", token}};
  }

  // Stores (creates or updates) one propagated mask; returns the step as recorded.
  PropagatedFrame store(const catalog::SeriesImage& target, const catalog::ImageRecord& record, Carried& object,
                        const segment::PropagatedMask& p, std::vector<Annotation>& candidates, std::set<Id>& taken) {
    PropagatedFrame step;
    step.frame = *target.frame_index;
    step.image_id = target.id;
    step.from_annotation = object.root;
    step.confidence = p.confidence;
    step.needs_review = p.needs_review;
    step.reason = p.reason;
    if (p.mask.empty()) {
      step.action = "vanished";
      return step;
    }
    const cv::Rect box = cv::boundingRect(p.mask);
    // The earlier propagated mask of this object: the one made from the same source annotation, else the one
    // whose box overlaps most (a propagation from another frame of the same object).
    const Annotation* match = nullptr;
    for (const Annotation& a : candidates) {
      if (taken.count(a.id) == 0 && a.state.source_ref.is_object() &&
          a.state.source_ref.value("from_annotation", Id{0}) == object.root) {
        match = &a;
      }
    }
    if (match == nullptr) {
      double best = 0.3;
      for (const Annotation& a : candidates) {
        const double overlap = bbox_iou(a.state.bbox, box_of(box));
        if (taken.count(a.id) == 0 && overlap > best) {
          best = overlap;
          match = &a;
        }
      }
    }
    if (match != nullptr) {
      taken.insert(match->id);
      if (edited_by_person(annotations, *match)) {
        // A person corrected this mask: keep it, and carry their version on.
        step.action = "kept_edited";
        step.annotation_id = match->id;
        step.reason = "edited by a person since it was propagated";
        step.needs_review = match->state.needs_review;
        step.confidence = match->state.confidence.value_or(1.0);
        object.mask = full_mask(annotations, *match, p.mask.size());
        ++report.kept;
        return step;
      }
    }
    object.mask = p.mask;
    const cv::Mat crop = p.mask(box);
    json attributes = match ? match->state.attributes : json::object();
    if (p.needs_review) {
      attributes["review_reason"] = p.reason;
    } else {
      attributes.erase("review_reason");
    }
    catalog::EditResult result;
    if (match != nullptr) {
      const json patch = {{"bbox", catalog::bbox_json(box_of(box))},
                          {"mask_rle", mask_to_rle(crop)},
                          {"source", "propagated"},
                          {"source_ref", source_ref(request.frame, object.root)},
                          {"confidence", p.confidence},
                          {"needs_review", p.needs_review},
                          {"attributes", attributes}};
      result = annotations.update(*match, record, request.actor, match->version, patch);
      step.action = "updated";
    } else {
      AnnotationDraft draft;
      catalog::AnnotationState& s = draft.state;
      s.kind = "mask";
      s.tag_id = request.tag_id;
      s.bbox = box_of(box);
      s.color = object.color;
      s.source = "propagated";
      s.source_ref = source_ref(request.frame, object.root);
      s.confidence = p.confidence;
      s.needs_review = p.needs_review;
      s.attributes = attributes;
      s.geometry = nullptr;
      draft.mask_png = image::encode(crop, ".png");
      result = annotations.create(record, request.actor, draft);
      step.action = "created";
    }
    if (result.status == catalog::EditStatus::locked) {
      step.action = "locked";
      step.reason = fmt::format("image {} is locked by {}", target.id, result.lease ? result.lease->holder : "?");
      return step;
    }
    if (result.status == catalog::EditStatus::stale) {
      step.action = "kept_edited";
      step.reason = "changed by someone while propagating";
      step.annotation_id = result.annotation ? std::optional<Id>(result.annotation->id) : std::nullopt;
      ++report.kept;
      return step;
    }
    step.annotation_id = result.annotation->id;
    ++(step.action == "created" ? report.created : report.updated);
    if (p.needs_review) ++report.flagged;
    return step;
  }

  void direction(const std::vector<catalog::SeriesImage>& frames, size_t start, int dir, std::vector<Carried> objects,
                 const cv::Mat& start_pixels) {
    cv::Mat previous = start_pixels;
    for (std::ptrdiff_t i = static_cast<std::ptrdiff_t>(start) + dir;
         i >= 0 && i < static_cast<std::ptrdiff_t>(frames.size()) && !objects.empty(); i += dir) {
      const catalog::SeriesImage& target = frames[static_cast<size_t>(i)];
      const std::vector<Annotation> present = tag_annotations(annotations, target.id, request.tag_id);
      std::vector<Annotation> candidates;
      bool person_frame = false;
      for (const Annotation& a : present) {
        if (a.state.source == "propagated") {
          candidates.push_back(a);
        } else {
          person_frame = true;
        }
      }
      ++report.frames;
      if (person_frame) {
        // A person annotated this frame: it is theirs, and beyond it their masks are the better source.
        PropagatedFrame step;
        step.frame = *target.frame_index;
        step.image_id = target.id;
        step.action = "manual_frame";
        step.reason = "the frame holds masks of the tag made by a person; propagation stops here";
        report.steps.push_back(step);
        ++report.kept;
        return;
      }
      const cv::Mat current = pixels(target);
      std::vector<cv::Mat> carried;
      for (const Carried& object : objects) carried.push_back(object.mask);
      const segment::FramePair pair = propagator.pair(previous, current, segment::flow_region(carried, current.size()));
      const catalog::ImageRecord record = workspace.catalog().get_image(target.id);
      std::set<Id> taken;
      bool stop = false;
      std::vector<Carried> next;
      for (Carried& object : objects) {
        const segment::PropagatedMask p = propagator.propagate(pair, object.mask);
        PropagatedFrame step = store(target, record, object, p, candidates, taken);
        if (step.action == "locked") stop = true;
        if (step.needs_review && request.stop_on_review) stop = true;
        if (step.action != "vanished") next.push_back(object);
        report.steps.push_back(std::move(step));
      }
      objects = std::move(next);
      previous = current;
      if (request.on_progress) {
        request.on_progress(static_cast<double>(report.frames) / static_cast<double>(total_steps),
                            fmt::format("frame {} ({} of {})", *target.frame_index, report.frames, total_steps));
      }
      if (stop) return;
    }
  }
};

}  // namespace

std::vector<Id> check_propagation_request(Workspace& workspace, const PropagateMasksRequest& request) {
  segment::validate(request.options);
  if (!request.forward && !request.backward) {
    throw Error(ErrorCode::invalid_argument, "propagation: 'direction' must allow forward or backward",
                {{"field", "direction"}});
  }
  catalog::TrackStore store(workspace.catalog());
  const catalog::Series series = store.get_series(request.series_id);
  const std::vector<catalog::Tag> tags = workspace.catalog().list_tags(series.project_id);
  if (std::none_of(tags.begin(), tags.end(), [&](const catalog::Tag& t) { return t.id == request.tag_id; })) {
    throw Error(ErrorCode::not_found,
                fmt::format("tag {} is not a tag of the project of series '{}'", request.tag_id, series.name),
                {{"field", "tag_id"}});
  }
  const std::vector<catalog::SeriesImage> frames = series_frames(store, series);
  const auto at = std::find_if(frames.begin(), frames.end(),
                               [&](const catalog::SeriesImage& f) { return *f.frame_index == request.frame; });
  if (at == frames.end()) {
    throw Error(ErrorCode::invalid_argument,
                frames.empty() ? fmt::format("series '{}' has no numbered frames; 'frame' {} is not one of them",
                                             series.name, request.frame)
                               : fmt::format("'frame' {} is not a frame of series '{}' (frames {}..{})", request.frame,
                                             series.name, *frames.front().frame_index, *frames.back().frame_index),
                {{"field", "frame"}});
  }
  Annotations annotations(workspace);
  std::vector<Id> sources;
  for (const Annotation& a : tag_annotations(annotations, at->id, request.tag_id)) sources.push_back(a.id);
  if (sources.empty()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("frame {} of series '{}' (image {}) holds no mask of tag {} to propagate", request.frame,
                            series.name, at->id, request.tag_id),
                {{"field", "tag_id"}});
  }
  return sources;
}

std::optional<catalog::Lease> find_foreign_lease(Workspace& workspace, Id series_id, const catalog::Actor& actor) {
  catalog::LockStore locks(workspace.catalog());
  for (const catalog::SeriesImage& image : catalog::TrackStore(workspace.catalog()).series_images(series_id)) {
    std::optional<catalog::Lease> lease = locks.find(image.id);
    if (!lease) continue;
    const bool mine = (lease->holder_id || actor.user_id) ? lease->holder_id == actor.user_id
                                                          : lease->holder == actor.name;
    if (!mine) return lease;
  }
  return std::nullopt;
}

PropagateMasksReport propagate_masks(Workspace& workspace, const PropagateMasksRequest& request) {
  const auto started = std::chrono::steady_clock::now();
  const std::vector<Id> sources = check_propagation_request(workspace, request);
  if (const auto lease = find_foreign_lease(workspace, request.series_id, request.actor)) {
    throw Error(ErrorCode::conflict,
                fmt::format("image {} of the series is locked by {} until {}; propagation writes every frame",
                            lease->image_id, lease->holder, lease->expires_at),
                {{"reason", "locked"}, {"image_id", lease->image_id}, {"holder", lease->holder}});
  }
  Run run(workspace, request);
  const catalog::Series series = run.tracks.get_series(request.series_id);
  const std::vector<catalog::SeriesImage> frames = series_frames(run.tracks, series);
  const size_t start = static_cast<size_t>(
      std::find_if(frames.begin(), frames.end(),
                   [&](const catalog::SeriesImage& f) { return *f.frame_index == request.frame; }) -
      frames.begin());
  run.report.series_id = series.id;
  run.report.series = series.name;
  run.report.frame = request.frame;
  run.report.tag_id = request.tag_id;
  run.report.sources = sources;
  run.total_steps = std::max<std::int64_t>(
      1, (request.forward ? static_cast<std::int64_t>(frames.size() - start - 1) : 0) +
             (request.backward ? static_cast<std::int64_t>(start) : 0));

  const cv::Mat start_pixels = run.pixels(frames[start]);
  std::vector<Carried> objects;
  for (Id id : sources) {
    const Annotation a = run.annotations.get(id);
    objects.push_back({id, a.state.color, full_mask(run.annotations, a, start_pixels.size())});
  }
  if (request.forward) run.direction(frames, start, +1, objects, start_pixels);
  if (request.backward) run.direction(frames, start, -1, objects, start_pixels);
  run.report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return run.report;
}

json report_json(const PropagateMasksReport& r) {
  json steps = json::array();
  for (const PropagatedFrame& s : r.steps) {
    steps.push_back({{"frame", s.frame},
                     {"image_id", s.image_id},
                     {"from_annotation", s.from_annotation ? json(s.from_annotation) : json()},
                     {"annotation_id", s.annotation_id ? json(*s.annotation_id) : json()},
                     {"action", s.action},
                     {"confidence", s.confidence},
                     {"needs_review", s.needs_review},
                     {"reason", s.reason}});
  }
  return {{"series_id", r.series_id}, {"series", r.series},   {"frame", r.frame},     {"tag_id", r.tag_id},
          {"sources", r.sources},     {"created", r.created}, {"updated", r.updated}, {"kept", r.kept},
          {"flagged", r.flagged},     {"frames", r.frames},   {"steps", steps},       {"seconds", r.seconds}};
}

}  // namespace tessera::app
