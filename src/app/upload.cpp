#include "tessera/app/upload.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "tessera/core/error.hpp"
#include "tessera/core/sha256.hpp"
#include "tessera/image/decode.hpp"

namespace tessera::app {
namespace {

void check_upload_name(const std::string& name) {
  if (name.empty()) throw Error(ErrorCode::invalid_argument, "upload: the file name is empty", nlohmann::json{{"field", "name"}});
  if (name.size() > 1000) {
    throw Error(ErrorCode::invalid_argument, "upload: the file name is longer than 1000 characters", nlohmann::json{{"field", "name"}});
  }
  for (unsigned char c : name) {
    if (c < 0x20) {
      throw Error(ErrorCode::invalid_argument, "upload: the file name holds a control character", nlohmann::json{{"field", "name"}});
    }
  }
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

}  // namespace

UploadResult upload_image(Workspace& workspace, catalog::Id project_id, const Upload& upload) {
  check_upload_name(upload.name);
  if (!upload.metadata.is_object()) {
    throw Error(ErrorCode::invalid_argument, "upload: metadata must be a JSON object", nlohmann::json{{"field", "metadata"}});
  }
  if (upload.frame_index && *upload.frame_index < 0) {
    throw Error(ErrorCode::invalid_argument, "upload: frame must be >= 0", nlohmann::json{{"field", "frame"}});
  }
  if (upload.frame_index && !upload.series) {
    throw Error(ErrorCode::invalid_argument, "upload: a frame index needs a series", nlohmann::json{{"field", "frame"}});
  }
  if (upload.bytes.empty()) throw Error(ErrorCode::corrupt, fmt::format("upload '{}' is empty", upload.name));

  catalog::Catalog& catalog = workspace.catalog();
  const std::string hash = sha256_hex(upload.bytes);
  catalog::ImageQuery same;
  same.project_id = project_id;
  same.blob_hash = hash;
  same.limit = 1;
  if (auto existing = catalog.list_images(same); !existing.empty()) return UploadResult{existing.front(), false, std::nullopt};

  image::ImportDecode decoded;
  try {
    decoded = image::decode_for_import(upload.bytes, upload.name);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(ErrorCode::corrupt, fmt::format("upload '{}' cannot be decoded: {}", upload.name, e.what()));
  }
  workspace.blobs().put_hashed(upload.bytes, hash);

  catalog::NewImage image;
  image.blob_hash = hash;
  image.source_path = "upload/" + upload.name;
  image.format = decoded.info.format;
  image.byte_size = static_cast<std::int64_t>(upload.bytes.size());
  image.width = decoded.info.width;
  image.height = decoded.info.height;
  image.channels = decoded.info.channels;
  image.pixel_type = std::string(image::to_string(decoded.info.pixel_type));
  image.frames = decoded.info.frames;
  image.acquired_at = decoded.info.acquired_at;
  image.focus = decoded.focus;
  image.metadata = upload.metadata;
  if (upload.series) image.series = catalog::SeriesRef{*upload.series, "timelapse", nlohmann::json::object()};
  image.frame_index = upload.frame_index;

  auto added = catalog.add_images(project_id, {image});
  const catalog::Id id = added.added.empty() ? added.already_present.front() : added.added.front();
  UploadResult result{catalog.get_image(id), !added.added.empty(), std::nullopt};

  if (result.created && result.record.series_id && result.record.focus) {
    const auto earlier = catalog.recent_focus(*result.record.series_id, id, kFocusWindow);
    if (earlier.size() >= 3) {
      const double med = median(earlier);
      if (med > 0 && *result.record.focus < kFocusDropRatio * med) {
        nlohmann::json payload{{"image_id", id},
                               {"series", *result.record.series_name},
                               {"focus", *result.record.focus},
                               {"rolling_median", med},
                               {"ratio", *result.record.focus / med},
                               {"window", earlier.size()}};
        if (result.record.frame_index) payload["frame"] = *result.record.frame_index;
        catalog.add_event(project_id, catalog::NewEvent{"qc.focus_drop", upload.actor, "image", id, payload});
        result.focus_alert = payload;
      }
    }
  }
  return result;
}

}  // namespace tessera::app
