#include <fmt/format.h>

#include <array>
#include <cstdint>

#include "tessera/core/error.hpp"
#include "track/tar.hpp"

// DEFLATE (RFC 1951) decoding in the manner of zlib's puff.c: canonical Huffman codes decoded bit by
// bit. Speed is secondary: .trk archives are read once.
namespace tessera::track {
namespace {

constexpr int kMaxBits = 15;

struct Huffman {
  std::array<std::uint16_t, kMaxBits + 1> count{};  // codes of each length
  std::array<std::uint16_t, 288> symbol{};          // symbols ordered by code
};

class Inflater {
 public:
  Inflater(std::string_view in, const std::string& what) : in_(in), what_(what) {}

  // Inflates one deflate stream starting at byte `start`, appending to out; back-references may not
  // reach before out[output_start] (an earlier gzip member). Returns the byte after the stream.
  size_t run(size_t start, std::string& out, size_t output_start) {
    output_start_ = output_start;
    pos_ = start;
    bit_buf_ = 0;
    bit_count_ = 0;
    bool last = false;
    while (!last) {
      last = bits(1) != 0;
      const int type = static_cast<int>(bits(2));
      if (type == 0)
        stored(out);
      else if (type == 1)
        fixed(out);
      else if (type == 2)
        dynamic(out);
      else
        fail("invalid block type");
    }
    return pos_;
  }

 private:
  [[noreturn]] void fail(const char* why) const {
    throw Error(ErrorCode::corrupt, fmt::format("{}: gzip data is damaged ({})", what_, why));
  }

  std::uint32_t bits(int need) {
    std::uint32_t v = bit_buf_;
    while (bit_count_ < need) {
      if (pos_ >= in_.size()) fail("unexpected end");
      v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in_[pos_++])) << bit_count_;
      bit_count_ += 8;
    }
    bit_buf_ = v >> need;
    bit_count_ -= need;
    return v & ((1U << need) - 1U);
  }

  void stored(std::string& out) {
    bit_buf_ = 0;
    bit_count_ = 0;
    if (pos_ + 4 > in_.size()) fail("unexpected end");
    const auto byte = [&](size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(in_[i])); };
    const unsigned len = byte(pos_) | (byte(pos_ + 1) << 8);
    const unsigned nlen = byte(pos_ + 2) | (byte(pos_ + 3) << 8);
    if (len != (~nlen & 0xffffU)) fail("stored block length check");
    pos_ += 4;
    if (pos_ + len > in_.size()) fail("unexpected end");
    out.append(in_.data() + pos_, len);
    pos_ += len;
  }

  // Builds the decoding table; false for an over-subscribed code.
  static bool build(Huffman& h, const std::uint16_t* lengths, int n) {
    h.count.fill(0);
    for (int s = 0; s < n; ++s) ++h.count[lengths[s]];
    if (h.count[0] == n) return true;
    int left = 1;
    for (int len = 1; len <= kMaxBits; ++len) {
      left = (left << 1) - h.count[static_cast<size_t>(len)];
      if (left < 0) return false;
    }
    std::array<std::uint16_t, kMaxBits + 1> offs{};
    for (int len = 1; len < kMaxBits; ++len) {
      offs[static_cast<size_t>(len + 1)] =
          static_cast<std::uint16_t>(offs[static_cast<size_t>(len)] + h.count[static_cast<size_t>(len)]);
    }
    for (int s = 0; s < n; ++s) {
      if (lengths[s] != 0) h.symbol[offs[lengths[s]]++] = static_cast<std::uint16_t>(s);
    }
    return true;
  }

  int decode(const Huffman& h) {
    int code = 0;
    int first = 0;
    int index = 0;
    for (int len = 1; len <= kMaxBits; ++len) {
      code |= static_cast<int>(bits(1));
      const int count = h.count[static_cast<size_t>(len)];
      if (code - count < first) return h.symbol[static_cast<size_t>(index + (code - first))];
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    fail("invalid Huffman code");
  }

  void codes(std::string& out, const Huffman& lit, const Huffman& dist) {
    static constexpr std::array<std::uint16_t, 29> kLenBase = {3,  4,  5,  6,   7,   8,   9,   10,  11, 13,
                                                               15, 17, 19, 23,  27,  31,  35,  43,  51, 59,
                                                               67, 83, 99, 115, 131, 163, 195, 227, 258};
    static constexpr std::array<std::uint8_t, 29> kLenExtra = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                                               2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
    static constexpr std::array<std::uint16_t, 30> kDistBase = {
        1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
        193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
    static constexpr std::array<std::uint8_t, 30> kDistExtra = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                                                6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
    for (;;) {
      int symbol = decode(lit);
      if (symbol < 256) {
        out.push_back(static_cast<char>(symbol));
      } else if (symbol == 256) {
        return;
      } else {
        symbol -= 257;
        if (symbol >= 29) fail("invalid length code");
        const size_t len = kLenBase[static_cast<size_t>(symbol)] + bits(kLenExtra[static_cast<size_t>(symbol)]);
        const int d = decode(dist);
        if (d >= 30) fail("invalid distance code");
        const size_t back = kDistBase[static_cast<size_t>(d)] + bits(kDistExtra[static_cast<size_t>(d)]);
        if (back > out.size() - output_start_) fail("distance too far back");
        const size_t from = out.size() - back;
        for (size_t k = 0; k < len; ++k) out.push_back(out[from + k]);  // may overlap: byte by byte
      }
    }
  }

  void fixed(std::string& out) {
    if (!fixed_ready_) {
      std::array<std::uint16_t, 288> lengths{};
      for (size_t s = 0; s < 288; ++s) lengths[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
      build(fixed_lit_, lengths.data(), 288);
      std::array<std::uint16_t, 30> dist{};
      dist.fill(5);
      build(fixed_dist_, dist.data(), 30);
      fixed_ready_ = true;
    }
    codes(out, fixed_lit_, fixed_dist_);
  }

  void dynamic(std::string& out) {
    static constexpr std::array<std::uint8_t, 19> kOrder = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                                            11, 4,  12, 3, 13, 2, 14, 1, 15};
    const int nlen = static_cast<int>(bits(5)) + 257;
    const int ndist = static_cast<int>(bits(5)) + 1;
    const int ncode = static_cast<int>(bits(4)) + 4;
    if (nlen > 286 || ndist > 30) fail("bad code counts");
    std::array<std::uint16_t, 320> lengths{};
    for (int k = 0; k < ncode; ++k) lengths[kOrder[static_cast<size_t>(k)]] = static_cast<std::uint16_t>(bits(3));
    Huffman lencode;
    if (!build(lencode, lengths.data(), 19)) fail("bad code lengths code");
    int index = 0;
    while (index < nlen + ndist) {
      int symbol = decode(lencode);
      if (symbol < 16) {
        lengths[static_cast<size_t>(index++)] = static_cast<std::uint16_t>(symbol);
        continue;
      }
      std::uint16_t value = 0;
      int repeat = 0;
      if (symbol == 16) {
        if (index == 0) fail("repeat with no previous length");
        value = lengths[static_cast<size_t>(index - 1)];
        repeat = 3 + static_cast<int>(bits(2));
      } else if (symbol == 17) {
        repeat = 3 + static_cast<int>(bits(3));
      } else {
        repeat = 11 + static_cast<int>(bits(7));
      }
      if (index + repeat > nlen + ndist) fail("too many code lengths");
      while (repeat-- > 0) lengths[static_cast<size_t>(index++)] = value;
    }
    if (lengths[256] == 0) fail("no end-of-block code");
    Huffman lit;
    Huffman dist;
    if (!build(lit, lengths.data(), nlen) || !build(dist, lengths.data() + nlen, ndist)) fail("bad Huffman code");
    codes(out, lit, dist);
  }

  std::string_view in_;
  const std::string& what_;
  size_t output_start_ = 0;
  size_t pos_ = 0;
  std::uint32_t bit_buf_ = 0;
  int bit_count_ = 0;
  bool fixed_ready_ = false;
  Huffman fixed_lit_;
  Huffman fixed_dist_;
};

std::uint32_t crc32(std::string_view data) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t n = 0; n < 256; ++n) {
      std::uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1U) ? 0xedb88320U ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xffffffffU;
  for (const char ch : data) c = table[(c ^ static_cast<unsigned char>(ch)) & 0xffU] ^ (c >> 8);
  return c ^ 0xffffffffU;
}

std::uint32_t le32(std::string_view s, size_t at) {
  std::uint32_t v = 0;
  for (int k = 3; k >= 0; --k) v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<size_t>(k)]);
  return v;
}

}  // namespace

bool is_gzip(std::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f && static_cast<unsigned char>(data[1]) == 0x8b;
}

std::string gunzip(std::string_view data, const std::string& what) {
  std::string out;
  Inflater inflater(data, what);
  size_t pos = 0;
  const auto corrupt = [&](const std::string& why) {
    return Error(ErrorCode::corrupt, fmt::format("{}: gzip data is damaged ({})", what, why));
  };
  while (pos < data.size()) {
    if (data.size() - pos < 18 || !is_gzip(data.substr(pos)) || data[pos + 2] != 8) throw corrupt("bad member header");
    const auto flags = static_cast<unsigned char>(data[pos + 3]);
    size_t at = pos + 10;
    if (flags & 4U) {  // FEXTRA
      if (at + 2 > data.size()) throw corrupt("truncated header");
      at += 2 + (static_cast<unsigned char>(data[at]) |
                 (static_cast<size_t>(static_cast<unsigned char>(data[at + 1])) << 8));
    }
    for (const unsigned flag : {8U, 16U}) {  // FNAME, FCOMMENT: zero-terminated
      if (flags & flag) {
        const size_t end = data.find('\0', at);
        if (end == std::string_view::npos) throw corrupt("truncated header");
        at = end + 1;
      }
    }
    if (flags & 2U) at += 2;  // FHCRC
    if (at > data.size()) throw corrupt("truncated header");
    const size_t start = out.size();
    at = inflater.run(at, out, start);
    if (at + 8 > data.size()) throw corrupt("missing trailer");
    const std::string_view member(out.data() + start, out.size() - start);
    if (le32(data, at) != crc32(member)) throw corrupt("CRC-32 mismatch");
    if (le32(data, at + 4) != static_cast<std::uint32_t>(member.size())) throw corrupt("length mismatch");
    pos = at + 8;
    // Trailing zero padding after the last member is tolerated (tape-style writers add it).
    if (data.find_first_not_of('\0', pos) == std::string_view::npos) break;
  }
  return out;
}

}  // namespace tessera::track
