#include "tiles/window.hpp"

#include <fmt/format.h>

#include <cmath>
#include <vector>

#include "tessera/core/error.hpp"

namespace tessera::tiles::detail {
namespace {

using image::PixelType;
using image::detail::VipsRef;

// libvips counts a histogram in 32-bit bins: above this many samples a bin could overflow.
constexpr double kMaxHistogramSamples = 2147483648.0;

[[noreturn]] void fail(std::string_view name, std::string_view doing) {
  throw Error(ErrorCode::corrupt,
              fmt::format("tiles: {}: cannot {}: {}", name, doing, image::detail::take_vips_error()));
}

bool is_integer_type(PixelType type) { return type != PixelType::f32 && type != PixelType::f64; }

struct Range {
  double min = 0;
  double max = 0;
};

// One streaming pass: the smallest and largest sample over every band.
Range sample_range(VipsImage* in, std::string_view name) {
  VipsRef stats;
  if (vips_stats(in, stats.out(), nullptr) != 0) fail(name, "read the image for its value range");
  // Row 0 of the statistics matrix covers all bands: min, max, sum, ...
  if (vips_image_wio_input(stats.get()) != 0) fail(name, "read the image's statistics");
  const auto* row = static_cast<const double*>(static_cast<void*>(VIPS_IMAGE_ADDR(stats.get(), 0, 0)));
  return {row[0], row[1]};
}

// Per-bin counts of an unsigned 8- or 16-bit image, summed over its bands.
std::vector<double> histogram(VipsImage* in, std::string_view name) {
  VipsRef hist;
  if (vips_hist_find(in, hist.out(), nullptr) != 0) fail(name, "read the image for its histogram");
  if (vips_image_wio_input(hist.get()) != 0) fail(name, "read the histogram");
  const int bins = vips_image_get_width(hist.get());
  const int bands = vips_image_get_bands(hist.get());
  const auto* counts = static_cast<const unsigned int*>(static_cast<void*>(VIPS_IMAGE_ADDR(hist.get(), 0, 0)));
  std::vector<double> summed(static_cast<size_t>(bins), 0.0);
  for (int b = 0; b < bins; ++b) {
    for (int band = 0; band < bands; ++band) summed[static_cast<size_t>(b)] += counts[b * bands + band];
  }
  return summed;
}

// A smaller copy whose histogram cannot overflow: percentiles of a huge image come from its 2x2 (4x4,
// ...) averages.
VipsRef bounded_for_histogram(VipsRef in, std::string_view name) {
  const double samples = static_cast<double>(vips_image_get_width(in.get())) * vips_image_get_height(in.get()) *
                         vips_image_get_bands(in.get());
  int shrink = 1;
  while (samples / (static_cast<double>(shrink) * shrink) >= kMaxHistogramSamples) shrink *= 2;
  if (shrink == 1) return in;
  VipsRef out;
  if (vips_shrink(in.get(), out.out(), static_cast<double>(shrink), static_cast<double>(shrink), "ceil", TRUE,
                  nullptr) != 0) {
    fail(name, "shrink the image for its histogram");
  }
  return out;
}

// Maps samples to bins 0..65535 of width `step` from `low` (exactly v - low when step is 1).
VipsRef to_bins(VipsImage* in, double low, double step, std::string_view name) {
  VipsRef wide;
  if (vips_cast(in, wide.out(), VIPS_FORMAT_DOUBLE, nullptr) != 0) fail(name, "convert samples");
  VipsRef scaled;
  if (vips_linear1(wide.get(), scaled.out(), 1.0 / step, -low / step, nullptr) != 0) fail(name, "scale samples");
  VipsRef bins;
  if (vips_cast(scaled.get(), bins.out(), VIPS_FORMAT_USHORT, nullptr) != 0) fail(name, "bin samples");
  return bins;
}

Window from_bins(const std::vector<double>& counts, double low, double step, const WindowSpec& spec) {
  const double first = low + step * static_cast<double>(percentile_bin(counts, spec.low));
  const double last = low + step * static_cast<double>(percentile_bin(counts, spec.high));
  if (last > first) return {first, last};
  return {first, first + 1};
}

}  // namespace

std::size_t percentile_bin(std::span<const double> counts, double percent) {
  double total = 0;
  for (double c : counts) total += c;
  // The small allowance keeps 0.5 % of 1000 at rank 5 despite 0.005 * 1000 not being exact in binary.
  const double rank = std::max(1.0, std::ceil(percent / 100.0 * total - 1e-9));
  double running = 0;
  for (std::size_t bin = 0; bin < counts.size(); ++bin) {
    running += counts[bin];
    if (running >= rank) return bin;
  }
  return counts.empty() ? 0 : counts.size() - 1;
}

Window compute_window(const WindowSpec& spec, PixelType type, const SelectionOpener& open, std::string_view name) {
  switch (spec.mode) {
    case WindowSpec::Mode::identity:
      return {0, 255};
    case WindowSpec::Mode::range:
      return {spec.min, spec.max};
    case WindowSpec::Mode::percentiles:
      break;
  }
  if (type == PixelType::u8 || type == PixelType::u16) {
    VipsRef samples = bounded_for_histogram(open(), name);
    return from_bins(histogram(samples.get(), name), 0, 1, spec);
  }
  // Other types need their range first (one pass), then a histogram over 65536 bins spanning it.
  const Range range = [&] {
    VipsRef samples = open();
    return sample_range(samples.get(), name);
  }();
  if (!(range.max > range.min)) return {range.min, range.min + 1};
  const double steps = range.max - range.min;
  const double step = is_integer_type(type) && steps < 65536 ? 1.0 : steps / 65535.0;
  VipsRef samples = bounded_for_histogram(open(), name);
  VipsRef bins = to_bins(samples.get(), range.min, step, name);
  return from_bins(histogram(bins.get(), name), range.min, step, spec);
}

}  // namespace tessera::tiles::detail
