#pragma once

#include <cstdint>
#include <vector>

#include "tessera/synth/timelapse.hpp"
#include "tessera/track/objects.hpp"
#include "tessera/track/track_set.hpp"

namespace tessera::track::test {

// One synthetic position as the tracker sees it (objects measured from the ground-truth masks, with
// the camera image as intensity) and as the truth (label = track id, lineage from the generator).
struct SynthSeries {
  std::vector<std::vector<ObjectDesc>> objects;
  TrackSet truth;
  cv::Size size;
  synth::TimelapseFrames frames;
};

inline SynthSeries synth_series(const synth::TimelapseOptions& options, int position) {
  SynthSeries s;
  s.frames = synth::generate_position(options, position);
  s.size = s.frames.labels.front().size();
  for (size_t t = 0; t < s.frames.labels.size(); ++t) {
    s.objects.push_back(objects_from_labels(s.frames.labels[t], s.frames.images[t]));
    std::vector<ObjectTrack> truth;
    for (const ObjectDesc& o : s.objects.back()) truth.push_back({o.label, o.label});
    s.truth.frames.push_back(std::move(truth));
  }
  for (const synth::TrackRecord& r : s.frames.tracks) {
    s.truth.tracks.push_back({r.label, r.begin, r.end, r.parent, false});
  }
  return s;
}

// Labels that are 4-adjacent to another label in at least one frame: the touching nuclei.
inline std::vector<std::int32_t> touching_labels(const std::vector<cv::Mat>& labels) {
  std::vector<char> touching(65536, 0);
  for (const cv::Mat& m : labels) {
    for (int y = 0; y < m.rows; ++y) {
      const auto* row = m.ptr<std::uint16_t>(y);
      const auto* below = y + 1 < m.rows ? m.ptr<std::uint16_t>(y + 1) : nullptr;
      for (int x = 0; x < m.cols; ++x) {
        const std::uint16_t v = row[x];
        if (v == 0) continue;
        const std::uint16_t right = x + 1 < m.cols ? row[x + 1] : 0;
        const std::uint16_t down = below ? below[x] : 0;
        for (const std::uint16_t w : {right, down}) {
          if (w != 0 && w != v) touching[v] = touching[w] = 1;
        }
      }
    }
  }
  std::vector<std::int32_t> out;
  for (int v = 1; v < 65536; ++v) {
    if (touching[static_cast<size_t>(v)]) out.push_back(v);
  }
  return out;
}

}  // namespace tessera::track::test
