#include "tessera/ops/metrics.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "ops/builtin.hpp"
#include "tessera/core/error.hpp"

namespace tessera::ops {
namespace {

[[noreturn]] void fail(std::string_view op, const std::string& what) {
  throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", op, what), {{"op", op}});
}

void require_pair(const cv::Mat& a, const cv::Mat& b, std::string_view op) {
  if (a.channels() != 1 || b.channels() != 1) {
    fail(op, fmt::format("expects one-channel inputs, got {} and {} channels", a.channels(),
                         b.channels()));
  }
  if (a.size() != b.size()) {
    fail(op, fmt::format("inputs differ in size: {}x{} and {}x{}", a.cols, a.rows, b.cols, b.rows));
  }
}

cv::Mat label_ids(const cv::Mat& labels, std::string_view op) {
  const int depth = labels.depth();
  if (depth == CV_32F || depth == CV_64F || depth == CV_16F) {
    fail(op, fmt::format("label images must have integer pixels, got {}",
                         cv::typeToString(labels.type())));
  }
  if (depth == CV_32S) return labels;
  cv::Mat ids;
  labels.convertTo(ids, CV_32S);
  return ids;
}

double ratio_or_convention(double numerator, double denominator, bool nothing_anywhere) {
  if (denominator > 0) return numerator / denominator;
  return nothing_anywhere ? 1.0 : 0.0;
}

}  // namespace

double MaskOverlap::iou() const {
  const std::int64_t u = union_area();
  return u == 0 ? 1.0 : static_cast<double>(intersection) / static_cast<double>(u);
}

double MaskOverlap::dice() const {
  const std::int64_t total = area_a + area_b;
  return total == 0 ? 1.0 : 2.0 * static_cast<double>(intersection) / static_cast<double>(total);
}

MaskOverlap mask_overlap(const cv::Mat& a, const cv::Mat& b, std::string_view op) {
  require_pair(a, b, op);
  const cv::Mat fa = a != 0;
  const cv::Mat fb = b != 0;
  MaskOverlap o;
  o.area_a = cv::countNonZero(fa);
  o.area_b = cv::countNonZero(fb);
  o.intersection = cv::countNonZero(fa & fb);
  return o;
}

ObjectMatching match_objects(const cv::Mat& truth, const cv::Mat& pred, double threshold) {
  constexpr std::string_view op = "match_objects";
  require_pair(truth, pred, op);
  const cv::Mat t = label_ids(truth, op);
  const cv::Mat p = label_ids(pred, op);
  std::map<std::int32_t, std::int64_t> true_area, pred_area;
  std::map<std::pair<std::int32_t, std::int32_t>, std::int64_t> overlap;
  for (int y = 0; y < t.rows; ++y) {
    const std::int32_t* tr = t.ptr<std::int32_t>(y);
    const std::int32_t* pr = p.ptr<std::int32_t>(y);
    for (int x = 0; x < t.cols; ++x) {
      if (tr[x] > 0) ++true_area[tr[x]];
      if (pr[x] > 0) ++pred_area[pr[x]];
      if (tr[x] > 0 && pr[x] > 0) ++overlap[{tr[x], pr[x]}];
    }
  }
  std::vector<ObjectMatch> candidates;
  for (const auto& [ids, shared] : overlap) {
    const double u = static_cast<double>(true_area[ids.first] + pred_area[ids.second] - shared);
    const double iou = static_cast<double>(shared) / u;
    if (iou >= threshold) candidates.push_back({ids.first, ids.second, iou});
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const ObjectMatch& a, const ObjectMatch& b) { return a.iou > b.iou; });
  ObjectMatching m;
  std::map<std::int32_t, bool> true_used, pred_used;
  for (const ObjectMatch& c : candidates) {
    if (true_used[c.truth] || pred_used[c.pred]) continue;
    true_used[c.truth] = pred_used[c.pred] = true;
    m.matches.push_back(c);
  }
  std::sort(m.matches.begin(), m.matches.end(),
            [](const ObjectMatch& a, const ObjectMatch& b) { return a.truth < b.truth; });
  m.true_objects = static_cast<std::int64_t>(true_area.size());
  m.predicted_objects = static_cast<std::int64_t>(pred_area.size());
  m.true_positives = static_cast<std::int64_t>(m.matches.size());
  m.false_positives = m.predicted_objects - m.true_positives;
  m.false_negatives = m.true_objects - m.true_positives;
  const bool nothing = m.true_objects == 0 && m.predicted_objects == 0;
  const auto tp = static_cast<double>(m.true_positives);
  m.precision = ratio_or_convention(tp, static_cast<double>(m.predicted_objects), nothing);
  m.recall = ratio_or_convention(tp, static_cast<double>(m.true_objects), nothing);
  m.f1 = ratio_or_convention(2 * tp, static_cast<double>(m.true_objects + m.predicted_objects),
                             nothing);
  double sum = 0;
  for (const ObjectMatch& c : m.matches) sum += c.iou;
  m.mean_matched_iou = ratio_or_convention(sum, tp, nothing);
  return m;
}

namespace {

FacetMap run_iou(const OpCall& call) {
  const MaskOverlap o = mask_overlap(call.mat("a"), call.mat("b"), call.op());
  nlohmann::json row = {{"iou", o.iou()},
                        {"intersection", o.intersection},
                        {"union", o.union_area()},
                        {"area_a", o.area_a},
                        {"area_b", o.area_b}};
  return {{"table", Facet::rows(nlohmann::json::array({row}))}};
}

FacetMap run_dice(const OpCall& call) {
  const MaskOverlap o = mask_overlap(call.mat("a"), call.mat("b"), call.op());
  nlohmann::json row = {{"dice", o.dice()},
                        {"intersection", o.intersection},
                        {"area_a", o.area_a},
                        {"area_b", o.area_b}};
  return {{"table", Facet::rows(nlohmann::json::array({row}))}};
}

FacetMap run_match_objects(const OpCall& call) {
  const double threshold = call.param<double>("threshold");
  const ObjectMatching m = match_objects(call.mat("truth"), call.mat("pred"), threshold);
  nlohmann::json matches = nlohmann::json::array();
  for (const ObjectMatch& c : m.matches) {
    matches.push_back({{"truth", c.truth}, {"pred", c.pred}, {"iou", c.iou}});
  }
  nlohmann::json summary = {{"threshold", threshold},
                            {"true_objects", m.true_objects},
                            {"predicted_objects", m.predicted_objects},
                            {"tp", m.true_positives},
                            {"fp", m.false_positives},
                            {"fn", m.false_negatives},
                            {"precision", m.precision},
                            {"recall", m.recall},
                            {"f1", m.f1},
                            {"mean_matched_iou", m.mean_matched_iou}};
  return {{"summary", Facet::rows(nlohmann::json::array({summary}))},
          {"matches", Facet::rows(std::move(matches))}};
}

}  // namespace

void register_metric_ops(OpRegistry& r) {
  const std::vector<FacetSpec> masks = {
      {"a", FacetKind::mask, "first mask (e.g. the prediction)"},
      {"b", FacetKind::mask, "second mask of the same size (e.g. the reference)"}};
  r.add({.name = "iou",
         .summary = "Intersection over union of two masks (1 when both are empty)",
         .inputs = masks,
         .outputs = {{"table", FacetKind::table,
                      "one row: iou, intersection, union, area_a, area_b (pixels)"}},
         .params = {},
         .run = run_iou});

  r.add({.name = "dice",
         .summary = "Dice coefficient (F1 of pixels) of two masks (1 when both are empty)",
         .inputs = masks,
         .outputs = {{"table", FacetKind::table,
                      "one row: dice, intersection, area_a, area_b (pixels)"}},
         .params = {},
         .run = run_dice});

  r.add({.name = "match_objects",
         .summary = "Match predicted objects to reference objects by IoU; precision, recall, F1",
         .inputs = {{"truth", FacetKind::labels, "reference label image"},
                    {"pred", FacetKind::labels, "predicted label image of the same size"}},
         .outputs = {{"summary", FacetKind::table,
                      "one row: threshold, true_objects, predicted_objects, tp, fp, fn, precision, "
                      "recall, f1, "
                      "mean_matched_iou (all 1 when neither image has objects)"},
                     {"matches", FacetKind::table, "one row per matched pair: truth, pred, iou"}},
         .params = {ParamSpec::number("threshold", 0.5, {0.0, 1.0},
                                      "minimum IoU for a pair to count as a match")},
         .run = run_match_objects});
}

}  // namespace tessera::ops
