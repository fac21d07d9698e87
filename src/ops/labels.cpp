#include "tessera/ops/labels.hpp"

#include <algorithm>
#include <numeric>
#include <vector>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "ops/builtin.hpp"
#include "tessera/core/error.hpp"

namespace tessera::ops {
namespace {

void require_integer_gray(const cv::Mat& image, const char* op) {
  if (image.empty()) throw Error(ErrorCode::invalid_argument, fmt::format("{}: the image is empty", op));
  if (image.channels() != 1 || image.depth() == CV_32F || image.depth() == CV_64F) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: needs a one-channel integer image", op));
  }
}

void require_labels(const cv::Mat& labels, const char* op) {
  if (labels.type() != CV_32SC1) throw Error(ErrorCode::invalid_argument, fmt::format("{}: needs a CV_32S label image", op));
}

// Renumbers components so ids follow the raster order of each component's first pixel, as scikit-image
// does (OpenCV's parallel labelling numbers them otherwise). With areas given, components smaller than
// min_size become background in the same pass, and the ids stay sequential.
void renumber_raster_order(cv::Mat& labels, int count, const std::vector<std::int64_t>* areas = nullptr,
                           std::int64_t min_size = 0) {
  std::vector<int> map(static_cast<size_t>(count) + 1, 0);
  std::vector<uint8_t> seen(static_cast<size_t>(count) + 1, 0);
  int next = 0;
  for (int r = 0; r < labels.rows; ++r) {
    int* row = labels.ptr<int>(r);
    for (int c = 0; c < labels.cols; ++c) {
      const int v = row[c];
      if (v == 0) continue;
      const auto id = static_cast<size_t>(v);
      if (!seen[id]) {
        seen[id] = 1;
        map[id] = areas != nullptr && (*areas)[id] < min_size ? 0 : ++next;
      }
      row[c] = map[id];
    }
  }
}

int find_root(std::vector<int>& parent, int x) {
  while (parent[static_cast<size_t>(x)] != x) {
    parent[static_cast<size_t>(x)] = parent[static_cast<size_t>(parent[static_cast<size_t>(x)])];
    x = parent[static_cast<size_t>(x)];
  }
  return x;
}

// Union-find labelling where neighbours join only when they hold the same value (scikit-image's rule for
// integer images with several values). Two passes over the image.
cv::Mat label_by_value(const cv::Mat& image32, int connectivity) {
  cv::Mat out(image32.size(), CV_32SC1, cv::Scalar(0));
  std::vector<int> parent{0};
  auto unite = [&](int a, int b) {
    a = find_root(parent, a);
    b = find_root(parent, b);
    if (a != b) parent[static_cast<size_t>(std::max(a, b))] = std::min(a, b);
  };
  for (int r = 0; r < image32.rows; ++r) {
    const int* v = image32.ptr<int>(r);
    const int* vu = r > 0 ? image32.ptr<int>(r - 1) : nullptr;
    int* o = out.ptr<int>(r);
    const int* ou = r > 0 ? out.ptr<int>(r - 1) : nullptr;
    for (int c = 0; c < image32.cols; ++c) {
      if (v[c] == 0) continue;
      int id = 0;
      auto join = [&](int neighbour_value, int neighbour_id) {
        if (neighbour_value != v[c] || neighbour_id == 0) return;
        if (id == 0) id = neighbour_id;
        else unite(id, neighbour_id);
      };
      if (c > 0) join(v[c - 1], o[c - 1]);
      if (vu) {
        join(vu[c], ou[c]);
        if (connectivity == 2) {
          if (c > 0) join(vu[c - 1], ou[c - 1]);
          if (c + 1 < image32.cols) join(vu[c + 1], ou[c + 1]);
        }
      }
      if (id == 0) {
        id = static_cast<int>(parent.size());
        parent.push_back(id);
      }
      o[c] = id;
    }
  }
  for (int r = 0; r < out.rows; ++r) {
    int* o = out.ptr<int>(r);
    for (int c = 0; c < out.cols; ++c) {
      if (o[c] != 0) o[c] = find_root(parent, o[c]);
    }
  }
  return out;
}

FacetMap run_label(const OpCall& call) {
  const cv::Mat& in = call.has("mask") ? call.mat("mask") : call.mat("labels");
  return {{"labels", Facet::labels(label(in, static_cast<int>(call.param<long long>("connectivity"))))}};
}

FacetMap run_remove_small(const OpCall& call) {
  return {{"labels", Facet::labels(remove_small_objects(call.mat("labels"), call.param<long long>("min_size")))}};
}

FacetMap run_fill_holes(const OpCall& call) {
  return {{"mask", Facet::mask(fill_holes(call.mat("mask"), call.param<long long>("max_hole_area")))}};
}

FacetMap run_relabel(const OpCall& call) {
  return {{"labels", Facet::labels(relabel_sequential(call.mat("labels")))}};
}

}  // namespace

cv::Mat label(const cv::Mat& image, int connectivity, std::int64_t min_size) {
  require_integer_gray(image, "label");
  if (connectivity != 1 && connectivity != 2) {
    throw Error(ErrorCode::invalid_argument, fmt::format("label: connectivity must be 1 or 2, got {}", connectivity));
  }
  // A mask (one non-zero value) takes OpenCV's fast labelling; an image with several values needs the
  // same-value rule.
  double lo = 0, hi = 0;
  cv::minMaxIdx(image, &lo, &hi);
  const cv::Mat nonzero = image != 0;
  const double value = lo >= 0 ? hi : lo;
  const bool single_value = (lo >= 0 || hi <= 0) && cv::countNonZero(nonzero & (image != value)) == 0;
  cv::Mat labels;
  int count = 0;
  std::vector<std::int64_t> areas;
  if (single_value) {
    if (min_size > 1) {
      cv::Mat stats, centroids;
      count = cv::connectedComponentsWithStats(nonzero, labels, stats, centroids, connectivity == 2 ? 8 : 4, CV_32S) - 1;
      areas.resize(static_cast<size_t>(count) + 1);
      for (int i = 1; i <= count; ++i) areas[static_cast<size_t>(i)] = stats.at<int>(i, cv::CC_STAT_AREA);
    } else {
      count = cv::connectedComponents(nonzero, labels, connectivity == 2 ? 8 : 4, CV_32S) - 1;
    }
  } else {
    cv::Mat image32;
    image.convertTo(image32, CV_32S);
    labels = label_by_value(image32, connectivity);
    double max_id = 0;
    cv::minMaxIdx(labels, nullptr, &max_id);
    count = static_cast<int>(max_id);
    if (min_size > 1) {
      areas.assign(static_cast<size_t>(count) + 1, 0);
      for (int r = 0; r < labels.rows; ++r) {
        const int* row = labels.ptr<int>(r);
        for (int c = 0; c < labels.cols; ++c) ++areas[static_cast<size_t>(row[c])];
      }
    }
  }
  renumber_raster_order(labels, count, min_size > 1 ? &areas : nullptr, min_size);
  return labels;
}

int label_count(const cv::Mat& labels) {
  require_labels(labels, "label_count");
  double lo = 0, hi = 0;
  cv::minMaxIdx(labels, &lo, &hi);
  return static_cast<int>(hi);
}

void drop_small_objects(cv::Mat& labels, std::int64_t min_size, bool relabel) {
  require_labels(labels, "remove_small_objects");
  const int max_id = std::max(0, label_count(labels));
  std::vector<std::int64_t> area(static_cast<size_t>(max_id) + 1, 0);
  for (int r = 0; r < labels.rows; ++r) {
    const int* row = labels.ptr<int>(r);
    for (int c = 0; c < labels.cols; ++c) {
      if (row[c] > 0) ++area[static_cast<size_t>(row[c])];
    }
  }
  std::vector<int> map(area.size(), 0);
  int next = 0;
  bool identity = true;
  for (size_t id = 1; id < area.size(); ++id) {
    if (area[id] == 0 || area[id] < min_size) continue;
    map[id] = relabel ? ++next : static_cast<int>(id);
    identity = identity && map[id] == static_cast<int>(id);
  }
  for (size_t id = 1; id < area.size() && identity; ++id) identity = area[id] == 0 || map[id] != 0;
  if (identity) return;
  for (int r = 0; r < labels.rows; ++r) {
    int* row = labels.ptr<int>(r);
    for (int c = 0; c < labels.cols; ++c) {
      if (row[c] > 0) row[c] = map[static_cast<size_t>(row[c])];
    }
  }
}

cv::Mat remove_small_objects(const cv::Mat& labels, std::int64_t min_size) {
  cv::Mat out = labels.clone();
  drop_small_objects(out, min_size, false);
  return out;
}

cv::Mat fill_holes(const cv::Mat& mask, std::int64_t max_hole_area) {
  if (mask.type() != CV_8UC1) throw Error(ErrorCode::invalid_argument, "fill_holes: needs a CV_8U mask");
  // Background components, 4-connected as in scikit-image remove_small_holes(connectivity=1) and
  // scipy's binary_fill_holes.
  cv::Mat background = mask == 0;
  cv::Mat ids, stats, centroids;
  const int count = cv::connectedComponentsWithStats(background, ids, stats, centroids, 4, CV_32S);
  std::vector<uint8_t> fill(static_cast<size_t>(count), 0);
  for (int i = 1; i < count; ++i) {
    const int x = stats.at<int>(i, cv::CC_STAT_LEFT), y = stats.at<int>(i, cv::CC_STAT_TOP);
    const int w = stats.at<int>(i, cv::CC_STAT_WIDTH), h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
    const std::int64_t area = stats.at<int>(i, cv::CC_STAT_AREA);
    if (max_hole_area > 0) {
      // scikit-image 0.19 remove_small_holes: every background component smaller than the threshold,
      // border-touching ones included (measured on 0.19.3).
      fill[static_cast<size_t>(i)] = area < max_hole_area;
    } else {
      const bool touches_border = x == 0 || y == 0 || x + w == mask.cols || y + h == mask.rows;
      fill[static_cast<size_t>(i)] = !touches_border;
    }
  }
  cv::Mat out = mask.clone();
  for (int r = 0; r < out.rows; ++r) {
    const int* id = ids.ptr<int>(r);
    uint8_t* o = out.ptr<uint8_t>(r);
    for (int c = 0; c < out.cols; ++c) {
      if (fill[static_cast<size_t>(id[c])]) o[c] = 255;
    }
  }
  return out;
}

cv::Mat relabel_sequential(const cv::Mat& labels) {
  cv::Mat out = labels.clone();
  drop_small_objects(out, 0, true);
  return out;
}

void register_label_ops(OpRegistry& r) {
  r.add({.name = "label",
         .summary = "Connected components in raster order (scikit-image label)",
         .inputs = {{"mask", FacetKind::mask, "foreground (or a label image: equal values join)"}},
         .outputs = {{"labels", FacetKind::labels, "objects 1..N"}},
         .params = {ParamSpec::integer("connectivity", 2, {1, 2}, "1 = 4-neighbours, 2 = 8-neighbours")},
         .run = run_label});
  r.add({.name = "remove_small_objects",
         .summary = "Drop objects with fewer than min_size pixels",
         .inputs = {{"labels", FacetKind::labels, "objects"}},
         .outputs = {{"labels", FacetKind::labels, "objects kept, ids unchanged"}},
         .params = {ParamSpec::integer("min_size", 64, {0, 1e12}, "smallest area kept, in pixels")},
         .run = run_remove_small});
  r.add({.name = "fill_holes",
         .summary = "Fill holes smaller than max_hole_area (0 = every enclosed hole)",
         .inputs = {{"mask", FacetKind::mask, "foreground"}},
         .outputs = {{"mask", FacetKind::mask, "foreground with holes filled"}},
         .params = {ParamSpec::integer("max_hole_area", 0, {0, 1e12},
                                       "holes (4-connected background) with fewer pixels are filled; 0 = all "
                                       "background not connected to the border")},
         .run = run_fill_holes});
  r.add({.name = "relabel_sequential",
         .summary = "Renumber object ids to 1..N, closing gaps",
         .inputs = {{"labels", FacetKind::labels, "objects"}},
         .outputs = {{"labels", FacetKind::labels, "objects 1..N"}},
         .params = {},
         .run = run_relabel});
}

}  // namespace tessera::ops
