#pragma once

// Shared by the pipeline tests: an in-memory Source, a Writer that records what reached it, drawn images
// with exactly known objects, and the parse/create plumbing a front end would do.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "tessera/ops/registry.hpp"
#include "tessera/pipeline/engine.hpp"
#include "tessera/pipeline/spec.hpp"
#include "tessera/pipeline/writer.hpp"

namespace tessera::pipeline::test {

using json = nlohmann::json;

// One source item: a frame, or a failure to read it.
struct Item {
  std::string id;
  cv::Mat raw;
  std::string load_error;  // non-empty: load() reports it instead of a root
  json fields = json::object();
};

// Items held in memory. load() is thread-safe (it only reads) and counts its calls.
class VectorSource : public Source {
 public:
  explicit VectorSource(std::vector<Item> items) : items_(std::move(items)) {}
  std::size_t size() const override { return items_.size(); }
  Batch load(std::size_t index) const override {
    ++loads_;
    const Item& item = items_.at(index);
    Batch batch;
    batch.source = item.id + ".png";
    if (!item.load_error.empty()) {
      batch.load_error = item.load_error;
      return batch;
    }
    Object root;
    root.id = item.id;
    root.box = root.crop = cv::Rect(0, 0, item.raw.cols, item.raw.rows);
    root.facets["raw"] = ops::Facet::image(item.raw);
    root.metadata = {{"source", item.id + ".png"}, {"frame", 0}, {"fields", item.fields}};
    batch.objects.push_back(std::move(root));
    return batch;
  }
  int loads() const { return loads_.load(); }

 private:
  std::vector<Item> items_;
  mutable std::atomic<int> loads_{0};
};

// Records, in the order write() sees them, the ids of the objects of its stage (failed ones excluded),
// and how often finish() ran.
class RecordingWriter : public Writer {
 public:
  struct Ids : Prepared {
    std::vector<std::string> ids;
  };
  std::unique_ptr<Prepared> prepare(const Batch& batch, int stage) const override {
    auto out = std::make_unique<Ids>();
    for (size_t i = 0; i < batch.objects.size(); ++i) {
      if (batch.objects[i].stage == stage && !batch.is_failed(static_cast<int>(i))) out->ids.push_back(batch.objects[i].id);
    }
    return out;
  }
  void write(const Batch& batch, int, std::unique_ptr<Prepared> prepared) override {
    batches.push_back(batch.index);
    for (auto& id : static_cast<Ids*>(prepared.get())->ids) written.push_back(id);
  }
  void finish() override { ++finished; }
  json summary() const override { return {{"writer", "recording"}, {"objects", written.size()}}; }

  std::vector<std::string> written;
  std::vector<std::size_t> batches;
  int finished = 0;
};

// A grey 8-bit frame (background 20) with filled rectangles of value 200.
inline cv::Mat rects_image(cv::Size size, const std::vector<cv::Rect>& rects, int value = 200) {
  cv::Mat m(size, CV_8UC1, cv::Scalar(20));
  for (const cv::Rect& r : rects) m(r).setTo(value);
  return m;
}

// The front half of every pipeline that cuts out bright objects: threshold at 100, label, measure, split.
inline json split_nodes(int padding, const std::string& nested = "count") {
  return json::array({
      {{"op", "threshold_fixed"}, {"in", "raw"}, {"out", "mask"}, {"params", {{"value", 100}}}},
      {{"op", "label"}, {"in", "mask"}, {"out", "labels"}},
      {{"op", "regionprops"}, {"in", {{"labels", "labels"}, {"intensity", "raw"}}}, {"out", "features"}},
      {{"split", "extract_regions"}, {"labels", "labels"}, {"crop", {"raw"}}, {"padding", padding}, {"features", "features"},
       {"nested", nested}},
  });
}

inline json with_nodes(json nodes, const json& more) {
  for (const json& n : more) nodes.push_back(n);
  return {{"name", "test"}, {"nodes", std::move(nodes)}};
}

// A writer kind that makes RecordingWriters (allowed at any stage).
inline WriterKind recording_kind() {
  return {.name = "record",
          .summary = "test writer",
          .fields = {},
          .check = [](const json&, const std::map<std::string, ops::FacetKind>&, int) { return std::vector<std::string>{}; },
          .create = [](const json&) -> std::unique_ptr<Writer> { return std::make_unique<RecordingWriter>(); }};
}

inline std::vector<WriterKind> test_writer_kinds() {
  std::vector<WriterKind> kinds = file_writers();
  kinds.push_back(recording_kind());
  return kinds;
}

inline PipelineSpec parse(const json& pipeline) { return parse_pipeline(pipeline, ops::builtin_ops(), test_writer_kinds()); }

// The writers of a parsed pipeline, one per write node, as a front end creates them.
inline std::vector<std::unique_ptr<Writer>> create_writers(const PipelineSpec& spec) {
  const auto kinds = test_writer_kinds();
  std::vector<std::unique_ptr<Writer>> out;
  for (const Node& node : spec.nodes) {
    if (node.kind != Node::Kind::write) continue;
    auto kind = std::find_if(kinds.begin(), kinds.end(), [&](const WriterKind& k) { return k.name == node.name; });
    out.push_back(kind->create(node.params));
  }
  return out;
}

inline std::vector<Writer*> raw_pointers(const std::vector<std::unique_ptr<Writer>>& writers) {
  std::vector<Writer*> out;
  for (const auto& w : writers) out.push_back(w.get());
  return out;
}

// True when two images have the same size, type and pixels.
inline bool same_pixels(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size() || a.type() != b.type()) return false;
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  return cv::countNonZero(diff.reshape(1)) == 0;
}

}  // namespace tessera::pipeline::test
