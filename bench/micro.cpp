// tessera_bench_micro: the import's per-image steps on one PNG, single-threaded, each next to an anchor
// measured in the same run, then a table of ratios (tessera time / anchor time; 1.00 = as fast as the anchor).
//
//   tessera_bench_micro IMAGE.png [google-benchmark flags]
//
//   step                 tessera                                   anchor
//   decode               image::decode (libvips)                   cv::imdecode (libpng through OpenCV)
//   decode+focus         image::decode_for_import                  cv::imdecode + Laplacian + meanStdDev
//   focus                image::focus_score on the decoded u8      cv::Laplacian(CV_32F) + cv::meanStdDev
//   sha256               sha256_hex                                OpenSSL SHA256() one-shot
//   blob put             BlobStore::put_hashed (fsync + rename)    plain open/write/close, no fsync
#include <fcntl.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tessera/blob/blob_store.hpp"
#include "tessera/core/file.hpp"
#include "tessera/core/sha256.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/image/focus.hpp"

namespace fs = std::filesystem;

namespace {

std::string g_png;      // the file's bytes
cv::Mat g_pixels;       // decoded once
fs::path g_scratch;     // temp folder for the blob benchmarks

cv::Mat imdecode(const std::string& bytes) {
  const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
  return cv::imdecode(raw, cv::IMREAD_UNCHANGED);
}

double anchor_focus(const cv::Mat& u8) {
  cv::Mat laplacian;
  cv::Laplacian(u8, laplacian, CV_32F, 1, 1.0 / 255.0, 0.0, cv::BORDER_REFLECT_101);
  cv::Scalar mean, stddev;
  cv::meanStdDev(laplacian, mean, stddev);
  return stddev[0] * stddev[0];
}

void decode_tessera(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(tessera::image::decode(g_png, "bench"));
}
void decode_anchor_imdecode(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(imdecode(g_png));
}
void decode_focus_tessera(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(tessera::image::decode_for_import(g_png, "bench"));
}
void decode_focus_anchor_opencv(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(anchor_focus(imdecode(g_png)));
}
void focus_tessera(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(tessera::image::focus_score(g_pixels));
}
void focus_anchor_opencv(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(anchor_focus(g_pixels));
}
void sha256_tessera(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(tessera::sha256_hex(g_png));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_png.size()));
}
void sha256_anchor_openssl(benchmark::State& state) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  for (auto _ : state) {
    SHA256(reinterpret_cast<const unsigned char*>(g_png.data()), g_png.size(), digest);
    benchmark::DoNotOptimize(digest);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_png.size()));
}
void blob_put_tessera(benchmark::State& state) {
  const fs::path root = g_scratch / "store";
  fs::remove_all(root);
  tessera::blob::BlobStore store(root);
  std::uint64_t i = 0;
  for (auto _ : state) {
    // A new name each time (the store skips a hash it holds); the bytes need not match it here.
    store.put_hashed(g_png, tessera::sha256_hex(fmt::format("{}", i++)));
  }
  fs::remove_all(root);
}
void blob_put_anchor_write(benchmark::State& state) {
  const fs::path dir = g_scratch / "plain";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::uint64_t i = 0;
  for (auto _ : state) {
    const std::string path = (dir / fmt::format("{}", i++)).string();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || ::write(fd, g_png.data(), g_png.size()) != static_cast<ssize_t>(g_png.size())) {
      state.SkipWithError("write failed");
    }
    if (fd >= 0) ::close(fd);
  }
  fs::remove_all(dir);
}

// Remembers each run's real time per iteration, to print the ratio table after the console output.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter() : ConsoleReporter(OO_Tabular) {}  // no colour codes: the output goes to logs
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type == Run::RT_Iteration && !run.error_occurred) {
        std::string name = run.benchmark_name();
        if (name.ends_with("/real_time")) name.resize(name.size() - std::string("/real_time").size());
        times[name] = run.GetAdjustedRealTime();
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> times;  // microseconds (every benchmark uses kMicrosecond)
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]).starts_with("--")) {
    std::fprintf(stderr, "usage: tessera_bench_micro IMAGE.png [benchmark flags]\n");
    return 2;
  }
  try {
    g_png = tessera::read_file(argv[1]);
    g_pixels = tessera::image::decode(g_png, "bench").frames.front();
    g_scratch = fs::temp_directory_path() / fmt::format("tessera-bench-micro-{}", ::getpid());
    fs::create_directories(g_scratch);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tessera_bench_micro: %s\n", e.what());
    return 1;
  }
  // Short by default: this runs after the import benchmark, and as a smoke test in CI.
  std::vector<char*> args = {argv[0]};
  std::string min_time = "--benchmark_min_time=0.3";
  args.push_back(min_time.data());
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());

  struct Pair {
    const char* step;
    const char* tessera;
    const char* anchor;
    void (*run_tessera)(benchmark::State&);
    void (*run_anchor)(benchmark::State&);
  };
  const std::vector<Pair> pairs = {
      {"decode", "decode/tessera_vips", "decode/anchor_cv_imdecode", decode_tessera, decode_anchor_imdecode},
      {"decode+focus", "decode_focus/tessera_decode_for_import", "decode_focus/anchor_cv_imdecode_laplacian",
       decode_focus_tessera, decode_focus_anchor_opencv},
      {"focus", "focus/tessera_focus_score", "focus/anchor_cv_laplacian_meanstddev", focus_tessera, focus_anchor_opencv},
      {"sha256", "sha256/tessera_sha256_hex", "sha256/anchor_openssl_SHA256", sha256_tessera, sha256_anchor_openssl},
      {"blob put", "blob_put/tessera_put_hashed_fsync", "blob_put/anchor_write_no_fsync", blob_put_tessera,
       blob_put_anchor_write},
  };
  for (const Pair& p : pairs) {
    benchmark::RegisterBenchmark(p.tessera, p.run_tessera)->Unit(benchmark::kMicrosecond)->UseRealTime();
    benchmark::RegisterBenchmark(p.anchor, p.run_anchor)->Unit(benchmark::kMicrosecond)->UseRealTime();
  }
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  std::error_code ec;
  fs::remove_all(g_scratch, ec);

  std::cout.flush();
  std::cerr.flush();
  std::printf("\n%-14s %14s %14s %10s\n", "step", "tessera us", "anchor us", "ratio");
  for (const Pair& p : pairs) {
    auto t = reporter.times.find(p.tessera);
    auto a = reporter.times.find(p.anchor);
    if (t == reporter.times.end() || a == reporter.times.end()) continue;  // filtered out or failed
    std::printf("%-14s %14.1f %14.1f %9.2fx\n", p.step, t->second, a->second, t->second / a->second);
  }
  return 0;
}
