#pragma once

// What the blob path (blob_cut.hpp) floods on, shared by its one-click cut and the corrective clicks after it
// (blob_corrections.hpp): the ROI's working copy with the object made bright, the sure ground, the flood's
// elevation, and the markers that stand for everything that is not the clicked object.

#include <vector>

#include <opencv2/core.hpp>

namespace tessera::segment {

// Marker labels of the blob floods; every label from kBlobNeighbour up is some other nucleus.
enum BlobLabel : int { kBlobGround = 1, kBlobObject = 2, kBlobNeighbour = 3 };

// One ROI in working pixels (the object's radius spans at most a few dozen of them).
struct BlobField {
  cv::Mat signed_raw;     // CV_32F: grey levels, negated for a dark object, so the object is always bright
  cv::Mat signed_smooth;  // CV_32F: signed_raw smoothed at 1 px
  double ground_shade = 0;  // the ground's signed grey level: the ROI's 10th percentile (90th for a dark object)
  double contrast = 0;    // the click's core level minus the ground's (signed grey levels)
  double level = 0;       // signed grey level below which pixels are ground (first: 0.45 of the contrast up)
  cv::Mat ground;         // CV_8U 255 where signed_smooth is below `level`: sure background
  cv::Mat to_ground;      // CV_32F: distance (working pixels) to the nearest ground pixel
  cv::Mat elevation;      // CV_32F: gradient magnitude plus the shape term (high near the ground)
  double radius = 0;      // the clicked object's radius (working pixels)
  cv::Mat split_off;      // CV_8U 255 on the neighbour the one-click cut split off the first flood
                          // (blob_split.hpp); empty when it split nothing
};

// Labels (CV_32S, field size) marking what is not the object (working pixels): the ground, every foreground
// pixel too far from all `positives` to be the object, the centres of blobs not near any of `centres`, and
// the split-off neighbour unless a positive lies in it. Without `hold_far_lobes` the far foreground is left to
// the flood (blob_cut.cpp: the one-click cut's test for an elongated nucleus).
cv::Mat context_markers(const BlobField& field, const std::vector<cv::Point>& positives,
                        const std::vector<cv::Point>& centres, bool hold_far_lobes = true);

// Moves the ground level: ground, distance to it and (once set) the elevation follow; the radius stays.
void set_ground_level(BlobField& field, double level);

// The object the first click makes: a flood from a disk of a quarter radius at `centres.front()` (the first
// click) against the context markers of `positives` (far lobes, unless not `hold_far_lobes`) and `centres`
// (no neighbour centre near them).
cv::Mat one_click_object(const BlobField& field, const std::vector<cv::Point>& positives,
                         const std::vector<cv::Point>& centres, bool hold_far_lobes = true);

}  // namespace tessera::segment
