#pragma once

#include <memory>
#include <opencv2/core.hpp>

#include "image/vips_session.hpp"
#include "tessera/stitch/register.hpp"

namespace tessera::stitch::detail {

struct BlendPlan;

// A lazy libvips image of the feather-blended mosaic: every region libvips asks for is computed
// from the tiles covering it. A tile's own image (its file, opened for top-to-bottom reading) is
// opened when the first region needs it and closed once every mosaic pixel it covers has been made,
// so memory follows the band of tiles being written, not the whole grid. The placement must outlive
// this object, and the image must be used before this object is destroyed.
class BlendImage {
 public:
  BlendImage(const Placement& placement, int feather);
  ~BlendImage();
  BlendImage(const BlendImage&) = delete;
  BlendImage& operator=(const BlendImage&) = delete;

  VipsImage* get() const { return out_.get(); }
  int tiles_opened() const;  // opens so far, counting re-opens (tests: each tile is opened once)

 private:
  std::unique_ptr<BlendPlan> plan_;
  image::detail::VipsRef out_;  // declared last: released first, before what it reads
};

// The feather width per axis: the given one, or (0) the median nominal overlap of side-by-side
// pairs (left-right for x, top-bottom for y); at least 1, at most half the tile.
cv::Size feather_size(const Placement& placement, int feather);

}  // namespace tessera::stitch::detail
