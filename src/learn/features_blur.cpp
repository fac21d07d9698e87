// Blurs of one feature phase scheduled as one parallel loop. The work of a blur grows with its kernel, and
// the kernels of one phase differ up to ten times (sigma 0.7 to 10), so whole-blur tasks would leave a thread
// idle behind the largest one; the largest blurs are cut into row bands instead. A band costs its kernel's
// radius in extra rows of the horizontal pass above and below, so bands are kept tall.

#include "features_blur.hpp"

#include <algorithm>
#include <cmath>

#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

namespace tessera::learn::features {
namespace {

struct BlurBand {
  const BlurJob* job;
  int first_row;
  int end_row;
  double cost;
};

}  // namespace

int gaussian_radius(double sigma) { return std::max(1, static_cast<int>(std::lround(kTruncate * sigma))); }

void run_gaussian_blurs(const std::vector<BlurJob>& jobs) {
  auto cost_of = [](const BlurJob& job) {
    return static_cast<double>(job.input->total()) * (2 * gaussian_radius(job.sigma) + 1);
  };
  double total = 0;
  for (const BlurJob& job : jobs) total += cost_of(job);
  // Aim at pieces of at most a quarter of one thread's share.
  const double piece = total / (4.0 * std::max(1, cv::getNumThreads()));
  std::vector<BlurBand> bands;
  for (const BlurJob& job : jobs) {
    const int rows = job.input->rows;
    const int min_rows = std::max(64, 4 * gaussian_radius(job.sigma));
    const int wanted = static_cast<int>(std::ceil(cost_of(job) / piece));
    const int count = std::clamp(std::min(wanted, rows / min_rows), 1, rows);
    for (int b = 0; b < count; ++b) {
      const int first = rows * b / count, end = rows * (b + 1) / count;
      bands.push_back({&job, first, end, cost_of(job) / count});
    }
  }
  // Largest first, so the small pieces fill in at the end.
  std::sort(bands.begin(), bands.end(), [](const BlurBand& a, const BlurBand& b) { return a.cost > b.cost; });
  cv::parallel_for_(cv::Range(0, static_cast<int>(bands.size())), [&](const cv::Range& range) {
    for (int i = range.start; i < range.end; ++i) {
      const BlurBand& band = bands[i];
      const int radius = gaussian_radius(band.job->sigma);
      // A row range of the whole image: OpenCV reads the rows beyond it as the border, so bands join seamlessly.
      const cv::Mat input = band.job->input->rowRange(band.first_row, band.end_row);
      cv::Mat output = band.job->output->rowRange(band.first_row, band.end_row);
      cv::GaussianBlur(input, output, cv::Size(2 * radius + 1, 2 * radius + 1), band.job->sigma, band.job->sigma,
                       kBorder);
    }
  });
}

}  // namespace tessera::learn::features
