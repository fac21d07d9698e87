#pragma once

#include <opencv2/core.hpp>

namespace tessera::ops {

// scikit-image 0.19's threshold_otsu, bit for bit (../shared/docs/formats.md 6.5): integer images get one
// histogram bin per integer value from min to max (nbins ignored), float images nbins equal bins over
// [min, max]; a constant image returns its value. One-channel images of any depth; Error{invalid_argument}
// for NaN/inf or more than one channel.
double threshold_otsu(const cv::Mat& gray, int nbins = 256);

// The value below which a fraction q of the pixels lie (numpy.quantile, linear interpolation).
double threshold_quantile(const cv::Mat& gray, double q);

// Foreground mask (CV_8U 0/255): pixels strictly above t (scikit-image's `image > t`), or for dark objects
// on a bright background the complement, pixels <= t (Otsu's lower class, which holds the threshold bin).
cv::Mat threshold_mask(const cv::Mat& gray, double t, bool dark_objects = false);

}  // namespace tessera::ops
