#include "tessera/synth/timelapse.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <numbers>
#include <random>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/core/splitmix64.hpp"
#include "tessera/image/encode.hpp"

namespace tessera::synth {
namespace {

constexpr double kPi = std::numbers::pi;
constexpr int kMaxLabel = 65535;   // masks are 16-bit PNGs
constexpr int kMitosisFrames = 3;  // frames of elongation before the split
constexpr int kMaxStall = 6;       // frames a blocked split waits before mitosis is abandoned
constexpr int kMaxPlacementFailures = 200;
constexpr double kPsfSigma = 1.5;   // pixels
constexpr double kEdgeWidth = 0.6;  // pixels, logistic scale of the nuclear edge
constexpr double kReadNoise = 4.0;  // ADU
constexpr double kGain = 1.8;       // ADU per photo-electron

// mt19937_64 is fully specified by the standard but its distributions are not, so they are written
// out here and the same seed gives the same movie with any standard library.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  std::uint64_t bits() { return engine_(); }
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int below(int n) {  // [0, n), n > 0
    return static_cast<int>(((engine_() >> 32) * static_cast<std::uint64_t>(n)) >> 32);
  }
  double normal() {  // Marsaglia's polar method: no trigonometry, both outputs used
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u = 0.0;
    double v = 0.0;
    double s = 0.0;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double scale = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * scale;
    has_spare_ = true;
    return u * scale;
  }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

struct Ellipse {
  double x = 0.0;  // centre, field pixel coordinates
  double y = 0.0;
  double a = 1.0;  // semi-axis along angle
  double b = 1.0;  // semi-axis across
  double angle = 0.0;
};

int clamp_to_int(double v, int lo, int hi) {
  return static_cast<int>(std::clamp(v, static_cast<double>(lo), static_cast<double>(hi)));
}

// Calls span(y, x0, x1) for each row of field pixels whose centres lie inside e, until it returns
// false. This is the one definition of a nucleus's mask; everything that tests pixels goes through
// it.
template <class Span>
void for_each_span(const Ellipse& e, int size, Span span) {
  const double c = std::cos(e.angle);
  const double s = std::sin(e.angle);
  const double ia = 1.0 / (e.a * e.a);
  const double ib = 1.0 / (e.b * e.b);
  // u^2/a^2 + v^2/b^2 <= 1 as a quadratic in dx for each row: qa dx^2 + qb dy dx + qc dy^2 <= 1.
  const double qa = c * c * ia + s * s * ib;
  const double qb = 2.0 * c * s * (ia - ib);
  const double qc = s * s * ia + c * c * ib;
  const double half_height = std::sqrt(e.a * e.a * s * s + e.b * e.b * c * c);
  const int y0 = clamp_to_int(std::ceil(e.y - half_height), 0, size);
  const int y1 = clamp_to_int(std::floor(e.y + half_height), -1, size - 1);
  for (int y = y0; y <= y1; ++y) {
    const double dy = y - e.y;
    const double disc = qb * qb * dy * dy - 4.0 * qa * (qc * dy * dy - 1.0);
    if (disc < 0.0) continue;
    const double root = std::sqrt(disc);
    const int x0 = clamp_to_int(std::ceil(e.x + (-qb * dy - root) / (2.0 * qa)), 0, size);
    const int x1 = clamp_to_int(std::floor(e.x + (-qb * dy + root) / (2.0 * qa)), -1, size - 1);
    if (x0 <= x1 && !span(y, x0, x1)) return;
  }
}

void rasterize(const Ellipse& e, int size, std::vector<int>& out) {
  out.clear();
  for_each_span(e, size, [&](int y, int x0, int x1) {
    for (int x = x0; x <= x1; ++x) out.push_back(y * size + x);
    return true;
  });
}

// Chromatin pattern in the nucleus's own normalised frame, so it moves and turns with the nucleus.
struct Texture {
  std::array<double, 4> fu{}, fv{}, phase{}, amp{};
  int nucleoli = 0;  // darker spots, as nucleoli look in a DNA stain
  std::array<double, 2> nu{}, nv{}, inv_two_var{}, depth{};

  static Texture random(Rng& rng) {
    Texture t;
    for (size_t k = 0; k < t.amp.size(); ++k) {
      // Two broad undulations and two finer, granular components; frequencies in cycles per radius.
      const bool fine = k >= 2;
      const double f = fine ? rng.uniform(2.5, 4.0) : rng.uniform(0.8, 1.6);
      const double dir = rng.uniform(0.0, 2.0 * kPi);
      t.fu[k] = f * std::cos(dir);
      t.fv[k] = f * std::sin(dir);
      t.phase[k] = rng.uniform(0.0, 2.0 * kPi);
      t.amp[k] = fine ? rng.uniform(0.025, 0.045) : rng.uniform(0.02, 0.04);
    }
    t.nucleoli = rng.below(3);
    for (int k = 0; k < t.nucleoli; ++k) {
      const double r = rng.uniform(0.0, 0.55);
      const double dir = rng.uniform(0.0, 2.0 * kPi);
      t.nu[k] = r * std::cos(dir);
      t.nv[k] = r * std::sin(dir);
      const double sigma = rng.uniform(0.1, 0.18);
      t.inv_two_var[k] = 1.0 / (2.0 * sigma * sigma);
      t.depth[k] = rng.uniform(0.08, 0.18);
    }
    return t;
  }

  double at(double u, double v) const {
    double value = 1.0;
    for (size_t k = 0; k < amp.size(); ++k) {
      value += amp[k] * std::cos(2.0 * kPi * (fu[k] * u + fv[k] * v) + phase[k]);
    }
    for (int k = 0; k < nucleoli; ++k) {
      const double du = u - nu[k];
      const double dv = v - nv[k];
      value -= depth[k] * std::exp(-(du * du + dv * dv) * inv_two_var[k]);
    }
    return value;
  }
};

struct Nucleus {
  Ellipse shape;
  double rest_a = 1.0;  // interphase semi-axes the shape grows or relaxes towards
  double rest_b = 1.0;
  double vx = 0.0;  // persistent part of the motion, pixels per frame
  double vy = 0.0;
  double brightness = 1.0;  // relative to the position's peak signal
  double glow = 1.0;        // condensed-chromatin boost around mitosis, relaxes to 1
  Texture texture;
  int label = 0;  // 0 while still outside the field: a label is given on entry
  int mitosis_at = std::numeric_limits<int>::max();  // frame at which elongation starts
  int mitosis = 0;                                   // elongation frames done, 0..kMitosisFrames
  int stalled = 0;                                   // frames a split has been blocked
  int partner = 0;          // label of the touching neighbour it keeps close to, 0 for none
  double contact = 0.0;     // centre distance at which the pair touched
  std::vector<int> pixels;  // current mask, y * size + x
  bool alive = true;
};

// Camera and optics of one position, fixed over the movie.
struct Camera {
  // Photo-electrons at full illumination: from medium and out-of-focus light everywhere
  // (background) and at the centre of a nucleus of brightness 1 (peak).
  double background = 0.0;
  double peak = 0.0;
  double offset = 0.0;     // ADU, bias of an sCMOS camera
  cv::Mat1f illumination;  // multiplicative, 1 at the optical axis, 0.6 at the farthest corner
};

// One field of view stepped frame by frame. Invariant: labels_ holds, for every labelled alive
// nucleus, exactly its pixels, so a move is accepted only onto pixels that are free or already its
// own; that is what keeps masks disjoint and every track present without gaps from entry to exit.
class PositionSimulator {
 public:
  PositionSimulator(const TimelapseOptions& options, int position);

  void advance(int t);  // t >= 1: motion, growth, mitosis, entry and exit
  const cv::Mat1w& labels() const { return labels_; }
  cv::Mat render(int t) const;
  std::vector<NucleusGeometry> geometry() const;
  const std::vector<TrackRecord>& tracks() const { return tracks_; }
  int divisions() const { return divisions_; }

 private:
  Nucleus random_nucleus(double x, double y);
  void place_initial(int count, int pairs);
  bool try_place_partner(const Nucleus& first);
  void place_outside(int count);
  bool is_free(const Ellipse& e, int own) const;
  bool touches(const std::vector<int>& pixels, int other) const;
  void stamp(Nucleus& n, std::vector<int>& pixels);
  void unstamp(Nucleus& n);
  int add_track(Nucleus& n, int begin, int parent);
  void update(size_t i, int t);
  bool try_divide(size_t i, int t);
  void paint(const Nucleus& n, cv::Mat1f& signal) const;

  int size_;
  int cycle_;
  double unit_;  // length scale: 1 at size 512
  double r_min_;
  double r_max_;
  double margin_;  // nuclei live this far outside the field, to drift in
  double drift_x_;
  double drift_y_;
  std::uint64_t noise_seed_;
  Rng rng_;
  Camera camera_;
  std::vector<Nucleus> nuclei_;
  std::vector<int> slot_of_label_;   // index into nuclei_, -1 once gone
  std::vector<TrackRecord> tracks_;  // tracks_[label - 1]
  int divisions_ = 0;
  cv::Mat1w labels_;
  std::vector<int> scratch_;
};

PositionSimulator::PositionSimulator(const TimelapseOptions& options, int position)
    : size_(options.size),
      cycle_(options.cycle_frames),
      unit_(options.size / 512.0),
      r_min_(std::max(1.5, options.size / 50.0)),
      r_max_(std::max(2.5, options.size / 25.0)),
      margin_(3.0 * r_max_),
      rng_(splitmix64(options.seed ^ splitmix64(static_cast<std::uint64_t>(position)))),
      slot_of_label_(kMaxLabel + 1, -1),
      labels_(options.size, options.size, std::uint16_t{0}) {
  noise_seed_ = rng_.bits();
  const double drift_dir = rng_.uniform(0.0, 2.0 * kPi);
  const double drift = rng_.uniform(0.1, 0.4) * unit_;
  drift_x_ = drift * std::cos(drift_dir);
  drift_y_ = drift * std::sin(drift_dir);

  camera_.offset = rng_.uniform(280.0, 420.0);
  camera_.background = rng_.uniform(300.0, 450.0);
  camera_.peak = rng_.uniform(13000.0, 17000.0);
  // Vignetting: a quadratic falloff around an optical axis slightly off the image centre.
  const double axis_x = size_ * (0.5 + rng_.uniform(-0.08, 0.08));
  const double axis_y = size_ * (0.5 + rng_.uniform(-0.08, 0.08));
  const double far_x = std::max(axis_x, size_ - 1 - axis_x);
  const double far_y = std::max(axis_y, size_ - 1 - axis_y);
  const double inv_far2 = 1.0 / (far_x * far_x + far_y * far_y);
  camera_.illumination.create(size_, size_);
  for (int y = 0; y < size_; ++y) {
    float* row = camera_.illumination[y];
    for (int x = 0; x < size_; ++x) {
      const double dx = x - axis_x;
      const double dy = y - axis_y;
      row[x] = static_cast<float>(1.0 - 0.4 * (dx * dx + dy * dy) * inv_far2);
    }
  }

  const int pairs = static_cast<int>(std::lround(options.nuclei * options.touching_fraction / 2.0));
  place_initial(options.nuclei, pairs);
  // As many nuclei per area outside the field as inside, so the upstream edge keeps receiving
  // cells.
  const double outer = size_ + 2.0 * margin_;
  const double ratio = (outer * outer - double(size_) * size_) / (double(size_) * size_);
  place_outside(static_cast<int>(std::lround(static_cast<double>(nuclei_.size()) * ratio)));
}

Nucleus PositionSimulator::random_nucleus(double x, double y) {
  Nucleus n;
  const double r = rng_.uniform(r_min_, r_max_);
  const double aspect = std::sqrt(rng_.uniform(1.0, 1.45));
  n.rest_a = r * aspect;
  n.rest_b = r / aspect;
  n.shape = {x, y, n.rest_a, n.rest_b, rng_.uniform(0.0, kPi)};
  n.brightness = rng_.uniform(0.55, 1.0);
  n.texture = Texture::random(rng_);
  // Cells start at a uniform phase of their cycle, so divisions spread evenly over the movie.
  if (cycle_ > 0) n.mitosis_at = 1 + rng_.below(cycle_);
  return n;
}

bool PositionSimulator::is_free(const Ellipse& e, int own) const {
  bool free = true;
  for_each_span(e, size_, [&](int y, int x0, int x1) {
    const std::uint16_t* row = labels_[y];
    for (int x = x0; x <= x1; ++x) {
      if (row[x] != 0 && row[x] != own) return free = false;
    }
    return true;
  });
  return free;
}

bool PositionSimulator::touches(const std::vector<int>& pixels, int other) const {
  const auto* data = reinterpret_cast<const std::uint16_t*>(labels_.data);
  for (const int p : pixels) {
    const int x = p % size_;
    const int y = p / size_;
    if ((x > 0 && data[p - 1] == other) || (x + 1 < size_ && data[p + 1] == other) ||
        (y > 0 && data[p - size_] == other) || (y + 1 < size_ && data[p + size_] == other)) {
      return true;
    }
  }
  return false;
}

void PositionSimulator::stamp(Nucleus& n, std::vector<int>& pixels) {
  auto* data = reinterpret_cast<std::uint16_t*>(labels_.data);
  for (const int p : n.pixels) data[p] = 0;
  for (const int p : pixels) data[p] = static_cast<std::uint16_t>(n.label);
  n.pixels.swap(pixels);
}

void PositionSimulator::unstamp(Nucleus& n) {
  auto* data = reinterpret_cast<std::uint16_t*>(labels_.data);
  for (const int p : n.pixels) data[p] = 0;
  n.pixels.clear();
}

int PositionSimulator::add_track(Nucleus& n, int begin, int parent) {
  n.label = static_cast<int>(tracks_.size()) + 1;
  tracks_.push_back({n.label, begin, begin, parent});
  return n.label;
}

void PositionSimulator::place_initial(int count, int pairs) {
  // Isolated nuclei keep a small gap so that touching happens where it is meant to, in pairs.
  const double gap = std::max(1.0, 2.0 * unit_);
  int placed = 0;
  int failures = 0;
  while (placed < count && failures < kMaxPlacementFailures) {
    Nucleus n = random_nucleus(rng_.uniform(0.0, size_ - 1.0), rng_.uniform(0.0, size_ - 1.0));
    Ellipse padded = n.shape;
    padded.a += gap;
    padded.b += gap;
    rasterize(n.shape, size_, scratch_);
    if (scratch_.empty() || !is_free(padded, 0)) {
      ++failures;
      continue;
    }
    failures = 0;
    add_track(n, 0, 0);
    stamp(n, scratch_);
    nuclei_.push_back(std::move(n));
    ++placed;
    if (pairs > 0 && placed < count && try_place_partner(nuclei_.back())) {
      --pairs;
      ++placed;
    }
  }
  for (size_t i = 0; i < nuclei_.size(); ++i) {
    slot_of_label_[nuclei_[i].label] = static_cast<int>(i);
  }
}

// Slides a new nucleus outwards from `first` along a random direction until their masks no longer
// share a pixel; at that distance the two are 4-adjacent, which is checked rather than assumed.
bool PositionSimulator::try_place_partner(const Nucleus& first) {
  const double gap = std::max(1.0, 2.0 * unit_);
  const double step = 0.25;
  for (int attempt = 0; attempt < 24; ++attempt) {
    Nucleus n = random_nucleus(0.0, 0.0);
    const double dir = rng_.uniform(0.0, 2.0 * kPi);
    const double far =
        std::max(first.shape.a, first.shape.b) + std::max(n.shape.a, n.shape.b) + 2.0;
    for (double d = 0.5 * std::min(first.shape.b, first.shape.a); d < far; d += step) {
      n.shape.x = first.shape.x + d * std::cos(dir);
      n.shape.y = first.shape.y + d * std::sin(dir);
      if (!is_free(n.shape, 0)) continue;
      Ellipse padded = n.shape;
      padded.a += gap;
      padded.b += gap;
      rasterize(n.shape, size_, scratch_);
      const bool inside =
          n.shape.x >= 0 && n.shape.x <= size_ - 1 && n.shape.y >= 0 && n.shape.y <= size_ - 1;
      if (!inside || scratch_.empty() || !is_free(padded, first.label) ||
          !touches(scratch_, first.label)) {
        break;
      }
      const int first_label = first.label;
      const double contact = d;
      add_track(n, 0, 0);
      stamp(n, scratch_);
      n.partner = first_label;
      n.contact = contact;
      const int label = n.label;
      nuclei_.push_back(std::move(n));  // invalidates `first`
      Nucleus& mate = nuclei_[nuclei_.size() - 2];
      mate.partner = label;
      mate.contact = contact;
      return true;
    }
  }
  return false;
}

void PositionSimulator::place_outside(int count) {
  // Off-field nuclei cover no pixel, so the label map cannot keep them apart; bounding circles do,
  // so that they enter the field one after the other rather than piled up.
  std::vector<std::pair<Nucleus, double>> outside;
  int failures = 0;
  while (static_cast<int>(outside.size()) < count && failures < kMaxPlacementFailures) {
    const double lo = -margin_;
    const double hi = size_ - 1 + margin_;
    Nucleus n = random_nucleus(rng_.uniform(lo, hi), rng_.uniform(lo, hi));
    const double radius = std::max(n.shape.a, n.shape.b) + 1.0;
    rasterize(n.shape, size_, scratch_);
    bool ok = scratch_.empty();
    for (size_t k = 0; ok && k < outside.size(); ++k) {
      const double dx = outside[k].first.shape.x - n.shape.x;
      const double dy = outside[k].first.shape.y - n.shape.y;
      ok = std::hypot(dx, dy) > radius + outside[k].second;
    }
    if (!ok) {
      ++failures;
      continue;
    }
    failures = 0;
    outside.emplace_back(std::move(n), radius);
  }
  for (auto& entry : outside) nuclei_.push_back(std::move(entry.first));
}

void PositionSimulator::advance(int t) {
  // A fresh random order each frame, so no nucleus always wins the contested pixels.
  std::vector<size_t> order(nuclei_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (size_t i = order.size(); i > 1; --i) {
    std::swap(order[i - 1], order[static_cast<size_t>(rng_.below(static_cast<int>(i)))]);
  }
  for (const size_t i : order) {
    if (nuclei_[i].alive) update(i, t);
  }

  std::erase_if(nuclei_, [](const Nucleus& n) { return !n.alive; });
  std::fill(slot_of_label_.begin(), slot_of_label_.end(), -1);
  for (size_t i = 0; i < nuclei_.size(); ++i) {
    if (nuclei_[i].label > 0) {
      slot_of_label_[nuclei_[i].label] = static_cast<int>(i);
      tracks_[nuclei_[i].label - 1].end = t;
    }
  }
}

void PositionSimulator::update(size_t i, int t) {
  if (nuclei_[i].mitosis == kMitosisFrames && try_divide(i, t)) return;
  Nucleus& n = nuclei_[i];

  // Persistent random walk on top of the stage drift.
  n.vx = 0.8 * n.vx + 0.5 * unit_ * rng_.normal();
  n.vy = 0.8 * n.vy + 0.5 * unit_ * rng_.normal();
  double dx = n.vx + drift_x_;
  double dy = n.vy + drift_y_;
  if (n.partner > 0) {
    // Touching pairs stay together as adherent cells do: a pull back to where they met.
    const int slot = slot_of_label_[n.partner];
    if (slot < 0 || !nuclei_[static_cast<size_t>(slot)].alive) {
      n.partner = 0;
    } else {
      const Ellipse& mate = nuclei_[static_cast<size_t>(slot)].shape;
      const double ex = mate.x - n.shape.x;
      const double ey = mate.y - n.shape.y;
      const double dist = std::max(1e-9, std::hypot(ex, ey));
      const double pull = std::clamp(0.3 * (dist - n.contact), -0.5 * unit_, 0.5 * unit_);
      dx += pull * ex / dist;
      dy += pull * ey / dist;
    }
  }

  Ellipse next = n.shape;
  next.x += dx;
  next.y += dy;
  next.angle += 0.03 * rng_.normal();
  int mitosis = n.mitosis;
  if (n.label > 0 && t >= n.mitosis_at && mitosis < kMitosisFrames &&
      static_cast<int>(tracks_.size()) + 2 <= kMaxLabel) {
    ++mitosis;
  }
  if (mitosis > 0) {  // stretch along the longer axis, which becomes the division axis
    const double p = static_cast<double>(mitosis) / kMitosisFrames;
    const double stretch = 1.0 + 0.45 * p;
    const double squeeze = 1.0 - 0.3 * p;
    const bool along_a = n.rest_a >= n.rest_b;
    next.a = n.rest_a * (along_a ? stretch : squeeze);
    next.b = n.rest_b * (along_a ? squeeze : stretch);
  } else {
    next.a += 0.1 * (n.rest_a - next.a);
    next.b += 0.1 * (n.rest_b - next.b);
  }
  const double glow =
      mitosis > 0 ? 1.0 + 0.3 * mitosis / kMitosisFrames : 1.0 + 0.85 * (n.glow - 1.0);

  rasterize(next, size_, scratch_);
  if (n.label == 0) {
    // Outside the field: free to move until it would show, then it enters with a new label.
    const bool far = next.x < -2 * margin_ || next.y < -2 * margin_ ||
                     next.x > size_ + 2 * margin_ || next.y > size_ + 2 * margin_;
    if (scratch_.empty()) {
      n.shape = next;
      n.alive = !far;
    } else if (static_cast<int>(tracks_.size()) < kMaxLabel && is_free(next, 0)) {
      n.shape = next;
      add_track(n, t, 0);
      stamp(n, scratch_);
      slot_of_label_[n.label] = static_cast<int>(i);
    } else {
      n.vx = n.vy = 0.0;
    }
    return;
  }
  if (scratch_.empty()) {  // left the field: the track ends at t - 1
    unstamp(n);
    n.alive = false;
    slot_of_label_[n.label] = -1;
    return;
  }
  bool accepted = is_free(next, n.label);
  if (!accepted) {
    // Blocked by a neighbour: keep the place but still grow, turn or elongate if that fits.
    n.vx = n.vy = 0.0;
    next.x = n.shape.x;
    next.y = n.shape.y;
    rasterize(next, size_, scratch_);
    accepted = !scratch_.empty() && is_free(next, n.label);
  }
  if (accepted) {
    n.shape = next;
    n.mitosis = mitosis;
    n.glow = glow;
    stamp(n, scratch_);
  }
}

// Replaces a fully elongated mother by two daughters at its poles, condensed (small, bright) and
// flattened across the division axis as in telophase, moving apart. Both must land on free pixels
// inside the field, else the mother waits and eventually gives up this cycle.
bool PositionSimulator::try_divide(size_t i, int t) {
  Nucleus& mother = nuclei_[i];
  const Ellipse& s = mother.shape;
  const double r0 = std::sqrt(mother.rest_a * mother.rest_b);
  const double along = 0.45 * r0;
  const double across = 0.62 * r0;
  const bool along_a = mother.rest_a >= mother.rest_b;
  const double axis = along_a ? s.angle : s.angle + kPi / 2.0;
  const double offset = (along_a ? s.a : s.b) - along;
  const double cx = std::cos(axis);
  const double cy = std::sin(axis);
  std::array<Ellipse, 2> shapes;
  std::array<std::vector<int>, 2> pixels;
  bool ok = static_cast<int>(tracks_.size()) + 2 <= kMaxLabel;
  for (int k = 0; k < 2; ++k) {
    const double sign = k == 0 ? 1.0 : -1.0;
    shapes[k] = {s.x + sign * offset * cx, s.y + sign * offset * cy, along, across,
                 axis + 0.1 * rng_.normal()};
    rasterize(shapes[k], size_, pixels[k]);
    ok = ok && !pixels[k].empty() && is_free(shapes[k], mother.label);
  }
  if (ok) {
    std::sort(pixels[0].begin(), pixels[0].end());
    for (const int p : pixels[1]) {
      if (std::binary_search(pixels[0].begin(), pixels[0].end(), p)) {
        ok = false;
        break;
      }
    }
  }
  if (!ok) {
    if (++mother.stalled > kMaxStall) {
      mother.mitosis = 0;
      mother.stalled = 0;
      mother.mitosis_at = t + 1 + cycle_ / 4;
    }
    return false;
  }

  unstamp(mother);
  mother.alive = false;
  slot_of_label_[mother.label] = -1;
  // Copied: push_back below invalidates the reference.
  const int parent_label = mother.label;
  const double parent_brightness = mother.brightness;
  for (int k = 0; k < 2; ++k) {
    Nucleus d;
    d.shape = shapes[k];
    // Half inherited, half drawn afresh: sizes stay in the population's range over generations
    // instead of shrinking or growing geometrically.
    const double r = 0.5 * r0 + 0.5 * rng_.uniform(r_min_, r_max_);
    const double aspect = std::sqrt(rng_.uniform(1.0, 1.35));
    const bool flip = rng_.below(2) == 1;
    d.rest_a = flip ? r / aspect : r * aspect;
    d.rest_b = flip ? r * aspect : r / aspect;
    const double sign = k == 0 ? 1.0 : -1.0;
    d.vx = 0.8 * unit_ * sign * cx;
    d.vy = 0.8 * unit_ * sign * cy;
    d.brightness = parent_brightness * rng_.uniform(0.9, 1.1);
    d.glow = 1.3;
    d.texture = Texture::random(rng_);
    if (cycle_ > 0) {
      d.mitosis_at = t + static_cast<int>(std::lround(cycle_ * rng_.uniform(0.8, 1.2)));
    }
    add_track(d, t, parent_label);
    stamp(d, pixels[k]);
    slot_of_label_[d.label] = static_cast<int>(nuclei_.size());
    nuclei_.push_back(std::move(d));
  }
  ++divisions_;
  return true;
}

// Flat-topped nucleus with a logistic edge whose half-maximum is the mask boundary, a slight dome
// (nuclei are thicker in the middle) and the chromatin texture. Overlapping tails take the maximum,
// so touching nuclei keep a faint seam as in real images.
void PositionSimulator::paint(const Nucleus& n, cv::Mat1f& signal) const {
  const Ellipse& e = n.shape;
  const double pad = 4.0 + 6.0 * kEdgeWidth;
  const double c = std::cos(e.angle);
  const double s = std::sin(e.angle);
  const double half_w = std::sqrt(e.a * e.a * c * c + e.b * e.b * s * s) + pad;
  const double half_h = std::sqrt(e.a * e.a * s * s + e.b * e.b * c * c) + pad;
  const int x0 = clamp_to_int(std::ceil(e.x - half_w), 0, size_);
  const int x1 = clamp_to_int(std::floor(e.x + half_w), -1, size_ - 1);
  const int y0 = clamp_to_int(std::ceil(e.y - half_h), 0, size_);
  const int y1 = clamp_to_int(std::floor(e.y + half_h), -1, size_ - 1);
  const double level = n.brightness * n.glow;
  for (int y = y0; y <= y1; ++y) {
    float* row = signal[y];
    const double dy = y - e.y;
    for (int x = x0; x <= x1; ++x) {
      const double dx = x - e.x;
      const double u = (dx * c + dy * s) / e.a;
      const double v = (-dx * s + dy * c) / e.b;
      const double r2 = u * u + v * v;
      const double r = std::sqrt(r2);
      // Distance to the boundary along the ray from the centre, negative inside.
      const double d =
          r > 1e-12 ? std::sqrt(dx * dx + dy * dy) * (1.0 - 1.0 / r) : -std::min(e.a, e.b);
      if (d > 6.0 * kEdgeWidth) continue;
      const double edge = 1.0 / (1.0 + std::exp(d / kEdgeWidth));
      const double value = level * edge * (1.0 - 0.12 * std::min(r2, 1.0)) * n.texture.at(u, v);
      row[x] = std::max(row[x], static_cast<float>(value));
    }
  }
}

cv::Mat PositionSimulator::render(int t) const {
  cv::Mat1f signal(size_, size_, 0.0f);
  for (const Nucleus& n : nuclei_) paint(n, signal);

  // Out-of-focus glow: a faint wide blur of the in-focus signal, computed at 1/8 scale for speed.
  cv::Mat1f small;
  cv::Mat1f haze;
  const int small_size = std::max(4, size_ / 8);
  cv::resize(signal, small, cv::Size(small_size, small_size), 0, 0, cv::INTER_AREA);
  cv::GaussianBlur(small, small, cv::Size(), 1.5, 1.5, cv::BORDER_REFLECT);
  cv::resize(small, haze, signal.size(), 0, 0, cv::INTER_LINEAR);
  cv::scaleAdd(haze, 0.12, signal, signal);
  cv::GaussianBlur(signal, signal, cv::Size(), kPsfSigma, kPsfSigma, cv::BORDER_REFLECT);

  // A per-frame stream keeps frame t independent of how many frames are generated.
  Rng noise(splitmix64(noise_seed_ + static_cast<std::uint64_t>(t)));
  const double flicker = 1.0 + 0.01 * noise.normal();  // lamp power fluctuation
  const double bleach = 0.5 + 0.5 * std::exp(-0.004 * t);
  const double peak = camera_.peak * flicker * bleach;
  cv::Mat1w out(size_, size_);
  for (int y = 0; y < size_; ++y) {
    const float* sig = signal[y];
    const float* light = camera_.illumination[y];
    std::uint16_t* dst = out[y];
    for (int x = 0; x < size_; ++x) {
      // Photo-electrons; shot noise as a Gaussian of variance equal to the mean (Poisson at these
      // counts, which stay in the hundreds or more), then gain, read noise and offset.
      const double electrons = light[x] * (camera_.background + peak * sig[x]);
      const double sigma = std::sqrt(kGain * kGain * electrons + kReadNoise * kReadNoise);
      const double adu = camera_.offset + kGain * electrons + sigma * noise.normal();
      dst[x] = static_cast<std::uint16_t>(std::clamp(adu, 0.0, 65535.0) + 0.5);
    }
  }
  return out;
}

std::vector<NucleusGeometry> PositionSimulator::geometry() const {
  std::vector<NucleusGeometry> out;
  for (const Nucleus& n : nuclei_) {
    if (n.label == 0) continue;
    const Ellipse& e = n.shape;
    NucleusGeometry g{n.label, e.x, e.y, e.a, e.b, e.angle};
    if (e.a < e.b) {
      std::swap(g.semi_major, g.semi_minor);
      g.angle += kPi / 2.0;
    }
    g.angle = std::fmod(g.angle, kPi);
    if (g.angle < 0.0) g.angle += kPi;
    out.push_back(g);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.label < b.label; });
  return out;
}

// Streams one position frame by frame to `sink(t, image, labels, geometry)`.
template <class Sink>
PositionSimulator simulate(const TimelapseOptions& options, int position, Sink sink) {
  try {
    PositionSimulator sim(options, position);
    for (int t = 0; t < options.frames; ++t) {
      if (t > 0) sim.advance(t);
      sink(t, sim.render(t), sim.labels().clone(), sim.geometry());
    }
    return sim;
  } catch (const cv::Exception& e) {
    throw Error(
        ErrorCode::internal,
        fmt::format("synth timelapse: OpenCV failed at position {}: {}", position, e.what()));
  }
}

void check_range(const char* name, long long value, long long lo, long long hi) {
  if (value < lo || value > hi) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("synth timelapse: '{}' must be in [{}, {}], got {}", name, lo, hi, value));
  }
}

std::string tracks_text(const std::vector<TrackRecord>& tracks) {
  std::string text;
  for (const TrackRecord& r : tracks) {
    text += fmt::format("{} {} {} {}\n", r.label, r.begin, r.end, r.parent);
  }
  return text;
}

void create_folder(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    throw Error(ErrorCode::io, fmt::format("synth timelapse: cannot create '{}': {}", path.string(),
                                           ec.message()));
  }
}

}  // namespace

void validate(const TimelapseOptions& options) {
  check_range("positions", options.positions, 1, 1000);
  check_range("frames", options.frames, 1, 100000);
  check_range("size", options.size, 32, 16384);
  check_range("nuclei", options.nuclei, 0, 10000);
  check_range("cycle_frames", options.cycle_frames, 0, 1000000);
  if (!(options.touching_fraction >= 0.0 && options.touching_fraction <= 1.0)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("synth timelapse: 'touching_fraction' must be in [0, 1], got {}",
                            options.touching_fraction));
  }
  const std::string& name = options.experiment;
  const bool safe = std::all_of(name.begin(), name.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == '-';
  });
  if (name.empty() || name.size() > 64 || !safe || name == "." || name == "..") {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("synth timelapse: 'experiment' must be 1 to 64 characters of "
                            "[A-Za-z0-9._-] and not '.' or '..', got '{}'",
                            name));
  }
}

TimelapseFrames generate_position(const TimelapseOptions& options, int position) {
  validate(options);
  check_range("position", position, 1, options.positions);
  TimelapseFrames out;
  const auto frames = static_cast<size_t>(options.frames);
  out.images.reserve(frames);
  out.labels.reserve(frames);
  out.nuclei.reserve(frames);
  const PositionSimulator sim =
      simulate(options, position, [&](int, cv::Mat image, cv::Mat labels, auto geometry) {
        out.images.push_back(std::move(image));
        out.labels.push_back(std::move(labels));
        out.nuclei.push_back(std::move(geometry));
      });
  out.tracks = sim.tracks();
  return out;
}

TimelapseSummary write_timelapse(const std::filesystem::path& out,
                                 const TimelapseOptions& options) {
  validate(options);
  const std::string& exp = options.experiment;
  create_folder(out / "tracks");

  // Positions are independent, so they are written in parallel; PNG encoding is most of the time.
  struct Written {
    int tracks = 0;
    int divisions = 0;
  };
  std::vector<Written> written(static_cast<size_t>(options.positions));
  std::atomic<int> next_position{1};
  std::mutex error_mutex;
  std::exception_ptr error;
  const auto work = [&] {
    for (int p = next_position++; p <= options.positions; p = next_position++) {
      try {
        const std::string pos = fmt::format("pos{:02d}", p);
        const auto image_dir = out / "images" / exp / pos;
        const auto mask_dir = out / "masks" / exp / pos;
        create_folder(image_dir);
        create_folder(mask_dir);
        const PositionSimulator sim = simulate(
            options, p, [&](int t, const cv::Mat& image, const cv::Mat& labels, const auto&) {
              image::write_image(image_dir / fmt::format("t{:03d}_c0.png", t), image);
              image::write_image(mask_dir / fmt::format("t{:03d}.png", t), labels);
            });
        write_file_atomic(out / fmt::format("tracks/{}_{}.txt", exp, pos),
                          tracks_text(sim.tracks()));
        written[static_cast<size_t>(p - 1)] = {static_cast<int>(sim.tracks().size()),
                                               sim.divisions()};
      } catch (...) {
        const std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
        next_position = options.positions + 1;  // stop the other workers early
      }
    }
  };
  const int workers =
      std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, options.positions);
  std::vector<std::thread> threads;
  for (int w = 1; w < workers; ++w) threads.emplace_back(work);
  work();
  for (std::thread& thread : threads) thread.join();
  if (error) std::rethrow_exception(error);

  TimelapseSummary summary;
  nlohmann::json positions = nlohmann::json::array();
  for (int p = 1; p <= options.positions; ++p) {
    const Written& w = written[static_cast<size_t>(p - 1)];
    const std::string pos = fmt::format("pos{:02d}", p);
    summary.images += options.frames;
    summary.tracks += w.tracks;
    summary.divisions += w.divisions;
    positions.push_back({{"position", p},
                         {"images", fmt::format("images/{}/{}", exp, pos)},
                         {"masks", fmt::format("masks/{}/{}", exp, pos)},
                         {"tracks_file", fmt::format("tracks/{}_{}.txt", exp, pos)},
                         {"tracks", w.tracks},
                         {"divisions", w.divisions}});
  }

  const nlohmann::json manifest = {
      {"generator", "tessera synth timelapse"},
      {"format_version", 1},
      {"options",
       {{"positions", options.positions},
        {"frames", options.frames},
        {"size", options.size},
        {"nuclei", options.nuclei},
        {"seed", options.seed},
        {"experiment", exp},
        {"cycle_frames", options.cycle_frames},
        {"touching_fraction", options.touching_fraction}}},
      {"summary",
       {{"images", summary.images}, {"tracks", summary.tracks}, {"divisions", summary.divisions}}},
      {"layout",
       {{"image", fmt::format("images/{}/pos{{PP}}/t{{TTT}}_c0.png", exp)},
        {"mask", fmt::format("masks/{}/pos{{PP}}/t{{TTT}}.png", exp)},
        {"tracks", fmt::format("tracks/{}_pos{{PP}}.txt", exp)},
        {"pixel", "uint16, 1 channel"},
        {"tracks_format", "label begin end parent (Cell Tracking Challenge man_track.txt)"}}},
      {"positions", positions}};
  write_file_atomic(out / "manifest.json", manifest.dump(2) + "\n");
  return summary;
}

}  // namespace tessera::synth
