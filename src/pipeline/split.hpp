#pragma once

#include "tessera/pipeline/object.hpp"
#include "tessera/pipeline/spec.hpp"

namespace tessera::pipeline {

// Appends to the batch one child per labelled region of objects[parent] (ascending label), cut out with
// ops::extract_regions: each child gets the split's crops of the parent's facets, its own mask, its box and
// crop in root coordinates, and its row of the features table. Regions lying in a hole of another region
// (a particle inside an aggregate) are, per split.nested: counted on the outer region only (count), emitted
// as children of the outer region (children), or treated like any other region (ignore).
// Error{invalid_argument} when facets are missing or their sizes differ from the label image.
void split_regions(const SplitSpec& split, Batch& batch, int parent, int child_stage);

}  // namespace tessera::pipeline
