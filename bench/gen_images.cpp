// tessera_bench_gen: writes the import benchmark's input, N distinct 8-bit one-channel PNGs of a
// microscopy-like time-lapse (synthetic nuclei from tessera::synth, converted from 16-bit camera counts).
//
//   tessera_bench_gen OUT N [--size S] [--frames F] [--jobs J] [--seed SEED]
//
// Layout: OUT/p<PPPP>/t<TTTT>.png, F frames per position (default 50), positions = ceil(N / F).
// Output is deterministic for the same arguments. Each position is mapped to 8 bits with its own display
// range, taken from its first frame (0.1% .. 99.9% percentiles, with a mild gamma so the camera noise of
// the background stays visible as in an auto-contrasted 8-bit export); the mapping then stays fixed, so
// bleaching dims later frames. Files are written to a temp name and renamed, without fsync: this is a
// cache under the build folder, and the benchmark script only trusts it once its stamp file exists.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <opencv2/core.hpp>

#include "tessera/image/encode.hpp"
#include "tessera/synth/timelapse.hpp"

namespace fs = std::filesystem;

namespace {

struct Args {
  fs::path out;
  long long count = 0;
  int size = 512;
  int frames = 50;
  int jobs = 0;
  std::uint64_t seed = 20240607;
};

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr, "tessera_bench_gen: %s\nusage: tessera_bench_gen OUT N [--size S] [--frames F] [--jobs J] [--seed SEED]\n",
               problem.c_str());
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(arg + " needs a value");
      return argv[++i];
    };
    try {
      if (arg == "--size") a.size = std::stoi(value());
      else if (arg == "--frames") a.frames = std::stoi(value());
      else if (arg == "--jobs") a.jobs = std::stoi(value());
      else if (arg == "--seed") a.seed = std::stoull(value());
      else if (arg.starts_with("--")) usage("unknown option " + arg);
      else positional.push_back(arg);
    } catch (const std::logic_error&) {
      usage("bad number for " + arg);
    }
  }
  if (positional.size() != 2) usage("expected OUT and N");
  a.out = positional[0];
  try {
    a.count = std::stoll(positional[1]);
  } catch (const std::logic_error&) {
    usage("N must be a number");
  }
  if (a.count < 1) usage("N must be >= 1");
  if (a.frames < 1) usage("--frames must be >= 1");
  if (a.jobs <= 0) a.jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return a;
}

// Value below which `fraction` of the pixels of a CV_16UC1 image lie.
double percentile16(const cv::Mat& image, double fraction) {
  std::vector<long long> histogram(65536, 0);
  for (int y = 0; y < image.rows; ++y) {
    const auto* row = image.ptr<std::uint16_t>(y);
    for (int x = 0; x < image.cols; ++x) ++histogram[row[x]];
  }
  const long long target = static_cast<long long>(fraction * static_cast<double>(image.total()));
  long long seen = 0;
  for (int v = 0; v < 65536; ++v) {
    seen += histogram[static_cast<size_t>(v)];
    if (seen > target) return v;
  }
  return 65535;
}

// 16-bit camera counts -> 8-bit display values through a lookup table (linear stretch, then gamma).
std::vector<std::uint8_t> make_lut(double lo, double hi, double gamma) {
  std::vector<std::uint8_t> lut(65536);
  const double span = std::max(1.0, hi - lo);
  for (int v = 0; v < 65536; ++v) {
    const double unit = std::clamp((v - lo) / span, 0.0, 1.0);
    lut[static_cast<size_t>(v)] = static_cast<std::uint8_t>(std::lround(255.0 * std::pow(unit, gamma)));
  }
  return lut;
}

cv::Mat to_8bit(const cv::Mat& image, const std::vector<std::uint8_t>& lut) {
  cv::Mat out(image.size(), CV_8UC1);
  for (int y = 0; y < image.rows; ++y) {
    const auto* in = image.ptr<std::uint16_t>(y);
    auto* o = out.ptr<std::uint8_t>(y);
    for (int x = 0; x < image.cols; ++x) o[x] = lut[in[x]];
  }
  return out;
}

void write_plain(const fs::path& path, const std::string& bytes) {
  const fs::path temp = path.string() + ".part";
  {
    std::ofstream f(temp, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) throw std::runtime_error("cannot write " + temp.string());
  }
  fs::rename(temp, path);
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  const int positions = static_cast<int>((args.count + args.frames - 1) / args.frames);

  tessera::synth::TimelapseOptions options;
  options.positions = positions;
  options.size = args.size;
  options.seed = args.seed;
  options.nuclei = 30;
  options.experiment = "bench";

  try {
    tessera::synth::validate(options);
    fs::create_directories(args.out);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tessera_bench_gen: %s\n", e.what());
    return 1;
  }

  std::atomic<int> next{1};
  std::atomic<long long> written{0};
  std::atomic<long long> bytes{0};
  std::mutex mutex;
  std::exception_ptr failure;

  auto worker = [&] {
    for (;;) {
      const int p = next.fetch_add(1);
      if (p > positions || failure) return;
      try {
        const long long first = static_cast<long long>(p - 1) * args.frames;
        const int frames = static_cast<int>(std::min<long long>(args.frames, args.count - first));
        tessera::synth::TimelapseOptions o = options;
        o.frames = frames;
        const tessera::synth::TimelapseFrames movie = tessera::synth::generate_position(o, p);
        const cv::Mat& reference = movie.images.front();
        const auto lut = make_lut(percentile16(reference, 0.001), percentile16(reference, 0.999), 0.6);
        const fs::path dir = args.out / fmt::format("p{:04d}", p);
        fs::create_directories(dir);
        for (int t = 0; t < frames; ++t) {
          const std::string png = tessera::image::encode(to_8bit(movie.images[static_cast<size_t>(t)], lut), ".png");
          write_plain(dir / fmt::format("t{:04d}.png", t), png);
          bytes += static_cast<long long>(png.size());
          const long long done = ++written;
          if (done % 1000 == 0) std::fprintf(stderr, "tessera_bench_gen: %lld / %lld\n", done, args.count);
        }
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!failure) failure = std::current_exception();
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int j = 0; j < std::min(args.jobs, positions); ++j) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tessera_bench_gen: %s\n", e.what());
    }
    return 1;
  }
  std::printf("wrote %lld images (%.1f MB, %.0f KB each on average) to %s\n", written.load(),
              static_cast<double>(bytes.load()) / 1e6, static_cast<double>(bytes.load()) / 1e3 / static_cast<double>(written.load()),
              args.out.string().c_str());
  return 0;
}
