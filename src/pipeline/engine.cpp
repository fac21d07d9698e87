#include "tessera/pipeline/engine.hpp"

#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "split.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/parallel.hpp"

namespace tessera::pipeline {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxErrors = 1000;

void run_op(const Node& node, const ops::OpRegistry& registry, Object& object) {
  ops::FacetMap inputs;
  for (const auto& [op_facet, object_facet] : node.in) {
    auto it = object.facets.find(object_facet);
    if (it == object.facets.end())
      throw Error(ErrorCode::invalid_argument, fmt::format("facet '{}' is missing", object_facet));
    inputs.emplace(op_facet, it->second);  // cv::Mat copies share pixels
  }
  ops::FacetMap outputs = registry.run(node.name, inputs, node.params);
  for (const auto& [op_facet, object_facet] : node.out) {
    auto it = outputs.find(op_facet);
    if (it != outputs.end()) object.facets[object_facet] = std::move(it->second);
  }
}

// Runs fn and returns its failure as text ("" when it succeeded), so one bad object does not stop the
// others. The caller stores it by index: fn may append to the batch, which moves its objects.
template <typename Fn>
std::string guarded(Fn&& fn) {
  try {
    fn();
    return {};
  } catch (const Error& e) {
    return e.what();
  } catch (const cv::Exception& e) {
    return fmt::format("OpenCV: {}", e.err.empty() ? e.what() : e.err);
  } catch (const std::bad_alloc&) {
    return "out of memory";
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace

bool Batch::is_failed(int i) const {
  for (int guard = 0; i >= 0 && guard < static_cast<int>(objects.size()) + 1; ++guard) {
    if (!objects[i].error.empty()) return true;
    i = objects[i].parent;
  }
  return false;
}

json RunStats::counts() const {
  json by_node = json::object();
  for (const auto& [name, s] : node_seconds) by_node[name] = std::round(s * 1000) / 1000;
  return {{"items", items}, {"roots", roots}, {"objects", objects}, {"failed", failed}, {"seconds_by_node", by_node}};
}

namespace {

double since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

void process_batch(const PipelineSpec& spec, const ops::OpRegistry& registry, Batch& batch, std::vector<double>* seconds) {
  for (const Node& node : spec.nodes) {
    const auto node_start = std::chrono::steady_clock::now();
    if (node.kind == Node::Kind::write) continue;
    std::optional<SplitSpec> split;
    if (node.kind == Node::Kind::split) split = split_spec(node);
    // Index loop: a split appends to batch.objects while we walk it.
    const size_t n = batch.objects.size();
    for (size_t i = 0; i < n; ++i) {
      if (batch.objects[i].stage != node.stage || batch.is_failed(static_cast<int>(i))) continue;
      const size_t before = batch.objects.size();
      std::string error = node.kind == Node::Kind::op
                              ? guarded([&] { run_op(node, registry, batch.objects[i]); })
                              : guarded([&] { split_regions(*split, batch, static_cast<int>(i), node.stage + 1); });
      if (!error.empty()) {
        batch.objects.resize(before);  // children a failed split appended go with it
        batch.objects[i].error = std::move(error);
        batch.objects[i].failed_node = node.index;
      }
    }
    if (seconds) (*seconds)[static_cast<size_t>(node.index)] += since(node_start);
  }
}

RunStats run_pipeline(const PipelineSpec& spec, const ops::OpRegistry& registry, const Source& source,
                      const std::vector<Writer*>& writers, const RunOptions& options) {
  std::vector<const Node*> write_nodes;
  for (const Node& node : spec.nodes) {
    if (node.kind == Node::Kind::write) write_nodes.push_back(&node);
  }
  if (write_nodes.size() != writers.size())
    throw Error(ErrorCode::internal, fmt::format("pipeline: {} write nodes but {} writers", write_nodes.size(), writers.size()));

  const auto start = std::chrono::steady_clock::now();
  RunStats stats;
  stats.objects.assign(static_cast<size_t>(spec.stages), 0);
  struct Done {
    Batch batch;
    std::vector<std::unique_ptr<Prepared>> prepared;
    std::vector<double> seconds;  // per node; a write node's slot holds its prepare time
    double load_seconds = 0;
  };
  std::vector<double> node_total(spec.nodes.size(), 0.0), write_total(spec.nodes.size(), 0.0);
  double load_total = 0;
  const int jobs = std::max(1, options.jobs);
  ordered_parallel_for<Done>(
      source.size(), jobs,
      [&](size_t i) {
        Done done;
        done.seconds.assign(spec.nodes.size(), 0.0);
        auto start_load = std::chrono::steady_clock::now();
        done.batch = source.load(i);
        done.batch.index = i;
        done.load_seconds = since(start_load);
        if (done.batch.load_error.empty()) process_batch(spec, registry, done.batch, &done.seconds);
        for (size_t w = 0; w < writers.size(); ++w) {
          const auto start_prepare = std::chrono::steady_clock::now();
          done.prepared.push_back(writers[w]->prepare(done.batch, write_nodes[w]->stage));
          done.seconds[static_cast<size_t>(write_nodes[w]->index)] += since(start_prepare);
        }
        if (options.fail_fast) {
          if (!done.batch.load_error.empty())
            throw Error(ErrorCode::io, fmt::format("{}: {}", done.batch.source, done.batch.load_error));
          for (const Object& o : done.batch.objects) {
            if (!o.error.empty())
              throw Error(ErrorCode::invalid_argument,
                          fmt::format("{}: {}: {} (stopped: --fail-fast)", o.id, spec.nodes[o.failed_node].label(), o.error));
          }
        }
        return done;
      },
      [&](size_t, Done&& done) {
        const Batch& batch = done.batch;
        ++stats.items;
        if (!batch.load_error.empty()) {
          ++stats.failed;
          if (stats.errors.size() < kMaxErrors) stats.errors.push_back({batch.source, "load", batch.load_error});
        }
        for (size_t i = 0; i < batch.objects.size(); ++i) {
          const Object& o = batch.objects[i];
          if (o.parent < 0) ++stats.roots;
          if (!o.error.empty()) {
            ++stats.failed;
            if (stats.errors.size() < kMaxErrors) stats.errors.push_back({o.id, spec.nodes[o.failed_node].label(), o.error});
          } else if (!batch.is_failed(static_cast<int>(i))) {
            ++stats.objects[static_cast<size_t>(o.stage)];
          }
        }
        for (size_t k = 0; k < node_total.size(); ++k) node_total[k] += done.seconds[k];
        load_total += done.load_seconds;
        for (size_t w = 0; w < writers.size(); ++w) {
          const auto start_write = std::chrono::steady_clock::now();
          writers[w]->write(batch, write_nodes[w]->stage, std::move(done.prepared[w]));
          write_total[static_cast<size_t>(write_nodes[w]->index)] += since(start_write);
        }
        if (options.on_item) options.on_item();
      },
      static_cast<size_t>(std::max(4, 3 * jobs)));
  for (size_t w = 0; w < writers.size(); ++w) {
    const auto start_finish = std::chrono::steady_clock::now();
    writers[w]->finish();
    write_total[static_cast<size_t>(write_nodes[w]->index)] += since(start_finish);
  }
  stats.node_seconds.emplace_back("load", load_total);
  for (const Node& node : spec.nodes) {
    if (node.kind == Node::Kind::write) {
      stats.node_seconds.emplace_back(node.label() + " prepare", node_total[static_cast<size_t>(node.index)]);
      stats.node_seconds.emplace_back(node.label() + " write", write_total[static_cast<size_t>(node.index)]);
    } else {
      stats.node_seconds.emplace_back(node.label(), node_total[static_cast<size_t>(node.index)]);
    }
  }
  stats.seconds = since(start);
  return stats;
}

}  // namespace tessera::pipeline
