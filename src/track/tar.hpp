#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tessera::track {

// One member of a tar archive: a regular file's name and bytes.
struct TarMember {
  std::string name;
  std::string data;
};

// A ustar archive of regular files with fixed metadata (mode 0644, owner 0, mtime 0), ended by two
// zero blocks and padded to 10 KiB records as Python's tarfile does: the same members give the same
// bytes. Error{invalid_argument} for a name over 100 bytes or a member over 8 GiB.
std::string write_tar(const std::vector<TarMember>& members);

// The regular files of a tar archive (ustar, GNU or pax; long names from GNU 'L' and pax 'path'
// records). Error{corrupt} naming `what` for a bad checksum or a truncated member.
std::vector<TarMember> read_tar(std::string_view archive, const std::string& what);

// Decompresses gzip data (one or more members), checking each member's CRC-32 and length.
// Error{corrupt} naming `what` for damaged data. Written here because zlib is not among the libraries
// this layer links; only decompression is needed (.trk files are written as plain tar).
std::string gunzip(std::string_view data, const std::string& what);

bool is_gzip(std::string_view data);

}  // namespace tessera::track
