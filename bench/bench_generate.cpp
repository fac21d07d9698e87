// Point-prompted mask latency (scripts/bench_generate.sh): one click per object on a generated 1024x1024 grey
// image of cell-like ellipses (radii 8-60 px) with noise, through the default segmenter, against the anchor:
// OpenCV's cv::grabCut on the full image with the same seed (sure foreground under the click, probable
// foreground in a disk of the object's true radius, probable background elsewhere; 3 iterations as ours).
//   tessera_bench_generate [--size N] [--clicks K] [--anchor-clicks K]

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "tessera/segment/segmenter.hpp"

namespace {

struct Object {
  cv::Point centre;
  int radius;
};

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * (v.size() - 1))];
}

// CPU time of this thread: on a machine shared with other builds, wall time measures the queue, this the work.
double cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  int size = 1024, clicks = 40, anchor_clicks = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--size")) size = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--clicks")) clicks = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--anchor-clicks")) anchor_clicks = std::atoi(argv[i + 1]);
  }
  cv::RNG rng(11);
  cv::Mat image(size, size, CV_32F, cv::Scalar(60));
  std::vector<Object> objects;
  for (int i = 0; i < clicks; ++i) {
    const int r = rng.uniform(8, 60);
    const Object o{{rng.uniform(r, size - r), rng.uniform(r, size - r)}, r};
    cv::ellipse(image, o.centre, {r, r * 3 / 4}, rng.uniform(0, 180), 0, 360, rng.uniform(140, 220), cv::FILLED);
    objects.push_back(o);
  }
  cv::Mat noise(image.size(), CV_32F);
  rng.fill(noise, cv::RNG::NORMAL, 0, 15);
  image += noise;
  cv::Mat image8;
  image.convertTo(image8, CV_8U);

  const auto segmenter = tessera::segment::make_segmenter();
  std::vector<double> ours, ours_cpu, anchor_cpu;
  for (const Object& o : objects) {
    tessera::segment::Prompts prompts;
    prompts.points = {{static_cast<double>(o.centre.x), static_cast<double>(o.centre.y), true}};
    const double t0 = now_ms(), c0 = cpu_ms();
    const auto result = segmenter->segment(image8, prompts);
    ours.push_back(now_ms() - t0);
    ours_cpu.push_back(cpu_ms() - c0);
    if (cv::countNonZero(result.mask) == 0) fmt::print(stderr, "empty mask at ({}, {})\n", o.centre.x, o.centre.y);
  }
  std::vector<double> anchor;
  cv::Mat bgr;
  cv::cvtColor(image8, bgr, cv::COLOR_GRAY2BGR);
  for (int i = 0; i < std::min<int>(anchor_clicks, static_cast<int>(objects.size())); ++i) {
    const Object& o = objects[i];
    const double t0 = now_ms(), c0 = cpu_ms();
    cv::Mat labels(image8.size(), CV_8U, cv::Scalar(cv::GC_PR_BGD));
    cv::circle(labels, o.centre, o.radius, cv::GC_PR_FGD, cv::FILLED);
    cv::circle(labels, o.centre, std::max(1, o.radius / 5), cv::GC_FGD, cv::FILLED);
    cv::Mat bg, fg;
    cv::grabCut(bgr, labels, cv::Rect(), bg, fg, 3, cv::GC_INIT_WITH_MASK);
    anchor.push_back(now_ms() - t0);
    anchor_cpu.push_back(cpu_ms() - c0);
  }
  const double median = percentile(ours, 0.5), p95 = percentile(ours, 0.95), anchor_median = percentile(anchor, 0.5);
  fmt::print(
      "size={} clicks={} median_ms={:.1f} p95_ms={:.1f} cpu_median_ms={:.1f} cpu_p95_ms={:.1f} anchor_clicks={} "
      "anchor_median_ms={:.1f} anchor_cpu_median_ms={:.1f} ratio={:.3f} cpu_ratio={:.3f}\n",
      size, ours.size(), median, p95, percentile(ours_cpu, 0.5), percentile(ours_cpu, 0.95), anchor.size(),
      anchor_median, percentile(anchor_cpu, 0.5), median / anchor_median,
      percentile(ours_cpu, 0.5) / percentile(anchor_cpu, 0.5));
  return 0;
}
