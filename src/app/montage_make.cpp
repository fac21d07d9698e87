// `tessera montage make`: chopper + montage maker with their logs and the upload list (formats.md 1.3-1.4).
#include "tessera/app/montage_make.hpp"

#include <cctype>
#include <chrono>
#include <optional>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "tessera/core/csv.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/image/encode.hpp"

namespace tessera::app {
namespace {

namespace fs = std::filesystem;

void check_identifier(const std::string& id) {
  bool ok = !id.empty() && id.size() <= 64 && id != "." && id != "..";
  for (char c : id) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_');
  if (!ok) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("montage: identifier must be 1..64 of [A-Za-z0-9._-], got '{}'", id));
  }
}

std::string now_utc() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Percent-escapes what a file URL path may not hold as is.
std::string file_url(const fs::path& path) {
  std::string url = "file://";
  for (unsigned char c : fs::absolute(path).lexically_normal().string()) {
    if (std::isalnum(c) || c == '/' || c == '.' || c == '-' || c == '_' || c == '~') {
      url += static_cast<char>(c);
    } else {
      url += fmt::format("%{:02X}", c);
    }
  }
  return url;
}

}  // namespace

cv::Mat stretch_to_u8(const cv::Mat& tile) {
  double lo = 0;
  double hi = 0;
  cv::minMaxLoc(tile, &lo, &hi);
  cv::Mat out;
  if (hi <= lo) return cv::Mat::zeros(tile.size(), CV_8UC1);
  tile.convertTo(out, CV_8U, 255.0 / (hi - lo), -lo * 255.0 / (hi - lo));
  return out;
}

MontageMakeResult make_montages(const MontageMakeOptions& options) {
  check_identifier(options.identifier);
  exchange::validate(options.montage);
  std::vector<fs::path> files = exchange::list_pipeline_images(options.raw);
  if (files.empty()) throw Error(ErrorCode::not_found, fmt::format("{}: no images", options.raw.string()));
  const auto& p = options.montage;
  const std::string& id = options.identifier;
  fs::path raw = options.raw.lexically_normal();
  if (raw.filename().empty()) raw = raw.parent_path();
  fs::path base = options.base.empty() ? raw.parent_path() : options.base;
  if (base.empty()) base = ".";

  MontageMakeResult result;
  result.frames = static_cast<int>(files.size());
  result.montages_in_pos = result.frames / p.montage_len;
  result.chopped = raw.parent_path() / fmt::format("{}_chopped_{:02}_{:02}", raw.filename().string(),
                                                   options.chopper.num_x_segments, options.chopper.num_y_segments);
  result.montages = base / "montages";
  fs::create_directories(result.chopped);
  fs::create_directories(result.montages);
  fs::create_directories(base / "json_logs");

  std::optional<exchange::ChopperGeometry> geometry;
  int nx = options.chopper.num_x_segments;
  int ny = options.chopper.num_y_segments;
  // montage_frames[position][k]: the stretched tiles of the montage being filled.
  std::vector<std::vector<cv::Mat>> montage_frames(static_cast<size_t>(nx * ny));
  std::string upload = "image_url,identifier\n";
  for (int f = 0; f < result.frames; ++f) {
    const fs::path& file = files[static_cast<size_t>(f)];
    image::Image decoded = image::decode(read_file(file), file.string());
    const cv::Mat& frame = decoded.frames.front();
    if (frame.channels() != 1) {
      throw Error(ErrorCode::invalid_argument, fmt::format("{}: {} channels, expected one", file.string(), frame.channels()));
    }
    if (!geometry) geometry = exchange::chopper_geometry(frame.rows, frame.cols, options.chopper);
    if (frame.rows != geometry->original_y || frame.cols != geometry->original_x) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: {}x{}, the first frame is {}x{}", file.string(), frame.cols, frame.rows,
                              geometry->original_x, geometry->original_y));
    }
    std::string ext = file.extension().string();
    bool keeps_values = lower(ext).starts_with(".tif");
    for (int i = 0; i < nx; ++i) {
      for (int j = 0; j < ny; ++j) {
        cv::Mat tile = exchange::chop_tile(frame, *geometry, i, j);
        cv::Mat stretched = stretch_to_u8(tile);
        image::write_image(result.chopped / exchange::chopped_frame_name(id, i, j, f, ext), keeps_values ? tile : stretched);
        ++result.tiles;
        if (f >= result.montages_in_pos * p.montage_len) continue;
        auto& slot = montage_frames[static_cast<size_t>(i * ny + j)];
        slot.push_back(stretched);
        if (static_cast<int>(slot.size()) == p.montage_len) {
          std::string name = exchange::montage_name(id, i, j, f / p.montage_len);
          image::write_image(result.montages / name, exchange::make_montage(slot, p));
          upload += fmt::format("{},{}\n", csv_field(options.url_prefix.empty() ? file_url(result.montages / name)
                                                                                 : options.url_prefix + name),
                                csv_field(id));
          ++result.montage_count;
          slot.clear();
        }
      }
    }
  }
  std::string date = options.date.empty() ? now_utc() : options.date;
  result.chopper_log = base / "json_logs" / exchange::chopper_log_name(id);
  result.montage_log = base / "json_logs" / exchange::montage_log_name(id);
  result.upload_csv = base / (id + ".csv");
  write_file_atomic(result.chopper_log, exchange::chopper_log(*geometry, id, date, result.frames).dump(2));
  write_file_atomic(result.montage_log,
                    exchange::montage_log(p, options.chopper, id, date, result.montages_in_pos).dump(2));
  write_file_atomic(result.upload_csv, upload);
  return result;
}

}  // namespace tessera::app
