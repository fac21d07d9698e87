// Pixel classification benchmark driver (scripts/bench_learn.sh).
//   tessera_bench_learn gen OUT SIZE            two frames of the synthetic nuclear time-lapse (SIZE^2):
//                                               OUT/train.png, OUT/test.png (16-bit images), OUT/train_mask.png,
//                                               OUT/test_mask.png (8-bit, 255 = nucleus)
//   tessera_bench_learn run OUT PIXELS TREES DEPTH
//                                               trains on PIXELS labelled pixels of train.png (drawn evenly
//                                               from its mask, a seeded sample), predicts test.png; prints
//                                               "train_s=.. predict_s=.. dice=.. features=.. test_features_s=..
//                                               test_features_cpu_s=.. predict_cpu_s=.. forest_kernel=.." with
//                                               train = features of train.png + sample gathering + forest,
//                                               predict = features of test.png + forest over every pixel,
//                                               forest_kernel = the prediction kernel that ran (the CPU's
//                                               fastest, or the one TESSERA_FOREST_KERNEL names).
// The python anchor reads the same files and draws the same pixels (OUT/samples.txt, written by `run`).

#include <chrono>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>

#include "tessera/learn/pixel_classifier.hpp"
#include "tessera/learn/random_forest.hpp"
#include "tessera/synth/timelapse.hpp"

namespace fs = std::filesystem;
using namespace tessera::learn;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// CPU seconds of every thread of the process: on a shared machine a steadier measure of work than wall time.
double cpu_seconds_since(std::clock_t start) {
  return static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
}

int generate(const fs::path& out, int size) {
  tessera::synth::TimelapseOptions options;
  options.positions = 1;
  options.frames = 4;
  options.size = size;
  options.nuclei = size / 16;  // a dense field: ~64 nuclei at 1024
  options.seed = 11;
  const auto frames = tessera::synth::generate_position(options, 1);
  fs::create_directories(out);
  cv::imwrite((out / "train.png").string(), frames.images[0]);
  cv::imwrite((out / "test.png").string(), frames.images[3]);
  cv::imwrite((out / "train_mask.png").string(), frames.labels[0] != 0);
  cv::imwrite((out / "test_mask.png").string(), frames.labels[3] != 0);
  return 0;
}

int run(const fs::path& dir, long long pixels, int trees, int depth) {
  const cv::Mat train = cv::imread((dir / "train.png").string(), cv::IMREAD_UNCHANGED);
  const cv::Mat test = cv::imread((dir / "test.png").string(), cv::IMREAD_UNCHANGED);
  const cv::Mat train_mask = cv::imread((dir / "train_mask.png").string(), cv::IMREAD_UNCHANGED);
  const cv::Mat test_mask = cv::imread((dir / "test_mask.png").string(), cv::IMREAD_UNCHANGED);
  if (train.empty() || test.empty() || train_mask.empty() || test_mask.empty()) {
    std::fprintf(stderr, "bench_learn: missing images in %s (run gen first)\n", dir.c_str());
    return 1;
  }
  // The labelled pixels: a seeded uniform sample of the training frame, class from its mask; written so the
  // anchor trains on exactly the same pixels.
  std::mt19937_64 rng(5);
  const long long total = static_cast<long long>(train.total());
  pixels = std::min(pixels, total);
  std::vector<long long> order(total);
  for (long long i = 0; i < total; ++i) order[i] = i;
  for (long long i = 0; i < pixels; ++i) std::swap(order[i], order[i + static_cast<long long>(rng() % (total - i))]);
  cv::Mat labels(train.size(), CV_8U, cv::Scalar(0));
  FILE* samples = std::fopen((dir / "samples.txt").c_str(), "w");
  for (long long k = 0; k < pixels; ++k) {
    const int y = static_cast<int>(order[k] / train.cols), x = static_cast<int>(order[k] % train.cols);
    const int label = train_mask.at<std::uint8_t>(y, x) ? 2 : 1;
    labels.at<std::uint8_t>(y, x) = static_cast<std::uint8_t>(label);
    std::fprintf(samples, "%d %d %d\n", y, x, label);
  }
  std::fclose(samples);

  PixelTrainingOptions options;
  options.forest.trees = trees;
  options.forest.max_depth = depth;
  options.sample_cap = pixels;
  const auto train_start = std::chrono::steady_clock::now();
  const PixelClassifier model = PixelClassifier::train({{train, labels}}, {"background", "nucleus"}, options);
  const double train_s = seconds_since(train_start);
  const auto predict_start = std::chrono::steady_clock::now();
  const std::clock_t predict_cpu_start = std::clock();
  const PixelFeatures features = compute_pixel_features(test, options.features);
  const double features_s = seconds_since(predict_start);
  const double features_cpu_s = cpu_seconds_since(predict_cpu_start);
  const PixelPrediction prediction = model.predict(features);
  const double predict_s = seconds_since(predict_start);
  const double predict_cpu_s = cpu_seconds_since(predict_cpu_start);
  const cv::Mat predicted = prediction.classes == 2;
  const double intersection = cv::countNonZero(predicted & test_mask);
  const double dice = 2 * intersection / (cv::countNonZero(predicted) + cv::countNonZero(test_mask));
  fmt::print(
      "train_s={:.3f} predict_s={:.3f} dice={:.4f} features={} test_features_s={:.3f} test_features_cpu_s={:.3f} "
      "predict_cpu_s={:.3f} forest_kernel={}\n",
      train_s, predict_s, dice, pixel_feature_names(options.features).size(), features_s, features_cpu_s,
      predict_cpu_s, forest_kernel_name(fastest_forest_kernel()));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "gen" && argc == 4) return generate(argv[2], std::stoi(argv[3]));
    if (mode == "run" && argc == 6) return run(argv[2], std::stoll(argv[3]), std::stoi(argv[4]), std::stoi(argv[5]));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_learn: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: tessera_bench_learn gen OUT SIZE | run OUT PIXELS TREES DEPTH\n");
  return 2;
}
