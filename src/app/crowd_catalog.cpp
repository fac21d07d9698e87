// Crowd annotations straight into the catalog: each cleaned frame's objects as mask annotations on the
// catalog image of its raw frame.
#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "app/mask_import.hpp"
#include "tessera/app/crowd_ingest.hpp"
#include "tessera/core/error.hpp"

namespace tessera::app {
namespace {

namespace fs = std::filesystem;

// Bounding boxes of labels 1..max in one pass (empty rects for absent labels).
template <typename T>
std::vector<cv::Rect> label_boxes(const cv::Mat& labels) {
  struct Span {
    int x0 = 1 << 30, y0 = 1 << 30, x1 = -1, y1 = -1;
  };
  std::vector<Span> spans;
  for (int r = 0; r < labels.rows; ++r) {
    const T* row = labels.ptr<T>(r);
    for (int c = 0; c < labels.cols; ++c) {
      const auto v = static_cast<size_t>(row[c]);
      if (v == 0) continue;
      if (v >= spans.size()) spans.resize(v + 1);
      Span& s = spans[v];
      s.x0 = std::min(s.x0, c);
      s.x1 = std::max(s.x1, c);
      s.y0 = std::min(s.y0, r);
      s.y1 = std::max(s.y1, r);
    }
  }
  std::vector<cv::Rect> boxes(spans.size());
  for (size_t v = 1; v < spans.size(); ++v) {
    if (spans[v].x1 >= 0) boxes[v] = cv::Rect(spans[v].x0, spans[v].y0, spans[v].x1 - spans[v].x0 + 1, spans[v].y1 - spans[v].y0 + 1);
  }
  return boxes;
}

class CatalogStore {
 public:
  CatalogStore(Workspace& workspace, const CrowdCatalogOptions& options, CrowdIngestReport& report)
      : workspace_(workspace), options_(options), report_(report), masks_(workspace, options.actor) {
    project_ = workspace.catalog().ensure_project(options.project);
    if (options.tag) {
      if (options.tag->empty()) {
        throw Error(ErrorCode::invalid_argument, "crowd ingest: 'tag' must not be empty", {{"field", "tag"}});
      }
      for (const auto& tag : workspace.catalog().list_tags(project_.id)) {
        if (tag.name == *options.tag) tag_id_ = tag.id;
      }
      if (!tag_id_) {
        tag_id_ = workspace.catalog().upsert_tags(project_.id, {{*options.tag, "#ff0000", "label", std::nullopt}}).front().id;
      }
    }
  }

  void add(const CrowdFrameTile& tile) {
    const std::optional<catalog::ImageRecord>& image = image_of(tile.raw_file);
    if (!image) return;
    // The image has the raw frame's bytes, so its size is the one the chopper checked.
    const cv::Rect frame_rect(0, 0, image->width, image->height);
    const std::vector<cv::Rect> boxes = tile.labels.depth() == CV_8U ? label_boxes<std::uint8_t>(tile.labels)
                                        : tile.labels.depth() == CV_16U ? label_boxes<std::uint16_t>(tile.labels)
                                                                         : label_boxes<std::int32_t>(tile.labels);
    for (size_t label = 1; label < boxes.size(); ++label) {
      if (boxes[label].empty()) continue;
      // The object's pixels inside the frame (annotators may paint the padding past a frame's edge).
      const cv::Rect in_frame = (boxes[label] + tile.tile.tl()) & frame_rect;
      if (in_frame.empty()) continue;
      const cv::Mat pixels = tile.labels(in_frame - tile.tile.tl()) == static_cast<double>(label);
      const cv::Rect tight = cv::boundingRect(pixels) + in_frame.tl();
      if (tight.empty()) continue;
      const cv::Point centre(tight.x + tight.width / 2, tight.y + tight.height / 2);
      if (!tile.core.contains(centre)) continue;  // the neighbouring tile owns it
      const nlohmann::json source_ref = {{"crowd", tile.identifier}, {"part", tile.part}, {"x", tile.x},
                                         {"y", tile.y}, {"frame", tile.frame}, {"label", label}};
      try {
        const cv::Mat mask = pixels(tight - in_frame.tl());
        if (masks_.add(*image, mask, tight, tag_id_, source_ref) == MaskImporter::Outcome::created) {
          ++report_.catalog.annotations;
        } else {
          ++report_.catalog.annotations_existing;
        }
      } catch (const Error& e) {
        report_.ingest.problems.push_back(fmt::format("{} object {} of tile ({}, {}) frame {}: {}", tile.raw_file.string(),
                                                      label, tile.x, tile.y, tile.frame, e.what()));
      }
    }
  }

 private:
  const std::optional<catalog::ImageRecord>& image_of(const fs::path& raw_file) {
    auto found = images_.find(raw_file);
    if (found != images_.end()) return found->second;
    CatalogImageMatch match =
        find_or_import_image(workspace_, project_, raw_file, "crowd ingest raw frame", options_.series_prefix);
    if (match.image) {
      ++report_.catalog.frames;
      report_.catalog.images_imported += match.imported ? 1 : 0;
    } else {
      report_.ingest.problems.push_back(match.problem);
    }
    return images_.emplace(raw_file, std::move(match.image)).first->second;
  }

  Workspace& workspace_;
  const CrowdCatalogOptions& options_;
  CrowdIngestReport& report_;
  MaskImporter masks_;
  catalog::Project project_;
  std::optional<catalog::Id> tag_id_;
  std::map<fs::path, std::optional<catalog::ImageRecord>> images_;
};

}  // namespace

nlohmann::json CrowdIngestReport::to_json() const {
  nlohmann::json npz = nlohmann::json::array();
  for (const auto& p : ingest.npz) npz.push_back(p.string());
  nlohmann::json out = {{"downloaded", ingest.downloaded},
                        {"reused", ingest.reused},
                        {"montages", ingest.montages},
                        {"movies", ingest.movies},
                        {"broken_rows", ingest.broken_rows},
                        {"broken_links_csv", ingest.broken_links_csv.empty() ? nlohmann::json() : nlohmann::json(ingest.broken_links_csv.string())},
                        {"reupload_csv", ingest.reupload_csv.empty() ? nlohmann::json() : nlohmann::json(ingest.reupload_csv.string())},
                        {"npz", npz},
                        {"problems", ingest.problems}};
  out["catalog"] = {{"frames", catalog.frames},
                    {"images_imported", catalog.images_imported},
                    {"annotations", catalog.annotations},
                    {"annotations_existing", catalog.annotations_existing}};
  return out;
}

CrowdIngestReport ingest_crowd_report_to_catalog(Workspace& workspace, CrowdIngestOptions options,
                                                 const CrowdCatalogOptions& catalog) {
  CrowdIngestReport report;
  CatalogStore store(workspace, catalog, report);
  auto downstream = options.on_frame;  // the caller's own callback (a job's progress) still runs
  options.on_frame = [&](const CrowdFrameTile& tile) {
    store.add(tile);
    if (downstream) downstream(tile);
  };
  CrowdIngestResult ingest = ingest_crowd_report(options);
  // Problems the store met came first; the ingest's own follow.
  ingest.problems.insert(ingest.problems.begin(), report.ingest.problems.begin(), report.ingest.problems.end());
  report.ingest = std::move(ingest);
  return report;
}

}  // namespace tessera::app
