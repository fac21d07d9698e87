// Tracking benchmark driver (scripts/bench_track.sh): generates a time-lapse of moving, dividing,
// entering and leaving disc-shaped objects in memory (with its true lineage), links it with tessera's
// tracker or with a greedy nearest-neighbour linker (the anchor), and prints one line of timings and
// accuracy. Generation is timed apart from linking.
//   tessera_bench_track --frames N --objects M [--linker tessera|nearest] [--seed S] [--spacing PX]
// (--spacing: side of the square each object has on average, default 40 px; ~16 px discs.)
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "tessera/track/evaluate.hpp"
#include "tessera/track/tracker.hpp"

namespace {

using tessera::track::ObjectDesc;
using tessera::track::ObjectTrack;
using tessera::track::Run;
using tessera::track::Track;
using tessera::track::TrackSet;

struct Cell {
  double row, col, radius, vr = 0, vc = 0;
  std::int32_t track;
};

ObjectDesc disc(const Cell& c, std::int32_t label, int size) {
  ObjectDesc o;
  o.label = label;
  const int r0 = std::max(0, static_cast<int>(std::ceil(c.row - c.radius)));
  const int r1 = std::min(size - 1, static_cast<int>(std::floor(c.row + c.radius)));
  double sr = 0, sc = 0;
  o.bbox = {size, size, 0, 0};
  for (int y = r0; y <= r1; ++y) {
    const double half = std::sqrt(std::max(0.0, c.radius * c.radius - (y - c.row) * (y - c.row)));
    const int x0 = std::max(0, static_cast<int>(std::ceil(c.col - half)));
    const int x1 = std::min(size - 1, static_cast<int>(std::floor(c.col + half)));
    if (x1 < x0) continue;
    o.runs.push_back({y, x0, x1 + 1});
    const double n = x1 - x0 + 1;
    o.area += x1 - x0 + 1;
    sr += n * y;
    sc += n * (x0 + x1) / 2.0;
    o.bbox = {std::min(o.bbox[0], y), std::min(o.bbox[1], x0), std::max(o.bbox[2], y + 1), std::max(o.bbox[3], x1 + 1)};
  }
  if (o.area > 0) {
    o.row = sr / static_cast<double>(o.area);
    o.col = sc / static_cast<double>(o.area);
  }
  return o;
}

// Frame by frame: a persistent random walk (~1.5 px/frame), a division now and then (daughters at
// half the area on either side), cells drifting out and new ones entering at the border.
class Movie {
 public:
  Movie(int objects, double spacing, std::uint64_t seed) : rng_(seed), target_(static_cast<size_t>(objects)) {
    size_ = static_cast<int>(std::sqrt(objects * spacing * spacing));  // one cell per spacing^2 px
    for (int k = 0; k < objects; ++k) cells_.push_back(fresh(uniform(0, size_), uniform(0, size_)));
  }
  int size() const { return size_; }

  // Objects of the next frame; truth gets its (label, track) pairs and new tracks.
  std::vector<ObjectDesc> next(int frame, TrackSet& truth) {
    if (frame > 0) step();
    for (Track& t : pending_) truth.tracks.push_back(t);
    pending_.clear();
    std::vector<ObjectDesc> objects;
    std::vector<ObjectTrack> assigned;
    for (const Cell& c : cells_) {
      ObjectDesc o = disc(c, static_cast<std::int32_t>(objects.size() + 1), size_);
      if (o.area == 0) continue;
      assigned.push_back({o.label, c.track});
      truth.tracks[static_cast<size_t>(c.track - 1)].end = frame;
      objects.push_back(std::move(o));
    }
    truth.frames.push_back(std::move(assigned));
    for (const Cell& c : cells_) {
      Track& t = truth.tracks[static_cast<size_t>(c.track - 1)];
      if (t.begin < 0) t.begin = t.end = frame;
    }
    return objects;
  }

 private:
  double uniform(double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng_); }
  Cell fresh(double row, double col) { return {row, col, uniform(6.0, 10.0), 0, 0, new_track(0)}; }
  std::int32_t new_track(std::int32_t parent) {
    pending_.push_back({static_cast<std::int32_t>(next_id_), -1, -1, parent, false});
    return next_id_++;
  }

  void step() {
    std::normal_distribution<double> noise(0.0, 0.9);
    std::vector<Cell> next;
    for (Cell& c : cells_) {
      c.vr = 0.7 * c.vr + noise(rng_);
      c.vc = 0.7 * c.vc + noise(rng_);
      c.row += c.vr;
      c.col += c.vc;
      c.radius = std::min(10.0, c.radius * 1.004);
      const bool outside =
          c.row < -c.radius || c.col < -c.radius || c.row > size_ + c.radius || c.col > size_ + c.radius;
      if (outside) continue;
      if (uniform(0, 1) < 1.0 / 150.0 && c.radius > 6.0) {  // division
        const double a = uniform(0, 3.14159265);
        const double r = c.radius / std::sqrt(2.0);
        for (const double s : {-1.0, 1.0}) {
          next.push_back({c.row + s * r * std::sin(a), c.col + s * r * std::cos(a), r, s * std::sin(a), s * std::cos(a),
                          new_track(c.track)});
        }
        continue;
      }
      next.push_back(c);
    }
    // Keep the count steady: cells enter at the border where others left,
    while (next.size() < target_ * 95 / 100) {
      const double edge = uniform(0, size_);
      const int side = static_cast<int>(uniform(0, 4));
      next.push_back(fresh(side == 0 ? 0 : side == 1 ? size_ : edge, side == 2 ? 0 : side == 3 ? size_ : edge));
    }
    // and cells die now and then, so the count stays near the target.
    while (next.size() > target_)
      next.erase(next.begin() + static_cast<std::ptrdiff_t>(uniform(0, static_cast<double>(next.size()))));
    cells_ = std::move(next);
  }

  std::mt19937_64 rng_;
  size_t target_;
  int size_ = 0;
  std::vector<Cell> cells_;
  std::vector<Track> pending_;
  std::int32_t next_id_ = 1;
};

// The anchor: every frame, candidate pairs within `radius` sorted by centroid distance, taken greedily.
// No gap closing, no divisions.
class NearestLinker {
 public:
  explicit NearestLinker(double radius) : radius_(radius) {}
  void add_frame(const std::vector<ObjectDesc>& objects) {
    std::vector<std::int32_t> track(objects.size(), 0);
    std::vector<std::tuple<double, size_t, size_t>> pairs;
    // A coarse grid over the previous frame.
    std::map<std::pair<long, long>, std::vector<size_t>> grid;
    for (size_t i = 0; i < previous_.size(); ++i) grid[cell(previous_[i].row, previous_[i].col)].push_back(i);
    for (size_t j = 0; j < objects.size(); ++j) {
      const auto [gr, gc] = cell(objects[j].row, objects[j].col);
      for (long dr = -1; dr <= 1; ++dr) {
        for (long dc = -1; dc <= 1; ++dc) {
          const auto it = grid.find({gr + dr, gc + dc});
          if (it == grid.end()) continue;
          for (const size_t i : it->second) {
            const double d = std::hypot(previous_[i].row - objects[j].row, previous_[i].col - objects[j].col);
            if (d <= radius_) pairs.emplace_back(d, i, j);
          }
        }
      }
    }
    std::sort(pairs.begin(), pairs.end());
    std::vector<char> used(previous_.size(), 0);
    for (const auto& [d, i, j] : pairs) {
      if (used[i] || track[j] != 0) continue;
      used[i] = 1;
      track[j] = previous_track_[i];
      set_.tracks[static_cast<size_t>(track[j] - 1)].end = static_cast<std::int32_t>(set_.frames.size());
    }
    std::vector<ObjectTrack> assigned;
    for (size_t j = 0; j < objects.size(); ++j) {
      if (track[j] == 0) {
        track[j] = static_cast<std::int32_t>(set_.tracks.size() + 1);
        const auto f = static_cast<std::int32_t>(set_.frames.size());
        set_.tracks.push_back({track[j], f, f, 0, false});
      }
      assigned.push_back({objects[j].label, track[j]});
    }
    set_.frames.push_back(std::move(assigned));
    previous_ = objects;
    previous_track_ = std::move(track);
  }
  TrackSet finish() { return std::move(set_); }

 private:
  std::pair<long, long> cell(double r, double c) const {
    return {static_cast<long>(std::floor(r / radius_)), static_cast<long>(std::floor(c / radius_))};
  }
  double radius_;
  std::vector<ObjectDesc> previous_;
  std::vector<std::int32_t> previous_track_;
  TrackSet set_;
};

}  // namespace

int main(int argc, char** argv) {
  int frames = 1000;
  int objects = 500;
  std::string linker = "tessera";
  std::uint64_t seed = 1;
  double spacing = 40.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--frames") {
      frames = std::atoi(argv[i + 1]);
    } else if (flag == "--objects") {
      objects = std::atoi(argv[i + 1]);
    } else if (flag == "--linker") {
      linker = argv[i + 1];
    } else if (flag == "--seed") {
      seed = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (flag == "--spacing") {
      spacing = std::atof(argv[i + 1]);
    } else {
      fmt::print(stderr, "usage: {} --frames N --objects M [--linker tessera|nearest] [--seed S] [--spacing PX]\n",
                 argv[0]);
      return 2;
    }
  }
  if (frames < 2 || objects < 1 || !(spacing >= 5.0) || (linker != "tessera" && linker != "nearest")) {
    fmt::print(stderr, "need --frames >= 2, --objects >= 1, --spacing >= 5, --linker tessera|nearest\n");
    return 2;
  }
  using Clock = std::chrono::steady_clock;
  Movie movie(objects, spacing, seed);
  TrackSet truth;
  tessera::track::Tracker tracker({}, {movie.size(), movie.size()});
  NearestLinker nearest(20.0);  // the tracker's automatic radius for these ~16 px discs is ~24 px
  double generate_s = 0.0;
  double link_s = 0.0;
  long long count = 0;
  for (int t = 0; t < frames; ++t) {
    const auto t0 = Clock::now();
    std::vector<ObjectDesc> frame = movie.next(t, truth);
    const auto t1 = Clock::now();
    count += static_cast<long long>(frame.size());
    if (linker == "tessera")
      tracker.add_frame(std::move(frame));
    else
      nearest.add_frame(frame);
    const auto t2 = Clock::now();
    generate_s += std::chrono::duration<double>(t1 - t0).count();
    link_s += std::chrono::duration<double>(t2 - t1).count();
  }
  const auto t0 = Clock::now();
  const TrackSet result = linker == "tessera" ? tracker.finish() : nearest.finish();
  link_s += std::chrono::duration<double>(Clock::now() - t0).count();
  const auto score = tessera::track::score_tracking(truth, result);
  fmt::print(
      "linker={} frames={} objects={} link_s={:.3f} generate_s={:.3f} link_accuracy={:.4f} link_precision={:.4f} "
      "division_f1={:.3f} true_divisions={}\n",
      linker, frames, count, link_s, generate_s, score.link_recall(), score.link_precision(), score.division_f1(),
      score.true_divisions);
  return 0;
}
