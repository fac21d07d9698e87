#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

namespace tessera::exchange {

// The DeepCell crowd-annotation file conventions (formats.md 1.3-1.8): overlapping chopper, montage maker,
// their JSON logs, the file names both sides of the crowd job expect, and the natural sort every file list
// uses. Pure functions of images, names and JSON; no catalog, no network. Thread-safe.

// ---- natural sort (1.8) ----

// Text runs compared as strings, digit runs as integers; a proper prefix first; "f007" and "f7" tie.
bool natural_less(std::string_view a, std::string_view b);
// Stable, so ties keep their given order.
void natural_sort(std::vector<std::filesystem::path>& files);
// Regular files of folder whose names contain ".tif", ".png", ".jpg" or ".npz" (the pipeline's filter),
// natural-sorted by file name. Error{not_found} naming the folder when it is not a directory.
std::vector<std::filesystem::path> list_pipeline_images(const std::filesystem::path& folder);

// ---- overlapping chopper (1.3) ----

struct ChopperParams {
  int num_x_segments = 4;  // tile columns, >= 1
  int num_y_segments = 4;  // tile rows, >= 1
  int overlap_perc = 10;   // percent of a tile's step added on each side, [0, 100]
};

// Where the tiles of an image of original_y x original_x lie.
struct ChopperGeometry {
  ChopperParams params;
  int original_y = 0;
  int original_x = 0;
  int start_y = 0;  // step between tile rows: original_y / num_y_segments
  int start_x = 0;
  int overlap_y = 0;  // int(start_y * overlap_perc / 100)
  int overlap_x = 0;
  int tile_rows() const { return start_y + 2 * overlap_y; }
  int tile_cols() const { return start_x + 2 * overlap_x; }
};

// Error{invalid_argument} naming the parameter for counts < 1, overlap outside [0, 100] or an image
// smaller than one pixel per tile.
ChopperGeometry chopper_geometry(int rows, int cols, const ChopperParams& params);

// Tile (x index i, y index j): rows [j*start_y - overlap_y, (j+1)*start_y + overlap_y) and the same for
// columns, outside the image zero. Same type as the image. Error{invalid_argument} if the image's size is
// not the geometry's or i/j are out of range.
cv::Mat chop_tile(const cv::Mat& image, const ChopperGeometry& geometry, int i, int j);

// The chopper log's JSON (every parameter; `date` as given) and its reader. read_* throws
// Error{invalid_argument} naming `source` and the missing or malformed key.
nlohmann::json chopper_log(const ChopperGeometry& geometry, std::string_view identifier, std::string_view date,
                           int num_images);
ChopperGeometry parse_chopper_log(const nlohmann::json& log, std::string_view source);

// ---- montage maker (1.4) and its inverse (1.7) ----

struct MontageParams {
  int montage_len = 10;  // frames per montage, >= 1
  int row_length = 5;    // frames per montage row, >= 1, divides montage_len (see formats.md's quirk)
  int x_buffer = 10;     // zero columns between and around frames, >= 0
  int y_buffer = 10;
};

// Error{invalid_argument} naming the parameter.
void validate(const MontageParams& params);
int montage_rows(const MontageParams& params, int frame_rows);  // num_rows*y_dim + (num_rows+1)*y_buffer
int montage_cols(const MontageParams& params, int frame_cols);
// Where frame k (0-based within its montage) sits.
cv::Rect montage_slot(const MontageParams& params, int frame_rows, int frame_cols, int k);

// Lays montage_len frames (one size, one type, one channel) out on a zero background of their type.
// Error{invalid_argument} for the wrong frame count or mixed sizes/types.
cv::Mat make_montage(std::span<const cv::Mat> frames, const MontageParams& params);

// Cuts a montage back into its montage_len frames of frame_rows x frame_cols (copies, montage's type).
// Error{invalid_argument} naming `source` and both sizes when the montage is not exactly the size those
// parameters give (a montage that disagrees with its log).
std::vector<cv::Mat> split_montage(const cv::Mat& montage, const MontageParams& params, int frame_rows,
                                   int frame_cols, std::string_view source);

nlohmann::json montage_log(const MontageParams& params, const ChopperParams& chopper, std::string_view identifier,
                           std::string_view date, int montages_in_pos);
struct MontageLog {
  MontageParams params;
  int num_x_segments = 0;
  int num_y_segments = 0;
  int montages_in_pos = 0;
};
MontageLog parse_montage_log(const nlohmann::json& log, std::string_view source);

// ---- names ----

// "<id>_overlapping_chopper_log.json" and "<id>_montage_maker_log.json" (in <base>/json_logs/).
std::string chopper_log_name(std::string_view identifier);
std::string montage_log_name(std::string_view identifier);
// "{id}_x_{XX}_y_{YY}_frame_{FFF}{ext}" (chopper output, movie mode).
std::string chopped_frame_name(std::string_view identifier, int x, int y, int frame, std::string_view ext);
// "{id}_x_{x}_y_{y}_montage_{m}.png", unpadded as the post-annotation side expects.
std::string montage_name(std::string_view identifier, int x, int y, int montage);
// "x_{XX}_y_{YY}"
std::string position_folder(int x, int y);
// Annotated and raw movie frames: "{id}_x_{XX}_y_{YY}_frame_{FFF}.png", "{id}_raw_x_{XX}_y_{YY}_frame_{FFF}.tif".
std::string annotated_frame_name(std::string_view identifier, int x, int y, int frame);
std::string raw_frame_name(std::string_view identifier, int x, int y, int frame);

// A montage stem "{id}_x_{x}_y_{y}_montage_{m}" taken apart; empty when the stem does not have that form.
struct MontageKey {
  std::string identifier;
  int x = 0;
  int y = 0;
  int montage = 0;
  friend bool operator==(const MontageKey&, const MontageKey&) = default;
};
std::optional<MontageKey> parse_montage_stem(std::string_view stem);

}  // namespace tessera::exchange
