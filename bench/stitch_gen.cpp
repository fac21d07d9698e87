// tessera_bench_stitch_gen: writes the stitching benchmark's input, a grid of overlapping 8-bit
// grey tiles cut from one endless synthetic texture (structure at every scale from 2 to 256 px,
// like tissue at low magnification), each at its nominal grid place plus a random jitter, with
// independent camera noise.
//
//   tessera_bench_stitch_gen OUT COLS ROWS TILE [--overlap F] [--jitter PX] [--noise SD] [--seed N]
//   [--jobs J]
//
// Writes OUT/tile_r<R>_c<C>.tif (uncompressed TIFF) and OUT/truth.csv (file,row,col,x,y: each
// tile's true top-left in the frame where tile r0_c0's nominal place is 0,0). Nominal places are
// col * round(TILE * (1 - F)) as tessera's place_on_grid computes them. The texture is a function
// of global pixel coordinates, made tile by tile, so no whole mosaic is ever held; output is
// deterministic for the same arguments.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Args {
  fs::path out;
  int cols = 0, rows = 0, tile = 0;
  double overlap = 0.1;
  int jitter = 8;
  double noise = 3.0;
  std::uint64_t seed = 20240611;
  int jobs = 0;
};

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr,
               "tessera_bench_stitch_gen: %s\nusage: tessera_bench_stitch_gen OUT COLS ROWS TILE "
               "[--overlap F] "
               "[--jitter PX] [--noise SD] [--seed N] [--jobs J]\n",
               problem.c_str());
  std::exit(2);
}

Args parse(int argc, char** argv) {
  if (argc < 5) usage("missing arguments");
  Args a;
  a.out = argv[1];
  a.cols = std::atoi(argv[2]);
  a.rows = std::atoi(argv[3]);
  a.tile = std::atoi(argv[4]);
  for (int i = 5; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage(flag + " needs a value");
    const char* v = argv[i + 1];
    if (flag == "--overlap")
      a.overlap = std::atof(v);
    else if (flag == "--jitter")
      a.jitter = std::atoi(v);
    else if (flag == "--noise")
      a.noise = std::atof(v);
    else if (flag == "--seed")
      a.seed = std::strtoull(v, nullptr, 10);
    else if (flag == "--jobs")
      a.jobs = std::atoi(v);
    else
      usage("unknown option " + flag);
  }
  if (a.cols < 1 || a.rows < 1 || a.tile < 64) usage("COLS and ROWS must be >= 1 and TILE >= 64");
  if (!(a.overlap >= 0 && a.overlap < 0.5)) usage("--overlap must be in [0, 0.5)");
  if (a.jobs <= 0) a.jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return a;
}

// splitmix64: a well-mixed value per lattice point, so the texture needs no stored state.
double lattice_value(std::int64_t i, std::int64_t j, int octave, std::uint64_t seed) {
  std::uint64_t z = seed ^ (static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ULL) ^
                    (static_cast<std::uint64_t>(j) * 0xC2B2AE3D27D4EB4FULL) ^
                    (static_cast<std::uint64_t>(octave) << 56);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

// The texture over [origin, origin + size): per octave, the lattice around the area is upsampled by
// cubic interpolation. cv::resize maps pixel u of the upsampled lattice to lattice coordinate (u +
// 0.5) / cell - 0.5, the same for every tile once the lattice starts on a multiple of the cell, and
// two lattice points of margin keep the cubic kernel off the edges: neighbouring tiles see
// identical pixels where they overlap.
cv::Mat texture(cv::Point origin, cv::Size size, std::uint64_t seed) {
  cv::Mat sum = cv::Mat::zeros(size, CV_32F);
  double amplitude = 1.0;
  int octave = 0;
  for (int cell = 256; cell >= 2; cell /= 2, ++octave, amplitude *= 0.9) {
    const std::int64_t i0 = static_cast<std::int64_t>(std::floor(double(origin.x) / cell)) - 2;
    const std::int64_t j0 = static_cast<std::int64_t>(std::floor(double(origin.y) / cell)) - 2;
    const int ni = (origin.x + size.width) / cell - static_cast<int>(i0) + 3;
    const int nj = (origin.y + size.height) / cell - static_cast<int>(j0) + 3;
    cv::Mat lattice(nj, ni, CV_32F);
    for (int j = 0; j < nj; ++j) {
      for (int i = 0; i < ni; ++i)
        lattice.at<float>(j, i) = static_cast<float>(lattice_value(i0 + i, j0 + j, octave, seed));
    }
    cv::Mat fine;
    cv::resize(lattice, fine, cv::Size(ni * cell, nj * cell), 0, 0, cv::INTER_CUBIC);
    const cv::Rect crop(origin.x - static_cast<int>(i0) * cell,
                        origin.y - static_cast<int>(j0) * cell, size.width, size.height);
    cv::scaleAdd(fine(crop), amplitude, sum, sum);
  }
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  fs::create_directories(a.out);
  const int step_x = static_cast<int>(std::lround(a.tile * (1.0 - a.overlap)));
  const int step_y = step_x;
  const int n = a.cols * a.rows;
  std::vector<cv::Point> truth(static_cast<size_t>(n));
  std::mt19937_64 gen(a.seed);
  std::uniform_int_distribution<int> jit(-a.jitter, a.jitter);
  for (int k = 0; k < n; ++k) {
    truth[static_cast<size_t>(k)] = {(k % a.cols) * step_x + jit(gen),
                                     (k / a.cols) * step_y + jit(gen)};
  }
  std::atomic<int> next{0};
  auto worker = [&] {
    for (int k = next++; k < n; k = next++) {
      const cv::Point at = truth[static_cast<size_t>(k)];
      // The texture is centred on 128 with a standard deviation of about 26 grey levels.
      cv::Mat grey = texture(at, {a.tile, a.tile}, a.seed) * 25.0 + 128.0;
      cv::Mat noise(grey.size(), CV_32F);
      cv::RNG(a.seed + static_cast<std::uint64_t>(k) + 1)
          .fill(noise, cv::RNG::NORMAL, 0.0, a.noise);
      grey += noise;
      cv::Mat pixels;
      grey.convertTo(pixels, CV_8U);
      const fs::path path = a.out / fmt::format("tile_r{}_c{}.tif", k / a.cols, k % a.cols);
      const fs::path tmp = path.string() + ".tmp.tif";
      if (!cv::imwrite(tmp.string(), pixels, {cv::IMWRITE_TIFF_COMPRESSION, 1})) {
        std::fprintf(stderr, "tessera_bench_stitch_gen: cannot write %s\n", tmp.c_str());
        std::exit(1);
      }
      fs::rename(tmp, path);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < a.jobs; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  std::ofstream csv(a.out / "truth.csv");
  csv << "file,row,col,x,y\n";
  for (int k = 0; k < n; ++k) {
    csv << fmt::format("tile_r{}_c{}.tif,{},{},{},{}\n", k / a.cols, k % a.cols, k / a.cols,
                       k % a.cols, truth[static_cast<size_t>(k)].x,
                       truth[static_cast<size_t>(k)].y);
  }
  return csv.good() ? 0 : 1;
}
