#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/ops/registry.hpp"
#include "tessera/pipeline/object.hpp"
#include "tessera/pipeline/spec.hpp"
#include "tessera/pipeline/writer.hpp"

namespace tessera::pipeline {

// Where root objects come from: a catalog query, a directory, a list in a test. load() is called from
// worker threads, concurrently, and must be thread-safe. One item may give several roots (the frames of a
// multi-page file). A failure to read an item is reported in Batch::load_error, not thrown.
class Source {
 public:
  virtual ~Source() = default;
  virtual std::size_t size() const = 0;
  virtual Batch load(std::size_t index) const = 0;
};

struct RunOptions {
  int jobs = 1;
  bool fail_fast = false;  // stop at the first failing object instead of recording it and going on
  std::function<void()> on_item;  // called once per source item, in order, after its objects were written
};

struct ObjectError {
  std::string object;  // object id, or the source item when it could not be loaded
  std::string node;    // "node 3 (threshold_otsu)", or "load"
  std::string message;
};

struct RunStats {
  std::int64_t items = 0;             // source items processed
  std::int64_t roots = 0;
  std::vector<std::int64_t> objects;  // per stage, objects that went through every node of their stage
  std::int64_t failed = 0;            // objects (or unreadable items) that failed
  std::vector<ObjectError> errors;    // the first 1,000 failures, in source order
  double seconds = 0;
  // Where the time went, summed over workers: "load", each node's label, each writer's "prepare"/"write".
  std::vector<std::pair<std::string, double>> node_seconds;
  nlohmann::json counts() const;      // {"items", "roots", "objects", "failed", "seconds_by_node"}
};

// Streams every source item through the nodes and hands the results to the writers (one per write node,
// in node order), with `jobs` workers and deterministic output order. Memory stays bounded by a window of
// items in flight. A node failing on an object records the failure and the rest goes on (unless
// fail_fast: the failure is rethrown, naming the object and node, with its own code). Writer errors stop the run.
RunStats run_pipeline(const PipelineSpec& spec, const ops::OpRegistry& registry, const Source& source,
                      const std::vector<Writer*>& writers, const RunOptions& options);

// The nodes of a pipeline applied to one batch in place (what each worker does; exposed for tests).
// seconds, when given, gets each node's time added at the node's index.
void process_batch(const PipelineSpec& spec, const ops::OpRegistry& registry, Batch& batch,
                   std::vector<double>* seconds = nullptr);

}  // namespace tessera::pipeline
