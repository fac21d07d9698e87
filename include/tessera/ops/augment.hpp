#pragma once

#include <opencv2/core.hpp>

namespace tessera::ops {

// Geometric augmentations that move pixels without resampling, so they apply to images, masks
// (CV_8UC1) and label images (CV_32SC1) alike and keep every value exact. Any depth and channel
// count. Registered as the ops `rotate90`, `flip` and `translate`, which hand back the facet kind
// they were given. Results never share pixels with the input. Thread-safe.

// k quarter turns counterclockwise, as numpy.rot90(image, k); negative k turns clockwise. Any k.
cv::Mat rotate90(const cv::Mat& image, int k);

enum class FlipAxis {
  horizontal,  // mirror left-right (numpy.fliplr)
  vertical,    // mirror top-bottom (numpy.flipud)
  both,        // both, i.e. a half turn
};
cv::Mat flip(const cv::Mat& image, FlipAxis axis);

enum class Border {
  constant,  // pixels shifted in take the fill value
  reflect,  // mirrored with the edge pixel repeated: dcba|abcd|dcba (scipy.ndimage 'reflect', numpy
            // 'symmetric')
  wrap,     // periodic: what leaves one side comes back on the other (numpy.roll)
};

// Shifts content by dx columns right and dy rows down: out(x, y) = in(x - dx, y - dy), the outside
// given by border. fill is saturated to the pixel type and set on every channel. Shifts of any size
// are allowed.
cv::Mat translate(const cv::Mat& image, int dx, int dy, Border border = Border::constant,
                  double fill = 0);

}  // namespace tessera::ops
