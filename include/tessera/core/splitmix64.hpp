#pragma once

// splitmix64 (Steele, Lea, Flood 2014): one step of a 64-bit mixing function, used to turn related seeds
// (a user seed plus a tree, position or frame index) into decorrelated ones for std::mt19937_64.

#include <cstdint>

namespace tessera {

constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace tessera
