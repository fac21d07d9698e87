#include "tessera/track/files.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>

#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/track/ctc.hpp"
#include "tessera/track/trk.hpp"

namespace tessera::track {
namespace {

// Natural order: digit runs compare as numbers, the rest as text ("t2" < "t10").
bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() && j < b.size()) {
    const bool da = std::isdigit(static_cast<unsigned char>(a[i])) != 0;
    const bool db = std::isdigit(static_cast<unsigned char>(b[j])) != 0;
    if (da && db) {
      size_t ei = i;
      size_t ej = j;
      while (ei < a.size() && std::isdigit(static_cast<unsigned char>(a[ei]))) ++ei;
      while (ej < b.size() && std::isdigit(static_cast<unsigned char>(b[ej]))) ++ej;
      std::string_view na(a.data() + i, ei - i);
      std::string_view nb(b.data() + j, ej - j);
      while (na.size() > 1 && na.front() == '0') na.remove_prefix(1);
      while (nb.size() > 1 && nb.front() == '0') nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = ei;
      j = ej;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

std::vector<std::filesystem::path> frame_paths(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) {
    throw Error(ErrorCode::not_found, fmt::format("'{}' is not a folder", dir.string()));
  }
  static const std::regex ctc(R"(^(mask|man_track|man_seg)(\d+)\.tiff?$)");
  std::map<std::string, std::vector<std::filesystem::path>> by_prefix;
  std::vector<std::filesystem::path> images;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    std::string ext = entry.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    std::smatch m;
    if (std::regex_match(name, m, ctc)) by_prefix[m[1].str()].push_back(entry.path());
    if (ext == ".png" || ext == ".tif" || ext == ".tiff") images.push_back(entry.path());
  }
  for (const char* prefix : {"mask", "man_track", "man_seg"}) {
    if (by_prefix.contains(prefix)) {
      images = by_prefix[prefix];
      break;
    }
  }
  std::sort(images.begin(), images.end(),
            [](const auto& a, const auto& b) { return natural_less(a.filename().string(), b.filename().string()); });
  if (images.empty()) throw Error(ErrorCode::not_found, fmt::format("{}: no .png or .tif images", dir.string()));
  return images;
}

}  // namespace

FrameFiles read_frame_folder(const std::filesystem::path& dir, bool labels) {
  FrameFiles out;
  out.files = frame_paths(dir);
  for (size_t t = 0; t < out.files.size(); ++t) {
    const auto& path = out.files[t];
    const image::Image img = image::decode(read_file(path), path.filename().string());
    const cv::Mat& m = img.frames.front();
    const std::string where = fmt::format("frame {} ({})", t, path.filename().string());
    if (!out.frames.empty() && m.size() != out.frames.front().size()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: image is {}x{}, but frame 0 ({}) is {}x{} (the size may not change within a series)",
                              where, m.cols, m.rows, out.files.front().filename().string(), out.frames.front().cols,
                              out.frames.front().rows));
    }
    if (!labels) {
      out.frames.push_back(m);
      continue;
    }
    if (m.channels() != 1 || (m.depth() != CV_8U && m.depth() != CV_16U && m.depth() != CV_32S)) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: a label image must be one channel of 8/16-bit unsigned or 32-bit integers", where));
    }
    cv::Mat converted;
    m.convertTo(converted, CV_32S);
    out.frames.push_back(std::move(converted));
  }
  return out;
}

SeriesFormat format_of(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".trk" || ext == ".trks" ? SeriesFormat::trk : SeriesFormat::ctc;
}

TrackedMovie read_movie(const std::filesystem::path& path) {
  return format_of(path) == SeriesFormat::trk ? read_trk(path) : read_ctc(path);
}

void write_movie(const std::filesystem::path& path, const TrackedMovie& movie) {
  if (format_of(path) == SeriesFormat::trk)
    write_trk(path, movie);
  else
    write_ctc(path, movie);
}

TrackFilesSummary track_files(const TrackFilesRequest& request) {
  const FrameFiles masks = read_frame_folder(request.masks, true);
  FrameFiles images;
  if (!request.images.empty()) {
    images = read_frame_folder(request.images, false);
    if (images.frames.size() != masks.frames.size()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{} holds {} frames but {} holds {}", request.images.string(), images.frames.size(),
                              request.masks.string(), masks.frames.size()));
    }
  }
  Tracker tracker(request.options, masks.frames.front().size());
  TrackFilesSummary summary;
  for (size_t t = 0; t < masks.frames.size(); ++t) {
    const std::string what = fmt::format("frame {} ({})", t, masks.files[t].filename().string());
    cv::Mat intensity;
    if (!images.frames.empty()) {
      intensity = images.frames[t];
      if (intensity.channels() != 1) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("{}: intensity image {} has {} channels, expected 1", what,
                                images.files[t].filename().string(), intensity.channels()));
      }
      if (intensity.size() != masks.frames[t].size()) {
        throw Error(
            ErrorCode::invalid_argument,
            fmt::format("{}: intensity image {} is {}x{}, the mask {}x{}", what, images.files[t].filename().string(),
                        intensity.cols, intensity.rows, masks.frames[t].cols, masks.frames[t].rows));
      }
    }
    auto objects = objects_from_labels(masks.frames[t], intensity, what);
    summary.objects += static_cast<long long>(objects.size());
    tracker.add_frame(std::move(objects));
  }
  const TrackSet set = tracker.finish();
  summary.frames = static_cast<int>(masks.frames.size());
  summary.tracks = static_cast<int>(set.tracks.size());
  std::map<std::int32_t, int> children;
  for (const Track& t : set.tracks) ++children[t.parent];
  for (const auto& [parent, count] : children) summary.divisions += parent != 0 && count >= 2;
  TrackedMovie movie = make_movie(masks.frames, set, images.frames);
  if (request.format == SeriesFormat::trk)
    write_trk(request.out, movie);
  else
    write_ctc(request.out, movie);
  return summary;
}

}  // namespace tessera::track
