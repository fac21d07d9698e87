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

// After a '+' re-cut on a grey image: when the '+' was on a band darker than the mask's inside (the dark rim of
// heterochromatin an EM nucleus's first mask misses all along its envelope, the click marking one stretch of it),
// the band's pixels as dark as the click's neighbourhood and within the click's distance of the mask join it
// everywhere around the mask, not only where the re-cut reached. `before`: the mask the '+' corrected; `after`:
// the re-cut; both CV_8U 0/255, image size. Returns `after` plus the rim (only adds pixels); colour images and
// clicks no darker than the mask's inside are returned unchanged.
cv::Mat complete_rim(const cv::Mat& image8, const cv::Mat& before, const cv::Mat& after, cv::Point click);

// The one-click mask of a grey image with the dark rim its cut left out (see click_recut.cpp): `mask` CV_8U 0/255,
// image size; only adds pixels; colour images and masks with no rim darker than the ground beyond are unchanged.
cv::Mat with_dark_rim(const cv::Mat& image8, const cv::Mat& mask);

// `mask` (CV_8U 0/255) opened then closed by a disk of a hundredth of the square root of its area (see
// click_recut.cpp): the cut's pixel-scale ragged outline smoothed; masks under ~2000 px, and results that would lose
// one of `keep` (the '+' clicks) or take one of `keep_out` (the '-' clicks), are returned unchanged.
cv::Mat with_smooth_outline(const cv::Mat& mask, const std::vector<cv::Point>& keep,
                            const std::vector<cv::Point>& keep_out);

// Distance (pixels) of `at` to the edge of `mask` (CV_8U 0/255): from outside, to the nearest mask pixel; from
// inside, to the nearest pixel outside it, the image border counting as outside.
double distance_to_edge(const cv::Mat& mask, cv::Point at);

}  // namespace tessera::segment
