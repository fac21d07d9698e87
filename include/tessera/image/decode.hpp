#pragma once

#include <filesystem>
#include <string_view>

#include "tessera/image/image.hpp"

namespace tessera::image {

// Pixel count above which decode_for_import() does not hold the full image in memory: it streams a
// full verification pass through libvips and computes the focus score on a thumbnail instead.
inline constexpr long long kLargeImagePixels = 64LL * 1024 * 1024;

// Reads the header (size, channels, pages, pixel type, acquisition time) without decoding pixels.
// Throws Error{unsupported} for a format no loader knows, Error{corrupt} for a damaged header.
ImageInfo probe(std::string_view bytes);

// Decodes every frame. Truncated or damaged data is an Error{corrupt}, never a partly grey image.
// `name` only labels error messages.
Image decode(std::string_view bytes, std::string_view name = "image");

// What an import needs: the header, a full decode that proves the file is intact, and the focus score.
// Images above large_pixels are streamed, never held whole, and their focus comes from a 2048-px thumbnail.
struct ImportDecode {
  ImageInfo info;
  double focus = 0.0;
};
ImportDecode decode_for_import(std::string_view bytes, std::string_view name,
                               long long large_pixels = kLargeImagePixels);

// File extensions tessera tries to import (lower case, with dot).
bool has_image_extension(const std::filesystem::path& path);

}  // namespace tessera::image
