// The default segmenter. Clicks alone do not say how big the object is, so the cut runs once per assumed
// object radius (a geometric series) in a ROI scaled to that radius, and among the cuts that are self-consistent
// (area near the assumed one, not running into the ROI's edge) the one whose boundary separates the colours
// inside and outside best and that the neighbouring radii reproduce wins. A box or a prior mask gives the scale
// directly: one cut.
//
// GrabCut was chosen over a random walker by measured IoU (docs/api/masks.md): in the same multi-scale scheme
// with the same seeds, skimage's random_walker reached 0.51 mean IoU on the DSB nuclei against GrabCut's 0.62.

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

#include "segment/blob_cut.hpp"
#include "segment/blob_scale.hpp"
#include "segment/click_corrections.hpp"
#include "segment/click_recut.hpp"
#include "segment/graph_cut.hpp"
#include "segment/mask_geometry.hpp"
#include "segment/prompt_validation.hpp"
#include "segment/roi.hpp"
#include "segment/scale_search_memo.hpp"
#include "segment/segmenters.hpp"
#include "tessera/segment/propagate.hpp"

namespace tessera::segment {

namespace {

struct Candidate {
  WorkRegion region;
  CutOutcome cut;
  bool consistent = false;
  double area_ratio = 1.0;  // the cut's area over the assumed object's (scale search only)
};

std::vector<cv::Point> working_points(const Prompts& prompts, const WorkRegion& region, bool positive) {
  std::vector<cv::Point> out;
  for (const auto& p : prompts.points) {
    if (p.positive != positive) continue;
    if (!region.roi.contains(cv::Point(static_cast<int>(p.x), static_cast<int>(p.y)))) continue;
    const cv::Point2d w = region.to_working({p.x, p.y});
    out.emplace_back(static_cast<int>(std::lround(w.x)), static_cast<int>(std::lround(w.y)));
  }
  return out;
}

// Clicks are certain: a small disk of sure foreground (background) under each positive (negative) point.
void stamp_points(cv::Mat& trimap, const Prompts& prompts, const WorkRegion& region, double radius) {
  for (const auto& p : working_points(prompts, region, false))
    cv::circle(trimap, p, std::max(2, static_cast<int>(0.15 * radius)), cv::GC_BGD, cv::FILLED);
  for (const auto& p : working_points(prompts, region, true))
    cv::circle(trimap, p, std::max(1, static_cast<int>(0.2 * radius)), cv::GC_FGD, cv::FILLED);
}

Candidate cut_at_radius(const cv::Mat& image8, const Prompts& prompts, double radius) {
  Candidate c;
  c.region = region_around_points(positive_points(prompts), radius, image8.size());
  const double r = radius * c.region.scale;
  const cv::Mat features = working_features(image8, c.region, r);
  // Distance (working pixels) to the nearest positive click.
  const auto positives = working_points(prompts, c.region, true);
  const cv::Mat distance = distance_to_points(features.size(), positives, cv::DIST_MASK_PRECISE);
  cv::Mat trimap(features.size(), CV_8U, cv::Scalar(cv::GC_PR_BGD));
  trimap.setTo(cv::GC_PR_FGD, distance <= r);
  trimap.setTo(cv::GC_BGD, distance > kRoiRadiusFactor * r);
  stamp_points(trimap, prompts, c.region, r);
  const int assumed_area = cv::countNonZero(distance <= r);
  c.cut = run_cut({features, trimap, positives, 3});
  c.area_ratio = static_cast<double>(c.cut.area) / std::max(1, assumed_area);
  const bool reaches_edge = cv::countNonZero(c.cut.mask & (distance > 0.9 * kRoiRadiusFactor * r)) > 0;
  c.consistent = c.area_ratio > 0.15 && c.area_ratio < 3.0 && !reaches_edge;
  return c;
}

Candidate cut_in_box(const cv::Mat& image8, const Prompts& prompts) {
  const cv::Rect box = *prompts.box & cv::Rect(0, 0, image8.cols, image8.rows);
  Candidate c;
  c.region = region_around_rect(box, std::max(4, std::max(box.width, box.height) / 10), image8.size());
  const cv::Mat features = working_features(image8, c.region);
  const cv::Point2d tl = c.region.to_working({static_cast<double>(box.x), static_cast<double>(box.y)});
  const cv::Point2d br = c.region.to_working({box.x + box.width - 1.0, box.y + box.height - 1.0});
  cv::Mat trimap(features.size(), CV_8U, cv::Scalar(cv::GC_BGD));
  cv::rectangle(trimap, cv::Point(static_cast<int>(tl.x), static_cast<int>(tl.y)),
                cv::Point(static_cast<int>(br.x), static_cast<int>(br.y)), cv::GC_PR_FGD, cv::FILLED);
  stamp_points(trimap, prompts, c.region, kWorkingRadius);
  c.cut = run_cut({features, trimap, working_points(prompts, c.region, true), 4});
  c.consistent = c.cut.area > 0;
  return c;
}

// Propagation's seeds: the prior's eroded interior is sure foreground, the prior itself probable foreground,
// a ring around it probable background and everything beyond sure background.
Candidate cut_from_prior(const cv::Mat& image8, const Prompts& prompts) {
  const cv::Rect bounds = cv::boundingRect(prompts.prior_mask);
  const double radius = std::sqrt(cv::countNonZero(prompts.prior_mask) / CV_PI);
  Candidate c;
  c.region = region_around_rect(bounds, std::max(6, static_cast<int>(0.6 * radius)), image8.size());
  const cv::Mat features = working_features(image8, c.region);
  cv::Mat prior;
  cv::resize(prompts.prior_mask(c.region.roi), prior, features.size(), 0, 0, cv::INTER_AREA);
  prior = prior > 127;
  const int band = std::max(2, static_cast<int>(0.2 * radius * c.region.scale));
  const cv::Mat kernel = disk_kernel(band);
  cv::Mat interior, reach;
  cv::erode(prior, interior, kernel);
  cv::dilate(prior, reach, kernel);
  cv::Mat trimap(features.size(), CV_8U, cv::Scalar(cv::GC_BGD));
  trimap.setTo(cv::GC_PR_BGD, reach);
  trimap.setTo(cv::GC_PR_FGD, prior);
  trimap.setTo(cv::GC_FGD, interior);
  stamp_points(trimap, prompts, c.region, radius * c.region.scale);
  c.cut = run_cut({features, trimap, working_points(prompts, c.region, true), 3});
  c.consistent = c.cut.area > 0;
  return c;
}

// Confidence: boundary contrast d (mean colour distance across the boundary in pooled standard deviations)
// mapped to 0..1 by 1 - exp(-d / 1.5), scaled down by 0.3 when no assumed scale gave a self-consistent cut.
double confidence_of(const Candidate& c) {
  const double from_contrast = 1.0 - std::exp(-c.cut.contrast / 1.5);
  return std::clamp(from_contrast * (c.consistent ? 1.0 : 0.3), 0.0, 1.0);
}

// The candidate's mask inside `frame` (image pixels), CV_8U 0/255 of the frame's size.
cv::Mat mask_in_frame(const Candidate& c, const cv::Rect& frame) {
  cv::Mat out = cv::Mat::zeros(frame.size(), CV_8U);
  const cv::Rect overlap = c.region.roi & frame;
  if (overlap.empty()) return out;
  cv::Mat placed;
  if (c.cut.mask.size() == c.region.roi.size()) {
    placed = c.cut.mask;
  } else {
    cv::resize(c.cut.mask, placed, c.region.roi.size(), 0, 0, cv::INTER_LINEAR);
    placed = placed > 127;
  }
  placed(overlap - c.region.roi.tl()).copyTo(out(overlap - frame.tl()));
  return out;
}

cv::Mat to_image_mask(const Candidate& c, cv::Size image_size) {
  return mask_in_frame(c, cv::Rect(cv::Point(0, 0), image_size));
}

// Clicks on a compact object of a grey image (a nucleus, a spot) take the blob watershed (blob_cut.hpp):
// measured better and far cheaper there; everything else (colour, texture, no clean blob) takes GrabCut.
std::optional<SegmentResult> clean_blob(const cv::Mat& image8, const Prompts& prompts) {
  if (image8.channels() != 1) return std::nullopt;
  const BlobCut cut = blob_cut(image8, BlobScale(image8), prompts);
  if (cut.blobness < kMinBlobness || cut.ground_contrast < kMinGroundContrast) return std::nullopt;
  if (cv::countNonZero(cut.mask) == 0) return std::nullopt;
  SegmentResult result;
  result.mask = cv::Mat::zeros(image8.size(), CV_8U);
  cut.mask.copyTo(result.mask(cut.roi));
  result.confidence = std::clamp(1.0 - std::exp(-cut.contrast / 1.5), 0.0, 1.0);
  result.method = "blob_watershed";
  return result;
}

double mask_iou(const Candidate& a, const Candidate& b) {
  const cv::Rect frame = a.region.roi | b.region.roi;
  return segment::mask_iou(mask_in_frame(a, frame), mask_in_frame(b, frame));
}

// The share of the cut's outline (its pixels with a background 8-neighbour) that lies on the edge of its working
// region. A consistent cut never reaches the ROI's own edge (that is the ring test of cut_at_radius), so this is
// where it meets the image border: a nucleus cut off by the border meets it along a short stretch, a cut that
// overgrew into the surroundings (cytoplasm, the tissue around a fold) runs along it.
double outline_share_on_region_edge(const Candidate& c) {
  const cv::Mat& m = c.cut.mask;
  cv::Mat eroded;
  cv::erode(m, eroded, cv::Mat(), cv::Point(-1, -1), 1, cv::BORDER_CONSTANT, cv::Scalar(0));
  const int outline = cv::countNonZero(m & ~eroded);
  cv::Mat edge = cv::Mat::zeros(m.size(), CV_8U);
  cv::rectangle(edge, cv::Rect(0, 0, m.cols, m.rows), cv::Scalar(255), 1);
  return outline > 0 ? static_cast<double>(cv::countNonZero(m & edge)) / outline : 0.0;
}

// An enclosing cut may have at most this share of its outline on the image border. Measured on the 19 EM nuclei
// (one click, summed 1-IoU) against refusing any contact: 4.33 -> 3.81 (image 9's nucleus cut by the right border:
// 0.28 -> 0.95, its outline 0.24 on the border; image 8's fourth 0.89 -> 0.75, 0.20); the overgrown cuts it must
// still refuse had 0.31-0.50 of their outline there (0.35: EM 4.24, 0.5: 5.17 as with no test); polyps unchanged.
constexpr double kMaxEnclosingBorderShare = 0.27;

// The ranked cut may be an inner structure of the object (a nucleolus, a dense patch of a textured nucleus): its
// own outline is sharp and stable, the whole object's is fainter. So the smallest larger self-consistent cut that
// encloses it (>= 95% of its pixels), keeps at least a quarter of its boundary contrast and lies mostly inside the
// image wins instead. Measured (one click / after the corrective click, summed 1-IoU): EM 19 nuclei 5.11 -> 4.33 /
// 4.29 -> 3.52 (image 2's nucleus, nucleolus picked: 0.11 -> 0.90), polyps 3.22 -> 2.80 / 2.06 -> 1.94. Without
// the border test the enclosing cut was often an overgrown one: EM 5.11 -> 5.17 (four nuclei lost 0.15-0.69).
std::size_t enclosing_cut(const std::vector<Candidate>& candidates, std::size_t best) {
  const Candidate& inner = candidates[best];
  const double inner_area = cv::countNonZero(mask_in_frame(inner, inner.region.roi));
  for (std::size_t k = best + 1; k < candidates.size(); ++k) {
    const Candidate& outer = candidates[k];
    if (!outer.consistent || outer.cut.contrast < 0.25 * inner.cut.contrast ||
        outline_share_on_region_edge(outer) > kMaxEnclosingBorderShare)
      continue;
    const cv::Rect frame = inner.region.roi | outer.region.roi;
    const double shared = cv::countNonZero(mask_in_frame(inner, frame) & mask_in_frame(outer, frame));
    if (shared >= 0.95 * inner_area) return k;
  }
  return best;
}

// One '+' click alone (later clicks are edits: click_corrections.cpp): GrabCut over a series of assumed radii.
// A self-consistent cut wins over any other; among them the rank is the boundary contrast times the cut's
// stability (its best mask IoU with the cuts at the neighbouring radii): an object's own outline comes back
// when the assumed radius changes by x1.6, a cut that caught a nucleolus or a patch of texture mostly does not.
// Measured on the 19 EM nuclei: contrast alone 0.666 mean IoU, contrast x stability 0.689, stability alone 0.693
// but 0.230 on the polyps (0.303 with contrast, with and without the stability).
//
// The cuts at the assumed radii are independent, so they run in parallel (cv::parallel_for_), largest radius first:
// the largest few cost most (maxflow time grows faster than the working area: 99^2 working px ~50 ms, 153^2 ~170
// ms, 239^2 ~0.8 s, 270^2 up to 1.5 s wall on a polyp, load 4), so they are started before the cheap ones fill
// the gaps. Each cut seeds GrabCut's RNG itself (run_cut), so the masks are the same as one after the other.
// When no assumed radius gives a self-consistent cut, the cut whose area is nearest its assumed one (ratio nearest
// 1 on a log scale) is the least inconsistent and wins. Measured on the 19 EM nuclei against the best
// contrast x stability among the inconsistent cuts (which returned a 6-pixel cut of a 163,569-pixel nucleus,
// IoU 0.00): that nucleus 0.00 -> 0.22, EM one click 0.720 -> 0.731; the polyps always have a consistent cut
// (0.463 either way). Measured in a replay of the dumped cuts against the ground truth, also: the largest cut not
// reaching the ROI's edge (the same 0.731), the most stable cut (0.720); not kept either: a consistent cut needing
// ratio > 0.25 or 0.3 (EM 0.729), ranks among the consistent cuts weighting a larger area or a ratio nearer 1 (EM
// up to 0.734 but polyps 0.463 -> 0.428).
// Not kept: choosing the scale on the 22 px grid and re-cutting only the best on the 60 px grid (the coarse
// first choice was the fine one in 23 of 63 searches of the EM and polyp runs, among its first three in 53).
// Not kept either (replayed, one click summed 1-IoU, EM 3.81 / polyps 2.80 with the border-share rule below):
// the outline's image gradient (mean magnitude on the outline over the ROI's) as a rank factor (power 0.5-2): EM
// 4.38; an enclosing cut needing a sharper outline gradient than the inner one (mean, median or share above the
// ROI's 75th percentile): polyps 3.22-3.48 (the endoscope's black frame gives whole-image cuts the sharpest
// outline); the rank preferring cuts with <= 0.27 of their outline on the image border: EM 4.00; consistency
// needing the cut to leave half (or 20%) of its ROI: polyps 2.93; stability as the mean or the lower of the two
// neighbours' IoU: EM 5.06 / 4.89; the enclosing cut's contrast share 0.2 or 0.3 instead of 0.25: EM 3.76 / 5.19
// (4.12 / 3.50 with the grey smoothing of working_features).
SegmentResult cut_over_scales(const cv::Mat& image8, const Prompts& prompts) {
  const std::vector<double> radii = candidate_radii(image8.size());
  std::vector<Candidate> candidates(radii.size());
  std::vector<std::exception_ptr> failures(radii.size());
  const int count = static_cast<int>(radii.size());
  cv::parallel_for_(cv::Range(0, count), [&](const cv::Range& range) {
    for (int i = range.start; i < range.end; ++i) {
      const int k = count - 1 - i;
      try {
        candidates[k] = cut_at_radius(image8, prompts, radii[k]);
      } catch (...) {
        failures[k] = std::current_exception();  // rethrown on the caller's thread below
      }
    }
  }, count);
  for (const auto& failure : failures)
    if (failure) std::rethrow_exception(failure);
  std::vector<double> stability(candidates.size(), 0.0);
  for (std::size_t k = 0; k + 1 < candidates.size(); ++k) {
    const double overlap = mask_iou(candidates[k], candidates[k + 1]);
    stability[k] = std::max(stability[k], overlap);
    stability[k + 1] = std::max(stability[k + 1], overlap);
  }
  const bool any_consistent =
      std::any_of(candidates.begin(), candidates.end(), [](const Candidate& c) { return c.consistent; });
  std::size_t best = 0;
  double best_rank = -std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < candidates.size(); ++k) {
    const double rank = any_consistent
                            ? (candidates[k].consistent ? 1000.0 : 0.0) + stability[k] * candidates[k].cut.contrast
                            : -std::abs(std::log(std::max(candidates[k].area_ratio, 1e-6)));
    if (rank > best_rank) best = k, best_rank = rank;
  }
  if (any_consistent) best = enclosing_cut(candidates, best);
  return {with_dark_rim(image8, to_image_mask(candidates[best], image8.size())), confidence_of(candidates[best]),
          "grabcut_scales"};
}

class GraphCutSegmenter final : public Segmenter {
 public:
  std::string name() const override { return "graph_cut"; }

  SegmentResult segment(const cv::Mat& image, const Prompts& prompts) const override {
    validate_prompts(image, prompts);
    // A view into a larger buffer is copied: OpenCV's filters on a submatrix read the pixels around it, so a
    // view's mask would depend on pixels the caller did not pass (and the memo, keyed by the view's own pixels,
    // could answer with the mask of the same pixels in other surroundings).
    const cv::Mat shown = to_display_8bit(image);
    const cv::Mat image8 = shown.isSubmatrix() ? shown.clone() : shown;
    std::optional<Candidate> best;
    std::string method;
    if (!prompts.prior_mask.empty() && cv::countNonZero(prompts.prior_mask) > 0) {
      best = cut_from_prior(image8, prompts);
      method = "grabcut_prior";
    } else if (prompts.box) {
      best = cut_in_box(image8, prompts);
      method = "grabcut_box";
    } else {
      std::string pixels;  // the memo's key of image8, computed when a scale search is first asked for
      const auto search = [&](const Prompts& p) {
        if (pixels.empty()) pixels = pixels_key(image8);
        return scale_search_memo().find_or_compute(pixels, p, image8.size(),
                                                   [&] { return cut_over_scales(image8, p); });
      };
      const ClickPaths paths{[&](const Prompts& p) { return clean_blob(image8, p); }, search};
      return segment_clicks(image8, prompts, paths);
    }
    return {to_image_mask(*best, image.size()), confidence_of(*best), method};
  }
};

}  // namespace

std::unique_ptr<Segmenter> make_graph_cut_segmenter() { return std::make_unique<GraphCutSegmenter>(); }

}  // namespace tessera::segment
