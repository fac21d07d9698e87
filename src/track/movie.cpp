#include "tessera/track/movie.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <unordered_map>

#include "tessera/core/error.hpp"
#include "track/frame_values.hpp"

namespace tessera::track {
namespace {

[[noreturn]] void invalid(const std::string& message) { throw Error(ErrorCode::invalid_argument, message); }

// Per track: the frames where it appears, ascending.
std::unordered_map<std::int32_t, std::vector<int>> presence(const std::vector<std::vector<std::int32_t>>& values) {
  std::unordered_map<std::int32_t, std::vector<int>> where;
  for (size_t t = 0; t < values.size(); ++t) {
    for (const std::int32_t v : values[t]) where[v].push_back(static_cast<int>(t));
  }
  return where;
}

}  // namespace

std::string MovieNames::fmt_frame(int t) { return fmt::format("frame {}", t); }

void validate(const TrackedMovie& movie, bool contiguous, const MovieNames& names) {
  const auto frame_name = [&](int t) {
    const std::string file = names.frame(t);
    const std::string plain = MovieNames::fmt_frame(t);
    return file == plain ? plain : fmt::format("{} ({})", plain, file);
  };
  for (size_t t = 0; t < movie.labels.size(); ++t) {
    const cv::Mat& m = movie.labels[t];
    if (m.type() != CV_32SC1) {
      invalid(fmt::format("{}: labels must be one channel of 32-bit integers, got type {}",
                          frame_name(static_cast<int>(t)), m.type()));
    }
    if (m.size() != movie.labels.front().size()) {
      invalid(fmt::format("{}: label image is {}x{}, but frame 0 is {}x{} (the size may not change within a series)",
                          frame_name(static_cast<int>(t)), m.cols, m.rows, movie.labels.front().cols,
                          movie.labels.front().rows));
    }
  }
  if (!movie.raw.empty()) {
    if (movie.raw.size() != movie.labels.size()) {
      invalid(fmt::format("{} raw frames for {} label frames", movie.raw.size(), movie.labels.size()));
    }
    for (size_t t = 0; t < movie.raw.size(); ++t) {
      if (movie.raw[t].size() != movie.labels[t].size() || movie.raw[t].type() != movie.raw.front().type()) {
        invalid(fmt::format("{}: raw image is {}x{} of type {}, labels are {}x{} and raw frame 0 has type {}",
                            frame_name(static_cast<int>(t)), movie.raw[t].cols, movie.raw[t].rows, movie.raw[t].type(),
                            movie.labels[t].cols, movie.labels[t].rows, movie.raw.front().type()));
      }
    }
  }
  for (size_t k = 0; k < movie.tracks.size(); ++k) {
    const Track& tr = movie.tracks[k];
    if (tr.id < 1) invalid(fmt::format("{}: label {} is not positive", names.lineage, tr.id));
    if (k > 0 && movie.tracks[k - 1].id >= tr.id) {
      invalid(fmt::format("{}: label {} is listed more than once", names.lineage, tr.id));
    }
    if (tr.begin > tr.end) {
      invalid(fmt::format("{}: label {} begins at frame {}, after its end {}", names.lineage, tr.id, tr.begin, tr.end));
    }
  }
  std::vector<std::vector<std::int32_t>> values;
  for (const cv::Mat& m : movie.labels) values.push_back(frame_values(m));
  const auto where = presence(values);
  const auto find = [&](std::int32_t id) {
    const auto it = std::lower_bound(movie.tracks.begin(), movie.tracks.end(), id,
                                     [](const Track& t, std::int32_t v) { return t.id < v; });
    return it != movie.tracks.end() && it->id == id ? &*it : nullptr;
  };
  for (size_t t = 0; t < values.size(); ++t) {
    for (const std::int32_t v : values[t]) {
      if (find(v) == nullptr) {
        invalid(fmt::format("{}: label {} is not in {}", frame_name(static_cast<int>(t)), v, names.lineage));
      }
    }
  }
  for (const Track& tr : movie.tracks) {
    const auto it = where.find(tr.id);
    const std::string span = fmt::format("{} says label {} spans frames {}-{}", names.lineage, tr.id, tr.begin, tr.end);
    if (it == where.end()) {
      invalid(fmt::format("{}: label {} (frames {}-{}) does not appear in any frame", names.lineage, tr.id, tr.begin,
                          tr.end));
    }
    const std::vector<int>& frames = it->second;
    if (frames.front() < tr.begin)
      invalid(fmt::format("{}: label {} is present, but {}", frame_name(frames.front()), tr.id, span));
    if (frames.back() > tr.end)
      invalid(fmt::format("{}: label {} is present, but {}", frame_name(frames.back()), tr.id, span));
    if (frames.front() > tr.begin)
      invalid(fmt::format("{}: label {} is missing, but {}", frame_name(tr.begin), tr.id, span));
    if (frames.back() < tr.end)
      invalid(fmt::format("{}: label {} is missing, but {}", frame_name(tr.end), tr.id, span));
    if (contiguous && static_cast<int>(frames.size()) != tr.end - tr.begin + 1) {
      int missing = tr.begin;
      while (std::binary_search(frames.begin(), frames.end(), missing)) ++missing;
      invalid(fmt::format("{}: label {} is missing, but {} (a gap must be a new label whose parent is {})",
                          frame_name(missing), tr.id, span, tr.id));
    }
    if (tr.parent != 0) {
      const Track* p = find(tr.parent);
      if (p == nullptr)
        invalid(fmt::format("{}: label {} has parent {}, which is not a track", names.lineage, tr.id, tr.parent));
      if (p->id == tr.id) invalid(fmt::format("{}: label {} is its own parent", names.lineage, tr.id));
      if (p->end >= tr.begin) {
        invalid(fmt::format("{}: label {} begins at frame {}, but its parent {} ends at frame {} (must end before)",
                            names.lineage, tr.id, tr.begin, p->id, p->end));
      }
    }
  }
}

TrackedMovie make_movie(const std::vector<cv::Mat>& segmentation, const TrackSet& set, std::vector<cv::Mat> raw) {
  if (segmentation.size() != set.frames.size()) {
    invalid(fmt::format("movie: {} label frames for a track set of {} frames", segmentation.size(), set.frames.size()));
  }
  TrackedMovie movie;
  movie.tracks = set.tracks;
  movie.raw = std::move(raw);
  for (size_t t = 0; t < segmentation.size(); ++t) {
    cv::Mat labels;
    segmentation[t].convertTo(labels, CV_32S);
    const auto& objects = set.frames[t];
    std::int32_t last_label = 0;
    std::int32_t last_track = 0;
    for (int y = 0; y < labels.rows; ++y) {
      auto* row = labels.ptr<std::int32_t>(y);
      for (int x = 0; x < labels.cols; ++x) {
        const std::int32_t v = row[x];
        if (v == 0) continue;
        if (v != last_label) {
          const auto it = std::lower_bound(objects.begin(), objects.end(), v,
                                           [](const ObjectTrack& o, std::int32_t l) { return o.label < l; });
          if (it == objects.end() || it->label != v) {
            invalid(fmt::format("movie: frame {}: label {} is in the segmentation but not in the track set", t, v));
          }
          last_label = v;
          last_track = it->track;
        }
        row[x] = last_track;
      }
    }
    movie.labels.push_back(std::move(labels));
  }
  return movie;
}

TrackSet track_set_of(const TrackedMovie& movie) {
  TrackSet set;
  set.tracks = movie.tracks;
  for (const cv::Mat& m : movie.labels) {
    std::vector<ObjectTrack> objects;
    for (const std::int32_t v : frame_values(m)) objects.push_back({v, v});
    set.frames.push_back(std::move(objects));
  }
  return set;
}

TrackedMovie split_gaps(const TrackedMovie& movie) {
  std::vector<std::vector<std::int32_t>> values;
  for (const cv::Mat& m : movie.labels) values.push_back(frame_values(m));
  const auto where = presence(values);
  TrackedMovie out;
  out.raw = movie.raw;
  std::int32_t next = movie.tracks.empty() ? 1 : movie.tracks.back().id + 1;
  // Per frame: old id -> new id for the stretches after a gap.
  std::vector<std::unordered_map<std::int32_t, std::int32_t>> renames(movie.labels.size());
  std::unordered_map<std::int32_t, std::int32_t> last_stretch;
  std::vector<Track> added;
  for (const Track& tr : movie.tracks) {
    const auto it = where.find(tr.id);
    Track current = tr;
    if (it != where.end()) {
      const std::vector<int>& frames = it->second;
      current.end = frames.front();
      for (size_t k = 1; k < frames.size(); ++k) {
        if (frames[k] == current.end + 1) {
          current.end = frames[k];
        } else {
          current.capped = false;
          (current.id == tr.id ? out.tracks : added).push_back(current);
          current = {next++, frames[k], frames[k], current.id, tr.capped};
        }
        if (current.id != tr.id) renames[static_cast<size_t>(frames[k])][tr.id] = current.id;
      }
    }
    last_stretch[tr.id] = current.id;
    (current.id == tr.id ? out.tracks : added).push_back(current);
  }
  for (Track& tr : out.tracks) {
    if (tr.parent != 0 && last_stretch.contains(tr.parent)) tr.parent = last_stretch[tr.parent];
  }
  for (Track& tr : added) {
    // A stretch's parent is the stretch before it, already right; children of the original follow
    // the last stretch, done above for original ids only.
    out.tracks.push_back(tr);
  }
  std::sort(out.tracks.begin(), out.tracks.end(), [](const Track& a, const Track& b) { return a.id < b.id; });
  for (size_t t = 0; t < movie.labels.size(); ++t) {
    if (renames[t].empty()) {
      out.labels.push_back(movie.labels[t]);
      continue;
    }
    cv::Mat m = movie.labels[t].clone();
    for (int y = 0; y < m.rows; ++y) {
      auto* row = m.ptr<std::int32_t>(y);
      for (int x = 0; x < m.cols; ++x) {
        const auto r = renames[t].find(row[x]);
        if (r != renames[t].end()) row[x] = r->second;
      }
    }
    out.labels.push_back(std::move(m));
  }
  return out;
}

}  // namespace tessera::track
