#include "segment/blob_cut.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "segment/blob_corrections.hpp"
#include "segment/blob_field.hpp"
#include "segment/blob_split.hpp"
#include "segment/graph_cut.hpp"
#include "segment/marker_watershed.hpp"
#include "segment/mask_geometry.hpp"
#include "segment/roi.hpp"
#include "tessera/segment/propagate.hpp"

namespace tessera::segment {

namespace {

// Every length below is in object radii; the ROI is resampled so a radius spans at most this many pixels.
constexpr double kBlobWorkingRadius = 24.0;
constexpr double kRoiRadii = 4.0;
// '+' clicks farther than this many radii from the first are no edit of one blob (the ROI would span them all at
// full resolution: two clicks 3,800 px apart on a 4000² image took 17 s and 1.1 GB): the blob path declines and
// the GrabCut path, whose '+' edits are bounded by their distance to the mask, takes them.
constexpr double kMaxClickSpreadRadii = 10.0;
// Pixels darker than this share of the way from the ground to the click's core are sure background.
constexpr double kGroundShare = 0.45;
// Weight of the shape term in the flood's elevation, in units of the core-to-ground contrast.
constexpr double kShapeWeight = 0.4;
// The object's radius from its distance to the ground at the click (the radius of the largest disk inside
// it): an ellipse of axis ratio 1.5 has 1.22 times its inscribed radius as equivalent radius. The LoG scale
// at the click grows to a cluster's size when nuclei touch (2x at the worst DSB clicks); the distance to the
// ground does not. Measured on the DSB nuclei, factor 1.0 / 1.2 / 1.4: one click 0.793 / 0.795 / 0.790 (was
// 0.780 with the LoG scale).
constexpr double kRadiusPerInscribed = 1.2;
// Foreground farther than this many inscribed radii from every positive click is another object: a
// nucleus is rarely longer than twice its width, and a neighbour merged without a neck of its own is held
// back by it. Measured on the DSB nuclei (one click / corrected): 1.5 0.790/0.809, 1.65 0.812/0.814, 1.8
// 0.813/0.818, 2.2 0.811/0.819, 2.6 0.805/0.820, none 0.795/0.817; again with the lobe rule below: 1.5
// 0.788/0.822, 1.65 0.813/0.835, 1.8 0.817/0.841, 2.0 0.816/0.840. Again once the whole flood rescues elongated
// nuclei (kMinWholeEllipseIoU; DSB summed 1-IoU one click, 1.8: 21.30): 1.5 23.25, 1.65 22.04, 2.0 21.56, 2.2
// 22.06.
constexpr double kFarInscribedRadii = 1.8;
// ... but only in a lobe with a body of its own: a peak of the distance to the ground (a nucleus' centre, the
// largest distance within 0.8 radii across, at least half the inscribed radius) beyond this many inscribed
// radii short of the far distance. The end of an elongated nucleus also reaches past the far distance, but
// its distance to the ground only falls towards its tip. Measured on the DSB nuclei (one click / corrected):
// every far pixel held 0.815/0.837; peaks searched from 0 / 0.6 / 0.8 / 1.0 radii short: 0.814/0.842,
// 0.818/0.839, 0.817/0.841, 0.816/0.837 (elongated nuclei: 0.41 -> 0.89, 0.67 -> 0.85, 0.74 -> 0.92).
constexpr double kLobePeakReach = 0.8;
// ... and only when the flood without the far lobes is not one nucleus: an elongated nucleus (axis ratio 2.5-3)
// reaches past the far distance with bumps that look like a lobe's centre, but its whole outline still fits an
// ellipse, while a neighbour merged side by side or end to end leaves a waist or a second bulge. So the flood
// without them is kept when (after the side-by-side split) it fits an ellipse at least this well and better
// than the flood with them. Ellipse-fit IoU of the whole flood on the DSB nuclei where the two differ: merges
// 0.73-0.876, the nuclei it would help 0.869 and 0.895-0.934; the bar sits in the upper gap. Summed 1-IoU over
// the 124 DSB objects (one click / corrected) with the corrections of 2e3685d: 21.85 / 16.14 without it, bar
// 0.885 21.30 / 15.93 (three nuclei 0.59 -> 0.83, 0.68 -> 0.81, 0.76 -> 0.85); with those of 2c6852b, bar
// 0.88-0.895 the same one click, 0.9 21.68; held-out nuclei (quality_test) 0.742 / 0.833 -> 0.747 / 0.836.
// Measured and not kept: the whole flood taken only when larger (21.68 / 15.96; with 2c6852b's corrections and
// no split before comparing, 21.68 / 16.42; 0.865 catches one more single but sits between a merge at 0.861
// and it at 0.869), a far lobe
// held only behind a grey-level dip from the click (any dip 0.01-0.1 of the contrast: the merged neighbours
// touch without one, 23.2-23.7 / 17.5-17.7), solidity or the deepest concavity of the whole flood (merges and
// singles overlap).
constexpr double kMinWholeEllipseIoU = 0.885;

double quantile(std::vector<float> values, double q) {
  if (values.empty()) return 0;
  const auto nth = values.begin() + static_cast<std::ptrdiff_t>(q * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), nth, values.end());
  return *nth;
}

std::vector<float> values_of(const cv::Mat& image32) {
  std::vector<float> out;
  out.reserve(image32.total());
  for (int y = 0; y < image32.rows; ++y) out.insert(out.end(), image32.ptr<float>(y), image32.ptr<float>(y) + image32.cols);
  return out;
}

// Blob centres other than the clicked object: local maxima of the (signed) image smoothed at 0.3 radii,
// at least 0.6 radii apart, above the ground, and not within 0.8 radii of a positive click.
void mark_neighbours(const cv::Mat& signed_raw, const cv::Mat& ground, double radius,
                     const std::vector<cv::Point>& positives, cv::Mat& markers) {
  cv::Mat smooth, dilated;
  cv::GaussianBlur(signed_raw, smooth, cv::Size(), std::max(1.0, 0.3 * radius));
  const int window = std::max(3, static_cast<int>(1.2 * radius) | 1);
  cv::dilate(smooth, dilated, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(window, window)));
  const cv::Mat peaks = (smooth >= dilated) & ~ground;
  cv::Mat peak_labels;
  cv::connectedComponents(peaks, peak_labels, 8, CV_32S);
  const int disk = std::max(1, static_cast<int>(radius / 4));
  const double exclusion2 = 0.64 * radius * radius;
  for (int y = 0; y < peaks.rows; ++y) {
    const int* row = peak_labels.ptr<int>(y);
    for (int x = 0; x < peaks.cols; ++x) {
      if (row[x] == 0) continue;
      const bool near_click = std::any_of(positives.begin(), positives.end(), [&](const cv::Point& p) {
        return (p.x - x) * (p.x - x) + (p.y - y) * (p.y - y) < exclusion2;
      });
      if (!near_click) cv::circle(markers, {x, y}, disk, kBlobNeighbour + row[x], cv::FILLED);
    }
  }
}

// The standard deviation of the ground's grey levels (pixels below `level` on the signed scale), at full
// resolution smoothed at 1 px: texture (EM) keeps it high where a fluorescence ground is flat. Resampling the
// ROI would average the texture away, so the working copy is not used.
double ground_spread(const cv::Mat& gray8_roi, double sign, double level) {
  cv::Mat smooth;
  cv::GaussianBlur(gray8_roi, smooth, cv::Size(), 1.0);
  smooth.convertTo(smooth, CV_32F, sign);
  cv::Scalar mean, sd;
  cv::meanStdDev(smooth, mean, sd, smooth < level);
  return std::max(0.5, sd[0]);
}

// The flood's elevation: the gradient of the smoothed ROI plus the shape term. Touching nuclei of one
// brightness meet on a weak gradient, where noise alone would place the split; adding height near the ground
// (distance to it, saturating at one radius) moves the split to the neck between them. Measured on the DSB
// nuclei over weights 0.1-3: 0.2-0.7 all help, 0.4 gives one click 0.770 -> 0.780, corrected 0.806 -> 0.810;
// 3 over-splits (0.740).
cv::Mat elevation_of(const cv::Mat& smooth, const cv::Mat& to_ground, double radius, double contrast) {
  cv::Mat gx, gy, elevation, shape;
  cv::Sobel(smooth, gx, CV_32F, 1, 0);
  cv::Sobel(smooth, gy, CV_32F, 0, 1);
  cv::magnitude(gx, gy, elevation);
  cv::min(to_ground / std::max(1.0, radius), 1.0, shape);
  elevation += kShapeWeight * contrast * (1.0 - shape);
  return elevation;
}

// The foreground beyond `far` from every positive (`from_positives`) that belongs to another object: the
// parts, connected in the foreground beyond (far - kLobePeakReach inscribed radii), holding a body's centre.
cv::Mat far_lobes(const BlobField& field, const cv::Mat& from_positives, double far) {
  const double inscribed = field.radius / kRadiusPerInscribed;
  const int window = std::max(3, static_cast<int>(0.8 * field.radius) | 1);
  cv::Mat widest;
  cv::dilate(field.to_ground, widest, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(window, window)));
  const cv::Mat outer = (from_positives > far - kLobePeakReach * inscribed) & ~field.ground;
  const cv::Mat centres = (field.to_ground >= widest) & (field.to_ground >= 0.5 * inscribed) & outer;
  cv::Mat parts;
  const int count = cv::connectedComponents(outer, parts, 8, CV_32S);
  std::vector<uchar> has_centre(static_cast<std::size_t>(count), 0);
  for (int y = 0; y < parts.rows; ++y)
    for (int x = 0; x < parts.cols; ++x)
      if (centres.at<uchar>(y, x) != 0) has_centre[static_cast<std::size_t>(parts.at<int>(y, x))] = 255;
  cv::Mat lobes(parts.size(), CV_8U, cv::Scalar(0));
  for (int y = 0; y < parts.rows; ++y)
    for (int x = 0; x < parts.cols; ++x)
      lobes.at<uchar>(y, x) = has_centre[static_cast<std::size_t>(parts.at<int>(y, x))];
  return lobes & (from_positives > far);
}

// IoU of `object` (CV_8U, one outline) with the ellipse fitted to its outline; 0 when it has several parts.
double ellipse_fit_iou(const cv::Mat& object) {
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(object.clone(), contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
  if (contours.size() != 1 || contours.front().size() < 5) return 0;
  cv::Mat ellipse(object.size(), CV_8U, cv::Scalar(0));
  cv::ellipse(ellipse, cv::fitEllipse(contours.front()), 255, cv::FILLED);
  return mask_iou(ellipse, object);
}

// one_click_object's flood, every label kept (the caller also asks which markers met the object).
cv::Mat one_click_labels(const BlobField& field, const std::vector<cv::Point>& positives,
                         const std::vector<cv::Point>& centres, bool hold_far_lobes) {
  cv::Mat markers = context_markers(field, positives, centres, hold_far_lobes);
  cv::circle(markers, centres.front(), std::max(1, static_cast<int>(field.radius / 4)), kBlobObject, cv::FILLED);
  flood_from_markers(field.elevation, markers);
  return markers;
}

}  // namespace

void set_ground_level(BlobField& field, double level) {
  field.level = level;
  // New matrices throughout: a copied field shares its buffers, and `ground = smooth < level` or a
  // distanceTransform into the old matrix would write through into the field it was copied from.
  cv::Mat ground;
  cv::compare(field.signed_smooth, level, ground, cv::CMP_LT);
  field.ground = ground;
  // The ROI's edge counts as foreground, so a nucleus cut by the image border keeps its depth. Measured and
  // not kept, the edge as ground (the small border nuclei come out too large): DSB summed 1-IoU one click /
  // corrected 21.30 / 15.69 -> 22.64 / 16.77 (the border nuclei shrink to slivers).
  cv::Mat to_ground;
  cv::distanceTransform(~field.ground, to_ground, cv::DIST_L2, 3);
  field.to_ground = to_ground;
  if (!field.elevation.empty())
    field.elevation = elevation_of(field.signed_smooth, field.to_ground, field.radius, field.contrast);
}

cv::Mat one_click_object(const BlobField& field, const std::vector<cv::Point>& positives,
                         const std::vector<cv::Point>& centres, bool hold_far_lobes) {
  return one_click_labels(field, positives, centres, hold_far_lobes) == kBlobObject;
}

cv::Mat context_markers(const BlobField& field, const std::vector<cv::Point>& positives,
                        const std::vector<cv::Point>& centres, bool hold_far_lobes) {
  cv::Mat markers(field.ground.size(), CV_32S, cv::Scalar(0));
  markers.setTo(kBlobGround, field.ground);
  const double far = kFarInscribedRadii * field.radius / kRadiusPerInscribed;
  if (hold_far_lobes)
    markers.setTo(kBlobNeighbour, far_lobes(field, distance_to_points(markers.size(), positives, 3), far));
  mark_neighbours(field.signed_raw, field.ground, field.radius, centres, markers);
  // A later '+' on a thin missed band next to the split would otherwise flood the whole neighbour back in;
  // a '+' inside it says the split was wrong.
  const auto inside_split_off = [&](const cv::Point& p) { return field.split_off.at<uchar>(p) != 0; };
  if (!field.split_off.empty() && std::none_of(positives.begin(), positives.end(), inside_split_off))
    markers.setTo(kBlobNeighbour, field.split_off);
  return markers;
}

BlobCut blob_cut(const cv::Mat& gray8, const BlobScale& scales, const Prompts& prompts) {
  const std::vector<cv::Point2d> positives = positive_points(prompts);
  const cv::Point click(static_cast<int>(positives.front().x), static_cast<int>(positives.front().y));
  const BlobEstimate blob = scales.estimate(click, 0.5 * std::min(gray8.cols, gray8.rows));
  BlobCut out;
  for (const auto& p : positives)
    if (std::hypot(p.x - click.x, p.y - click.y) > kMaxClickSpreadRadii * blob.radius) return out;  // blobness 0
  // The ROI: every positive click plus 4 radii, resampled so the radius spans <= kBlobWorkingRadius pixels.
  double x0 = click.x, x1 = click.x, y0 = click.y, y1 = click.y;
  for (const auto& p : positives)
    x0 = std::min(x0, p.x), x1 = std::max(x1, p.x), y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
  const double margin = std::max(kRoiRadii * blob.radius, 20.0);
  out.roi = clipped_box({x0, y0}, {x1, y1}, margin, gray8.size());
  WorkRegion region{out.roi, std::min(1.0, kBlobWorkingRadius / blob.radius)};
  const double radius = blob.radius * region.scale;

  cv::Mat raw;
  if (region.scale < 1.0)
    cv::resize(gray8(out.roi), raw, region.working_size(), 0, 0, cv::INTER_AREA);
  else
    raw = gray8(out.roi);
  raw.convertTo(raw, CV_32F);
  cv::Mat smooth;
  cv::GaussianBlur(raw, smooth, cv::Size(), 1.0);

  const auto to_working = [&](const cv::Point2d& p) {
    const cv::Point2d w = region.to_working(p);
    return cv::Point(std::clamp(static_cast<int>(std::lround(w.x)), 0, smooth.cols - 1),
                     std::clamp(static_cast<int>(std::lround(w.y)), 0, smooth.rows - 1));
  };
  const cv::Point core_at = to_working(positives.front());
  const cv::Rect first_image_roi = clipped_box(click, click, margin, gray8.size());
  const cv::Rect first_working_roi(to_working(first_image_roi.tl()),
                                   to_working(first_image_roi.br() - cv::Point(1, 1)) + cv::Point(1, 1));
  // The ground's level from the first click's own ROI even when later '+' clicks widen the field: the
  // corrections (blob_corrections.hpp) edit the object the first click made, and a ground quantile over the
  // wider field moved that object's whole outline before any edit (a '+' at one end of an elongated nucleus
  // grew it 1-2 px along its far side: 0.81 -> 0.76). Measured on the DSB nuclei, corrected summed 1-IoU
  // 15.86 -> 15.69 (one click unchanged; 6 objects changed, 1 worse by 0.005).
  const std::vector<float> all_values = values_of(smooth(first_working_roi).clone());
  const int core_half = std::max(1, static_cast<int>(radius / 2));
  const cv::Rect core_box = cv::Rect(core_at.x - core_half, core_at.y - core_half, 2 * core_half + 1,
                                     2 * core_half + 1) & cv::Rect(0, 0, smooth.cols, smooth.rows);
  const double core = quantile(values_of(smooth(core_box).clone()), 0.5);
  const double low = quantile(all_values, 0.1), high = quantile(all_values, 0.9);
  // The object is bright on a dark ground or dark on a bright one, whichever end its core is farther from.
  const bool bright = std::abs(core - low) >= std::abs(core - high);
  const double sign = bright ? 1.0 : -1.0;
  const double core_s = sign * core, ground_s = sign * (bright ? low : high);
  const double contrast = core_s - ground_s;
  out.blobness = blob.response / std::max(1.0, contrast);
  out.mask = cv::Mat::zeros(out.roi.size(), CV_8U);
  if (contrast <= 1.0) return out;  // the click is on the ground itself: nothing to separate
  out.ground_contrast = contrast / ground_spread(gray8(out.roi), sign, ground_s + kGroundShare * contrast);

  BlobField field;
  field.signed_raw = sign * raw;
  field.signed_smooth = sign * smooth;
  field.ground_shade = ground_s;
  field.contrast = contrast;
  set_ground_level(field, ground_s + kGroundShare * contrast);
  double inscribed = 0;
  cv::minMaxLoc(field.to_ground(cv::Rect(core_at.x - 2, core_at.y - 2, 5, 5) & cv::Rect(0, 0, smooth.cols, smooth.rows)),
                nullptr, &inscribed);
  field.radius = std::clamp(kRadiusPerInscribed * inscribed, 2.0, radius);
  field.elevation = elevation_of(smooth, field.to_ground, field.radius, contrast);

  // The first '+' click alone makes the object; every later click edits it (blob_corrections.hpp).
  // The labels are kept: the flood without the far lobes is run only when a far lobe's region borders the
  // object. bench_generate, grey cells, CPU median / p95 ms per click under load ~4.7 on 2 cores: without the
  // whole flood 11.4 / 14.8 and 10.6 / 13.8, always run 17.9 / 22.1, run only then 14.5 / 22.9 and 12.9 / 22.0.
  const cv::Mat labels = one_click_labels(field, {core_at}, {core_at}, true);
  cv::Mat object = labels == kBlobObject;
  cv::Mat around;
  cv::dilate(object, around, cv::Mat());
  const bool lobe_borders = cv::countNonZero(around & (labels == kBlobNeighbour)) > 0;  // far lobes' own label
  // Both floods go through the side-by-side split before they are compared: the split can cut a merged
  // neighbour from the whole flood and leave one nucleus. The neighbour the corrections hold back
  // (field.split_off) stays the one split from the held flood even when the whole flood is kept: with the whole
  // flood's instead, DSB corrected 15.93 -> 16.38 (one click the same; a small border nucleus 0.82 -> 0.66).
  cv::Mat whole;
  if (lobe_borders) {
    whole = one_click_object(field, {core_at}, {core_at}, false);  // before field.split_off marks a neighbour
    split_side_by_side(whole, core_at);
  }
  field.split_off = split_side_by_side(object, core_at);
  if (lobe_borders) {
    const double whole_fit = ellipse_fit_iou(whole);
    const bool differs = cv::countNonZero(whole != object) > 0;
    if (differs && whole_fit >= kMinWholeEllipseIoU && whole_fit > ellipse_fit_iou(object))
      object = whole;  // the far lobes cut an elongated nucleus (kMinWholeEllipseIoU)
  }
  const auto first = std::find_if(prompts.points.begin(), prompts.points.end(),
                                  [](const PromptPoint& p) { return p.positive; });
  std::vector<BlobClick> later;
  for (auto p = prompts.points.begin(); p != prompts.points.end(); ++p)
    if (p != first && out.roi.contains(cv::Point(static_cast<int>(p->x), static_cast<int>(p->y))))
      later.push_back({to_working({p->x, p->y}), p->positive});
  apply_blob_corrections(field, core_at, later, object);
  fill_holes(object);
  out.contrast = band_contrast(smooth, object);
  if (region.scale < 1.0) {
    cv::resize(object, object, out.roi.size(), 0, 0, cv::INTER_LINEAR);
    cv::threshold(object, object, 127, 255, cv::THRESH_BINARY);
  }
  out.mask = object;
  return out;
}

}  // namespace tessera::segment
