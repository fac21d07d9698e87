#include "learn_data.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "annotations_mask.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/image/encode.hpp"

namespace tessera::app::learn_data {
namespace {

[[noreturn]] void bad(const std::string& field, const std::string& problem) {
  throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", field, problem), {{"field", field}});
}

cv::Rect bbox_rect(const catalog::BBox& b) {
  const int x0 = static_cast<int>(std::floor(b.x0)), y0 = static_cast<int>(std::floor(b.y0));
  const int x1 = static_cast<int>(std::ceil(b.x1)), y1 = static_cast<int>(std::ceil(b.y1));
  return {x0, y0, x1 - x0, y1 - y0};
}

// The annotation's pixels over its bbox (255 inside).
cv::Mat annotation_pixels(Annotations& annotations, const catalog::Annotation& a) {
  if (a.state.kind != "mask") return rasterize_geometry(a.state);
  const std::string png = annotations.mask_png(a);
  cv::Mat mask = cv::imdecode(cv::Mat(1, static_cast<int>(png.size()), CV_8U, const_cast<char*>(png.data())),
                              cv::IMREAD_GRAYSCALE);
  if (mask.empty()) throw Error(ErrorCode::corrupt, fmt::format("annotation {}: its stored mask does not decode", a.id));
  return mask;
}

}  // namespace

Classes resolve_classes(catalog::Catalog& catalog, catalog::Id project_id, const std::vector<std::string>& tags) {
  if (tags.size() < 2)
    bad("tags", fmt::format("training needs at least two classes, got {} ({})", tags.size(),
                            tags.empty() ? std::string("none") : tags.front()));
  std::map<std::string, catalog::Id> known;
  for (const catalog::Tag& t : catalog.list_tags(project_id)) known[t.name] = t.id;
  Classes out;
  for (const std::string& name : tags) {
    if (std::find(out.names.begin(), out.names.end(), name) != out.names.end())
      bad("tags", fmt::format("tag '{}' is given twice", name));
    auto it = known.find(name);
    if (it == known.end()) {
      std::string list;
      for (const auto& [n, id] : known) list += (list.empty() ? "" : ", ") + n;
      bad("tags", fmt::format("the project has no tag '{}' (known: {})", name, list.empty() ? "none" : list));
    }
    out.names.push_back(name);
    out.tag_ids.push_back(it->second);
  }
  return out;
}

void require_annotated_classes(catalog::Catalog& catalog, const catalog::ImageSet& set, const Classes& classes,
                               bool with_masks) {
  const std::vector<std::string> kinds = with_masks ? std::vector<std::string>{"scribble", "mask"}
                                                    : std::vector<std::string>{"scribble"};
  const char* kinds_text = with_masks ? "scribbles or masks" : "scribbles";
  catalog::LearnStore store(catalog);
  std::vector<std::string> unannotated;
  for (std::size_t k = 0; k < classes.names.size(); ++k) {
    if (store.annotated_images(set.id, kinds, {classes.tag_ids[k]}).empty()) unannotated.push_back(classes.names[k]);
  }
  if (unannotated.size() == classes.names.size())
    bad("set", fmt::format("'{}' has no annotated pixels: no {} of the tags {} on its images", set.name, kinds_text,
                           fmt::join(classes.names, ", ")));
  if (!unannotated.empty())
    bad("tags", fmt::format("class '{}' has no annotated pixels: no {} of it on the images of set '{}' (every class "
                            "needs some)",
                            unannotated.front(), kinds_text, set.name));
}

std::vector<catalog::ImageRecord> set_images(catalog::Catalog& catalog, catalog::Id project_id, const std::string& set) {
  catalog.get_set(project_id, set);  // Error{not_found} naming the set
  catalog::ImageQuery query;
  query.project_id = project_id;
  query.set = set;
  return catalog.list_images(query);
}

cv::Mat load_frame(Workspace& workspace, const catalog::ImageRecord& image, std::int64_t frame_index) {
  const image::Image decoded = image::decode(workspace.blobs().get(image.blob_hash), image.source_path);
  if (frame_index < 0 || frame_index >= static_cast<std::int64_t>(decoded.frames.size()))
    bad("frame_index", fmt::format("image {} ({}) has no frame {} ({} decoded)", image.id, image.source_path,
                                   frame_index, decoded.frames.size()));
  const cv::Mat& frame = decoded.frames[static_cast<std::size_t>(frame_index)];
  if (frame.cols != image.width || frame.rows != image.height)
    bad("image", fmt::format("image {} ({}) decodes to {}x{} but the catalog recorded {}x{}", image.id,
                             image.source_path, frame.cols, frame.rows, image.width, image.height));
  return frame;
}

std::vector<LabelledFrame> labelled_frames(Workspace& workspace, const std::vector<catalog::ImageRecord>& images,
                                           const Classes& classes, bool with_masks) {
  Annotations annotations(workspace);
  std::vector<LabelledFrame> out;
  for (const catalog::ImageRecord& image : images) {
    catalog::ViewportQuery query;
    query.image_id = image.id;
    query.limit = 1'000'000;
    std::map<std::int64_t, LabelledFrame> frames;
    for (const catalog::Annotation& a : annotations.in_viewport(query).annotations) {
      if (a.deleted || a.state.source == "suggested" || !a.state.tag_id) continue;
      if (a.state.kind != "scribble" && !(with_masks && a.state.kind == "mask")) continue;
      auto cls = std::find(classes.tag_ids.begin(), classes.tag_ids.end(), *a.state.tag_id);
      if (cls == classes.tag_ids.end()) continue;
      const cv::Rect box = bbox_rect(a.state.bbox);
      if (box.x < 0 || box.y < 0 || box.x + box.width > image.width || box.y + box.height > image.height)
        bad("annotations", fmt::format("annotation {} has box [{}, {}, {}, {}] outside image {} of {}x{} "
                                       "(mismatched image sizes)",
                                       a.id, box.x, box.y, box.x + box.width, box.y + box.height, image.id,
                                       image.width, image.height));
      LabelledFrame& frame = frames[a.state.frame_index];
      if (frame.labels.empty()) {
        frame.image = image;
        frame.frame_index = a.state.frame_index;
        frame.labels = cv::Mat::zeros(image.height, image.width, CV_8U);
      }
      const cv::Mat pixels = annotation_pixels(annotations, a);
      if (pixels.size() != box.size())
        bad("annotations", fmt::format("annotation {}: its pixels are {}x{} but its box is {}x{}", a.id, pixels.cols,
                                       pixels.rows, box.width, box.height));
      frame.labels(box).setTo(static_cast<int>(cls - classes.tag_ids.begin()) + 1, pixels);
      frame.annotation_ids.push_back(a.id);
    }
    for (auto& [index, frame] : frames) {
      frame.labelled_pixels = cv::countNonZero(frame.labels);
      if (frame.labelled_pixels > 0) out.push_back(std::move(frame));
    }
  }
  return out;
}

std::optional<catalog::Id> add_suggested_mask(Workspace& workspace, const catalog::ImageRecord& image,
                                              std::int64_t frame_index, const cv::Mat& mask, catalog::Id tag_id,
                                              double confidence, const nlohmann::json& source_ref,
                                              const catalog::Actor& actor) {
  std::vector<cv::Point> points;
  cv::findNonZero(mask, points);
  if (points.empty()) return std::nullopt;
  const cv::Rect box = cv::boundingRect(points);
  cv::Mat crop = (mask(box) != 0);  // 0/255
  AnnotationDraft draft;
  auto& s = draft.state;
  s.kind = "mask";
  s.frame_index = frame_index;
  s.tag_id = tag_id;
  s.bbox = {static_cast<double>(box.x), static_cast<double>(box.y), static_cast<double>(box.x + box.width),
            static_cast<double>(box.y + box.height)};
  s.source = "suggested";
  s.source_ref = source_ref;
  s.confidence = std::clamp(confidence, 0.0, 1.0);
  s.needs_review = true;
  draft.mask_png = image::encode(crop, ".png");
  const catalog::EditResult result = Annotations(workspace).create(image, actor, draft);
  if (result.status != catalog::EditStatus::applied || !result.annotation)
    throw Error(ErrorCode::conflict,
                fmt::format("image {}: the suggested mask was refused (the image is locked by someone else)", image.id));
  return result.annotation->id;
}

ModelBytes load_model(Workspace& workspace, catalog::Id project_id, const std::string& name_or_file,
                      const std::string& kind) {
  if (auto stored = catalog::LearnStore(workspace.catalog()).find_model(project_id, name_or_file)) {
    if (stored->kind != kind)
      bad("model", fmt::format("model '{}' is a {}, not a {}", name_or_file, stored->kind, kind));
    return {workspace.blobs().get(stored->blob_hash), {{"model_id", stored->id}, {"model", stored->name}}};
  }
  std::ifstream in(name_or_file, std::ios::binary);
  if (!in)
    throw Error(ErrorCode::not_found,
                fmt::format("model '{}': no model of that name in the project, and no such file", name_or_file),
                {{"field", "model"}});
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return {bytes.str(), {{"model_file", name_or_file}}};
}

void check_model_name_free(Workspace& workspace, catalog::Id project_id, const std::string& name) {
  if (name.empty()) bad("model", "give the model a name (--out)");
  if (catalog::LearnStore(workspace.catalog()).find_model(project_id, name))
    throw Error(ErrorCode::conflict, fmt::format("a model named '{}' already exists", name), {{"field", "model"}});
}

catalog::ModelRecord store_model(Workspace& workspace, catalog::Id project_id, const std::string& kind,
                                 const std::string& name, const std::string& bytes, const nlohmann::json& provenance,
                                 const std::optional<std::filesystem::path>& out, const catalog::Actor& actor) {
  if (out) write_file_atomic(*out, bytes);
  const std::string hash = workspace.blobs().put(bytes);
  return catalog::LearnStore(workspace.catalog()).add_model(project_id, {kind, name, hash, provenance}, actor);
}

std::optional<double> labelled_dice(const std::vector<cv::Mat>& truth, const std::vector<cv::Mat>& predicted,
                                    int class_count) {
  std::vector<std::int64_t> both(class_count + 1, 0), in_truth(class_count + 1, 0), in_pred(class_count + 1, 0);
  std::int64_t labelled = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    for (int y = 0; y < truth[i].rows; ++y) {
      const std::uint8_t* t = truth[i].ptr<std::uint8_t>(y);
      const std::uint8_t* p = predicted[i].ptr<std::uint8_t>(y);
      for (int x = 0; x < truth[i].cols; ++x) {
        if (t[x] == 0 || t[x] > class_count) continue;
        ++labelled;
        ++in_truth[t[x]];
        if (p[x] >= 1 && p[x] <= class_count) ++in_pred[p[x]];
        if (p[x] == t[x]) ++both[t[x]];
      }
    }
  }
  if (labelled == 0) return std::nullopt;
  double sum = 0;
  int counted = 0;
  for (int k = 1; k <= class_count; ++k) {
    if (in_truth[k] + in_pred[k] == 0) continue;
    sum += 2.0 * static_cast<double>(both[k]) / static_cast<double>(in_truth[k] + in_pred[k]);
    ++counted;
  }
  return counted == 0 ? std::nullopt : std::optional<double>(sum / counted);
}

std::vector<int> foreground_classes(const std::vector<std::string>& names) {
  std::vector<int> out;
  for (int k = 1; k <= static_cast<int>(names.size()); ++k) {
    if (names[static_cast<std::size_t>(k - 1)] != "background") out.push_back(k);
  }
  return out;
}

}  // namespace tessera::app::learn_data
