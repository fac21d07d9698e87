// Point-prompted mask latency (scripts/bench_generate.sh), one click per object through the default segmenter,
// on two generated SIZE x SIZE images, one per path the segmenter takes:
//  - grey: cell-like ellipses (radii 8-60 px) with noise: clean blobs, the blob watershed path;
//  - colour: textured ellipses (radii 30-90 px) of a shifted colour on a textured colour ground: colour images
//    always take GrabCut over assumed scales (the path of EM nuclei and polyps, far slower).
// Each against its anchor in the same run: OpenCV's cv::grabCut on the full image with the same seed (sure
// foreground under the click, probable foreground in a disk of the object's true radius, probable background
// elsewhere; 3 iterations as ours). One output line per path; `methods` counts the paths the clicks really took.
// Then an annotation session on the colour image: a client sends the whole point list with every click ('+',
// then '+ -', then '+ - -', each '-' on the mask's far rim, so each is an edit and a scale search); the third
// request's latency as the server answers it (the memo holds the first two requests' searches) against its
// anchor, the same request with an empty memo (what every request cost before the memo).
//   tessera_bench_generate [--size N] [--clicks K] [--anchor-clicks K] [--grabcut-clicks K] [--sessions K]

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "segment/scale_search_memo.hpp"
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

// CPU time of the process: on a machine shared with other builds, wall time measures the queue, this the work
// (the process's, not the thread's: the GrabCut path cuts its scales on worker threads).
double cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Grey ellipses with noise: every click is a clean blob.
cv::Mat grey_cells(int size, int count, cv::RNG& rng, std::vector<Object>& objects) {
  cv::Mat image(size, size, CV_32F, cv::Scalar(60));
  for (int i = 0; i < count; ++i) {
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
  return image8;
}

// Texture: noise smoothed at a few pixels, so neighbouring pixels differ as on tissue rather than as sensor noise.
cv::Mat texture(cv::Size size, cv::RNG& rng, double sigma, double amplitude) {
  cv::Mat noise(size, CV_32FC3);
  rng.fill(noise, cv::RNG::NORMAL, 0, amplitude);
  cv::GaussianBlur(noise, noise, cv::Size(), sigma);
  return noise;
}

// Textured reddish objects on a textured pink ground that shades across the image (as mucosa under an
// endoscope's light): a colour image, so every click takes GrabCut over assumed scales.
cv::Mat colour_tissue(int size, int count, cv::RNG& rng, std::vector<Object>& objects) {
  cv::Mat image(size, size, CV_32FC3);
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      const float shade = 0.75f + 0.25f * static_cast<float>(x + y) / (2.0f * size);
      image.at<cv::Vec3f>(y, x) = cv::Vec3f(110, 120, 190) * shade;  // BGR
    }
  image += texture(image.size(), rng, 3.0, 40.0);
  cv::Mat objects_layer = cv::Mat::zeros(image.size(), CV_8U);
  for (int i = 0; i < count; ++i) {
    const int r = rng.uniform(30, 90);
    const Object o{{rng.uniform(r, size - r), rng.uniform(r, size - r)}, r};
    cv::ellipse(objects_layer, o.centre, {r, r * 4 / 5}, rng.uniform(0, 180), 0, 360, 255, cv::FILLED);
    objects.push_back(o);
  }
  cv::Mat shifted = image * 0.85 + cv::Scalar(-10, -20, 25) + texture(image.size(), rng, 1.5, 30.0);
  shifted.copyTo(image, objects_layer);
  cv::Mat image8;
  image.convertTo(image8, CV_8UC3);
  return image8;
}

struct Timings {
  std::vector<double> wall, cpu, anchor_wall, anchor_cpu;
  std::map<std::string, int> methods;
};

Timings measure(const cv::Mat& image8, const std::vector<Object>& objects, int anchor_clicks) {
  const auto segmenter = tessera::segment::make_segmenter();
  Timings t;
  for (const Object& o : objects) {
    tessera::segment::Prompts prompts;
    prompts.points = {{static_cast<double>(o.centre.x), static_cast<double>(o.centre.y), true}};
    const double t0 = now_ms(), c0 = cpu_ms();
    const auto result = segmenter->segment(image8, prompts);
    t.wall.push_back(now_ms() - t0);
    t.cpu.push_back(cpu_ms() - c0);
    ++t.methods[result.method];
    if (cv::countNonZero(result.mask) == 0) fmt::print(stderr, "empty mask at ({}, {})\n", o.centre.x, o.centre.y);
  }
  cv::Mat bgr = image8;
  if (image8.channels() == 1) cv::cvtColor(image8, bgr, cv::COLOR_GRAY2BGR);
  for (int i = 0; i < std::min<int>(anchor_clicks, static_cast<int>(objects.size())); ++i) {
    const Object& o = objects[i];
    const double t0 = now_ms(), c0 = cpu_ms();
    cv::Mat labels(image8.size(), CV_8U, cv::Scalar(cv::GC_PR_BGD));
    cv::circle(labels, o.centre, o.radius, cv::GC_PR_FGD, cv::FILLED);
    cv::circle(labels, o.centre, std::max(1, o.radius / 5), cv::GC_FGD, cv::FILLED);
    cv::Mat bg, fg;
    cv::grabCut(bgr, labels, cv::Rect(), bg, fg, 3, cv::GC_INIT_WITH_MASK);
    t.anchor_wall.push_back(now_ms() - t0);
    t.anchor_cpu.push_back(cpu_ms() - c0);
  }
  return t;
}

void report(const std::string& image, int size, const Timings& t) {
  std::string methods;
  for (const auto& [name, n] : t.methods) methods += (methods.empty() ? "" : ",") + name + ":" + std::to_string(n);
  const double median = percentile(t.wall, 0.5), anchor_median = percentile(t.anchor_wall, 0.5);
  const double cpu_median = percentile(t.cpu, 0.5), anchor_cpu_median = percentile(t.anchor_cpu, 0.5);
  fmt::print(
      "image={} methods={} size={} clicks={} median_ms={:.1f} p95_ms={:.1f} cpu_median_ms={:.1f} cpu_p95_ms={:.1f} "
      "anchor_clicks={} anchor_median_ms={:.1f} anchor_cpu_median_ms={:.1f} ratio={:.3f} cpu_ratio={:.3f}\n",
      image, methods, size, t.wall.size(), median, percentile(t.wall, 0.95), cpu_median, percentile(t.cpu, 0.95),
      t.anchor_wall.size(), anchor_median, anchor_cpu_median, median / anchor_median, cpu_median / anchor_cpu_median);
}

// The mask pixel farthest from all of `from`: a '-' there is inside the mask, on its rim.
cv::Point farthest_mask_pixel(const cv::Mat& mask, const std::vector<cv::Point>& from) {
  std::vector<cv::Point> pixels;
  cv::findNonZero(mask, pixels);
  cv::Point best = from.front();
  double best_distance = -1;
  for (const auto& p : pixels) {
    double nearest = 1e18;
    for (const auto& f : from) nearest = std::min(nearest, cv::norm(p - f));
    if (nearest > best_distance) best = p, best_distance = nearest;
  }
  return best;
}

void report_corrections(const cv::Mat& image8, const std::vector<Object>& objects, int sessions) {
  const auto segmenter = tessera::segment::make_segmenter();
  auto& memo = tessera::segment::scale_search_memo();
  std::vector<double> warm, cold;
  for (int i = 0; i < std::min<int>(sessions, static_cast<int>(objects.size())); ++i) {
    tessera::segment::Prompts prompts;
    std::vector<cv::Point> clicked{objects[i].centre};
    prompts.points = {{static_cast<double>(clicked[0].x), static_cast<double>(clicked[0].y), true}};
    cv::Mat mask = segmenter->segment(image8, prompts).mask;
    for (int minus = 0; minus < 2 && cv::countNonZero(mask) > 0; ++minus) {
      clicked.push_back(farthest_mask_pixel(mask, clicked));
      prompts.points.push_back({static_cast<double>(clicked.back().x), static_cast<double>(clicked.back().y), false});
      const double t0 = now_ms();
      mask = segmenter->segment(image8, prompts).mask;
      if (minus == 1) warm.push_back(now_ms() - t0);
    }
    if (prompts.points.size() < 3) continue;
    memo.clear();
    const double t0 = now_ms();
    segmenter->segment(image8, prompts);
    cold.push_back(now_ms() - t0);
    memo.clear();
  }
  if (warm.empty() || cold.empty()) return;
  const double warm_median = percentile(warm, 0.5), cold_median = percentile(cold, 0.5);
  fmt::print("corrections sessions={} requests=3 warm_median_ms={:.1f} cold_median_ms={:.1f} ratio={:.3f}\n",
             warm.size(), warm_median, cold_median, warm_median / cold_median);
}

}  // namespace

int main(int argc, char** argv) {
  int size = 1024, clicks = 40, anchor_clicks = 5, grabcut_clicks = 8, sessions = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--size")) size = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--clicks")) clicks = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--anchor-clicks")) anchor_clicks = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--grabcut-clicks")) grabcut_clicks = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--sessions")) sessions = std::atoi(argv[i + 1]);
  }
  cv::RNG rng(11);
  std::vector<Object> cells, tissue;
  const cv::Mat grey = grey_cells(size, clicks, rng, cells);
  report("grey_cells", size, measure(grey, cells, anchor_clicks));
  const cv::Mat colour = colour_tissue(size, grabcut_clicks, rng, tissue);
  report("colour_tissue", size, measure(colour, tissue, anchor_clicks));
  report_corrections(colour, tissue, sessions);
  return 0;
}
