#pragma once

// Object edits on label images and masks, the pixel side of "fix the segmentation by hand": a skeleton
// stroke merges the over-segmented parts of one object, point markers split touching objects, and an
// outline stroke marks certain background that the split must cut along. Pure: cv::Mat in, cv::Mat out,
// no catalog. Coordinates are pixels of the given Mat (x = column, y = row).

#include <cstdint>
#include <optional>
#include <vector>

#include <opencv2/core.hpp>

namespace tessera::segment {

// A polyline drawn by the user: its pixels are those within width / 2 of the segments (round caps).
struct Stroke {
  std::vector<cv::Point2d> points;  // at least one point
  double width = 3;                 // pixels, in [1, 256]
};

// Throws Error{invalid_argument} naming `field` (e.g. "stroke.points[2]", "stroke.width") when a point
// lies outside a size.width x size.height image, the width is out of range or there are no points.
void check_stroke(const Stroke& stroke, cv::Size size, const char* field);

// The stroke's pixels as a CV_8U mask of `size` (255 on the stroke).
cv::Mat stroke_mask(const Stroke& stroke, cv::Size size);

// Merging masks: the union of the masks the stroke touches, joined by the stroke's pixels that fall inside
// the union's morphological closing (a round kernel just wider than the largest gap the stroke crosses), so
// the ends of a stroke drawn past the objects are not added. If that closing still leaves the parts apart
// (a stroke curving through a wide gap), the stroke's whole span between its first and last contact is
// added instead, so the result is always one connected object.
struct MaskMerge {
  cv::Mat mask;                     // CV_8U, 255 = the merged object
  std::vector<std::size_t> merged;  // indices of the input masks the stroke touched, ascending
  int bridge_pixels = 0;            // pixels added that were in none of the merged masks
};

// `masks`: CV_8U, all of one size, non-zero = object. Error{invalid_argument} naming "stroke" when the
// stroke touches fewer than two of them, or as check_stroke.
MaskMerge merge_masks_by_stroke(const std::vector<cv::Mat>& masks, const Stroke& stroke);

// The same on a label image (CV_32S, 0 = background): every label the stroke touches becomes the smallest
// of them; the stroke's bridge pixels take it too.
struct LabelMerge {
  cv::Mat labels;                      // CV_32S, a copy of the input with the merge applied
  std::int32_t label = 0;              // the label the merged object carries
  std::vector<std::int32_t> absorbed;  // labels that no longer exist, ascending
};
LabelMerge merge_labels_by_stroke(const cv::Mat& labels, const Stroke& stroke);

// Splitting one object: a marker-based watershed on the object's own pixels. The relief is the negated
// Euclidean distance to the background, flooded from the markers in priority order (ties first come,
// first served, i.e. by geodesic distance on plateaus), 8-connected and never leaving the object. It is a
// priority flood of the relief itself rather than cv::watershed, because cv::watershed floods by the
// colour difference between neighbouring pixels, which on a distance map is ~1 everywhere and degrades to
// a geodesic Voronoi split: that cuts halfway between the markers, across the larger of two touching cells
// of unequal size, instead of at the neck between them.
//
// Pixels of the outline stroke are certain background: they leave the object before flooding, so the
// split runs along the stroke. Object pixels no marker can reach (cut off by the outline) go to the marker
// nearest in straight line.
struct ObjectSplit {
  cv::Mat labels;                // CV_32S, the mask's size: 0 outside, i + 1 = the part of markers[i]
  std::vector<int> part_pixels;  // pixels per part, by marker
  int removed_pixels = 0;        // object pixels that became background (under the outline)
};

// `object`: CV_8U, non-zero = the object. Error{invalid_argument} naming "markers" for fewer than two,
// "markers[i]" for one outside the image, outside the object, under the outline or on another marker's
// pixel, and "outline..." as check_stroke.
ObjectSplit split_by_markers(const cv::Mat& object, const std::vector<cv::Point2d>& markers,
                             const std::optional<Stroke>& outline = std::nullopt);

// The same on one label of a label image: the label keeps the first marker's part, the others get new
// labels above the image's largest.
struct LabelSplit {
  cv::Mat labels;                   // CV_32S
  std::vector<std::int32_t> parts;  // the label of each marker's part, by marker (parts[0] = the label)
};
LabelSplit split_label_by_markers(const cv::Mat& labels, std::int32_t label, const std::vector<cv::Point2d>& markers,
                                  const std::optional<Stroke>& outline = std::nullopt);

}  // namespace tessera::segment
