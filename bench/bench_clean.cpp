// Crowd-annotation cleaning benchmark driver (scripts/bench_clean.sh).
//   tessera_bench_clean gen DIR COUNT SIZE   writes COUNT generated montage label images (8-bit PNG): packed
//                                            elliptic cells, some touching, with specks and small holes
//   tessera_bench_clean clean IN OUT         cleans every PNG of IN (app::clean_crowd_labels) into OUT and
//                                            prints "clean_s=<seconds> images=<n>" (decode/encode not timed)
#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tessera/app/crowd_ingest.hpp"

namespace {

namespace fs = std::filesystem;

cv::Mat generate(int size, std::mt19937& rng) {
  cv::Mat labels = cv::Mat::zeros(size, size, CV_8UC1);
  std::uniform_int_distribution<int> pos(0, size - 1);
  std::uniform_int_distribution<int> axis(6, 22);
  std::uniform_int_distribution<int> angle(0, 179);
  int cells = size * size / 7000;  // ~150 cells per 1024^2, as a dense montage of nuclei
  for (int i = 0; i < cells; ++i) {
    cv::ellipse(labels, cv::Point(pos(rng), pos(rng)), cv::Size(axis(rng), axis(rng)), angle(rng), 0, 360,
                cv::Scalar(1 + i % 255), cv::FILLED);
  }
  std::uniform_int_distribution<int> small(1, 3);
  for (int i = 0; i < cells / 3; ++i) {  // specks: a few pixels of a stray value anywhere
    labels(cv::Rect(pos(rng) % (size - 4), pos(rng) % (size - 4), small(rng), small(rng))).setTo(200 + i % 50);
  }
  for (int i = 0; i < cells / 2; ++i) {  // holes: small dropped-out patches, mostly inside cells
    int w = small(rng) + 2;
    labels(cv::Rect(pos(rng) % (size - 6), pos(rng) % (size - 6), w, small(rng) + 1)).setTo(0);
  }
  return labels;
}

int run_gen(const fs::path& dir, int count, int size) {
  fs::create_directories(dir);
  std::mt19937 rng(7);
  for (int i = 0; i < count; ++i) cv::imwrite((dir / fmt::format("montage_{:04}.png", i)).string(), generate(size, rng));
  return 0;
}

int run_clean(const fs::path& in, const fs::path& out) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(in))
    if (e.path().extension() == ".png") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<cv::Mat> images;
  for (const auto& f : files) images.push_back(cv::imread(f.string(), cv::IMREAD_UNCHANGED));
  std::vector<cv::Mat> cleaned(images.size());
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < images.size(); ++i) cleaned[i] = tessera::app::clean_crowd_labels(images[i]);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fs::create_directories(out);
  for (size_t i = 0; i < files.size(); ++i) cv::imwrite((out / files[i].filename()).string(), cleaned[i]);
  fmt::print("clean_s={:.4f} images={}\n", seconds, images.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 4 && args[0] == "gen") return run_gen(args[1], std::stoi(args[2]), std::stoi(args[3]));
  if (args.size() == 3 && args[0] == "clean") return run_clean(args[1], args[2]);
  fmt::print(stderr, "usage: tessera_bench_clean gen DIR COUNT SIZE | clean IN OUT\n");
  return 2;
}
