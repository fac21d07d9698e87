#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include <opencv2/core.hpp>

namespace tessera::synth {

// Plankton-like images as an imaging flow cell or a scanner gives them: dark organisms (elongated bodies
// with appendages, some with a translucent interior holding a small particle) on a bright background with
// vignetting and noise. Ranges are checked by validate().
struct PlanktonOptions {
  int images = 20;           // [1, 10000000]
  int width = 1024;          // [128, 16384]
  int height = 768;          // [128, 16384]
  int min_objects = 1;       // per image, [0, 1000]
  int max_objects = 20;      // per image, [min_objects, 1000]; fewer if they don't fit
  int stations = 3;          // images are spread over folders st01..stNN, [1, 1000]
  double nested_fraction = 0.15;  // share of organisms with a particle inside a translucent body, [0, 1]
  std::uint64_t seed = 1;    // same options -> byte-identical output
};

void validate(const PlanktonOptions& options);  // Error{invalid_argument} naming the option

struct PlanktonImage {
  cv::Mat rgb;                   // CV_8UC3, channels R, G, B
  std::vector<cv::Rect> organisms;  // bounding box of each organism (the outer object)
  int nested = 0;                // organisms holding a particle inside
};

// Image `index` of the set (independent of the others: any index can be rendered alone).
PlanktonImage render_plankton(const PlanktonOptions& options, int index);

struct PlanktonSummary {
  int images = 0;
  int organisms = 0;
  int nested = 0;
};

// Writes OUT/stSS/img_IIIII.png for every image and OUT/manifest.json (options, and per image its file,
// station, organism boxes and nested count).
PlanktonSummary write_plankton(const std::filesystem::path& out, const PlanktonOptions& options);

}  // namespace tessera::synth
