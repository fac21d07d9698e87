#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tessera/ops/metrics.hpp"

namespace tessera::app {

// `tessera score PRED GT`: how well predicted label images match reference ones. Pixel scores use the
// foreground (id != 0); object scores pair objects one to one at IoU >= threshold (ops::match_objects).
struct ImageScore {
  std::string name;  // file name (or PRED's path when two files were given)
  double iou = 0;
  double dice = 0;
  ops::ObjectMatching objects;
};

struct ScoreSummary {
  std::vector<ImageScore> images;  // natural order of the reference files
  double mean_iou = 0;             // over images
  double mean_dice = 0;
  std::int64_t true_positives = 0;  // summed over images
  std::int64_t false_positives = 0;
  std::int64_t false_negatives = 0;
  double precision = 0;  // from the sums; all 1 when there are no objects at all, 0 over an empty side
  double recall = 0;
  double f1 = 0;
  double threshold = 0.5;
};

// pred and truth are two image files or two folders (files matched by name; a reference without a
// prediction, or the reverse, is an Error{invalid_argument} naming it). Images must be one-channel integer
// label images of equal size: errors name the file.
ScoreSummary score_labels(const std::filesystem::path& pred, const std::filesystem::path& truth,
                          double threshold = 0.5);

}  // namespace tessera::app
