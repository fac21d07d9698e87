// Cleaning of returned crowd annotations (formats.md 1.6) with scikit-image's semantics. Montage label images
// are mostly long runs of one value, so the connected components (background for holes, filled mask for
// objects) are found on row runs with a union-find instead of per pixel: a 1024^2 montage has ~50k runs for
// 1M pixels. Pixels are touched three times: to cut runs, to mark the ids that survive, to write the output.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "tessera/app/crowd_ingest.hpp"
#include "tessera/core/error.hpp"

namespace tessera::app {
namespace {

// A maximal horizontal stretch of one row that is all zero (background) or all non-zero (foreground).
struct Run {
  std::int32_t begin;  // first column
  std::int32_t end;    // one past the last column
  bool foreground;
};

// The runs of every row, in raster order; rows tile [0, cols) and alternate foreground and background.
struct RowRuns {
  std::vector<Run> runs;
  std::vector<std::int32_t> row_start;  // rows + 1 entries: runs of row r are [row_start[r], row_start[r+1])
};

// One past the end of the run of non-zero (or zero) pixels starting at x. 8-bit rows, the usual case, are
// scanned eight pixels per step while the word is wholly inside the run.
template <typename T>
int run_end(const T* p, int x, int cols, bool foreground) {
  if constexpr (sizeof(T) == 1) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
    while (x + 8 <= cols) {
      std::uint64_t word = 0;
      std::memcpy(&word, p + x, sizeof word);
      const bool has_zero = ((word - kOnes) & ~word & kHighs) != 0;
      if (foreground ? has_zero : word != 0) break;
      x += 8;
    }
  }
  if (foreground) {
    while (x < cols && p[x] != 0) ++x;
  } else {
    while (x < cols && p[x] == 0) ++x;
  }
  return x;
}

template <typename T>
RowRuns cut_runs(const cv::Mat& labels) {
  RowRuns out;
  out.runs.reserve(static_cast<size_t>(labels.rows) * 16);
  out.row_start.reserve(static_cast<size_t>(labels.rows) + 1);
  const int cols = labels.cols;
  for (int r = 0; r < labels.rows; ++r) {
    out.row_start.push_back(static_cast<std::int32_t>(out.runs.size()));
    const T* p = labels.ptr<T>(r);
    int x = 0;
    while (x < cols) {
      const int begin = x;
      const bool foreground = p[x] != 0;
      x = run_end(p, x, cols, foreground);
      out.runs.push_back({begin, x, foreground});
    }
  }
  out.row_start.push_back(static_cast<std::int32_t>(out.runs.size()));
  return out;
}

// Union-find over run indices; the root of a set is its smallest index (the run met first in raster order).
class RunSets {
 public:
  explicit RunSets(size_t count) : parent_(count) { std::iota(parent_.begin(), parent_.end(), 0); }
  std::int32_t find(std::int32_t x) {
    while (parent_[static_cast<size_t>(x)] != x) {
      std::int32_t& p = parent_[static_cast<size_t>(x)];
      p = parent_[static_cast<size_t>(p)];  // path halving
      x = p;
    }
    return x;
  }
  void join(std::int32_t a, std::int32_t b) {
    a = find(a);
    b = find(b);
    if (a < b) {
      parent_[static_cast<size_t>(b)] = a;
    } else if (b < a) {
      parent_[static_cast<size_t>(a)] = b;
    }
  }

 private:
  std::vector<std::int32_t> parent_;
};

// Calls link(i, j) for every run i of row r-1 and j of row r that share a column (4-connectivity).
template <typename Link>
void for_vertical_neighbours(const RowRuns& rr, int r, Link&& link) {
  std::int32_t i = rr.row_start[static_cast<size_t>(r - 1)];
  std::int32_t j = rr.row_start[static_cast<size_t>(r)];
  const std::int32_t i_end = j;
  const std::int32_t j_end = rr.row_start[static_cast<size_t>(r + 1)];
  while (i < i_end && j < j_end) {
    link(i, j);  // both rows tile [0, cols), so consecutive pairs in this walk always overlap
    const std::int32_t ei = rr.runs[static_cast<size_t>(i)].end;
    const std::int32_t ej = rr.runs[static_cast<size_t>(j)].end;
    if (ei <= ej) ++i;
    if (ej <= ei) ++j;
  }
}

// Pixel count of each set, stored at its root.
std::vector<std::int64_t> set_areas(const RowRuns& rr, RunSets& sets, const std::vector<char>* only) {
  std::vector<std::int64_t> area(rr.runs.size(), 0);
  for (size_t k = 0; k < rr.runs.size(); ++k) {
    if (only != nullptr && !(*only)[k]) continue;
    area[static_cast<size_t>(sets.find(static_cast<std::int32_t>(k)))] +=
        rr.runs[k].end - rr.runs[k].begin;
  }
  return area;
}

// The value a filled hole takes: the one most often 4-adjacent to its pixels (ties: the smallest; 0 when
// no pixel has a non-zero neighbour). Returns it per hole root.
template <typename T>
std::vector<std::int32_t> hole_fill_values(const cv::Mat& labels, const RowRuns& rr, RunSets& holes,
                                           const std::vector<char>& is_hole) {
  struct Seen {
    std::int32_t hole;
    std::int32_t value;
  };
  std::vector<Seen> seen;
  const int rows = labels.rows;
  const int cols = labels.cols;
  for (int r = 0; r < rows; ++r) {
    const T* row = labels.ptr<T>(r);
    const T* above = r > 0 ? labels.ptr<T>(r - 1) : nullptr;
    const T* below = r + 1 < rows ? labels.ptr<T>(r + 1) : nullptr;
    for (std::int32_t k = rr.row_start[static_cast<size_t>(r)]; k < rr.row_start[static_cast<size_t>(r + 1)]; ++k) {
      if (!is_hole[static_cast<size_t>(k)]) continue;
      const Run& run = rr.runs[static_cast<size_t>(k)];
      const std::int32_t hole = holes.find(k);
      auto note = [&](T v) {
        if (v != 0) seen.push_back({hole, static_cast<std::int32_t>(v)});
      };
      if (run.begin > 0) note(row[run.begin - 1]);
      if (run.end < cols) note(row[run.end]);
      for (int x = run.begin; x < run.end; ++x) {
        if (above != nullptr) note(above[x]);
        if (below != nullptr) note(below[x]);
      }
    }
  }
  std::sort(seen.begin(), seen.end(),
            [](const Seen& a, const Seen& b) { return a.hole != b.hole ? a.hole < b.hole : a.value < b.value; });
  std::vector<std::int32_t> fill(rr.runs.size(), 0);
  std::int32_t best_count = 0;
  for (size_t s = 0; s < seen.size();) {
    size_t t = s;
    while (t < seen.size() && seen[t].hole == seen[s].hole && seen[t].value == seen[s].value) ++t;
    const auto count = static_cast<std::int32_t>(t - s);
    const bool new_hole = s == 0 || seen[s - 1].hole != seen[s].hole;
    if (new_hole) best_count = 0;
    if (count > best_count) {  // values ascend within a hole, so '>' keeps the smallest of a tie
      best_count = count;
      fill[static_cast<size_t>(seen[s].hole)] = seen[s].value;
    }
    s = t;
  }
  return fill;
}

template <typename In, typename Out>
cv::Mat write_output(const cv::Mat& labels, int cv_type, const RowRuns& rr, const std::vector<char>& kept,
                     const std::vector<std::int32_t>& run_fill, const std::vector<std::int32_t>& renumber) {
  cv::Mat out = cv::Mat::zeros(labels.size(), cv_type);
  for (int r = 0; r < labels.rows; ++r) {
    const In* in = labels.ptr<In>(r);
    Out* o = out.ptr<Out>(r);
    for (std::int32_t k = rr.row_start[static_cast<size_t>(r)]; k < rr.row_start[static_cast<size_t>(r + 1)]; ++k) {
      if (!kept[static_cast<size_t>(k)]) continue;
      const Run& run = rr.runs[static_cast<size_t>(k)];
      if (run.foreground) {
        for (int x = run.begin; x < run.end; ++x) o[x] = static_cast<Out>(renumber[static_cast<size_t>(in[x])]);
      } else {
        std::fill(o + run.begin, o + run.end,
                  static_cast<Out>(renumber[static_cast<size_t>(run_fill[static_cast<size_t>(k)])]));
      }
    }
  }
  return out;
}

template <typename T>
cv::Mat clean_typed(const cv::Mat& labels, const CrowdCleanParams& params, std::int32_t max_value) {
  const RowRuns rr = cut_runs<T>(labels);
  const size_t n = rr.runs.size();

  // Components of foreground and of background (4-connected, each of its own kind).
  RunSets kinds(n);
  for (int r = 1; r < labels.rows; ++r) {
    for_vertical_neighbours(rr, r, [&](std::int32_t i, std::int32_t j) {
      if (rr.runs[static_cast<size_t>(i)].foreground == rr.runs[static_cast<size_t>(j)].foreground) kinds.join(i, j);
    });
  }
  const std::vector<std::int64_t> kind_area = set_areas(rr, kinds, nullptr);

  // Holes: background components smaller than hole_area, border ones included (scikit-image fills those).
  std::vector<char> is_hole(n, 0);
  std::vector<char> is_filled(n, 0);
  bool any_hole = false;
  for (size_t k = 0; k < n; ++k) {
    const bool hole = !rr.runs[k].foreground && kind_area[static_cast<size_t>(kinds.find(static_cast<std::int32_t>(k)))] < params.hole_area;
    is_hole[k] = hole;
    is_filled[k] = hole || rr.runs[k].foreground;
    any_hole = any_hole || hole;
  }
  std::vector<std::int32_t> hole_fill;
  if (any_hole) hole_fill = hole_fill_values<T>(labels, rr, kinds, is_hole);

  // Objects: components of the filled mask (touching cells are one). They are unions of the kinds' sets, so
  // only the links between a foreground run and a hole run are new.
  RunSets objects = kinds;
  if (any_hole) {
    for (int r = 0; r < labels.rows; ++r) {
      for (std::int32_t k = rr.row_start[static_cast<size_t>(r)] + 1; k < rr.row_start[static_cast<size_t>(r + 1)]; ++k) {
        if (is_filled[static_cast<size_t>(k)] && is_filled[static_cast<size_t>(k - 1)]) objects.join(k - 1, k);
      }
      if (r == 0) continue;
      for_vertical_neighbours(rr, r, [&](std::int32_t i, std::int32_t j) {
        if (is_filled[static_cast<size_t>(i)] && is_filled[static_cast<size_t>(j)]) objects.join(i, j);
      });
    }
  }
  const std::vector<std::int64_t> object_area = set_areas(rr, objects, &is_filled);

  // Runs that stay, the value each filled hole run takes, and which ids occur (relabel_sequential's table).
  std::vector<char> kept(n, 0);
  std::vector<std::int32_t> run_fill(n, 0);
  std::vector<std::int32_t> renumber(static_cast<size_t>(max_value) + 1, 0);
  for (int r = 0; r < labels.rows; ++r) {
    const T* in = labels.ptr<T>(r);
    for (std::int32_t k = rr.row_start[static_cast<size_t>(r)]; k < rr.row_start[static_cast<size_t>(r + 1)]; ++k) {
      const auto uk = static_cast<size_t>(k);
      if (!is_filled[uk] || object_area[static_cast<size_t>(objects.find(k))] < params.min_size) continue;
      kept[uk] = 1;
      const Run& run = rr.runs[uk];
      if (run.foreground) {
        for (int x = run.begin; x < run.end; ++x) renumber[static_cast<size_t>(in[x])] = 1;
      } else {
        run_fill[uk] = hole_fill[static_cast<size_t>(kinds.find(k))];
        renumber[static_cast<size_t>(run_fill[uk])] = 1;
      }
    }
  }
  renumber[0] = 0;
  std::int32_t next = 0;
  for (auto& slot : renumber) {
    if (slot != 0) slot = ++next;
  }
  if (next <= 255) return write_output<T, std::uint8_t>(labels, CV_8UC1, rr, kept, run_fill, renumber);
  if (next <= 65535) return write_output<T, std::uint16_t>(labels, CV_16UC1, rr, kept, run_fill, renumber);
  return write_output<T, std::int32_t>(labels, CV_32SC1, rr, kept, run_fill, renumber);
}

}  // namespace

cv::Mat annotation_labels(const cv::Mat& annotation, std::string_view source) {
  int depth = annotation.depth();
  bool integer = depth == CV_8U || depth == CV_16U || depth == CV_32S || depth == CV_8S || depth == CV_16S;
  int channels = annotation.channels();
  if (!integer || (channels != 1 && channels != 3 && channels != 4) || annotation.empty()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: not a label image ({} channel(s) of {} pixels; expected integer gray, RGB or RGBA)",
                            source, channels, depth == CV_32F || depth == CV_64F ? "floating-point" : "other"));
  }
  cv::Mat gray;
  if (channels == 1) {
    gray = annotation;
  } else {
    cv::extractChannel(annotation, gray, 0);  // decoded channels are in file order: 0 is red
  }
  if (depth == CV_8S || depth == CV_16S) {
    double lo = 0;
    cv::minMaxLoc(gray, &lo);
    if (lo < 0) {
      throw Error(ErrorCode::invalid_argument, fmt::format("{}: not a label image (negative values)", source));
    }
  }
  return gray;
}

cv::Mat clean_crowd_labels(const cv::Mat& input, const CrowdCleanParams& params) {
  const int depth = input.depth();
  if (input.channels() != 1 || !(depth == CV_8U || depth == CV_16U || depth == CV_32S)) {
    throw Error(ErrorCode::invalid_argument, "clean_crowd_labels: expected a one-channel 8/16/32-bit label image");
  }
  if (input.empty()) return input.clone();
  if (depth == CV_8U) return clean_typed<std::uint8_t>(input, params, 255);
  if (depth == CV_16U) return clean_typed<std::uint16_t>(input, params, 65535);
  double min_value = 0;
  double max_value = 0;
  cv::minMaxLoc(input, &min_value, &max_value);
  // Crowd annotations are 8/16-bit images; 32-bit ids are accepted up to a renumbering table of 64 MiB.
  if (min_value < 0 || max_value > (1 << 24)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("clean_crowd_labels: label ids must be in [0, 16777216], got [{}, {}]", min_value, max_value));
  }
  return clean_typed<std::int32_t>(input, params, static_cast<std::int32_t>(max_value));
}

}  // namespace tessera::app
