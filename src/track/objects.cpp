#include "tessera/track/objects.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <type_traits>

#include "tessera/core/error.hpp"

namespace tessera::track {
namespace {

struct LabelledRun {
  std::int32_t label;
  Run run;
};

// Appends the runs of one row of labels (any integer pixel type) to out.
template <typename T>
void row_runs(const T* row, int width, int y, std::vector<LabelledRun>& out, const std::string& what) {
  int x = 0;
  while (x < width) {
    const auto value = row[x];
    if (value == 0) {
      ++x;
      continue;
    }
    if constexpr (std::is_signed_v<T>) {
      if (value < 0) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("{}: negative label {} at row {}, column {}", what, value, y, x));
      }
    }
    const int start = x;
    while (x < width && row[x] == value) ++x;
    out.push_back({static_cast<std::int32_t>(value), {y, start, x}});
  }
}

template <typename T>
std::vector<LabelledRun> all_runs(const cv::Mat& labels, const std::string& what) {
  std::vector<LabelledRun> runs;
  for (int y = 0; y < labels.rows; ++y) row_runs(labels.ptr<T>(y), labels.cols, y, runs, what);
  return runs;
}

// Area of the intersection of two discs whose centres are d apart.
double disc_overlap(double r1, double r2, double d) {
  if (d >= r1 + r2) return 0.0;
  const double small = std::min(r1, r2);
  if (d <= std::abs(r1 - r2)) return std::numbers::pi * small * small;
  const double a1 = std::acos(std::clamp((d * d + r1 * r1 - r2 * r2) / (2.0 * d * r1), -1.0, 1.0));
  const double a2 = std::acos(std::clamp((d * d + r2 * r2 - r1 * r1) / (2.0 * d * r2), -1.0, 1.0));
  const double k = (-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2);
  return r1 * r1 * a1 + r2 * r2 * a2 - 0.5 * std::sqrt(std::max(0.0, k));
}

}  // namespace

std::vector<ObjectDesc> objects_from_labels(const cv::Mat& labels, const cv::Mat& intensity, const std::string& what) {
  if (labels.channels() != 1 || (labels.depth() != CV_8U && labels.depth() != CV_16U && labels.depth() != CV_32S)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: labels must be one channel of 8-, 16-bit unsigned or 32-bit signed "
                            "integers, got type {}",
                            what, labels.type()));
  }
  if (!intensity.empty() && (intensity.size() != labels.size() || intensity.channels() != 1)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: intensity image is {}x{} with {} channels, labels are {}x{}", what, intensity.cols,
                            intensity.rows, intensity.channels(), labels.cols, labels.rows));
  }
  std::vector<LabelledRun> runs;
  if (labels.depth() == CV_8U)
    runs = all_runs<std::uint8_t>(labels, what);
  else if (labels.depth() == CV_16U)
    runs = all_runs<std::uint16_t>(labels, what);
  else
    runs = all_runs<std::int32_t>(labels, what);
  // Raster order is row order within each label; a stable sort by label keeps it.
  std::stable_sort(runs.begin(), runs.end(),
                   [](const LabelledRun& a, const LabelledRun& b) { return a.label < b.label; });

  cv::Mat values;
  if (!intensity.empty()) intensity.convertTo(values, CV_64F);
  std::vector<ObjectDesc> objects;
  for (size_t i = 0; i < runs.size();) {
    ObjectDesc o;
    o.label = runs[i].label;
    o.bbox = {runs[i].run.row, runs[i].run.col_begin, runs[i].run.row + 1, runs[i].run.col_end};
    double sum_row = 0.0;
    double sum_col = 0.0;
    double sum_value = 0.0;
    for (; i < runs.size() && runs[i].label == o.label; ++i) {
      const Run& r = runs[i].run;
      const double n = r.col_end - r.col_begin;
      o.area += r.col_end - r.col_begin;
      sum_row += n * r.row;
      sum_col += n * (r.col_begin + r.col_end - 1) / 2.0;
      o.bbox[0] = std::min(o.bbox[0], r.row);
      o.bbox[1] = std::min(o.bbox[1], r.col_begin);
      o.bbox[2] = std::max(o.bbox[2], r.row + 1);
      o.bbox[3] = std::max(o.bbox[3], r.col_end);
      if (!values.empty()) {
        const double* row = values.ptr<double>(r.row);
        for (int x = r.col_begin; x < r.col_end; ++x) sum_value += row[x];
      }
      o.runs.push_back(r);
    }
    const double area = static_cast<double>(o.area);
    o.row = sum_row / area;
    o.col = sum_col / area;
    if (!values.empty()) o.intensity_mean = sum_value / area;
    objects.push_back(std::move(o));
  }
  return objects;
}

std::int64_t overlap_area(const std::vector<Run>& a, const std::vector<Run>& b) {
  std::int64_t shared = 0;
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() && j < b.size()) {
    const Run& ra = a[i];
    const Run& rb = b[j];
    if (ra.row != rb.row) {
      (ra.row < rb.row ? i : j)++;
      continue;
    }
    const std::int32_t lo = std::max(ra.col_begin, rb.col_begin);
    const std::int32_t hi = std::min(ra.col_end, rb.col_end);
    if (hi > lo) shared += hi - lo;
    // Advance whichever run ends first; the other may still meet the next run of this row.
    (ra.col_end < rb.col_end ? i : j)++;
  }
  return shared;
}

double shared_area(const ObjectDesc& a, const ObjectDesc& b) {
  if (!a.runs.empty() && !b.runs.empty()) {
    if (a.bbox[0] >= b.bbox[2] || b.bbox[0] >= a.bbox[2] || a.bbox[1] >= b.bbox[3] || b.bbox[1] >= a.bbox[3]) {
      return 0.0;
    }
    return static_cast<double>(overlap_area(a.runs, b.runs));
  }
  const double d = std::hypot(a.row - b.row, a.col - b.col);
  return disc_overlap(std::sqrt(static_cast<double>(a.area) / std::numbers::pi),
                      std::sqrt(static_cast<double>(b.area) / std::numbers::pi), d);
}

double iou(const ObjectDesc& a, const ObjectDesc& b) {
  const double shared = shared_area(a, b);
  const double united = static_cast<double>(a.area) + static_cast<double>(b.area) - shared;
  return united > 0.0 ? shared / united : 0.0;
}

bool touches_border(const ObjectDesc& object, cv::Size frame) {
  if (frame.empty()) return false;
  return object.bbox[0] <= 0 || object.bbox[1] <= 0 || object.bbox[2] >= frame.height || object.bbox[3] >= frame.width;
}

}  // namespace tessera::track
