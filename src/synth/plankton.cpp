#include "tessera/synth/plankton.hpp"

#include <cmath>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/image/encode.hpp"

namespace tessera::synth {
namespace {

void check(bool ok, const char* option, const std::string& range) {
  if (!ok) throw Error(ErrorCode::invalid_argument, fmt::format("plankton: {} must be {}", option, range));
}

// One organism drawn into a darkness map (0 = nothing, 1 = opaque): an elliptic body, appendages, and
// with `hollow` a lighter interior (a hole once thresholded) with a small dark particle in it.
void draw_organism(cv::Mat& dark, std::mt19937_64& rng, cv::Point2d centre, double length, double width, bool hollow) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double angle = u(rng) * 180.0;
  const double opacity = 0.65 + 0.3 * u(rng);
  const cv::Point c(static_cast<int>(std::lround(centre.x)), static_cast<int>(std::lround(centre.y)));
  const cv::Size axes(static_cast<int>(length), static_cast<int>(width));
  cv::ellipse(dark, c, axes, angle, 0, 360, cv::Scalar(opacity), cv::FILLED, cv::LINE_8);
  // Appendages: two to six thin strokes from the body's front half.
  const int legs = 2 + static_cast<int>(u(rng) * 5);
  const double rad = angle * CV_PI / 180.0;
  for (int k = 0; k < legs; ++k) {
    const double along = (u(rng) - 0.2) * length;
    const cv::Point2d base = centre + cv::Point2d(std::cos(rad) * along, std::sin(rad) * along);
    const double side = (k % 2 ? 1.0 : -1.0);
    const double a = rad + side * (0.9 + 0.6 * u(rng));
    const double reach = width + 4 + u(rng) * length * 0.6;
    const cv::Point tip(static_cast<int>(base.x + std::cos(a) * reach), static_cast<int>(base.y + std::sin(a) * reach));
    cv::line(dark, cv::Point(static_cast<int>(base.x), static_cast<int>(base.y)), tip, cv::Scalar(opacity * 0.9), 2, cv::LINE_8);
  }
  if (hollow) {
    // A translucent interior well inside the body, and a particle in its middle.
    const cv::Size inner(std::max(4, static_cast<int>(length - 4)), std::max(4, static_cast<int>(width - 4)));
    cv::ellipse(dark, c, inner, angle, 0, 360, cv::Scalar(0.0), cv::FILLED, cv::LINE_8);
    const int r = std::max(4, std::min(inner.width, inner.height) / 3);  // >= 50 px: survives small-object removal
    cv::circle(dark, c, r, cv::Scalar(opacity), cv::FILLED, cv::LINE_8);
  }
}

}  // namespace

void validate(const PlanktonOptions& o) {
  check(o.images >= 1 && o.images <= 10000000, "images", "in [1, 10000000]");
  check(o.width >= 128 && o.width <= 16384, "width", "in [128, 16384]");
  check(o.height >= 128 && o.height <= 16384, "height", "in [128, 16384]");
  check(o.min_objects >= 0 && o.min_objects <= 1000, "min_objects", "in [0, 1000]");
  check(o.max_objects >= o.min_objects && o.max_objects <= 1000, "max_objects", "in [min_objects, 1000]");
  check(o.stations >= 1 && o.stations <= 1000, "stations", "in [1, 1000]");
  check(o.nested_fraction >= 0 && o.nested_fraction <= 1, "nested_fraction", "in [0, 1]");
}

PlanktonImage render_plankton(const PlanktonOptions& o, int index) {
  validate(o);
  std::mt19937_64 rng(o.seed * 1000003ULL + static_cast<std::uint64_t>(index));
  std::uniform_real_distribution<double> u(0.0, 1.0);
  PlanktonImage out;
  cv::Mat dark(o.height, o.width, CV_32F, cv::Scalar(0));
  const int wanted = o.min_objects + static_cast<int>(u(rng) * (o.max_objects - o.min_objects + 1));
  const double scale = std::min(o.width, o.height) / 768.0;
  std::vector<cv::Rect> taken;  // boxes grown by a margin, kept apart so organisms stay separate objects
  for (int attempt = 0; attempt < wanted * 30 && static_cast<int>(out.organisms.size()) < wanted; ++attempt) {
    const double length = (10 + u(rng) * 40) * scale;
    const double width = std::max(4.0, length * (0.25 + 0.35 * u(rng)));
    const double reach = length * 1.7 + 12;
    const cv::Point2d centre(reach + u(rng) * (o.width - 2 * reach), reach + u(rng) * (o.height - 2 * reach));
    if (centre.x < reach || centre.y < reach) continue;
    const cv::Rect box(static_cast<int>(centre.x - reach), static_cast<int>(centre.y - reach), static_cast<int>(2 * reach),
                       static_cast<int>(2 * reach));
    const cv::Rect margin(box.x - 12, box.y - 12, box.width + 24, box.height + 24);
    if (std::any_of(taken.begin(), taken.end(), [&](const cv::Rect& t) { return (t & margin).area() > 0; })) continue;
    const bool hollow = width >= 13 && u(rng) < o.nested_fraction;
    // Drawn into a window around it (appendages reach at most ~2 lengths + width from the centre), not
    // into a full-size layer: twenty full-image passes per image made generation the bench's bottleneck.
    const int half = static_cast<int>(2.2 * length + width + 16);
    const cv::Rect window = cv::Rect(static_cast<int>(centre.x) - half, static_cast<int>(centre.y) - half, 2 * half, 2 * half) &
                            cv::Rect(0, 0, o.width, o.height);
    cv::Mat one(window.size(), CV_32F, cv::Scalar(0));
    draw_organism(one, rng, centre - cv::Point2d(window.tl()), length, width, hollow);
    cv::Mat target = dark(window);
    cv::max(target, one, target);
    taken.push_back(margin);
    cv::Mat nz;
    cv::findNonZero(one > 0.2f, nz);
    out.organisms.push_back(cv::boundingRect(nz) + window.tl());
    out.nested += hollow ? 1 : 0;
  }
  cv::GaussianBlur(dark, dark, cv::Size(0, 0), 0.8);
  // Background: bright, slightly blue-green, with vignetting towards the corners.
  cv::Mat rgb(o.height, o.width, CV_32FC3);
  const double cx = o.width / 2.0, cy = o.height / 2.0, r2max = cx * cx + cy * cy;
  // Sensor noise from OpenCV's generator seeded by ours: per-sample std::normal_distribution cost more
  // than everything else in the image.
  cv::Mat noise(o.height, o.width, CV_32FC3);
  cv::RNG cv_rng(rng());
  cv_rng.fill(noise, cv::RNG::NORMAL, 0.0, 3.0);
  const cv::Vec3f tint(0.45f, 0.62f, 0.78f);  // R, G, B absorbance: organisms look brownish
  for (int y = 0; y < o.height; ++y) {
    const float* d = dark.ptr<float>(y);
    cv::Vec3f* p = rgb.ptr<cv::Vec3f>(y);
    const cv::Vec3f* n = noise.ptr<cv::Vec3f>(y);
    for (int x = 0; x < o.width; ++x) {
      const double r2 = ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / r2max;
      const float light = static_cast<float>(232.0 * (1.0 - 0.3 * r2));
      for (int c = 0; c < 3; ++c) {
        const float base = light * (c == 0 ? 0.96f : c == 1 ? 1.0f : 0.98f);
        p[x][c] = base * (1.0f - d[x] * tint[c] * 1.05f) + n[x][c];
      }
    }
  }
  rgb.convertTo(out.rgb, CV_8UC3);  // saturating
  return out;
}

PlanktonSummary write_plankton(const std::filesystem::path& out, const PlanktonOptions& o) {
  validate(o);
  PlanktonSummary summary;
  nlohmann::json images = nlohmann::json::array();
  for (int i = 0; i < o.images; ++i) {
    PlanktonImage image = render_plankton(o, i);
    const int station = 1 + i % o.stations;
    const std::string rel = fmt::format("st{:02}/img_{:05}.png", station, i);
    std::filesystem::create_directories(out / fmt::format("st{:02}", station));
    image::write_image(out / rel, image.rgb);
    nlohmann::json boxes = nlohmann::json::array();
    for (const cv::Rect& b : image.organisms) boxes.push_back({b.x, b.y, b.br().x, b.br().y});
    images.push_back({{"file", rel}, {"station", station}, {"organisms", boxes}, {"nested", image.nested}});
    summary.organisms += static_cast<int>(image.organisms.size());
    summary.nested += image.nested;
    ++summary.images;
  }
  const nlohmann::json manifest = {
      {"generator", "tessera synth plankton"},
      {"options", {{"images", o.images}, {"width", o.width}, {"height", o.height}, {"min_objects", o.min_objects},
                   {"max_objects", o.max_objects}, {"stations", o.stations}, {"nested_fraction", o.nested_fraction}, {"seed", o.seed}}},
      {"images", images}};
  write_file_atomic(out / "manifest.json", manifest.dump(1));
  return summary;
}

}  // namespace tessera::synth
