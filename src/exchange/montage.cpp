// Montage maker and its inverse (formats.md 1.4, 1.7).
#include <cmath>

#include <fmt/format.h>

#include "exchange/montage_json.hpp"
#include "tessera/core/error.hpp"
#include "tessera/exchange/montage.hpp"

namespace tessera::exchange {
namespace {

int rows_of_frames(const MontageParams& p) { return (p.montage_len + p.row_length - 1) / p.row_length; }

}  // namespace

int json_int(const nlohmann::json& log, std::string_view key, std::string_view source) {
  if (!log.is_object()) throw Error(ErrorCode::invalid_argument, fmt::format("{}: not a JSON object", source));
  auto it = log.find(std::string(key));
  if (it == log.end()) throw Error(ErrorCode::invalid_argument, fmt::format("{}: missing '{}'", source, key));
  if (it->is_number_integer()) return it->get<int>();
  if (it->is_number_float()) {
    double v = it->get<double>();
    if (std::floor(v) == v && std::abs(v) < 1e9) return static_cast<int>(v);
  }
  throw Error(ErrorCode::invalid_argument, fmt::format("{}: '{}' must be an integer, got {}", source, key, it->dump()));
}

void validate(const MontageParams& p) {
  auto bad = [](std::string_view name, int value, std::string_view rule) {
    throw Error(ErrorCode::invalid_argument, fmt::format("montage: {} must be {}, got {}", name, rule, value));
  };
  if (p.montage_len < 1) bad("montage_len", p.montage_len, ">= 1");
  if (p.row_length < 1) bad("row_length", p.row_length, ">= 1");
  // The reference fills every slot of every row, pulling in the next montage's frames otherwise.
  if (p.montage_len % p.row_length != 0) bad("montage_len", p.montage_len, "a multiple of row_length");
  if (p.x_buffer < 0) bad("x_buffer", p.x_buffer, ">= 0");
  if (p.y_buffer < 0) bad("y_buffer", p.y_buffer, ">= 0");
}

int montage_rows(const MontageParams& p, int frame_rows) {
  int n = rows_of_frames(p);
  return n * frame_rows + (n + 1) * p.y_buffer;
}

int montage_cols(const MontageParams& p, int frame_cols) {
  return p.row_length * frame_cols + (p.row_length + 1) * p.x_buffer;
}

cv::Rect montage_slot(const MontageParams& p, int frame_rows, int frame_cols, int k) {
  int row = k / p.row_length;
  int col = k % p.row_length;
  return {p.x_buffer + (p.x_buffer + frame_cols) * col, p.y_buffer + (p.y_buffer + frame_rows) * row, frame_cols,
          frame_rows};
}

cv::Mat make_montage(std::span<const cv::Mat> frames, const MontageParams& p) {
  validate(p);
  if (static_cast<int>(frames.size()) != p.montage_len) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("montage: {} frames given, montage_len is {}", frames.size(), p.montage_len));
  }
  const cv::Mat& first = frames.front();
  if (first.channels() != 1) {
    throw Error(ErrorCode::invalid_argument, fmt::format("montage: frames must have one channel, got {}", first.channels()));
  }
  cv::Mat montage = cv::Mat::zeros(montage_rows(p, first.rows), montage_cols(p, first.cols), first.type());
  for (int k = 0; k < p.montage_len; ++k) {
    const cv::Mat& frame = frames[static_cast<size_t>(k)];
    if (frame.size() != first.size() || frame.type() != first.type()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("montage: frame {} is {}x{} of type {}, frame 0 is {}x{} of type {}", k, frame.cols,
                              frame.rows, frame.type(), first.cols, first.rows, first.type()));
    }
    frame.copyTo(montage(montage_slot(p, first.rows, first.cols, k)));
  }
  return montage;
}

std::vector<cv::Mat> split_montage(const cv::Mat& montage, const MontageParams& p, int frame_rows, int frame_cols,
                                   std::string_view source) {
  validate(p);
  int want_rows = montage_rows(p, frame_rows);
  int want_cols = montage_cols(p, frame_cols);
  if (montage.rows != want_rows || montage.cols != want_cols) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: montage is {}x{} (cols x rows), its logs give {}x{} ({} frames of {}x{}, {} per row, "
                            "buffers {}/{})",
                            source, montage.cols, montage.rows, want_cols, want_rows, p.montage_len, frame_cols,
                            frame_rows, p.row_length, p.x_buffer, p.y_buffer));
  }
  std::vector<cv::Mat> frames;
  frames.reserve(static_cast<size_t>(p.montage_len));
  for (int k = 0; k < p.montage_len; ++k) frames.push_back(montage(montage_slot(p, frame_rows, frame_cols, k)).clone());
  return frames;
}

nlohmann::json montage_log(const MontageParams& p, const ChopperParams& chopper, std::string_view identifier,
                           std::string_view date, int montages_in_pos) {
  return {{"date", date},
          {"montage_len", p.montage_len},
          {"identifier", identifier},
          {"num_x_segments", chopper.num_x_segments},
          {"num_y_segments", chopper.num_y_segments},
          {"row_length", p.row_length},
          {"x_buffer", p.x_buffer},
          {"y_buffer", p.y_buffer},
          {"montages_in_pos", montages_in_pos}};
}

MontageLog parse_montage_log(const nlohmann::json& log, std::string_view source) {
  MontageLog m;
  m.params.montage_len = json_int(log, "montage_len", source);
  m.params.row_length = json_int(log, "row_length", source);
  m.params.x_buffer = json_int(log, "x_buffer", source);
  m.params.y_buffer = json_int(log, "y_buffer", source);
  m.num_x_segments = json_int(log, "num_x_segments", source);
  m.num_y_segments = json_int(log, "num_y_segments", source);
  m.montages_in_pos = json_int(log, "montages_in_pos", source);
  try {
    validate(m.params);
  } catch (const Error& e) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", source, e.what()));
  }
  return m;
}

}  // namespace tessera::exchange
