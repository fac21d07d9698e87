#pragma once

#include <vector>

#include <opencv2/core.hpp>

namespace tessera::ops {

// Pixel-level preparation of images: grey conversion, intensity normalisation, resizing, gamma,
// CLAHE, flat-field (vignetting) correction and cropping. Pure functions over cv::Mat in tessera's
// conventions (op.hpp: RGB channel order). Each is also registered as the op of the same name
// (`to_gray`, `normalize`, `resize`, `gamma`, `clahe`, `vignette_correct`, `crop`); errors are
// Error{invalid_argument} whose message starts with that op name. Results never share pixels with
// the input. Thread-safe.

// The value meaning "full intensity" for a pixel depth: 255 (8U), 127 (8S), 65535 (16U), 32767
// (16S), 2^31-1 (32S), and 1 for floating-point images, which are taken as scaled to [0, 1].
double white_level(int depth);

// One channel from an image: RGB or RGBA -> Rec.601 luma 0.299 R + 0.587 G + 0.114 B (alpha
// ignored), same depth. 8U, 16U and 32F go through cv::cvtColor and match it bit for bit; other
// depths are computed in double precision and rounded to nearest. One channel is copied as is, two
// channels (grey + alpha) give the first. Error for more than four channels.
cv::Mat to_gray(const cv::Mat& image);

// The value below which p percent of the values lie, over all channels (numpy.percentile, linear
// interpolation). p in [0, 100]. Exact for every depth; 8U and 16U use a histogram.
double percentile(const cv::Mat& image, double p);

enum class NormalizeMode { min_max, percentile };

struct NormalizeOptions {
  NormalizeMode mode = NormalizeMode::percentile;
  double low = 1.0;    // percentile mapped to black (percentile mode only), in [0, 100]
  double high = 99.8;  // percentile mapped to white, in [low, 100]
  int depth = -1;      // output depth: -1 = the input's, or CV_8U, CV_16U, CV_32F
  bool clip = true;    // clamp float outputs to [0, 1]; integer outputs always saturate
};

// Linear stretch of the intensities: the low value (minimum or low percentile, over all channels
// jointly so colours keep their balance) maps to 0 and the high value to white_level(output depth).
// A constant image (high == low) gives zeros.
cv::Mat normalize_intensity(const cv::Mat& image, const NormalizeOptions& options = {});

enum class Interpolation { nearest, linear, area, cubic };

// Resizes to size (both > 0). nearest samples pixel centres (cv::INTER_NEAREST_EXACT, as PIL and
// scikit-image's order=0) and is exact for every type, so it is the one to use for masks and
// labels. The other modes work on every depth (8S, 32S and 16F via double precision, rounded back)
// and channel count.
cv::Mat resize_image(const cv::Mat& image, cv::Size size,
                     Interpolation interpolation = Interpolation::linear);

// out = W * (in / W)^gamma with W = white_level(depth), rounded to nearest for integer images;
// gamma > 0. Error if the image has negative values.
cv::Mat adjust_gamma(const cv::Mat& image, double gamma);

// Contrast-limited adaptive histogram equalisation (cv::CLAHE). clip_limit as in OpenCV (relative
// to the mean bin count; <= 0 disables clipping), tile_grid tiles along each axis. Needs 8U or 16U
// pixels: one channel directly; RGB and RGBA on the lightness L of CIE Lab, keeping a and b (and
// alpha), so hues do not shift. Error for float or signed images (normalize them to u8/u16 first)
// and for 2 or >4 channels.
cv::Mat clahe(const cv::Mat& image, double clip_limit = 2.0, int tile_grid = 8);

// Flat fields: CV_32F with the image's channels, each channel scaled to mean 1, floored at 1e-3.
// flat_field_blur: a heavy Gaussian blur of the image itself (sigma in pixels; <= 0 means
// max(width, height) / 8), twiced (2 B - blur(B)) so the illumination's curvature survives the
// blur. Borders are extended by point reflection (2 * edge - mirror) so a brightness gradient
// carries on past the edge instead of folding back. A smooth vignette is flattened to within about
// 1%; objects leave a halo of roughly 1.5 * contrast * area / (2 pi sigma^2), so for large objects
// use a larger sigma or flat_field_median. For speed the blur runs on a copy shrunk so that sigma
// is about 4 pixels.
cv::Mat flat_field_blur(const cv::Mat& image, double sigma = 0);
// flat_field_median: the per-pixel median of a stack of images of one size and type (an even count
// averages the middle two), e.g. many frames of a moving sample: objects move, the illumination
// stays. Error for an empty or mixed stack.
cv::Mat flat_field_median(const std::vector<cv::Mat>& stack);
// image / flat in the image's own depth (saturated): brightness is kept on average, shading
// removed. The flat field must have the image's size and channels.
cv::Mat divide_flat_field(const cv::Mat& image, const cv::Mat& flat);

// A copy of the area of the image. Error unless the area is non-empty and lies inside the image.
cv::Mat crop(const cv::Mat& image, const cv::Rect& area);

}  // namespace tessera::ops
