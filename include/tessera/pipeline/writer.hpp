#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/ops/op.hpp"
#include "tessera/pipeline/object.hpp"

namespace tessera::pipeline {

// What a writer computes off the ordered path (encoded images, formatted rows) for one batch.
struct Prepared {
  virtual ~Prepared() = default;
};

// The end of a pipeline: consumes the objects of one stage. prepare() runs on worker threads, concurrently
// for different batches (it must not touch shared state); write() runs on one thread in source order, so
// outputs are deterministic. finish() completes the output (an archive, a CSV); a writer destroyed without
// finish() leaves no partial output at its final path.
class Writer {
 public:
  virtual ~Writer() = default;
  virtual std::unique_ptr<Prepared> prepare(const Batch& batch, int stage) const = 0;
  virtual void write(const Batch& batch, int stage, std::unique_ptr<Prepared> prepared) = 0;
  virtual void finish() = 0;
  virtual nlohmann::json summary() const = 0;  // what was written (paths, counts), kept with the run
};

// A kind of writer, as pipeline files name it ("write": "csv").
struct WriterKind {
  std::string name;
  std::string summary;
  std::vector<std::string> fields;  // allowed fields besides "write"
  // Problems with the node's fields, given the facets available at its stage (name -> kind) and the stage.
  std::function<std::vector<std::string>(const nlohmann::json& node,
                                         const std::map<std::string, ops::FacetKind>& facets, int stage)>
      check;
  std::function<std::unique_ptr<Writer>(const nlohmann::json& node)> create;
};

// The writers that need nothing but files: "csv", "images" and "ecotaxa".
std::vector<WriterKind> file_writers();

}  // namespace tessera::pipeline
