#pragma once

// A corrective click on the GrabCut path as a new graph cut seeded by the mask it corrects: the mask's eroded
// interior and the '+' clicks are sure foreground, a '-' click and its neighbourhood sure background, so the
// colour models are learnt from the object the annotator accepted and the cut moves the boundary where the click
// says it is wrong (click_corrections.cpp picks between this and the plain edits of click_edit.hpp).

#include <vector>

#include <opencv2/core.hpp>

namespace tessera::segment {

// `mask`: CV_8U 0/255, image size, the mask before the click; `image8`: 8-bit, 1 or 3 channels; `positives` /
// `negatives`: the '+' / '-' clicks so far (image pixels); `click` is the corrective click, `positive` its sign.
// Returns the re-cut mask (image size, 0/255); a '+' click only adds pixels, a '-' click only removes them.
cv::Mat recut_with_click(const cv::Mat& image8, const cv::Mat& mask, const std::vector<cv::Point>& positives,
                         const std::vector<cv::Point>& negatives, cv::Point click, bool positive);

// Distance (pixels) of `at` to the edge of `mask` (CV_8U 0/255): from outside, to the nearest mask pixel; from
// inside, to the nearest pixel outside it, the image border counting as outside.
double distance_to_edge(const cv::Mat& mask, cv::Point at);

}  // namespace tessera::segment
