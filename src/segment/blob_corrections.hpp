#pragma once

// Clicks after the first on the blob path, as edits of the object the first '+' click made, so that a
// correction changes only the part of the mask it is about. Re-flooding with every click as a marker of its
// own (disks of a quarter radius) moved whole boundaries: on the DSB nuclei the corrective click made the
// objects that were already at IoU 0.8-0.9 worse (summed loss 6.37 -> 6.80) and those >= 0.9 too
// (2.47 -> 3.07).

#include <vector>

#include <opencv2/core.hpp>

#include "segment/blob_field.hpp"

namespace tessera::segment {

struct BlobClick {
  cv::Point at;  // working pixels of the field
  bool positive = true;
};

// `object`: CV_8U 0/255 of the field's size, the first click's object (its core at `first`); edited in place,
// click by click in order: a click near the outline moves that stretch of it past the click (a band along
// the outline about twice the click's distance to it wide), a '-' deeper inside removes the part of the
// object it floods first, a '+' whose band is itself alone or that lies deep in a second object (foreground
// the object does not touch) adds the part near it that a ground level just below its own adds (else the
// region it floods first), a click the object already agrees with changes nothing.
void apply_blob_corrections(const BlobField& field, cv::Point first, const std::vector<BlobClick>& clicks,
                            cv::Mat& object);

}  // namespace tessera::segment
