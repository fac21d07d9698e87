#include "stitch/blend_image.hpp"

#include <algorithm>
#include <exception>

#include <fmt/format.h>

#include "stitch/vips_format.hpp"
#include "tessera/core/error.hpp"

namespace tessera::stitch::detail {

// What the region generator reads; built once, read-only while libvips evaluates.
struct BlendPlan {
  std::vector<VipsImage*> inputs;  // owned by BlendImage::inputs_
  std::vector<cv::Rect> rects;     // each tile's rectangle in the mosaic
  std::vector<double> ramp_x;      // weight of a tile's column u, rising linearly from both edges
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
};

namespace {

using image::detail::VipsRef;

// Per-thread state: one input region per tile (made on first use) and the accumulators.
struct BlendSequence {
  std::vector<VipsRegion*> regions;
  std::vector<double> sum;
  std::vector<double> weight;
};

void* start_blend(VipsImage*, void* a, void*) {
  auto* seq = new BlendSequence;
  seq->regions.assign(static_cast<BlendPlan*>(a)->inputs.size(), nullptr);
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

template <typename T>
void accumulate(const BlendPlan& plan, VipsRegion* in, const VipsRect& tile_rect, const VipsRect& out_rect,
                int out_x, int out_y, BlendSequence& seq) {
  const int bands = plan.bands;
  for (int y = 0; y < tile_rect.height; ++y) {
    const T* src = reinterpret_cast<const T*>(VIPS_REGION_ADDR(in, tile_rect.left, tile_rect.top + y));
    const double wy = plan.ramp_y[static_cast<size_t>(tile_rect.top + y)];
    const size_t row = static_cast<size_t>(out_y - out_rect.top + y) * out_rect.width + (out_x - out_rect.left);
    double* sum = seq.sum.data() + row * bands;
    double* weight = seq.weight.data() + row;
    const double* wx = plan.ramp_x.data() + tile_rect.left;
    for (int x = 0; x < tile_rect.width; ++x) {
      const double w = wy * wx[x];
      weight[x] += w;
      for (int c = 0; c < bands; ++c) sum[x * bands + c] += w * static_cast<double>(src[x * bands + c]);
    }
  }
}

template <typename T>
void finish(const BlendPlan& plan, VipsRegion* out, const BlendSequence& seq) {
  const VipsRect& r = out->valid;
  const int bands = plan.bands;
  for (int y = 0; y < r.height; ++y) {
    T* dst = reinterpret_cast<T*>(VIPS_REGION_ADDR(out, r.left, r.top + y));
    const size_t row = static_cast<size_t>(y) * r.width;
    for (int x = 0; x < r.width; ++x) {
      const double w = seq.weight[row + x];
      const double* sum = seq.sum.data() + (row + x) * bands;
      for (int c = 0; c < bands; ++c) dst[x * bands + c] = w > 0 ? cv::saturate_cast<T>(sum[c] / w) : T(0);
    }
  }
}

template <typename T>
int generate_typed(VipsRegion* out, BlendSequence& seq, const BlendPlan& plan) {
  const VipsRect& r = out->valid;
  const size_t pixels = static_cast<size_t>(r.width) * r.height;
  seq.sum.assign(pixels * plan.bands, 0.0);
  seq.weight.assign(pixels, 0.0);
  const cv::Rect region(r.left, r.top, r.width, r.height);
  for (int i : plan.tiles_touching(r)) {
    const cv::Rect& tile = plan.rects[static_cast<size_t>(i)];
    const cv::Rect common = tile & region;
    if (common.empty()) continue;
    VipsRegion*& in = seq.regions[static_cast<size_t>(i)];
    if (in == nullptr) in = vips_region_new(plan.inputs[static_cast<size_t>(i)]);
    VipsRect want{common.x - tile.x, common.y - tile.y, common.width, common.height};
    if (vips_region_prepare(in, &want) != 0) return -1;
    accumulate<T>(plan, in, want, r, common.x, common.y, seq);
  }
  finish<T>(plan, out, seq);
  return 0;
}

int generate_blend(VipsRegion* out, void* s, void* a, void*, gboolean*) {
  auto& seq = *static_cast<BlendSequence*>(s);
  const auto& plan = *static_cast<const BlendPlan*>(a);
  try {
    switch (plan.depth) {
      case CV_8U: return generate_typed<uint8_t>(out, seq, plan);
      case CV_8S: return generate_typed<int8_t>(out, seq, plan);
      case CV_16U: return generate_typed<uint16_t>(out, seq, plan);
      case CV_16S: return generate_typed<int16_t>(out, seq, plan);
      case CV_32S: return generate_typed<int32_t>(out, seq, plan);
      case CV_32F: return generate_typed<float>(out, seq, plan);
      case CV_64F: return generate_typed<double>(out, seq, plan);
      default: vips_error("tessera", "stitch: unsupported pixel depth"); return -1;
    }
  } catch (const std::exception& e) {  // never let an exception cross libvips' C frames
    vips_error("tessera", "stitch: %s", e.what());
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

// The tile as a libvips image of the mosaic's band format: its file opened for top-to-bottom reading, or
// its pixels wrapped without a copy.
VipsRef open_input(const Tile& tile, const TileFormat& format, std::vector<cv::Mat>& kept) {
  VipsRef in;
  const int depth = CV_MAT_DEPTH(format.type);
  if (!tile.image.empty()) {
    cv::Mat m = tile.image;
    if (!m.isContinuous()) kept.push_back(m = m.clone());
    in = VipsRef(vips_image_new_from_memory(m.data, m.total() * m.elemSize(), m.cols, m.rows, m.channels(),
                                            vips_format_of(depth)));
  } else {
    in = VipsRef(vips_image_new_from_file(tile.path.c_str(), "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                          VIPS_FAIL_ON_ERROR, nullptr));
  }
  if (!in) {
    throw Error(ErrorCode::corrupt,
                fmt::format("stitch: cannot read tile '{}': {}", tile.name, image::detail::take_vips_error()));
  }
  if (vips_image_get_width(in.get()) != format.size.width || vips_image_get_height(in.get()) != format.size.height ||
      vips_image_get_bands(in.get()) != CV_MAT_CN(format.type)) {
    throw Error(ErrorCode::invalid_argument, fmt::format("stitch: tile '{}' changed since it was registered", tile.name));
  }
  if (vips_image_get_format(in.get()) != vips_format_of(depth)) {  // an unsigned 32-bit file: widened as decode does
    VipsRef cast;
    if (vips_cast(in.get(), cast.out(), vips_format_of(depth), nullptr) != 0) {
      throw Error(ErrorCode::corrupt, fmt::format("stitch: tile '{}': {}", tile.name, image::detail::take_vips_error()));
    }
    in = std::move(cast);
  }
  return in;
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
      if (p.overlap.height > p.overlap.width) across_x.push_back(p.overlap.width);
      else if (p.overlap.width > p.overlap.height) across_y.push_back(p.overlap.height);
    }
    f.width = across_x.empty() ? 1 : static_cast<int>(median(across_x));
    f.height = across_y.empty() ? 1 : static_cast<int>(median(across_y));
  }
  f.width = std::clamp(f.width, 1, std::max(1, tile.width / 2));
  f.height = std::clamp(f.height, 1, std::max(1, tile.height / 2));
  return f;
}

BlendImage::BlendImage(const Placement& placement, int feather) : plan_(std::make_unique<BlendPlan>()) {
  image::detail::ensure_vips();
  const TileFormat& format = placement.format;
  BlendPlan& plan = *plan_;
  plan.bands = CV_MAT_CN(format.type);
  plan.depth = CV_MAT_DEPTH(format.type);
  if (vips_format_of(plan.depth) == VIPS_FORMAT_NOTSET) {
    throw Error(ErrorCode::unsupported, fmt::format("stitch: cannot blend {} tiles", cv::typeToString(format.type)));
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
  for (size_t i = 0; i < placement.tiles.size(); ++i) {
    const cv::Rect rect(offsets[i], format.size);
    plan.rects.push_back(rect);
    for (int cy = rect.y / plan.cell.height; cy <= (rect.br().y - 1) / plan.cell.height; ++cy) {
      for (int cx = rect.x / plan.cell.width; cx <= (rect.br().x - 1) / plan.cell.width; ++cx) {
        plan.cells[static_cast<size_t>(cy * plan.cells_x + cx)].push_back(static_cast<int>(i));
      }
    }
    inputs_.push_back(open_input(placement.tiles[i], format, kept_));
    plan.inputs.push_back(inputs_.back().get());
  }

  std::vector<VipsImage*> array = plan.inputs;
  array.push_back(nullptr);
  out_ = VipsRef(vips_image_new());
  // pipeline_array copies the first tile's header; the mosaic's geometry is set after it.
  if (vips_image_pipeline_array(out_.get(), VIPS_DEMAND_STYLE_SMALLTILE, array.data()) != 0) {
    throw Error(ErrorCode::internal, "stitch: " + image::detail::take_vips_error());
  }
  const double xres = vips_image_get_xres(out_.get());  // the tiles' resolution, from the first one
  const double yres = vips_image_get_yres(out_.get());
  vips_image_init_fields(out_.get(), size.width, size.height, plan.bands, vips_format_of(plan.depth),
                         VIPS_CODING_NONE, interpretation_for(format.type), xres, yres);
  vips_image_remove(out_.get(), "orientation");  // one tile's EXIF rotation must not turn the whole mosaic
  if (vips_image_generate(out_.get(), start_blend, generate_blend, stop_blend, plan_.get(), nullptr) != 0) {
    throw Error(ErrorCode::internal, "stitch: " + image::detail::take_vips_error());
  }
}

BlendImage::~BlendImage() = default;

}  // namespace tessera::stitch::detail
