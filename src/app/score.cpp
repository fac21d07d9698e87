// Segmentation scores over files or folders of label images.
#include "tessera/app/score.hpp"

#include <map>

#include <fmt/format.h>

#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/exchange/montage.hpp"
#include "tessera/image/decode.hpp"

namespace tessera::app {
namespace {

namespace fs = std::filesystem;

cv::Mat read_labels(const fs::path& path) {
  image::Image decoded = image::decode(read_file(path), path.string());
  const cv::Mat& m = decoded.frames.front();
  int depth = m.depth();
  if (decoded.frames.size() != 1 || m.channels() != 1 || depth == CV_32F || depth == CV_64F) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: not a label image (expected one frame of one integer channel)", path.string()));
  }
  return m;
}

// ops/metrics.hpp's convention: nothing on either side is a perfect score, nothing on one side scores 0.
double ratio(double num, double den, bool both_empty) { return both_empty ? 1.0 : (den == 0 ? 0.0 : num / den); }

}  // namespace

ScoreSummary score_labels(const fs::path& pred, const fs::path& truth, double threshold) {
  if (!(threshold > 0 && threshold <= 1)) {
    throw Error(ErrorCode::invalid_argument, fmt::format("score: threshold must be in (0, 1], got {}", threshold));
  }
  std::vector<std::pair<fs::path, fs::path>> pairs;  // (pred, truth)
  std::error_code ec;
  bool pred_dir = fs::is_directory(pred, ec);
  bool truth_dir = fs::is_directory(truth, ec);
  if (pred_dir != truth_dir) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("score: PRED {} and GT {} must both be files or both folders", pred.string(), truth.string()));
  }
  if (pred_dir) {
    std::map<std::string, fs::path> predicted;
    for (const auto& p : exchange::list_pipeline_images(pred)) predicted.emplace(p.filename().string(), p);
    for (const auto& t : exchange::list_pipeline_images(truth)) {
      auto it = predicted.find(t.filename().string());
      if (it == predicted.end()) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("score: {} has no prediction {}", t.string(), (pred / t.filename()).string()));
      }
      pairs.emplace_back(it->second, t);
      predicted.erase(it);
    }
    if (!predicted.empty()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("score: prediction {} has no reference in {}", predicted.begin()->second.string(),
                              truth.string()));
    }
    if (pairs.empty()) throw Error(ErrorCode::invalid_argument, fmt::format("score: no images in {}", truth.string()));
  } else {
    pairs.emplace_back(pred, truth);
  }

  ScoreSummary summary;
  summary.threshold = threshold;
  for (const auto& [p, t] : pairs) {
    cv::Mat predicted = read_labels(p);
    cv::Mat reference = read_labels(t);
    if (predicted.size() != reference.size()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("score: {} is {}x{}, its reference {} is {}x{}", p.string(), predicted.cols, predicted.rows,
                              t.string(), reference.cols, reference.rows));
    }
    ImageScore s;
    s.name = pred_dir ? t.filename().string() : p.string();
    ops::MaskOverlap overlap = ops::mask_overlap(predicted, reference, "score");
    s.iou = overlap.iou();
    s.dice = overlap.dice();
    s.objects = ops::match_objects(reference, predicted, threshold);
    summary.mean_iou += s.iou;
    summary.mean_dice += s.dice;
    summary.true_positives += s.objects.true_positives;
    summary.false_positives += s.objects.false_positives;
    summary.false_negatives += s.objects.false_negatives;
    summary.images.push_back(std::move(s));
  }
  auto n = static_cast<double>(summary.images.size());
  summary.mean_iou /= n;
  summary.mean_dice /= n;
  auto tp = static_cast<double>(summary.true_positives);
  auto fp = static_cast<double>(summary.false_positives);
  auto fn = static_cast<double>(summary.false_negatives);
  bool empty = tp + fp + fn == 0;
  summary.precision = ratio(tp, tp + fp, empty);
  summary.recall = ratio(tp, tp + fn, empty);
  summary.f1 = ratio(2 * tp, 2 * tp + fp + fn, empty);
  return summary;
}

}  // namespace tessera::app
