#include "segment/click_corrections.hpp"

#include <algorithm>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "segment/click_edit.hpp"
#include "segment/click_recut.hpp"

namespace tessera::segment {

namespace {

cv::Point pixel_of(const PromptPoint& p) { return {static_cast<int>(p.x), static_cast<int>(p.y)}; }

// A '-' inside the mask either marks a leak at its edge or a second body the mask took in: the depth of the '-'
// (distance to the mask's edge) over the deepest '+' inside the mask tells them apart. A leak is re-cut
// (click_recut.hpp: the cut learns the object from the mask and moves that stretch of the boundary), a second body
// is split off by the watershed (click_edit.hpp), which follows the seam between two bodies where a re-cut keeps
// the colours the two share. Measured on the 13 '-' corrections of EM nuclei and polyps (IoU after the click,
// re-cut / watershed): depth ratios 0.04-0.38 (9 objects) 0.949/0.924, 0.800/0.714, 0.978/0.881, 0.849/0.689, ...
// (the re-cut never worse); 0.45-0.68 (4 objects: an EM nucleus with its neighbour, polyps with the whole fold)
// 0.825/0.866, 0.490/0.899, 0.358/0.693, 0.395/0.508 (the watershed always better).
constexpr double kSecondBodyDepthRatio = 0.4;

bool marks_second_body(const cv::Mat& mask, const std::vector<cv::Point>& positives, cv::Point negative) {
  double deepest_positive = 0;
  for (const auto& p : positives)
    if (mask.at<uchar>(p) != 0) deepest_positive = std::max(deepest_positive, distance_to_edge(mask, p));
  return distance_to_edge(mask, negative) > kSecondBodyDepthRatio * deepest_positive;
}

// More than one click on the GrabCut path: the first '+' alone makes the mask, every later click edits it: a '+'
// outside re-cuts with the mask as the prior (click_recut.hpp), a '-' inside re-cuts a leak or splits off a second
// body (above), a click the mask already agrees with changes nothing. The confidence stays the first cut's.
// Measured on the 12 '+' corrections of EM nuclei and polyps against the union of the mask with the click's own
// one-click cut (bounded to 5x its distance to the mask; summed 1-IoU after the click, EM / polyps): 2.35 / 0.72
// -> 1.16 / 0.47; that cut found a patch of the texture around the click where the nucleus went on (three EM
// nuclei 0.32 -> 0.46, 0.32 -> 0.91, 0.64 -> 0.81), and it cost a whole scale search (~2 s CPU) per click.
SegmentResult cut_then_edit(const cv::Mat& image8, const Prompts& prompts, const ClickPaths& paths) {
  const auto first = std::find_if(prompts.points.begin(), prompts.points.end(),
                                  [](const PromptPoint& p) { return p.positive; });
  SegmentResult result = paths.grabcut_one_click(Prompts{{*first}, std::nullopt, {}});
  std::vector<cv::Point> positives{pixel_of(*first)}, negatives;
  for (auto p = prompts.points.begin(); p != prompts.points.end(); ++p) {
    if (p == first) continue;
    const cv::Point at = pixel_of(*p);
    const bool inside = result.mask.at<uchar>(at) != 0;
    if (p->positive) {
      if (!inside) result.mask = recut_with_click(image8, result.mask, positives, negatives, at, true);
      positives.push_back(at);
    } else {
      if (inside)
        result.mask = marks_second_body(result.mask, positives, at)
                          ? remove_around(image8, result.mask, positives, at)
                          : recut_with_click(image8, result.mask, positives, negatives, at, false);
      negatives.push_back(at);
    }
  }
  result.method = "grabcut_edited";
  return result;
}

}  // namespace

SegmentResult segment_clicks(const cv::Mat& image8, const Prompts& prompts, const ClickPaths& paths) {
  if (auto blob = paths.blob(prompts)) return *blob;
  if (prompts.points.size() > 1) return cut_then_edit(image8, prompts, paths);
  return paths.grabcut_one_click(prompts);
}

}  // namespace tessera::segment
