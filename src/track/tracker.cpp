#include "tessera/track/tracker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>

#include "tessera/core/error.hpp"
#include "track/lap.hpp"
#include "track/link_costs.hpp"
#include "track/spatial_grid.hpp"

namespace tessera::track {
namespace {

// The latest object of a track that may still be continued.
struct Tail {
  ObjectDesc object;
  std::int32_t track = 0;
  int frame = 0;
};

struct Edge {
  int row;  // index into the rows (previous frame's tails, then older dangling tails)
  int col;  // index into the new frame's objects
  double cost;
};

int find_root(std::vector<int>& parent, int x) {
  while (parent[static_cast<size_t>(x)] != x) {
    parent[static_cast<size_t>(x)] = parent[static_cast<size_t>(parent[static_cast<size_t>(x)])];
    x = parent[static_cast<size_t>(x)];
  }
  return x;
}

// Solves the assignment separately for each connected group of candidate pairs; returns the column
// linked to each row (-1: none). A group's matrix has one private "no link" column per row.
std::vector<int> assign(int rows, int cols, const std::vector<Edge>& edges, const std::vector<double>& death,
                        const std::vector<double>& birth) {
  std::vector<int> parent(static_cast<size_t>(rows + cols));
  std::iota(parent.begin(), parent.end(), 0);
  for (const Edge& e : edges) {
    const int a = find_root(parent, e.row);
    const int b = find_root(parent, rows + e.col);
    if (a != b) parent[static_cast<size_t>(a)] = b;
  }
  // Group members, in index order, keyed by root.
  std::vector<std::vector<int>> group_rows(static_cast<size_t>(rows + cols));
  std::vector<std::vector<int>> group_cols(static_cast<size_t>(rows + cols));
  std::vector<int> local(static_cast<size_t>(rows + cols), -1);  // index within its group
  for (int r = 0; r < rows; ++r) {
    auto& g = group_rows[static_cast<size_t>(find_root(parent, r))];
    local[static_cast<size_t>(r)] = static_cast<int>(g.size());
    g.push_back(r);
  }
  for (int c = 0; c < cols; ++c) {
    auto& g = group_cols[static_cast<size_t>(find_root(parent, rows + c))];
    local[static_cast<size_t>(rows + c)] = static_cast<int>(g.size());
    g.push_back(c);
  }
  std::vector<std::vector<const Edge*>> group_edges(static_cast<size_t>(rows + cols));
  for (const Edge& e : edges) group_edges[static_cast<size_t>(find_root(parent, e.row))].push_back(&e);

  std::vector<int> link(static_cast<size_t>(rows), -1);
  for (size_t g = 0; g < group_edges.size(); ++g) {
    if (group_edges[g].empty()) continue;
    const auto& gr = group_rows[g];
    const auto& gc = group_cols[g];
    const int n = static_cast<int>(gr.size());
    const int m = static_cast<int>(gc.size());
    // Every row is assigned: to a real column (link; the column's birth is saved, so it is subtracted)
    // or to its own "no link" column (the row's death).
    CostMatrix matrix(n, m + n);
    for (const Edge* e : group_edges[g]) {
      matrix.at(local[static_cast<size_t>(e->row)], local[static_cast<size_t>(rows + e->col)]) =
          e->cost - birth[static_cast<size_t>(e->col)];
    }
    for (int k = 0; k < n; ++k) matrix.at(k, m + k) = death[static_cast<size_t>(gr[static_cast<size_t>(k)])];
    const std::vector<int> chosen = solve_assignment(matrix);
    for (int k = 0; k < n; ++k) {
      const int c = chosen[static_cast<size_t>(k)];
      if (c < m) link[static_cast<size_t>(gr[static_cast<size_t>(k)])] = gc[static_cast<size_t>(c)];
    }
  }
  return link;
}

struct Division {
  int mother;  // row
  int d1;      // cols
  int d2;
  double cost;
};

}  // namespace

struct Tracker::State {
  TrackOptions options;
  CostModel model;
  std::vector<Tail> previous;  // objects of the last frame added
  std::vector<Tail> dangling;  // tracks lost in the frames before it, at most max_gap frames ago
  TrackSet out;

  std::int32_t new_track(int frame, std::int32_t parent) {
    const auto id = static_cast<std::int32_t>(out.tracks.size() + 1);
    out.tracks.push_back({id, frame, frame, parent, false});
    return id;
  }
  Track& track(std::int32_t id) { return out.tracks[static_cast<size_t>(id - 1)]; }

  void set_auto_distance(const std::vector<ObjectDesc>& objects);
  std::vector<Division> find_divisions(const std::vector<const Tail*>& rows, const std::vector<ObjectDesc>& cols,
                                       const SpatialGrid& grid, const std::vector<int>& link) const;
  void add(std::vector<ObjectDesc> objects);
};

void validate(const TrackOptions& options) {
  if (options.max_gap < 0 || options.max_gap > 100) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("track: 'max_gap' must be in [0, 100], got {}", options.max_gap));
  }
  if (!(options.max_distance >= 0.0 && options.max_distance <= 1e6)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("track: 'max_distance' must be in [0, 1e6] pixels, got {}", options.max_distance));
  }
}

Tracker::Tracker(const TrackOptions& options, cv::Size frame_size) : state_(std::make_unique<State>()) {
  validate(options);
  state_->options = options;
  state_->model.frame = frame_size;
  state_->model.max_distance = options.max_distance;
}

Tracker::~Tracker() = default;
Tracker::Tracker(Tracker&&) noexcept = default;
Tracker& Tracker::operator=(Tracker&&) noexcept = default;

int Tracker::frames() const { return static_cast<int>(state_->out.frames.size()); }
double Tracker::max_distance() const { return state_->model.max_distance; }

void Tracker::add_frame(std::vector<ObjectDesc> objects) {
  const int frame = frames();
  std::sort(objects.begin(), objects.end(), [](const ObjectDesc& a, const ObjectDesc& b) { return a.label < b.label; });
  for (size_t k = 0; k < objects.size(); ++k) {
    const ObjectDesc& o = objects[k];
    if (o.label < 1) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("track: frame {}: label {} is not positive", frame, o.label));
    }
    if (k > 0 && objects[k - 1].label == o.label) {
      throw Error(ErrorCode::invalid_argument, fmt::format("track: frame {}: label {} appears twice", frame, o.label));
    }
    if (o.area < 1) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("track: frame {}, label {}: area {} (must be at least 1)", frame, o.label, o.area));
    }
  }
  state_->add(std::move(objects));
}

void Tracker::State::set_auto_distance(const std::vector<ObjectDesc>& objects) {
  std::vector<double> diameters;
  diameters.reserve(objects.size());
  for (const ObjectDesc& o : objects)
    diameters.push_back(2.0 * std::sqrt(static_cast<double>(o.area) / std::numbers::pi));
  const auto mid = diameters.begin() + static_cast<std::ptrdiff_t>(diameters.size() / 2);
  std::nth_element(diameters.begin(), mid, diameters.end());
  model.max_distance = std::max(5.0, 1.5 * *mid);
}

void Tracker::State::add(std::vector<ObjectDesc> objects) {
  const int frame = static_cast<int>(out.frames.size());
  if (model.max_distance <= 0.0 && !objects.empty()) set_auto_distance(objects);

  // Rows: the previous frame's objects, then the tracks lost within the last max_gap frames.
  std::vector<const Tail*> rows;
  for (const Tail& t : previous) rows.push_back(&t);
  for (const Tail& t : dangling) rows.push_back(&t);
  std::vector<std::pair<double, double>> points;
  points.reserve(objects.size());
  for (const ObjectDesc& o : objects) points.emplace_back(o.row, o.col);
  std::vector<Edge> edges;
  const SpatialGrid grid(points, model.max_distance);
  if (!objects.empty() && !rows.empty()) {
    for (size_t r = 0; r < rows.size(); ++r) {
      const Tail& tail = *rows[r];
      const int skipped = frame - tail.frame - 1;
      grid.near(tail.object.row, tail.object.col, model.radius(skipped), [&](int c) {
        const ObjectDesc& to = objects[static_cast<size_t>(c)];
        const auto cost = model.link(tail.object, to, skipped);
        // A link dearer than ending one track and starting another is never part of the optimum.
        if (cost && *cost < model.death(tail.object) + model.birth(to)) {
          edges.push_back({static_cast<int>(r), c, *cost});
        }
      });
    }
  }
  std::vector<double> death(rows.size());
  std::vector<double> birth(objects.size());
  for (size_t r = 0; r < rows.size(); ++r) death[r] = model.death(rows[r]->object);
  for (size_t c = 0; c < objects.size(); ++c) birth[c] = model.birth(objects[c]);
  const std::vector<int> link =
      assign(static_cast<int>(rows.size()), static_cast<int>(objects.size()), edges, death, birth);

  // Track of each new object; divisions first, so their daughters get fresh tracks.
  std::vector<std::int32_t> track_of(objects.size(), 0);
  std::vector<char> ended(rows.size(), 0);  // mothers: their track stops here
  if (options.divisions) {
    for (const Division& d : find_divisions(rows, objects, grid, link)) {
      const std::int32_t mother = rows[static_cast<size_t>(d.mother)]->track;
      track(mother).capped = true;
      ended[static_cast<size_t>(d.mother)] = 1;
      track_of[static_cast<size_t>(d.d1)] = new_track(frame, mother);
      track_of[static_cast<size_t>(d.d2)] = new_track(frame, mother);
    }
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    const int c = link[r];
    if (c >= 0 && !ended[r] && track_of[static_cast<size_t>(c)] == 0) {
      track_of[static_cast<size_t>(c)] = rows[r]->track;
      track(rows[r]->track).end = frame;
      ended[r] = 2;  // continued
    }
  }
  for (auto& t : track_of) {
    if (t == 0) t = new_track(frame, 0);
  }

  // Tails for the next frame: unlinked rows wait as dangling tracks while within max_gap.
  std::vector<Tail> next_dangling;
  for (size_t r = 0; r < rows.size(); ++r) {
    if (ended[r] != 0) continue;
    if (frame - rows[r]->frame <= options.max_gap) next_dangling.push_back(*rows[r]);
  }
  std::vector<ObjectTrack> assigned;
  assigned.reserve(objects.size());
  std::vector<Tail> next_previous;
  next_previous.reserve(objects.size());
  for (size_t c = 0; c < objects.size(); ++c) {
    assigned.push_back({objects[c].label, track_of[c]});
    next_previous.push_back({std::move(objects[c]), track_of[c], frame});
  }
  out.frames.push_back(std::move(assigned));
  previous = std::move(next_previous);
  dangling = std::move(next_dangling);
}

std::vector<Division> Tracker::State::find_divisions(const std::vector<const Tail*>& rows,
                                                     const std::vector<ObjectDesc>& cols, const SpatialGrid& grid,
                                                     const std::vector<int>& link) const {
  std::vector<char> born(cols.size(), 1);
  for (const int c : link) {
    if (c >= 0) born[static_cast<size_t>(c)] = 0;
  }
  std::vector<Division> candidates;
  std::vector<int> kids;
  for (size_t r = 0; r < rows.size(); ++r) {
    // Mothers are in the previous frame; her candidate daughters are the new tracks around her (found
    // afresh: a daughter's link to her may have been too dear to be a candidate link).
    if (rows[r]->frame + 1 != static_cast<int>(out.frames.size())) continue;
    const ObjectDesc& mother = rows[r]->object;
    kids.clear();
    grid.near(mother.row, mother.col, model.max_distance, [&](int c) {
      const ObjectDesc& o = cols[static_cast<size_t>(c)];
      if (born[static_cast<size_t>(c)] && std::hypot(o.row - mother.row, o.col - mother.col) <= model.max_distance) {
        kids.push_back(c);
      }
    });
    const auto consider = [&](int d1, int d2) {
      const auto cost = model.division(mother, cols[static_cast<size_t>(d1)], cols[static_cast<size_t>(d2)]);
      if (cost && *cost <= kMaxDivisionCost) candidates.push_back({static_cast<int>(r), d1, d2, *cost});
    };
    if (link[r] >= 0) {
      // She went on as one daughter (the closest match), the other started a track.
      for (const int k : kids) consider(link[r], k);
    } else {
      for (size_t i = 0; i < kids.size(); ++i) {
        for (size_t j = i + 1; j < kids.size(); ++j) consider(kids[i], kids[j]);
      }
    }
  }
  // Best first, each mother and daughter once.
  std::sort(candidates.begin(), candidates.end(), [](const Division& a, const Division& b) {
    return a.cost < b.cost || (a.cost == b.cost && std::tie(a.mother, a.d1, a.d2) < std::tie(b.mother, b.d1, b.d2));
  });
  std::vector<char> mother_used(rows.size(), 0);
  std::vector<char> daughter_used(cols.size(), 0);
  std::vector<Division> chosen;
  for (const Division& d : candidates) {
    if (mother_used[static_cast<size_t>(d.mother)] || daughter_used[static_cast<size_t>(d.d1)] ||
        daughter_used[static_cast<size_t>(d.d2)]) {
      continue;
    }
    mother_used[static_cast<size_t>(d.mother)] = 1;
    daughter_used[static_cast<size_t>(d.d1)] = 1;
    daughter_used[static_cast<size_t>(d.d2)] = 1;
    chosen.push_back(d);
  }
  return chosen;
}

TrackSet Tracker::finish() {
  if (frames() < 2) {
    throw Error(ErrorCode::invalid_argument, fmt::format("track: the series has {} frame{}; tracking needs at least 2",
                                                         frames(), frames() == 1 ? "" : "s"));
  }
  TrackSet out = std::move(state_->out);
  const TrackOptions options = state_->options;
  const cv::Size frame = state_->model.frame;
  *state_ = State{};
  state_->options = options;
  state_->model.frame = frame;
  state_->model.max_distance = options.max_distance;
  return out;
}

TrackSet track(const std::vector<std::vector<ObjectDesc>>& frames, const TrackOptions& options, cv::Size frame_size) {
  Tracker tracker(options, frame_size);
  for (const auto& objects : frames) tracker.add_frame(objects);
  return tracker.finish();
}

}  // namespace tessera::track
