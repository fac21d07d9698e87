#pragma once

#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "tessera/app/workspace.hpp"

namespace tessera::app {

// `tessera augment`: geometric augmentation of an annotated set into a new set. Images and their masks are
// moved by the same exact pixel operations (quarter turns, mirror, whole-pixel shifts; ops/augment.hpp), so
// labels never blend; --size resizes first (area for images, nearest for labels).
//
// The eighths scheme: a rotation/flip d (rotations from the list, each without and, with --flip, with a
// left-right mirror) combined with one shift of k/8 of the side (k from the --translate range) along x or
// along y, zeros shifted in. With translations, the variants are the original plus every d x shift; without,
// the original plus every d. Full scheme (--rot 0,90,180,270 --flip --translate 1/8:7/8):
// 1 + (4 x 2) x (7 x 2) = 113 variants per image.
struct AugmentScheme {
  std::vector<int> rotations{0};  // degrees counterclockwise, each of 0, 90, 180, 270, no repeats
  bool flip = false;
  std::vector<int> eighths;  // shift fractions k/8, k in 1..7; empty = no translation
  int size = 0;              // > 0: resize to size x size first
};

// "0,90,180,270", "1/8:7/8" (a range of eighths) or "2/8,4/8"; Error{invalid_argument} naming the option.
AugmentScheme parse_augment_scheme(const std::string& rotations, bool flip, const std::string& translate, int size);

struct AugmentVariant {
  int rotation = 0;
  bool flip = false;
  int shift_x = 0;  // eighths of the width, positive = right
  int shift_y = 0;  // eighths of the height, positive = down
  bool is_identity() const { return rotation == 0 && !flip && shift_x == 0 && shift_y == 0; }
  std::string name() const;  // "r90_f_x3_y0"; "orig" for the identity
};

// The original first, then the scheme's variants in a fixed order (rotation, flip, axis, k).
std::vector<AugmentVariant> augment_variants(const AugmentScheme& scheme);

// One variant of an image (labels: true for label/mask images, resized with nearest neighbour).
cv::Mat apply_variant(const cv::Mat& image, const AugmentVariant& variant, int size, bool labels);

struct AugmentSetOptions {
  std::string set;      // source set
  std::string out_set;  // empty = "<set>_augmented"
  AugmentScheme scheme;
  std::string actor = "tessera";
};

struct AugmentSetResult {
  std::string out_set;
  int images_in = 0;
  int variants_per_image = 0;
  int images_out = 0;
  int annotations_out = 0;
  std::vector<std::string> problems;  // images skipped (multi-frame, undecodable), named
};

// For every single-frame image of the set with its mask annotations (frame 0): each variant is stored as a
// new image (PNG; TIFF for float), with metadata {"augment": {source image id, variant}} for provenance, added
// to out_set, and every object's moved mask stored as a 'generated' mask annotation with the original's tag
// and source_ref {"augment_of": annotation id, "variant": name}; objects moved out of the frame are dropped.
// Error{not_found} for a missing set; Error{invalid_argument} when the set has no mask annotations.
AugmentSetResult augment_set(Workspace& workspace, catalog::Id project_id, const AugmentSetOptions& options);

}  // namespace tessera::app
