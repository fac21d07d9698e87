#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/ops/registry.hpp"
#include "tessera/pipeline/writer.hpp"

namespace tessera::pipeline {

// A pipeline file, parsed and checked. The JSON form:
//   {"name": "...", "description": "...",
//    "input": {"set": "S"} | {"where": "..."} | {"dir": "D", "pattern": "P"},       (optional, CLI overrides)
//    "nodes": [
//      {"op": "threshold_otsu", "in": {"image": "gray"}, "out": {"mask": "mask"}, "params": {...}},
//      {"split": "extract_regions", "labels": "labels", "crop": ["raw", "gray"], "padding": 10,
//       "features": "features", "nested": "count" | "children" | "ignore"},
//      {"write": "ecotaxa" | "csv" | "images" | "catalog", ...writer fields}]}
// An op node's "in"/"out" map the op's facet names to the object's facet names; a missing entry keeps the
// op's own name ("in": "gray" maps the op's first input, "out": "mask" its first output). Outputs not
// mapped are dropped unless the op has a single output. Roots start with the facet "raw" (the frame).
// A split node turns each labelled region of the current objects into a child object whose facets are the
// listed crops plus "mask" (the region's own pixels); later nodes work on those children. Writers consume
// the objects of the stage they follow.
struct Node {
  enum class Kind { op, split, write };
  Kind kind = Kind::op;
  int index = 0;                         // position in "nodes", for messages
  int stage = 0;                         // objects this node applies to: 0 = roots, k = after the k-th split
  std::string name;                      // op name, split name or writer name
  std::map<std::string, std::string> in;   // op facet -> object facet (ops only)
  std::map<std::string, std::string> out;  // op facet -> object facet (ops only)
  nlohmann::json params = nlohmann::json::object();  // ops: validated with defaults; split/write: the node
  std::string label() const;             // "node 3 (threshold_otsu)"
};

// Split node options, read from the node's JSON.
struct SplitSpec {
  std::string labels = "labels";           // facet holding the label image
  std::vector<std::string> crop;           // facets cut out for each region
  std::string mask = "mask";               // facet name of the region's own mask
  std::string features;                    // optional table facet with one row per label ("label" column)
  int padding = 10;
  enum class Nested { count, children, ignore } nested = Nested::count;
};
SplitSpec split_spec(const Node& node);

struct PipelineSpec {
  std::string name;
  std::string description;
  nlohmann::json input;  // null when the file names none
  std::vector<Node> nodes;
  int stages = 1;        // 1 + number of split nodes
  nlohmann::json source; // the file as given, recorded with every run
};

// Parses and checks a pipeline: unknown ops or writers, unknown fields, facets that are missing or of the
// wrong kind where a node needs them, and bad parameters. Every problem is collected; if any, throws one
// Error{invalid_argument} listing them, one per line, each naming its node.
PipelineSpec parse_pipeline(const nlohmann::json& source, const ops::OpRegistry& registry,
                            const std::vector<WriterKind>& writers);

}  // namespace tessera::pipeline
