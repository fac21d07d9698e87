#include "tessera/track/ctc.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <opencv2/core.hpp>
#include <optional>
#include <regex>

#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/image/encode.hpp"

namespace tessera::track {
namespace {

int digits_for(size_t frames) { return frames > 1000 ? static_cast<int>(fmt::format("{}", frames - 1).size()) : 3; }

std::string frame_file(const std::string& prefix, int t, int digits) {
  return fmt::format("{}{:0{}d}.tif", prefix, t, digits);
}

// Numbered files of the folder: prefix -> frame -> file name.
std::map<std::string, std::map<int, std::string>> numbered_files(const std::filesystem::path& dir) {
  static const std::regex pattern(R"(^(mask|man_seg|man_track|t)(\d+)\.tiff?$)");
  std::map<std::string, std::map<int, std::string>> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    std::smatch m;
    if (!entry.is_regular_file() || !std::regex_match(name, m, pattern)) continue;
    int t = 0;
    const std::string digits = m[2].str();
    if (digits.size() > 6) continue;
    std::from_chars(digits.data(), digits.data() + digits.size(), t);
    const auto [it, fresh] = out[m[1].str()].emplace(t, name);
    if (!fresh) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: frame {} is both {} and {}", dir.string(), t, it->second, name));
    }
  }
  if (ec) throw Error(ErrorCode::io, fmt::format("cannot list '{}': {}", dir.string(), ec.message()));
  return out;
}

cv::Mat read_frame(const std::filesystem::path& path, bool labels) {
  const image::Image img = image::decode(read_file(path), path.filename().string());
  const cv::Mat& m = img.frames.front();
  if (labels) {
    if (m.channels() != 1 || (m.depth() != CV_8U && m.depth() != CV_16U && m.depth() != CV_32S)) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: a label image must be one channel of 8/16-bit unsigned or 32-bit integers, got "
                              "{} channels of {}",
                              path.string(), m.channels(), image::to_string(image::pixel_type_of(m))));
    }
    cv::Mat out;
    m.convertTo(out, CV_32S);
    return out;
  }
  return m;
}

}  // namespace

std::string format_ctc_tracks(const std::vector<Track>& tracks) {
  std::string text;
  for (const Track& t : tracks) text += fmt::format("{} {} {} {}\n", t.id, t.begin, t.end, t.parent);
  return text;
}

std::vector<Track> parse_ctc_tracks(std::string_view text, const std::string& name) {
  std::vector<Track> tracks;
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t eol = std::min(text.find('\n', pos), text.size());
    const std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    std::vector<std::string_view> fields;
    for (size_t i = 0; i < line.size();) {
      const size_t from = line.find_first_not_of(" \t\r", i);
      if (from == std::string_view::npos) break;
      const size_t to = std::min(line.find_first_of(" \t\r", from), line.size());
      fields.push_back(line.substr(from, to - from));
      i = to;
    }
    if (fields.empty()) continue;
    std::array<long long, 4> v{};
    bool ok = fields.size() == 4;
    for (size_t k = 0; ok && k < 4; ++k) {
      const auto [end, ec] = std::from_chars(fields[k].data(), fields[k].data() + fields[k].size(), v[k]);
      ok = ec == std::errc() && end == fields[k].data() + fields[k].size();
    }
    if (!ok) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: line {}: expected four integers 'L B E P', got '{}'", name, line_no, line));
    }
    if (v[0] < 1 || v[0] > 2147483647LL || v[1] < 0 || v[2] < v[1] || v[2] > 1000000000LL || v[3] < 0 ||
        v[3] > 2147483647LL) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: line {}: '{}' needs L >= 1, 0 <= B <= E and P >= 0", name, line_no, line));
    }
    tracks.push_back({static_cast<std::int32_t>(v[0]), static_cast<std::int32_t>(v[1]), static_cast<std::int32_t>(v[2]),
                      static_cast<std::int32_t>(v[3]), false});
  }
  std::sort(tracks.begin(), tracks.end(), [](const Track& a, const Track& b) { return a.id < b.id; });
  for (size_t k = 1; k < tracks.size(); ++k) {
    if (tracks[k].id == tracks[k - 1].id) {
      throw Error(ErrorCode::invalid_argument, fmt::format("{}: label {} has two lines", name, tracks[k].id));
    }
  }
  // Nothing in the format marks a finished track; a mother is one.
  std::map<std::int32_t, int> children;
  for (const Track& t : tracks) ++children[t.parent];
  for (Track& t : tracks) t.capped = children[t.id] >= 2;
  return tracks;
}

void write_ctc(const std::filesystem::path& dir, const TrackedMovie& input, const CtcNames& names) {
  validate(input, false);
  const TrackedMovie movie = split_gaps(input);
  const int digits = digits_for(movie.labels.size());
  for (size_t t = 0; t < movie.labels.size(); ++t) {
    double top = 0.0;
    cv::Point where;
    cv::minMaxLoc(movie.labels[t], nullptr, &top, nullptr, &where);
    if (top > 65535.0) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("Cell Tracking Challenge: frame {}: label {} does not fit a 16-bit mask (at most 65535)",
                              t, static_cast<long long>(top)));
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(ErrorCode::io, fmt::format("cannot create '{}': {}", dir.string(), ec.message()));
  const auto existing = numbered_files(dir);
  for (const auto& prefix : {names.mask_prefix, std::string("t")}) {
    const auto it = existing.find(prefix);
    if (it != existing.end() && it->second.rbegin()->first >= static_cast<int>(movie.labels.size())) {
      throw Error(ErrorCode::conflict,
                  fmt::format("{}: holds {} of a longer series ({} frames written now); choose an empty folder",
                              dir.string(), it->second.rbegin()->second, movie.labels.size()));
    }
  }
  for (size_t t = 0; t < movie.labels.size(); ++t) {
    cv::Mat mask;
    movie.labels[t].convertTo(mask, CV_16U);
    image::write_image(dir / frame_file(names.mask_prefix, static_cast<int>(t), digits), mask);
    if (!movie.raw.empty()) image::write_image(dir / frame_file("t", static_cast<int>(t), digits), movie.raw[t]);
  }
  write_file_atomic(dir / names.track_file, format_ctc_tracks(movie.tracks));
}

TrackedMovie read_ctc(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) {
    throw Error(ErrorCode::not_found, fmt::format("Cell Tracking Challenge: '{}' is not a folder", dir.string()));
  }
  const auto files = numbered_files(dir);
  const std::map<int, std::string>* masks = nullptr;
  for (const char* prefix : {"mask", "man_track", "man_seg"}) {
    const auto it = files.find(prefix);
    if (it != files.end()) {
      masks = &it->second;
      break;
    }
  }
  if (masks == nullptr) {
    throw Error(ErrorCode::not_found,
                fmt::format("{}: no mask###.tif, man_track###.tif or man_seg###.tif files", dir.string()));
  }
  std::string track_name;
  for (const char* name : {"res_track.txt", "man_track.txt"}) {
    if (std::filesystem::is_regular_file(dir / name)) {
      track_name = name;
      break;
    }
  }
  if (track_name.empty())
    throw Error(ErrorCode::not_found, fmt::format("{}: no res_track.txt or man_track.txt", dir.string()));
  int expect = 0;
  for (const auto& [t, name] : *masks) {
    if (t != expect) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: frame {} is missing (the masks jump from frame {} to {}, {})", dir.string(), expect,
                              expect - 1, t, name));
    }
    ++expect;
  }
  TrackedMovie movie;
  for (const auto& [t, name] : *masks) movie.labels.push_back(read_frame(dir / name, true));
  const auto raw = files.find("t");
  if (raw != files.end() && raw->second.size() == masks->size() &&
      raw->second.rbegin()->first == static_cast<int>(masks->size()) - 1) {
    for (const auto& [t, name] : raw->second) movie.raw.push_back(read_frame(dir / name, false));
  }
  movie.tracks = parse_ctc_tracks(read_file(dir / track_name), (dir / track_name).string());
  MovieNames names;
  names.frame = [masks](int t) { return masks->at(t); };
  names.lineage = track_name;
  validate(movie, true, names);
  return movie;
}

}  // namespace tessera::track
