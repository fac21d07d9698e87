#pragma once

// The blob path's cut for two nuclei flooded as one side by side (blob_cut.hpp). The far limit there holds
// back a neighbour merged end to end (it lies beyond 1.8 inscribed radii of the click), but a neighbour lying
// alongside the clicked nucleus stays within that reach, and neither an intensity peak nor a dark seam marks
// it: only the two concavities where the outlines meet do. The flood is cut along the chord between two
// such concavities when that chord runs along the kept part (at least as long as the part is wide) rather
// than across it: a cut across an elongated nucleus at a notch is the common false split.

#include <opencv2/core.hpp>

namespace tessera::segment {

// `object`: CV_8U 0/255, the one-click flood; `click` inside it. Keeps the part holding the click when the
// flood is such a side-by-side pair and returns the part cut off (CV_8U 0/255) less a band along the cut;
// else leaves `object` as it is and returns an empty matrix.
cv::Mat split_side_by_side(cv::Mat& object, cv::Point click);

}  // namespace tessera::segment
