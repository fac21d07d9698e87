#include "tessera/track/trk.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/exchange/npy.hpp"
#include "track/frame_values.hpp"
#include "track/tar.hpp"

namespace tessera::track {
namespace {

[[noreturn]] void invalid(const std::string& message) { throw Error(ErrorCode::invalid_argument, message); }

// Frames where each label is present, ascending.
std::map<std::int32_t, std::vector<int>> presence(const std::vector<cv::Mat>& labels) {
  std::map<std::int32_t, std::vector<int>> where;
  for (size_t t = 0; t < labels.size(); ++t) {
    for (const std::int32_t v : frame_values(labels[t])) where[v].push_back(static_cast<int>(t));
  }
  return where;
}

nlohmann::ordered_json lineage_of(const TrackedMovie& movie) {
  const auto where = presence(movie.labels);
  std::map<std::int32_t, std::vector<std::int32_t>> daughters;
  for (const Track& t : movie.tracks) {
    if (t.parent != 0) daughters[t.parent].push_back(t.id);
  }
  // Keys in deepcell's order: labels ascending, fields as deepcell-tracking writes them.
  nlohmann::ordered_json lineage = nlohmann::ordered_json::object();
  for (const Track& t : movie.tracks) {
    nlohmann::ordered_json entry;
    entry["label"] = t.id;
    entry["frames"] = where.at(t.id);
    const auto kids = daughters.find(t.id);
    entry["daughters"] = kids == daughters.end() ? std::vector<std::int32_t>{} : kids->second;
    if (kids == daughters.end()) {
      entry["frame_div"] = nullptr;
    } else {
      int first = movie.labels.empty() ? 0 : static_cast<int>(movie.labels.size());
      for (const std::int32_t k : kids->second) first = std::min(first, where.at(k).front());
      entry["frame_div"] = first;
    }
    entry["parent"] = t.parent == 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(t.parent);
    entry["capped"] = t.capped;
    lineage[std::to_string(t.id)] = std::move(entry);
  }
  return lineage;
}

std::int32_t to_label(const nlohmann::json& v, const std::string& what) {
  if (!v.is_number_integer()) invalid(fmt::format("{}: expected an integer label, got {}", what, v.dump()));
  const auto n = v.get<long long>();
  if (n < 1 || n > 2147483647LL) invalid(fmt::format("{}: label {} is out of range", what, n));
  return static_cast<std::int32_t>(n);
}

// Tracks from the lineage, checked against where each label is in the movie.
std::vector<Track> tracks_of(const nlohmann::json& lineage, const std::vector<cv::Mat>& labels,
                             const std::string& name) {
  const std::string where_json = name + " lineage.json";
  if (!lineage.is_object()) invalid(fmt::format("{}: expected an object keyed by label", where_json));
  const auto where = presence(labels);
  std::map<std::int32_t, Track> tracks;
  std::map<std::int32_t, std::set<std::int32_t>> daughters;
  std::map<std::int32_t, nlohmann::json> frame_div;
  for (const auto& [key, entry] : lineage.items()) {
    const std::string what = fmt::format("{}: entry '{}'", where_json, key);
    if (!entry.is_object() || !entry.contains("frames") || !entry["frames"].is_array()) {
      invalid(fmt::format("{}: needs a 'frames' list", what));
    }
    std::int32_t label = 0;
    try {
      label = to_label(entry.contains("label") ? entry["label"] : nlohmann::json(std::stoll(key)), what);
    } catch (const std::logic_error&) {
      invalid(fmt::format("{}: the key is not a label", what));
    }
    if (std::to_string(label) != key) invalid(fmt::format("{}: key and label {} differ", what, label));
    std::vector<int> frames;
    for (const auto& f : entry["frames"]) {
      if (!f.is_number_integer()) invalid(fmt::format("{}: frames must be integers", what));
      frames.push_back(f.get<int>());
    }
    const auto present = where.find(label);
    if (present == where.end()) invalid(fmt::format("{}: label {} is in no frame of tracked.npy", where_json, label));
    if (frames != present->second) {
      // Name the first frame where they differ.
      size_t k = 0;
      while (k < frames.size() && k < present->second.size() && frames[k] == present->second[k]) ++k;
      const bool listed = k < frames.size() && (k >= present->second.size() || frames[k] < present->second[k]);
      const int frame = listed ? frames[k] : present->second[k];
      invalid(fmt::format("{}: frame {}: label {} is {} tracked.npy but {} its 'frames'", name, frame, label,
                          listed ? "absent from" : "present in", listed ? "listed in" : "missing from"));
    }
    Track t{label, frames.front(), frames.back(), 0, false};
    if (entry.contains("parent") && !entry["parent"].is_null()) t.parent = to_label(entry["parent"], what + " parent");
    if (entry.contains("capped") && entry["capped"].is_boolean()) t.capped = entry["capped"].get<bool>();
    if (entry.contains("daughters") && entry["daughters"].is_array()) {
      for (const auto& d : entry["daughters"]) daughters[label].insert(to_label(d, what + " daughter"));
    }
    frame_div[label] = entry.value("frame_div", nlohmann::json());
    tracks[label] = t;
  }
  for (const auto& [label, frames] : where) {
    if (!tracks.contains(label)) {
      invalid(fmt::format("{}: frame {}: label {} has no entry in lineage.json", name, frames.front(), label));
    }
  }
  for (const auto& [label, t] : tracks) {
    if (t.parent != 0) {
      if (!tracks.contains(t.parent))
        invalid(fmt::format("{}: label {} has parent {}, which has no entry", where_json, label, t.parent));
      if (!daughters[t.parent].contains(label)) {
        invalid(fmt::format("{}: label {} names parent {}, whose daughters do not include it", where_json, label,
                            t.parent));
      }
    }
    for (const std::int32_t d : daughters[label]) {
      const auto kid = tracks.find(d);
      if (kid == tracks.end() || kid->second.parent != label) {
        invalid(fmt::format("{}: label {} lists daughter {}, whose parent is not {}", where_json, label, d, label));
      }
      if (kid->second.begin <= t.end) {
        invalid(fmt::format("{}: frame {}: daughter {} of label {} begins before her mother ends (frame {})", name,
                            kid->second.begin, d, label, t.end));
      }
      const nlohmann::json& div = frame_div[label];
      if (div.is_number_integer() && div.get<int>() > kid->second.begin) {
        invalid(fmt::format("{}: label {} has frame_div {} but daughter {} appears in frame {}", where_json, label,
                            div.get<int>(), d, kid->second.begin));
      }
    }
  }
  std::vector<Track> out;
  for (const auto& [label, t] : tracks) out.push_back(t);
  return out;
}

}  // namespace

void write_trk(const std::filesystem::path& path, const TrackedMovie& movie) {
  validate(movie, false, {.frame = MovieNames::fmt_frame, .lineage = path.filename().string()});
  if (movie.labels.empty()) invalid(fmt::format("{}: a .trk needs at least one frame", path.string()));
  std::vector<cv::Mat> raw = movie.raw;
  if (raw.empty()) {
    for (const cv::Mat& m : movie.labels) raw.emplace_back(m.size(), CV_8UC1, cv::Scalar(0));
  }
  const std::string lineage = lineage_of(movie).dump(4);
  std::vector<TarMember> members;
  members.push_back({"lineage.json", lineage});
  members.push_back({"raw.npy", exchange::encode_npy(exchange::npy_from_mats(raw))});
  members.push_back({"tracked.npy", exchange::encode_npy(exchange::npy_from_mats(movie.labels))});
  write_file_atomic(path, write_tar(members));
}

TrackedMovie read_trk(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  std::string bytes = read_file(path);
  if (is_gzip(bytes)) bytes = gunzip(bytes, path.string());
  std::map<std::string, std::string> members;
  for (TarMember& m : read_tar(bytes, path.string())) members[m.name] = std::move(m.data);
  for (const char* need : {"raw.npy", "tracked.npy"}) {
    if (!members.contains(need))
      throw Error(ErrorCode::corrupt, fmt::format("{}: no {} in the archive", path.string(), need));
  }
  nlohmann::json lineage;
  try {
    if (members.contains("lineage.json")) {
      lineage = nlohmann::json::parse(members["lineage.json"]);
    } else if (members.contains("lineages.json")) {
      lineage = nlohmann::json::parse(members["lineages.json"]);
      if (!lineage.is_array() || lineage.size() != 1) {
        throw Error(ErrorCode::unsupported, fmt::format("{}: lineages.json holds {} movies; tessera reads one",
                                                        path.string(), lineage.is_array() ? lineage.size() : 0));
      }
      lineage = lineage.front();
    } else {
      throw Error(ErrorCode::corrupt, fmt::format("{}: no lineage.json in the archive", path.string()));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::corrupt, fmt::format("{}: lineage is not valid JSON: {}", path.string(), e.what()));
  }
  exchange::NpyArray tracked = exchange::decode_npy(members["tracked.npy"], name + " tracked.npy");
  exchange::NpyArray raw = exchange::decode_npy(members["raw.npy"], name + " raw.npy");
  // .trks arrays carry a leading batch axis of one movie.
  for (exchange::NpyArray* a : {&tracked, &raw}) {
    if (a->shape.size() == 5 && a->shape.front() == 1) a->shape.erase(a->shape.begin());
  }
  if (tracked.shape.size() != 4 || tracked.shape[3] != 1) {
    throw Error(ErrorCode::corrupt, fmt::format("{}: tracked.npy must be (frames, rows, cols, 1), got {} axes",
                                                path.string(), tracked.shape.size()));
  }
  TrackedMovie movie;
  for (cv::Mat& m : exchange::npy_to_mats(tracked)) {
    cv::Mat labels;
    m.convertTo(labels, CV_32S);
    movie.labels.push_back(std::move(labels));
  }
  movie.raw = exchange::npy_to_mats(raw);
  if (movie.raw.size() != movie.labels.size() || movie.raw.front().size() != movie.labels.front().size()) {
    invalid(fmt::format("{}: raw.npy and tracked.npy differ in frames or size", path.string()));
  }
  movie.tracks = tracks_of(lineage, movie.labels, name);
  validate(movie, false, {.frame = MovieNames::fmt_frame, .lineage = name + " lineage.json"});
  return movie;
}

}  // namespace tessera::track
