#pragma once

// What tracking, export and the pipeline's tracks writer share about a series' frames and objects.

#include <cstdint>
#include <opencv2/core.hpp>
#include <vector>

#include "tessera/blob/blob_store.hpp"
#include "tessera/catalog/tracks.hpp"
#include "tessera/track/objects.hpp"

namespace tessera::app {

// A series checked for tracking: at least two images, each one page with a frame index of its own, all
// of one size.
struct SeriesFrames {
  catalog::Series series;
  std::vector<catalog::SeriesImage> images;  // by frame index
  cv::Size size;
};

// Error{invalid_argument} / Error{unsupported} naming the series, the frame and the image's path.
SeriesFrames checked_series_frames(catalog::TrackStore& store, catalog::Id series_id);

// The object's mask (CV_8UC1, its box's size, nonzero inside). Error{not_found} when the blob is
// missing, Error{corrupt} when it does not decode to a one-channel image of the box's size.
cv::Mat object_mask(const blob::BlobStore& blobs, const catalog::SeriesObject& object);

// The object as the tracker sees it, labelled with its catalog id (Error{unsupported} above 2^31 - 1).
track::ObjectDesc describe_object(const blob::BlobStore& blobs, const catalog::SeriesObject& object);

// A catalog id as a track-layer id (tracks and labels are 32-bit there).
std::int32_t as_track_id(catalog::Id id, const char* what);

}  // namespace tessera::app
