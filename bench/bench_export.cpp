// npz export benchmark driver (scripts/bench_export.sh): writes DeepCell training data as the export does
// (exchange::NpzWriter: X float32 (frames, rows, cols, 1), y int32 (frames, rows, cols, 1), streamed frame by
// frame, stored zip, synced and renamed into place) and prints seconds and MB/s. Frames cycle through a pool
// of 8 generated frames (generation is not what is measured); scripts/bench_export.sh builds the same arrays
// in numpy for the anchor.
//   tessera_bench_export --frames N --size S --out FILE.npz
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tessera/exchange/npz.hpp"

namespace {

// Pixel (r, c) of pool frame k; the Python anchor uses the same formulas.
cv::Mat raw_frame(int k, int size) {
  cv::Mat m(size, size, CV_32FC1);
  for (int r = 0; r < size; ++r)
    for (int c = 0; c < size; ++c) m.at<float>(r, c) = float((r * 3 + c + k * 7) % 256);
  return m;
}

cv::Mat label_frame(int k, int size) {
  cv::Mat m(size, size, CV_32SC1);
  for (int r = 0; r < size; ++r)
    for (int c = 0; c < size; ++c) m.at<std::int32_t>(r, c) = (r / 32) * 16 + c / 32 + k;
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  int frames = 1000, size = 512;
  std::string out;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    if (key == "--frames") frames = std::atoi(argv[i + 1]);
    else if (key == "--size") size = std::atoi(argv[i + 1]);
    else if (key == "--out") out = argv[i + 1];
  }
  if (out.empty() || frames < 1 || size < 1) {
    fmt::print(stderr, "usage: tessera_bench_export --frames N --size S --out FILE.npz\n");
    return 2;
  }
  constexpr int kPool = 8;
  std::vector<cv::Mat> raw, labels;
  for (int k = 0; k < kPool; ++k) {
    raw.push_back(raw_frame(k, size));
    labels.push_back(label_frame(k, size));
  }
  const auto start = std::chrono::steady_clock::now();
  tessera::exchange::NpzWriter npz(out);
  const std::uint64_t s = std::uint64_t(size);
  auto& x = npz.begin("X", tessera::exchange::NpyType::f32, {s, s, 1});
  auto& y = npz.begin("y", tessera::exchange::NpyType::i32, {s, s, 1});
  for (int f = 0; f < frames; ++f) {
    x.append(raw[f % kPool]);
    y.append(labels[f % kPool]);
  }
  npz.finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double mb = double(std::filesystem::file_size(out)) / 1e6;
  fmt::print("seconds={:.3f} mb={:.1f} mb_per_s={:.1f}\n", seconds, mb, mb / seconds);
  return 0;
}
