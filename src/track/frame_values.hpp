#pragma once

#include <algorithm>
#include <cstdint>
#include <opencv2/core.hpp>
#include <vector>

namespace tessera::track {

// The distinct nonzero values of a CV_32SC1 label image, ascending.
inline std::vector<std::int32_t> frame_values(const cv::Mat& labels) {
  std::vector<std::int32_t> values;
  std::int32_t last = 0;
  for (int y = 0; y < labels.rows; ++y) {
    const auto* row = labels.ptr<std::int32_t>(y);
    for (int x = 0; x < labels.cols; ++x) {
      if (row[x] != 0 && row[x] != last) {
        values.push_back(row[x]);
        last = row[x];
      }
    }
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

}  // namespace tessera::track
