// A series' tracks out of the catalog as a tracked movie (label images + lineage), for the exchange
// formats of track/: Cell Tracking Challenge folders and deepcell .trk files.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "tessera/app/track_series.hpp"
#include "tessera/core/error.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/track/ctc.hpp"
#include "tessera/track/trk.hpp"
#include "track_series_frames.hpp"

namespace tessera::app {

track::TrackedMovie series_movie(Workspace& workspace, catalog::Id series_id, bool raw) {
  catalog::TrackStore store(workspace.catalog());
  const SeriesFrames frames = checked_series_frames(store, series_id);
  const std::vector<catalog::TrackRecord> records = store.list(series_id);
  if (records.empty()) {
    throw Error(ErrorCode::not_found,
                fmt::format("series '{}' has no tracks: track it first (tessera track --series {})", frames.series.name,
                            frames.series.name));
  }
  // Exchange formats want small labels (16-bit in the Cell Tracking Challenge): number the tracks 1..N.
  std::map<catalog::Id, std::int32_t> number;
  for (const catalog::TrackRecord& t : records) number.emplace(t.id, static_cast<std::int32_t>(number.size() + 1));
  std::map<catalog::Id, int> position;  // image -> movie frame
  for (const catalog::SeriesImage& image : frames.images) position.emplace(image.id, static_cast<int>(position.size()));

  track::TrackedMovie movie;
  for (size_t t = 0; t < frames.images.size(); ++t) movie.labels.push_back(cv::Mat::zeros(frames.size, CV_32SC1));
  std::map<std::int32_t, std::pair<int, int>> extent;  // track number -> first and last movie frame
  for (const catalog::SeriesObject& o : store.tracked_objects(series_id)) {
    if (!o.mask_blob) {
      throw Error(ErrorCode::unsupported,
                  fmt::format("object {} (frame {}) has no mask; exporting tracks paints masks (store them with the "
                              "catalog writer's \"mask\")",
                              o.id, o.frame));
    }
    const auto found = number.find(*o.track_id);
    if (found == number.end()) continue;  // a track added since the list was read
    const int t = position.at(o.image_id);
    const cv::Rect box(static_cast<int>(o.bbox_x0), static_cast<int>(o.bbox_y0),
                       static_cast<int>(o.bbox_x1 - o.bbox_x0), static_cast<int>(o.bbox_y1 - o.bbox_y0));
    if ((box & cv::Rect(cv::Point(0, 0), frames.size)) != box) {
      throw Error(ErrorCode::corrupt,
                  fmt::format("object {} (frame {}): its box [{}, {}, {}, {}) leaves the {}x{} image", o.id, o.frame,
                              o.bbox_x0, o.bbox_y0, o.bbox_x1, o.bbox_y1, frames.size.width, frames.size.height));
    }
    cv::Mat region = movie.labels[static_cast<size_t>(t)](box);
    region.setTo(found->second, object_mask(workspace.blobs(), o));
    auto [it, added] = extent.emplace(found->second, std::make_pair(t, t));
    if (!added) {
      it->second.first = std::min(it->second.first, t);
      it->second.second = std::max(it->second.second, t);
    }
  }
  std::map<std::int32_t, int> daughters;
  for (const catalog::TrackRecord& r : records) {
    if (r.parent_id && number.count(*r.parent_id)) ++daughters[number.at(*r.parent_id)];
  }
  for (const catalog::TrackRecord& r : records) {
    const std::int32_t id = number.at(r.id);
    const auto e = extent.find(id);
    if (e == extent.end()) continue;  // no object left (its images were deleted)
    track::Track track;
    track.id = id;
    track.begin = e->second.first;
    track.end = e->second.second;
    track.parent = r.parent_id && number.count(*r.parent_id) && extent.count(number.at(*r.parent_id))
                       ? number.at(*r.parent_id)
                       : 0;
    track.capped = daughters.count(id) > 0;
    movie.tracks.push_back(track);
  }
  std::sort(movie.tracks.begin(), movie.tracks.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  if (raw) {
    for (const catalog::SeriesImage& image : frames.images) {
      const image::Image decoded = image::decode(workspace.blobs().get(image.blob_hash), image.source_path);
      movie.raw.push_back(decoded.frames.front());
    }
  }
  track::MovieNames names;
  names.frame = [&](int t) {
    const catalog::SeriesImage& image = frames.images.at(static_cast<size_t>(t));
    return fmt::format("frame {} ({})", *image.frame_index, image.source_path);
  };
  names.lineage = fmt::format("tracks of series '{}'", frames.series.name);
  track::validate(movie, false, names);
  return movie;
}

TrackExportSummary export_series_tracks(Workspace& workspace, catalog::Id series_id, const std::filesystem::path& out,
                                        track::SeriesFormat format, bool raw) {
  if (track::format_of(out) != format) {
    throw Error(ErrorCode::invalid_argument,
                format == track::SeriesFormat::trk
                    ? fmt::format("format trk writes a .trk file; '{}' does not end in .trk", out.string())
                    : fmt::format("format ctc writes a folder; '{}' ends in .trk", out.string()));
  }
  const track::TrackedMovie movie = series_movie(workspace, series_id, raw);
  track::write_movie(out, movie);
  TrackExportSummary summary;
  summary.frames = static_cast<int>(movie.labels.size());
  summary.tracks = static_cast<int>(movie.tracks.size());
  for (const cv::Mat& labels : movie.labels) {
    std::vector<std::int32_t> seen(labels.begin<std::int32_t>(), labels.end<std::int32_t>());
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    summary.objects +=
        static_cast<std::int64_t>(std::count_if(seen.begin(), seen.end(), [](auto v) { return v != 0; }));
  }
  return summary;
}

}  // namespace tessera::app
