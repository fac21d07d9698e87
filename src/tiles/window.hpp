#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string_view>

#include "image/vips_session.hpp"
#include "tessera/tiles/render_spec.hpp"

namespace tessera::tiles::detail {

// The bin holding the `percent` percentile of a histogram: the first bin whose running count reaches
// max(1, ceil(percent / 100 * total)) ("nearest rank"). 0 -> the lowest filled bin, 100 -> the highest.
// Requires a histogram with at least one count.
std::size_t percentile_bin(std::span<const double> counts, double percent);

// Opens the frame's selected samples (source pixel type, full resolution) afresh: each streaming pass
// reads the file again rather than holding the frame.
using SelectionOpener = std::function<image::detail::VipsRef()>;

// The numbers a WindowSpec stands for. Percentiles come from a histogram streamed over every selected
// sample of the frame (all channels together): exact for 8- and 16-bit and for any integer image whose
// values span fewer than 65536 steps; otherwise (float, wide 32-bit) within (max - min) / 65535, the bin
// width. A constant image gets [value, value + 1]. `name` labels errors (Error{corrupt} when the file
// cannot be read).
Window compute_window(const WindowSpec& spec, image::PixelType type, const SelectionOpener& open,
                      std::string_view name);

}  // namespace tessera::tiles::detail
