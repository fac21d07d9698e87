#pragma once

#include <cmath>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <vector>

#include "tessera/core/file.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/stitch/register.hpp"

namespace tessera::stitch::test {

inline const std::filesystem::path kData = TESSERA_SOURCE_DIR "/../shared/data";

// A real image of the shared data set, decoded by tessera; empty when the data set is absent.
inline cv::Mat shared_image(const std::string& relative) {
  const std::filesystem::path path = kData / relative;
  if (!std::filesystem::exists(path)) return {};
  return image::decode(read_file(path), path.string()).frames.front();
}

// 8-bit grey texture with structure at every scale from 2 to 256 px (octaves of smoothly
// interpolated random values), like tissue seen at low magnification; deterministic for a seed.
inline cv::Mat textured_image(cv::Size size, unsigned seed) {
  cv::RNG rng(seed);
  cv::Mat sum = cv::Mat::zeros(size, CV_32F);
  double amplitude = 1.0;
  for (int cell = 256; cell >= 2; cell /= 2) {
    cv::Mat coarse(size.height / cell + 2, size.width / cell + 2, CV_32F);
    rng.fill(coarse, cv::RNG::UNIFORM, -1.0, 1.0);
    cv::Mat fine;
    cv::resize(coarse, fine, cv::Size(coarse.cols * cell, coarse.rows * cell), 0, 0,
               cv::INTER_CUBIC);
    sum += amplitude * fine(cv::Rect(0, 0, size.width, size.height));
    amplitude *= 0.9;
  }
  cv::Mat out;
  cv::normalize(sum, sum, 20, 235, cv::NORM_MINMAX);
  sum.convertTo(out, CV_8U);
  return out;
}

// Tiles cut from a source image at known, jittered places, as a stage would deliver them.
struct CutGrid {
  std::vector<Tile> tiles;       // row/col and nominal set (nominal frame: tile 0 nominal at 0, 0)
  std::vector<cv::Point> truth;  // true top-left of each tile in the source
  cv::Size tile;
  double noise = 0;
};

// cols x rows tiles of `tile` size, spaced by tile * (1 - overlap); each true position is the
// nominal one plus a uniform integer jitter in [-jitter, jitter] on each axis; Gaussian noise of sd
// `noise` is added to every tile independently (as a camera does). The source must hold the
// jittered grid.
inline CutGrid cut_grid(const cv::Mat& source, int cols, int rows, cv::Size tile, double overlap,
                        int jitter, double noise, unsigned seed) {
  CutGrid g;
  g.tile = tile;
  g.noise = noise;
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> jit(-jitter, jitter);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      Tile t;
      t.row = r;
      t.col = c;
      g.tiles.push_back(t);
    }
  }
  place_on_grid(g.tiles, tile, overlap, overlap);
  cv::RNG rng(seed + 1);
  for (size_t i = 0; i < g.tiles.size(); ++i) {
    Tile& t = g.tiles[i];
    const cv::Point at(jitter + static_cast<int>(t.nominal->x) + jit(gen),
                       jitter + static_cast<int>(t.nominal->y) + jit(gen));
    CV_Assert(cv::Rect(0, 0, source.cols, source.rows).contains(at) &&
              at.x + tile.width <= source.cols && at.y + tile.height <= source.rows);
    cv::Mat pixels = source(cv::Rect(at, tile)).clone();
    if (noise > 0) {
      cv::Mat n(pixels.size(), CV_MAKETYPE(CV_32F, pixels.channels()));
      rng.fill(n, cv::RNG::NORMAL, 0.0, noise);
      cv::Mat wide;
      pixels.convertTo(wide, CV_MAKETYPE(CV_32F, pixels.channels()));
      wide += n;
      wide.convertTo(pixels, pixels.type());
    }
    t.name = "r" + std::to_string(t.row) + "_c" + std::to_string(t.col);
    t.image = pixels;
    g.truth.push_back(at);
  }
  return g;
}

// Largest placement error over the tiles (px): each tile's position relative to the anchor's,
// against the truth relative to the anchor's truth. Tiles listed in `skip` are left out.
inline double max_placement_error(const Placement& p, const CutGrid& g,
                                  const std::vector<int>& skip = {}) {
  const int a = p.anchor;
  double worst = 0;
  for (size_t i = 0; i < p.placed.size(); ++i) {
    if (std::find(skip.begin(), skip.end(), static_cast<int>(i)) != skip.end()) continue;
    const cv::Point2d placed = p.placed[i].position - p.placed[static_cast<size_t>(a)].position;
    const cv::Point2d truth = cv::Point2d(g.truth[i] - g.truth[static_cast<size_t>(a)]);
    worst = std::max(worst, cv::norm(placed - truth));
  }
  return worst;
}

// RMS difference between a mosaic and the source, with the mosaic mapped onto the source through
// the anchor tile: over all pixels that come from two or more tiles, over the worst single overlap
// of two tiles (a seam is local, so the worst overlap is what the eye would see), and over pixels
// that come from one tile.
struct SeamResidual {
  double overlaps = 0;
  double worst_overlap = 0;
  double singles = 0;
  long long overlap_pixels = 0;
};
inline SeamResidual seam_residual(const cv::Mat& mosaic, const Placement& p, const CutGrid& g,
                                  const cv::Mat& source) {
  const std::vector<cv::Point> offsets = p.mosaic_offsets();
  const cv::Point shift =
      g.truth[static_cast<size_t>(p.anchor)] - offsets[static_cast<size_t>(p.anchor)];
  const cv::Rect frame =
      cv::Rect(cv::Point(), mosaic.size()) & (cv::Rect(cv::Point(), source.size()) - shift);
  cv::Mat m, s, d2;
  mosaic(frame).convertTo(m, CV_MAKETYPE(CV_64F, mosaic.channels()));
  source(frame + shift).convertTo(s, CV_MAKETYPE(CV_64F, source.channels()));
  cv::Mat d = m - s;
  cv::multiply(d, d, d2);
  d2 = d2.reshape(1, d2.rows);  // channels side by side: one squared error per sample
  const int ch = mosaic.channels();
  std::vector<cv::Rect> rects;  // each tile's true rectangle in frame coordinates, in samples
  for (const cv::Point& t : g.truth) rects.push_back(cv::Rect(t - shift - frame.tl(), g.tile));
  cv::Mat cover = cv::Mat::zeros(d2.size(), CV_8U);
  auto samples = [&](const cv::Rect& r) {
    return cv::Rect(r.x * ch, r.y, r.width * ch, r.height) & cv::Rect(cv::Point(), d2.size());
  };
  for (const cv::Rect& r : rects) cover(samples(r)) += 1;
  SeamResidual out;
  const cv::Mat overlap_mask = cover >= 2, single_mask = cover == 1;
  out.overlap_pixels = cv::countNonZero(overlap_mask);
  out.overlaps = std::sqrt(cv::mean(d2, overlap_mask)[0]);
  out.singles = std::sqrt(cv::mean(d2, single_mask)[0]);
  for (size_t i = 0; i < rects.size(); ++i) {
    for (size_t j = i + 1; j < rects.size(); ++j) {
      const cv::Rect common = samples(rects[i] & rects[j]);
      if (common.area() < 1000) continue;
      out.worst_overlap = std::max(out.worst_overlap, std::sqrt(cv::mean(d2(common))[0]));
    }
  }
  return out;
}

}  // namespace tessera::stitch::test
