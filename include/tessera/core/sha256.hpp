#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>

namespace tessera {

// Lower-case hex SHA-256 of bytes. Uses OpenSSL's EVP, which picks the CPU's SHA extensions when present.
std::string sha256_hex(std::span<const std::byte> bytes);
std::string sha256_hex(std::string_view bytes);

// True when text is 64 lower-case hex digits (the only form a blob hash takes).
bool is_sha256_hex(std::string_view text);

}  // namespace tessera
