#pragma once

#include <filesystem>
#include <string>

namespace tessera {

// Whole file as bytes; throws Error{io} naming the path and the system's reason.
std::string read_file(const std::filesystem::path& path);

// Writes every byte to the open descriptor and fdatasyncs it; Error{io} naming `where` on failure. The
// descriptor stays open either way (the caller owns it).
void write_and_sync(int fd, std::string_view bytes, const std::filesystem::path& where);

// Writes bytes to path atomically: temp file beside it, fsync, rename, fsync of the directory. A reader
// sees the old file or the new one, never a part.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

}  // namespace tessera
