#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "tessera/ops/op.hpp"

namespace tessera::pipeline {

// One thing flowing through a pipeline: an image frame a loader produced (a root), or a region a split node
// cut out of its parent. Facets hold the pixels and tables the nodes compute; metadata holds what is known
// about the object (the loader's fields for a root; label, boxes, features and nesting for a region).
struct Object {
  std::string id;           // unique within a run: "<root id>_<label>" for regions, nested below their outer
  int parent = -1;          // index of the parent in its Batch, -1 for the root
  int stage = 0;            // 0 = root; k = emitted by the k-th split node
  cv::Rect box;             // the object's own bounding box in the root image (root: the whole image)
  cv::Rect crop;            // what its facets cover, in root-image coordinates (box grown by padding)
  ops::FacetMap facets;
  nlohmann::json metadata = nlohmann::json::object();
  std::string error;        // set when a node failed on it: the object and its descendants stop there
  int failed_node = -1;     // index of that node
};

// A root and every object derived from it, in a deterministic order (parents before their children,
// regions in ascending label order). One batch is processed by one worker from loading to writer prepare.
struct Batch {
  std::size_t index = 0;    // position of the source item the batch came from
  std::vector<Object> objects;
  std::string load_error;   // the source item could not be loaded; objects is then empty
  std::string source;       // how the source item is named in messages (file path, "image 42")

  // True when the object or any ancestor failed.
  bool is_failed(int i) const;
};

}  // namespace tessera::pipeline
