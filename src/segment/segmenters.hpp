#pragma once

// The implementations behind make_segmenter(); private to the segment layer.

#include <memory>
#include <string>

#include "tessera/segment/segmenter.hpp"

namespace tessera::segment {

// Weight-free default: GrabCut-style graph cuts in an adaptive ROI (graph_cut_segmenter.cpp).
std::unique_ptr<Segmenter> make_graph_cut_segmenter();

// A user-supplied ONNX model through OpenCV DNN (onnx_segmenter.cpp).
std::unique_ptr<Segmenter> make_onnx_segmenter(const std::string& model_path, int input_size);

}  // namespace tessera::segment
