#include "track/tar.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "tessera/core/error.hpp"

namespace tessera::track {
namespace {

constexpr size_t kBlock = 512;
constexpr size_t kRecord = 20 * kBlock;

void put_octal(char* field, size_t width, std::uint64_t value) {
  // width - 1 digits, then NUL.
  const std::string digits = fmt::format("{:0{}o}", value, width - 1);
  std::copy(digits.begin(), digits.end(), field);
  field[width - 1] = '\0';
}

std::uint64_t get_number(const char* field, size_t width) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(field);
  if (bytes[0] & 0x80) {  // GNU base-256 for sizes beyond 8 GiB
    std::uint64_t v = bytes[0] & 0x7f;
    for (size_t i = 1; i < width; ++i) v = (v << 8) | bytes[i];
    return v;
  }
  std::uint64_t v = 0;
  for (size_t i = 0; i < width && field[i] != '\0'; ++i) {
    if (field[i] == ' ') continue;
    if (field[i] < '0' || field[i] > '7') break;
    v = v * 8 + static_cast<std::uint64_t>(field[i] - '0');
  }
  return v;
}

unsigned checksum(const char* header) {
  unsigned sum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    sum += (i >= 148 && i < 156) ? static_cast<unsigned>(' ') : static_cast<unsigned char>(header[i]);
  }
  return sum;
}

std::string field(const char* p, size_t width) { return std::string(p, strnlen(p, width)); }

}  // namespace

std::string write_tar(const std::vector<TarMember>& members) {
  std::string out;
  for (const TarMember& m : members) {
    if (m.name.empty() || m.name.size() > 100) {
      throw Error(ErrorCode::invalid_argument, fmt::format("tar: member name '{}' must be 1-100 bytes", m.name));
    }
    if (m.data.size() >= (1ULL << 33)) {
      throw Error(ErrorCode::invalid_argument, fmt::format("tar: member '{}' exceeds 8 GiB", m.name));
    }
    char h[kBlock] = {};
    std::copy(m.name.begin(), m.name.end(), h);
    put_octal(h + 100, 8, 0644);
    put_octal(h + 108, 8, 0);
    put_octal(h + 116, 8, 0);
    put_octal(h + 124, 12, m.data.size());
    put_octal(h + 136, 12, 0);
    h[156] = '0';
    std::copy_n("ustar", 6, h + 257);
    h[263] = '0';
    h[264] = '0';
    const std::string sum = fmt::format("{:06o}", checksum(h));
    std::copy(sum.begin(), sum.end(), h + 148);
    h[154] = '\0';
    h[155] = ' ';
    out.append(h, kBlock);
    out += m.data;
    out.append((kBlock - m.data.size() % kBlock) % kBlock, '\0');
  }
  out.append(2 * kBlock, '\0');
  out.append((kRecord - out.size() % kRecord) % kRecord, '\0');
  return out;
}

std::vector<TarMember> read_tar(std::string_view archive, const std::string& what) {
  std::vector<TarMember> members;
  std::string long_name;
  size_t pos = 0;
  while (pos + kBlock <= archive.size()) {
    const char* h = archive.data() + pos;
    if (std::all_of(h, h + kBlock, [](char c) { return c == '\0'; })) break;
    if (get_number(h + 148, 8) != checksum(h)) {
      throw Error(ErrorCode::corrupt, fmt::format("{}: tar header at byte {} has a bad checksum", what, pos));
    }
    const std::uint64_t size = get_number(h + 124, 12);
    const char type = h[156];
    pos += kBlock;
    if (size > archive.size() - pos) {
      throw Error(ErrorCode::corrupt, fmt::format("{}: tar member at byte {} is truncated", what, pos - kBlock));
    }
    const std::string_view data = archive.substr(pos, size);
    pos += (size + kBlock - 1) / kBlock * kBlock;
    if (type == 'L') {
      long_name = std::string(data.substr(0, data.find('\0')));
    } else if (type == 'x') {
      // Records "<len> key=value\n"; only the path matters here.
      for (size_t i = 0; i < data.size();) {
        const size_t space = data.find(' ', i);
        if (space == std::string_view::npos) break;
        const size_t len =
            static_cast<size_t>(std::strtoull(std::string(data.substr(i, space - i)).c_str(), nullptr, 10));
        if (len == 0 || i + len > data.size()) break;
        const std::string_view record = data.substr(space + 1, i + len - space - 2);
        if (record.starts_with("path=")) long_name = std::string(record.substr(5));
        i += len;
      }
    } else if (type == '0' || type == '\0' || type == '7') {
      std::string name = field(h, 100);
      const std::string prefix = field(h + 345, 155);
      if (std::string_view(h + 257, 5) == "ustar" && !prefix.empty()) name = prefix + "/" + name;
      if (!long_name.empty()) name = long_name;
      long_name.clear();
      if (name.starts_with("./")) name = name.substr(2);
      members.push_back({std::move(name), std::string(data)});
    } else {
      long_name.clear();  // directories, links, global headers: nothing tracking needs
    }
  }
  return members;
}

}  // namespace tessera::track
