#include "segment/marker_watershed.hpp"

#include <cstdint>
#include <queue>
#include <vector>

namespace tessera::segment {

void flood_from_markers(const cv::Mat& elevation, cv::Mat& labels) {
  CV_Assert(elevation.type() == CV_32FC1 && labels.type() == CV_32SC1 && elevation.size() == labels.size());
  struct Entry {
    float height;
    std::uint64_t order;
    std::int64_t index;  // 64 bits: cols * rows overflows int above ~46,000² pixels
    bool operator>(const Entry& other) const {
      return height != other.height ? height > other.height : order > other.order;
    }
  };
  const std::int64_t cols = labels.cols, rows = labels.rows;
  cv::Mat flat_labels = labels.isContinuous() ? labels : labels.clone();
  cv::Mat flat_elevation = elevation.isContinuous() ? elevation : elevation.clone();
  int* label = flat_labels.ptr<int>();
  const float* height = flat_elevation.ptr<float>();
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue;
  std::uint64_t order = 0;
  const auto push_neighbours = [&](std::int64_t index) {
    const std::int64_t x = index % cols, y = index / cols;
    const std::int64_t neighbours[4] = {x > 0 ? index - 1 : -1, x + 1 < cols ? index + 1 : -1, y > 0 ? index - cols : -1,
                               y + 1 < rows ? index + cols : -1};
    for (const std::int64_t n : neighbours) {
      if (n < 0 || label[n] != 0) continue;
      // The first flood to reach a pixel owns it; it spreads on when the pixel's own height comes up.
      label[n] = label[index];
      queue.push({height[n], order++, n});
    }
  };
  for (std::int64_t i = 0; i < cols * rows; ++i)
    if (label[i] > 0) queue.push({height[i], order++, i});
  while (!queue.empty()) {
    const std::int64_t index = queue.top().index;
    queue.pop();
    push_neighbours(index);
  }
  if (flat_labels.data != labels.data) flat_labels.copyTo(labels);
}

}  // namespace tessera::segment
