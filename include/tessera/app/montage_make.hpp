#pragma once

#include <filesystem>
#include <string>

#include "tessera/exchange/montage.hpp"

namespace tessera::app {

// The pre-annotation side of a crowd job (formats.md 1.3, 1.4): chop every raw frame into overlapping tiles
// and lay consecutive frames of each tile position side by side into montages for annotators.
struct MontageMakeOptions {
  std::filesystem::path raw;  // folder of frames (one channel), natural-sorted = frame order
  std::string identifier;     // names every output; 1..64 of [A-Za-z0-9.-] and '_' (no "/")
  exchange::ChopperParams chopper;
  exchange::MontageParams montage;
  std::filesystem::path base;  // empty = the raw folder's parent (json_logs/, montages/, <id>.csv go here)
  std::string url_prefix;      // upload list URLs = prefix + montage file name; empty = file:// URLs
  std::string date;            // recorded in the logs; empty = now (UTC, ISO 8601)
};

struct MontageMakeResult {
  std::filesystem::path chopped;      // <raw>_chopped_{NX:02}_{NY:02}: {id}_x_XX_y_YY_frame_FFF{ext}
  std::filesystem::path montages;     // <base>/montages: {id}_x_{x}_y_{y}_montage_{m}.png
  std::filesystem::path chopper_log;  // <base>/json_logs/{id}_overlapping_chopper_log.json
  std::filesystem::path montage_log;  // <base>/json_logs/{id}_montage_maker_log.json
  std::filesystem::path upload_csv;   // <base>/{id}.csv: image_url,identifier
  int frames = 0;
  int tiles = 0;
  int montages_in_pos = 0;
  int montage_count = 0;
};

// PNG/JPEG tiles are min-max stretched to 0..255 (uint8) as the reference writes them, TIFF tiles keep their
// values; montages are PNGs of the stretched tiles. Frames beyond montages_in_pos * montage_len are chopped
// but not put in montages. Error{invalid_argument} naming the option or the frame (size or channels unlike
// the first); Error{not_found} for a missing or empty raw folder.
MontageMakeResult make_montages(const MontageMakeOptions& options);

// A tile as the chopper writes it to PNG: min..max -> 0..255 (all zero when flat).
cv::Mat stretch_to_u8(const cv::Mat& tile);

}  // namespace tessera::app
