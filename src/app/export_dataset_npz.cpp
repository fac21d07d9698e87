// DeepCell training data (formats.md 1.2): X float32 and y int32, channels last, stored as numpy.savez
// does. Frames are streamed through NpzWriter, so memory stays at one image whatever the set's size.
#include <map>

#include <fmt/format.h>

#include "app/export_dataset_items.hpp"
#include "tessera/app/track_series.hpp"
#include "tessera/catalog/tracks.hpp"
#include "tessera/core/error.hpp"
#include "tessera/exchange/npz.hpp"

namespace tessera::app {
namespace {

void check_same_shape(const DatasetContents& contents) {
  const auto& first = contents.images.front().record;
  for (const auto& image : contents.images) {
    const auto& r = image.record;
    if (r.width != first.width || r.height != first.height || r.channels != first.channels) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("npz export: image {} ({}) is {}x{} with {} channels but image {} is {}x{} with {}; "
                              "an npz holds images of one size",
                              r.id, r.source_path, r.width, r.height, r.channels, first.id, first.width, first.height,
                              first.channels));
    }
  }
}

// Movies of a 3d export: the set's images grouped by series, each in frame-index order.
std::vector<std::vector<const DatasetImage*>> movies_of(const DatasetContents& contents) {
  std::map<catalog::Id, std::vector<const DatasetImage*>> by_series;
  for (const auto& image : contents.images) {
    if (!image.record.series_id) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("npz export --dims 3d: image {} ({}) belongs to no series", image.record.id,
                              image.record.source_path),
                  {{"field", "dims"}});
    }
    by_series[*image.record.series_id].push_back(&image);
  }
  std::vector<std::vector<const DatasetImage*>> movies;
  for (auto& [series_id, frames] : by_series) {
    std::stable_sort(frames.begin(), frames.end(), [](const DatasetImage* a, const DatasetImage* b) {
      return a->record.frame_index.value_or(0) < b->record.frame_index.value_or(0);
    });
    if (!movies.empty() && frames.size() != movies.front().size()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("npz export --dims 3d: series '{}' has {} frames in the set but series '{}' has {}; "
                              "every movie of an npz has the same number of frames",
                              frames.front()->record.series_name.value_or("?"), frames.size(),
                              movies.front().front()->record.series_name.value_or("?"), movies.front().size()));
    }
    movies.push_back(frames);
  }
  return movies;
}

// The y frames of a 3d movie whose series has tracks: each frame painted with track numbers (series_movie:
// 1..N over the whole series), so one cell keeps one id through the movie. Empty when the series has no
// tracks: the frames are then labelled per image from the annotations, as in 2d.
std::map<catalog::Id, cv::Mat> track_labels(Workspace& workspace, catalog::Id series_id) {
  catalog::TrackStore store(workspace.catalog());
  if (store.list(series_id).empty()) return {};
  const track::TrackedMovie movie = series_movie(workspace, series_id, false);
  const std::vector<catalog::SeriesImage> images = store.series_images(series_id);  // the movie's frame order
  std::map<catalog::Id, cv::Mat> by_image;
  for (size_t t = 0; t < images.size() && t < movie.labels.size(); ++t) by_image.emplace(images[t].id, movie.labels[t]);
  return by_image;
}

}  // namespace

void write_npz_export(Workspace& workspace, const ExportDatasetOptions& options, const DatasetContents& contents,
                      ExportDatasetReport& report) {
  check_same_shape(contents);
  const auto& first = contents.images.front().record;
  const uint64_t rows = uint64_t(first.height), cols = uint64_t(first.width);
  const uint64_t channels = uint64_t(std::max(1, first.channels));
  std::vector<std::vector<const DatasetImage*>> movies;
  std::vector<uint64_t> x_item{rows, cols, channels}, y_item{rows, cols, 1};
  if (options.dims == "3d") {
    movies = movies_of(contents);
    x_item.insert(x_item.begin(), movies.front().size());
    y_item.insert(y_item.begin(), movies.front().size());
  } else {
    for (const auto& image : contents.images) movies.push_back({&image});
  }
  if (!options.out.parent_path().empty()) std::filesystem::create_directories(options.out.parent_path());
  exchange::NpzWriter npz(options.out);
  exchange::NpyStream& x = npz.begin("X", exchange::NpyType::f32, x_item);
  exchange::NpyStream& y = npz.begin("y", exchange::NpyType::i32, y_item);
  size_t done = 0;
  for (const auto& movie : movies) {
    std::map<catalog::Id, cv::Mat> tracked;
    if (options.dims == "3d") tracked = track_labels(workspace, *movie.front()->record.series_id);
    for (const DatasetImage* image : movie) {
      cv::Mat pixels = load_image_pixels(workspace, image->record);
      if (pixels.depth() != CV_32F) pixels.convertTo(pixels, CV_32F);
      x.append(pixels);
      const auto track_frame = tracked.find(image->record.id);
      y.append(track_frame != tracked.end() ? track_frame->second : label_image(*image));
      report_progress(options, 0.3 + 0.6 * double(++done) / double(contents.images.size()), "writing frames");
    }
  }
  npz.finish();
  report.files.push_back(options.out);
}

}  // namespace tessera::app
