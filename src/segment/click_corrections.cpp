#include "segment/click_corrections.hpp"

#include <algorithm>
#include <vector>

#include "segment/click_edit.hpp"

namespace tessera::segment {

namespace {

cv::Point pixel_of(const PromptPoint& p) { return {static_cast<int>(p.x), static_cast<int>(p.y)}; }

// More than one click on the GrabCut path: the first '+' alone makes the mask, every later click edits it
// (click_edit.hpp): a '-' inside removes the part it floods first, a '+' outside adds its own one-click mask,
// a click the mask already agrees with changes nothing. The confidence stays the first cut's.
SegmentResult cut_then_edit(const cv::Mat& image8, const Prompts& prompts, const ClickPaths& paths) {
  const auto first = std::find_if(prompts.points.begin(), prompts.points.end(),
                                  [](const PromptPoint& p) { return p.positive; });
  SegmentResult result = paths.grabcut_one_click(Prompts{{*first}, std::nullopt, {}});
  std::vector<cv::Point> positives{pixel_of(*first)};
  for (auto p = prompts.points.begin(); p != prompts.points.end(); ++p) {
    if (p == first) continue;
    const cv::Point at = pixel_of(*p);
    const bool inside = result.mask.at<uchar>(at) != 0;
    if (p->positive) {
      positives.push_back(at);
      if (inside) continue;
      // The object is the mask plus the click's own one-click mask. Measured against one cut around all '+'
      // clicks (the ROI then outgrows the object: EM nuclei 0.63 -> 0.55 after the click) and against keeping
      // whichever of the two has the sharper boundary (EM 0.63, polyps 0.60): the union alone is the one that
      // improves every dataset (EM 0.74, polyps 0.37, DSB's few GrabCut clicks).
      result.mask |= paths.grabcut_one_click(Prompts{{*p}, std::nullopt, {}}).mask;
    } else if (inside) {
      result.mask = remove_around(image8, result.mask, positives, at);
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
