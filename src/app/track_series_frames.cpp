#include "track_series_frames.hpp"

#include <fmt/format.h>

#include <limits>
#include <opencv2/imgcodecs.hpp>

#include "tessera/core/error.hpp"

namespace tessera::app {

SeriesFrames checked_series_frames(catalog::TrackStore& store, catalog::Id series_id) {
  SeriesFrames out;
  out.series = store.get_series(series_id);
  out.images = store.series_images(series_id);
  const std::string& name = out.series.name;
  for (const catalog::SeriesImage& image : out.images) {
    if (!image.frame_index) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("series '{}': image {} ({}) has no frame index; tracking needs each image's place in "
                              "the series (import with --frame-by, or upload with a frame)",
                              name, image.id, image.source_path));
    }
    if (image.frames != 1) {
      throw Error(ErrorCode::unsupported,
                  fmt::format("series '{}': image {} ({}) holds {} frames; tracking works on series of one-frame "
                              "images",
                              name, image.id, image.source_path, image.frames));
    }
  }
  for (size_t i = 1; i < out.images.size(); ++i) {
    const catalog::SeriesImage& a = out.images[i - 1];
    const catalog::SeriesImage& b = out.images[i];
    if (a.frame_index == b.frame_index) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("series '{}': images {} ({}) and {} ({}) are both frame {}", name, a.id, a.source_path,
                              b.id, b.source_path, *a.frame_index));
    }
    const catalog::SeriesImage& first = out.images.front();
    if (b.width != first.width || b.height != first.height) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("series '{}': frame {} ({}) is {}x{} while frame {} ({}) is {}x{}; the image size must "
                              "not change mid-series",
                              name, *b.frame_index, b.source_path, b.width, b.height, *first.frame_index,
                              first.source_path, first.width, first.height));
    }
  }
  if (out.images.size() < 2) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("series '{}' has {} frame{}; tracking needs at least 2", name, out.images.size(),
                            out.images.size() == 1 ? fmt::format(" ({})", out.images.front().source_path) : "s"));
  }
  out.size = cv::Size(out.images.front().width, out.images.front().height);
  return out;
}

cv::Mat object_mask(const blob::BlobStore& blobs, const catalog::SeriesObject& object) {
  const std::optional<std::string> bytes = blobs.find(*object.mask_blob);
  if (!bytes) {
    throw Error(ErrorCode::not_found, fmt::format("object {}: its mask blob {} is missing from the blob store",
                                                  object.id, *object.mask_blob));
  }
  // OpenCV directly: masks are small PNGs that image::encode wrote, and the general decoder's libvips
  // header read costs more than the decode itself, once per object.
  const std::vector<std::uint8_t> buffer(bytes->begin(), bytes->end());
  const cv::Mat m = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
  if (m.empty())
    throw Error(ErrorCode::corrupt, fmt::format("object {}: its mask does not decode as an image", object.id));
  const cv::Size box(static_cast<int>(object.bbox_x1 - object.bbox_x0),
                     static_cast<int>(object.bbox_y1 - object.bbox_y0));
  if (m.channels() != 1 || m.size() != box) {
    throw Error(ErrorCode::corrupt, fmt::format("object {}: its mask is {}x{} with {} channels, its box {}x{}",
                                                object.id, m.cols, m.rows, m.channels(), box.width, box.height));
  }
  cv::Mat mask;
  cv::compare(m, 0, mask, cv::CMP_NE);
  return mask;
}

std::int32_t as_track_id(catalog::Id id, const char* what) {
  if (id < 1 || id > std::numeric_limits<std::int32_t>::max()) {
    throw Error(ErrorCode::unsupported, fmt::format("{} id {} is beyond what tracking handles (2^31 - 1)", what, id));
  }
  return static_cast<std::int32_t>(id);
}

track::ObjectDesc describe_object(const blob::BlobStore& blobs, const catalog::SeriesObject& object) {
  track::ObjectDesc d;
  d.label = as_track_id(object.id, "object");
  d.bbox = {static_cast<std::int32_t>(object.bbox_y0), static_cast<std::int32_t>(object.bbox_x0),
            static_cast<std::int32_t>(object.bbox_y1), static_cast<std::int32_t>(object.bbox_x1)};
  const nlohmann::json& f = object.features;
  auto number = [&](const char* key) -> std::optional<double> {
    auto it = f.find(key);
    if (it == f.end() || !it->is_number()) return std::nullopt;
    return it->get<double>();
  };
  if (auto intensity = number("intensity_mean")) d.intensity_mean = *intensity;
  if (object.mask_blob) {
    // The pixels decide: area, centroid and the runs the tracker's overlap needs.
    const cv::Mat mask = object_mask(blobs, object);
    double row_sum = 0, col_sum = 0;
    for (int r = 0; r < mask.rows; ++r) {
      const auto* p = mask.ptr<std::uint8_t>(r);
      for (int c = 0; c < mask.cols;) {
        if (p[c] == 0) {
          ++c;
          continue;
        }
        const int begin = c;
        while (c < mask.cols && p[c] != 0) ++c;
        const std::int32_t row = d.bbox[0] + r;
        d.runs.push_back({row, d.bbox[1] + begin, d.bbox[1] + c});
        const std::int64_t n = c - begin;
        d.area += n;
        row_sum += static_cast<double>(row) * static_cast<double>(n);
        // Sum of columns begin..c-1.
        col_sum += static_cast<double>(n) * (d.bbox[1] + begin + d.bbox[1] + c - 1) / 2.0;
      }
    }
    if (d.area == 0) throw Error(ErrorCode::invalid_argument, fmt::format("object {} has an empty mask", object.id));
    d.row = row_sum / static_cast<double>(d.area);
    d.col = col_sum / static_cast<double>(d.area);
    return d;
  }
  const double box_area =
      static_cast<double>(object.bbox_x1 - object.bbox_x0) * static_cast<double>(object.bbox_y1 - object.bbox_y0);
  const double area = number("area").value_or(box_area);
  if (!(area >= 1)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("object {} has no area (no mask, feature 'area' {}, box {}x{})", object.id, area,
                            object.bbox_x1 - object.bbox_x0, object.bbox_y1 - object.bbox_y0));
  }
  d.area = static_cast<std::int64_t>(std::llround(area));
  d.row = number("centroid-0").value_or(0.5 * static_cast<double>(object.bbox_y0 + object.bbox_y1 - 1));
  d.col = number("centroid-1").value_or(0.5 * static_cast<double>(object.bbox_x0 + object.bbox_x1 - 1));
  return d;
}

}  // namespace tessera::app
