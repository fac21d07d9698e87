#include "tessera/segment/segmenter.hpp"

#include <fmt/format.h>

#include "segment/segmenters.hpp"
#include "tessera/core/error.hpp"

namespace tessera::segment {

std::unique_ptr<Segmenter> make_segmenter(const SegmenterConfig& config) {
  if (config.kind == "default" || config.kind == "graph_cut") return make_graph_cut_segmenter();
  if (config.kind == "onnx") {
    if (config.model_path.empty())
      throw Error(ErrorCode::invalid_argument, "segmenter: kind 'onnx' needs a model_path");
    if (config.input_size < 16 || config.input_size > 4096)
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("segmenter: input_size must be in [16, 4096], got {}", config.input_size));
    return make_onnx_segmenter(config.model_path, config.input_size);
  }
  throw Error(ErrorCode::invalid_argument,
              fmt::format("segmenter: kind must be 'default' or 'onnx', got '{}'", config.kind));
}

}  // namespace tessera::segment
