#pragma once

#include <string>
#include <string_view>

namespace tessera {

// RFC 4648 base64 with padding (masks and small images inside JSON bodies). Written here because none of
// the project's libraries exposes it in a public header (cpp-httplib keeps its own in detail::).
std::string base64_encode(std::string_view bytes);
// Error{invalid_argument} on characters outside the alphabet or a bad length; whitespace is skipped.
std::string base64_decode(std::string_view text);

}  // namespace tessera
