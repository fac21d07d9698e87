#pragma once

// Corrective clicks as edits of the mask the earlier clicks made, for the GrabCut path. Re-running the
// multi-scale cut with every click moved the masks far from the first one (EM nuclei: 0.63 -> 0.55 mean IoU
// after one corrective click): a '-' cut the scale search short and a second '+' widened the ROI. An edit
// changes only the part the click is about: here a '-' deep inside the mask (a second body the mask took in)
// removes the part it floods first; a '+' and a '-' at the mask's edge re-cut from the mask (click_recut.hpp).

#include <vector>

#include <opencv2/core.hpp>

namespace tessera::segment {

// `mask`: CV_8U 0/255, image size; `image8`: 8-bit, 1 or 3 channels. Returns the mask without the part of it
// that a marker watershed on the image's gradient, run inside the mask, gives to `negative` rather than to the
// `positives` inside the mask (none inside: the mask is kept). Only removes pixels.
cv::Mat remove_around(const cv::Mat& image8, const cv::Mat& mask, const std::vector<cv::Point>& positives,
                      cv::Point negative);

}  // namespace tessera::segment
