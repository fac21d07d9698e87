#include "stitch/blend_image.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <exception>
#include <mutex>
#include <type_traits>

#include "stitch/vips_format.hpp"
#include "stitch/vips_tile.hpp"
#include "tessera/core/error.hpp"

namespace tessera::stitch::detail {

using image::detail::VipsRef;

// One tile's image while regions are made from it.
struct TileSlot {
  std::mutex mutex;
  VipsRef image;                      // open while the tile still has pixels to give
  long long remaining = 0;            // mosaic pixels still to make from this tile
  std::atomic<bool> finished{false};  // every pixel made: threads drop their regions of it
};

// What the region generator reads. Geometry is fixed at construction; slots change under their
// mutex.
struct BlendPlan {
  const Placement* placement = nullptr;
  std::vector<cv::Mat> pixels;  // in-memory tiles, continuous; empty Mat = read the tile's file
  std::vector<cv::Rect> rects;  // each tile's rectangle in the mosaic
  std::vector<std::unique_ptr<TileSlot>> slots;
  std::atomic<int> opens{0};
  std::vector<double> ramp_x;  // weight of a tile's column u, rising linearly from both edges
  std::vector<double> ramp_y;
  int bands = 1;
  int depth = CV_8U;
  // Tiles by grid cell of one tile size, so a region looks only at the few tiles that can cover it.
  cv::Size cell;
  int cells_x = 1;
  int cells_y = 1;
  std::vector<std::vector<int>> cells;

  std::vector<int> tiles_touching(const VipsRect& r) const {
    std::vector<int> out;
    const int cx0 = std::clamp(r.left / cell.width, 0, cells_x - 1);
    const int cx1 = std::clamp((r.left + r.width - 1) / cell.width, 0, cells_x - 1);
    const int cy0 = std::clamp(r.top / cell.height, 0, cells_y - 1);
    const int cy1 = std::clamp((r.top + r.height - 1) / cell.height, 0, cells_y - 1);
    for (int cy = cy0; cy <= cy1; ++cy) {
      for (int cx = cx0; cx <= cx1; ++cx) {
        const auto& in_cell = cells[static_cast<size_t>(cy * cells_x + cx)];
        out.insert(out.end(), in_cell.begin(), in_cell.end());
      }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  // A new region on tile i's image, opening it if needed. A tile asked for again after it finished
  // (a sink that computes a region twice) is reopened and then kept open.
  VipsRegion* region_for(size_t i) {
    TileSlot& slot = *slots[i];
    std::lock_guard lock(slot.mutex);
    if (!slot.image) {
      slot.image = open_tile_image(placement->tiles[i], pixels[i], placement->format);
      ++opens;
      if (slot.finished) {
        slot.finished = false;
        slot.remaining = LLONG_MAX;
      }
    }
    return vips_region_new(slot.image.get());
  }

  // Records `area` more pixels made from tile i; true when that was the last of them (the image is
  // closed, the caller's region being its last user once every thread has dropped theirs).
  bool made(size_t i, long long area) {
    TileSlot& slot = *slots[i];
    std::lock_guard lock(slot.mutex);
    slot.remaining -= area;
    if (slot.remaining > 0) return false;
    slot.image = VipsRef();
    slot.finished = true;
    return true;
  }
};

namespace {

// Per-thread state: one input region per tile in use, and the accumulators (float for pixel types
// up to 16 bits and float, whose values a float sum holds exactly enough; double for 32-bit
// integers and double).
struct BlendSequence {
  std::vector<VipsRegion*> regions;  // by tile; null = none
  std::vector<size_t> in_use;        // tiles with a region
  std::vector<float> sum_f, weight_f;
  std::vector<double> sum_d, weight_d;

  template <typename Acc>
  std::vector<Acc>& sum() {
    if constexpr (std::is_same_v<Acc, float>)
      return sum_f;
    else
      return sum_d;
  }
  template <typename Acc>
  std::vector<Acc>& weight() {
    if constexpr (std::is_same_v<Acc, float>)
      return weight_f;
    else
      return weight_d;
  }

  void drop(size_t i) {
    g_object_unref(regions[i]);
    regions[i] = nullptr;
    in_use.erase(std::find(in_use.begin(), in_use.end(), i));
  }
  // Regions of tiles other threads finished: dropping them lets the tile's image go.
  void drop_finished(const BlendPlan& plan) {
    for (size_t k = in_use.size(); k-- > 0;) {
      if (plan.slots[in_use[k]]->finished) drop(in_use[k]);
    }
  }
};

void* start_blend(VipsImage*, void* a, void*) {
  auto* seq = new BlendSequence;
  seq->regions.assign(static_cast<BlendPlan*>(a)->rects.size(), nullptr);
  return seq;
}

int stop_blend(void* s, void*, void*) {
  auto* seq = static_cast<BlendSequence*>(s);
  for (VipsRegion* r : seq->regions) {
    if (r != nullptr) g_object_unref(r);
  }
  delete seq;
  return 0;
}

// Adds one tile's weighted pixels over `tile_rect` (tile coordinates) to the accumulators of
// out_rect.
template <typename T, typename Acc, int kBands>
void accumulate(const BlendPlan& plan, VipsRegion* in, const VipsRect& tile_rect,
                const VipsRect& out_rect, int out_x, int out_y, BlendSequence& seq) {
  const int bands = kBands > 0 ? kBands : plan.bands;
  for (int y = 0; y < tile_rect.height; ++y) {
    const T* src =
        reinterpret_cast<const T*>(VIPS_REGION_ADDR(in, tile_rect.left, tile_rect.top + y));
    const Acc wy = static_cast<Acc>(plan.ramp_y[static_cast<size_t>(tile_rect.top + y)]);
    const size_t row =
        static_cast<size_t>(out_y - out_rect.top + y) * out_rect.width + (out_x - out_rect.left);
    Acc* sum = seq.sum<Acc>().data() + row * bands;
    Acc* weight = seq.weight<Acc>().data() + row;
    const double* wx = plan.ramp_x.data() + tile_rect.left;
    for (int x = 0; x < tile_rect.width; ++x) {
      const Acc w = wy * static_cast<Acc>(wx[x]);
      weight[x] += w;
      for (int c = 0; c < bands; ++c)
        sum[x * bands + c] += w * static_cast<Acc>(src[x * bands + c]);
    }
  }
}

template <typename T, typename Acc>
void finish(const BlendPlan& plan, VipsRegion* out, BlendSequence& seq) {
  const VipsRect& r = out->valid;
  const int bands = plan.bands;
  for (int y = 0; y < r.height; ++y) {
    T* dst = reinterpret_cast<T*>(VIPS_REGION_ADDR(out, r.left, r.top + y));
    const size_t row = static_cast<size_t>(y) * r.width;
    for (int x = 0; x < r.width; ++x) {
      const Acc w = seq.weight<Acc>()[row + x];
      const Acc* sum = seq.sum<Acc>().data() + (row + x) * bands;
      for (int c = 0; c < bands; ++c)
        dst[x * bands + c] = w > 0 ? cv::saturate_cast<T>(sum[c] / w) : T(0);
    }
  }
}

// A region inside one tile only: its pixels as they are (weights cancel), zero where no tile is.
void copy_single(VipsRegion* out, VipsRegion* in, const VipsRect& want, const cv::Rect& common,
                 size_t pixel_bytes) {
  const VipsRect& r = out->valid;
  if (common.width != r.width || common.height != r.height) vips_region_black(out);
  for (int y = 0; y < common.height; ++y) {
    std::memcpy(VIPS_REGION_ADDR(out, common.x, common.y + y),
                VIPS_REGION_ADDR(in, want.left, want.top + y),
                static_cast<size_t>(common.width) * pixel_bytes);
  }
}

template <typename T>
int generate_typed(VipsRegion* out, BlendSequence& seq, BlendPlan& plan) {
  using Acc = std::conditional_t<(sizeof(T) <= 2 || std::is_same_v<T, float>), float, double>;
  seq.drop_finished(plan);
  const VipsRect& r = out->valid;
  const cv::Rect region(r.left, r.top, r.width, r.height);
  std::vector<size_t> covering;
  for (int t : plan.tiles_touching(r)) {
    if (!(plan.rects[static_cast<size_t>(t)] & region).empty())
      covering.push_back(static_cast<size_t>(t));
  }
  const size_t pixels = static_cast<size_t>(r.width) * r.height;
  if (covering.size() != 1) {
    seq.sum<Acc>().assign(pixels * plan.bands, Acc(0));
    seq.weight<Acc>().assign(pixels, Acc(0));
  }
  for (size_t i : covering) {
    const cv::Rect& tile = plan.rects[i];
    const cv::Rect common = tile & region;
    if (seq.regions[i] == nullptr) {
      seq.regions[i] = plan.region_for(i);
      seq.in_use.push_back(i);
    }
    VipsRect want{common.x - tile.x, common.y - tile.y, common.width, common.height};
    if (vips_region_prepare(seq.regions[i], &want) != 0) return -1;
    if (covering.size() == 1)
      copy_single(out, seq.regions[i], want, common, sizeof(T) * plan.bands);
    else if (plan.bands == 1)
      accumulate<T, Acc, 1>(plan, seq.regions[i], want, r, common.x, common.y, seq);
    else
      accumulate<T, Acc, 0>(plan, seq.regions[i], want, r, common.x, common.y, seq);
    if (plan.made(i, common.area())) seq.drop(i);
  }
  if (covering.empty()) vips_region_black(out);
  if (covering.size() > 1) finish<T, Acc>(plan, out, seq);
  return 0;
}

int generate_blend(VipsRegion* out, void* s, void* a, void*, gboolean*) {
  auto& seq = *static_cast<BlendSequence*>(s);
  auto& plan = *static_cast<BlendPlan*>(a);
  try {
    switch (plan.depth) {
      case CV_8U:
        return generate_typed<uint8_t>(out, seq, plan);
      case CV_8S:
        return generate_typed<int8_t>(out, seq, plan);
      case CV_16U:
        return generate_typed<uint16_t>(out, seq, plan);
      case CV_16S:
        return generate_typed<int16_t>(out, seq, plan);
      case CV_32S:
        return generate_typed<int32_t>(out, seq, plan);
      case CV_32F:
        return generate_typed<float>(out, seq, plan);
      case CV_64F:
        return generate_typed<double>(out, seq, plan);
      default:
        vips_error("tessera", "stitch: unsupported pixel depth");
        return -1;
    }
  } catch (const std::exception& e) {  // never let an exception cross libvips' C frames
    vips_error("tessera", "%s", e.what());
    return -1;
  }
}

std::vector<double> ramp(int length, int feather) {
  std::vector<double> r(static_cast<size_t>(length));
  for (int u = 0; u < length; ++u) {
    const double from_edge = std::min(u, length - 1 - u) + 0.5;
    r[static_cast<size_t>(u)] = std::min(1.0, from_edge / feather);
  }
  return r;
}

double median(std::vector<int> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

VipsInterpretation interpretation_for(int type) {
  const int bands = CV_MAT_CN(type);
  const int depth = CV_MAT_DEPTH(type);
  if (depth == CV_16U) return bands >= 3 ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_GREY16;
  if (depth == CV_8U) return bands >= 3 ? VIPS_INTERPRETATION_sRGB : VIPS_INTERPRETATION_B_W;
  return VIPS_INTERPRETATION_MULTIBAND;
}

}  // namespace

cv::Size feather_size(const Placement& placement, int feather) {
  const cv::Size tile = placement.format.size;
  cv::Size f(feather, feather);
  if (feather <= 0) {
    std::vector<int> across_x, across_y;
    for (const PairMeasurement& p : placement.pairs) {
      if (p.overlap.height > p.overlap.width)
        across_x.push_back(p.overlap.width);
      else if (p.overlap.width > p.overlap.height)
        across_y.push_back(p.overlap.height);
    }
    f.width = across_x.empty() ? 1 : static_cast<int>(median(across_x));
    f.height = across_y.empty() ? 1 : static_cast<int>(median(across_y));
  }
  f.width = std::clamp(f.width, 1, std::max(1, tile.width / 2));
  f.height = std::clamp(f.height, 1, std::max(1, tile.height / 2));
  return f;
}

BlendImage::BlendImage(const Placement& placement, int feather)
    : plan_(std::make_unique<BlendPlan>()) {
  image::detail::ensure_vips();
  const TileFormat& format = placement.format;
  BlendPlan& plan = *plan_;
  plan.placement = &placement;
  plan.bands = CV_MAT_CN(format.type);
  plan.depth = CV_MAT_DEPTH(format.type);
  if (vips_format_of(plan.depth) == VIPS_FORMAT_NOTSET) {
    throw Error(ErrorCode::unsupported,
                fmt::format("stitch: cannot blend {} tiles", cv::typeToString(format.type)));
  }
  const cv::Size f = feather_size(placement, feather);
  plan.ramp_x = ramp(format.size.width, f.width);
  plan.ramp_y = ramp(format.size.height, f.height);

  const std::vector<cv::Point> offsets = placement.mosaic_offsets();
  const cv::Size size = placement.mosaic_size();
  plan.cell = format.size;
  plan.cells_x = (size.width + plan.cell.width - 1) / plan.cell.width;
  plan.cells_y = (size.height + plan.cell.height - 1) / plan.cell.height;
  plan.cells.resize(static_cast<size_t>(plan.cells_x * plan.cells_y));
  double xres = 1.0, yres = 1.0;
  for (size_t i = 0; i < placement.tiles.size(); ++i) {
    const Tile& tile = placement.tiles[i];
    const cv::Rect rect(offsets[i], format.size);
    plan.rects.push_back(rect);
    for (int cy = rect.y / plan.cell.height; cy <= (rect.br().y - 1) / plan.cell.height; ++cy) {
      for (int cx = rect.x / plan.cell.width; cx <= (rect.br().x - 1) / plan.cell.width; ++cx) {
        plan.cells[static_cast<size_t>(cy * plan.cells_x + cx)].push_back(static_cast<int>(i));
      }
    }
    plan.pixels.push_back(tile.image.empty() || tile.image.isContinuous() ? tile.image
                                                                          : tile.image.clone());
    plan.slots.push_back(std::make_unique<TileSlot>());
    plan.slots.back()->remaining = rect.area();
    // Opened once here and closed again: an unreadable or changed file fails now, naming the tile,
    // rather than halfway through writing. The first tile's resolution becomes the mosaic's.
    const VipsRef probe = open_tile_image(tile, plan.pixels.back(), format);
    if (i == 0) {
      xres = vips_image_get_xres(probe.get());
      yres = vips_image_get_yres(probe.get());
    }
  }

  out_ = VipsRef(vips_image_new());
  if (vips_image_pipelinev(out_.get(), VIPS_DEMAND_STYLE_SMALLTILE, nullptr) != 0) {
    throw Error(ErrorCode::internal, "stitch: " + image::detail::take_vips_error());
  }
  vips_image_init_fields(out_.get(), size.width, size.height, plan.bands,
                         vips_format_of(plan.depth), VIPS_CODING_NONE,
                         interpretation_for(format.type), xres, yres);
  if (vips_image_generate(out_.get(), start_blend, generate_blend, stop_blend, plan_.get(),
                          nullptr) != 0) {
    throw Error(ErrorCode::internal, "stitch: " + image::detail::take_vips_error());
  }
}

BlendImage::~BlendImage() = default;

int BlendImage::tiles_opened() const { return plan_->opens; }

}  // namespace tessera::stitch::detail
