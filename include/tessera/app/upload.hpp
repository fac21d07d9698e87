#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tessera/app/workspace.hpp"

namespace tessera::app {

// An image arriving over the network (the microscope laptop uploading while the experiment runs).
struct Upload {
  std::string name;                         // the client's file name; the record's source path is "upload/NAME"
  std::string bytes;
  nlohmann::json metadata = nlohmann::json::object();
  std::optional<std::string> series;        // joins (or starts) this time-lapse series
  std::optional<std::int64_t> frame_index;
  std::optional<std::string> actor;         // user name for the feed
};

struct UploadResult {
  catalog::ImageRecord record;
  bool created = false;                     // false: the same bytes were already in the project
  std::optional<nlohmann::json> focus_alert;  // the qc.focus_drop event's payload when one was raised
};

// A focus score below this fraction of its series' rolling median raises qc.focus_drop.
inline constexpr double kFocusDropRatio = 0.5;
// How many earlier frames the rolling median looks at (at least 3 are needed to judge).
inline constexpr int kFocusWindow = 10;

// Verifies (full decode, so a truncated or non-image body is refused before anything is stored), stores the
// bytes as a blob, then records the image and its 'image.imported' event in one transaction. Content the
// project already holds returns that record unchanged. Error{unsupported} for a format no loader knows,
// Error{corrupt} for damaged data, Error{invalid_argument} for a bad name or metadata.
UploadResult upload_image(Workspace& workspace, catalog::Id project_id, const Upload& upload);

}  // namespace tessera::app
