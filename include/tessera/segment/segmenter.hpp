#pragma once

// Point-prompted segmentation: the one interface every mask generator implements (the weight-free default,
// an ONNX model through OpenCV DNN), so the CLI, the HTTP API and propagation call the same thing.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace tessera::segment {

// A click in image pixel coordinates (x = column, y = row); positive = "this is the object".
struct PromptPoint {
  double x = 0;
  double y = 0;
  bool positive = true;
};

// What the user (or propagation) tells the segmenter about the object.
struct Prompts {
  std::vector<PromptPoint> points;
  std::optional<cv::Rect> box;  // the object lies inside it (optional)
  // A prior mask of the object (CV_8U, image size, 0 / non-zero), e.g. the previous frame's mask warped by
  // optical flow. Implementations seed from it: its eroded interior as foreground, outside its dilation as
  // background. Empty when none.
  cv::Mat prior_mask;
};

struct SegmentResult {
  cv::Mat mask;             // CV_8U, image size, 0 or 255
  double confidence = 0;    // 0..1, the implementation's own estimate of how good the mask is
  std::string method;       // which path made it (e.g. "blob_watershed", "grabcut"): for measurements and logs
};

class Segmenter {
 public:
  virtual ~Segmenter() = default;
  virtual std::string name() const = 0;
  // `image`: 8- or 16-bit, or float, 1 or 3 channels. Error{invalid_argument} naming the field when a point
  // lies outside the image, no positive point and no prior mask/box is given, or the prior's size differs.
  virtual SegmentResult segment(const cv::Mat& image, const Prompts& prompts) const = 0;
};

// How to build a segmenter: "default" (no model weights) or "onnx" with a model path.
// The ONNX contract: input 1x4xSxS float32 (S = input_size): R, G, B in [0, 1] (grey images repeated) of the
// prompt's region (the box grown by 10 %, else the prior mask's bounds, else the whole image) resized to SxS,
// and a prompt channel (+1 in small disks at positive points, -1 at negative ones, 0 elsewhere); output
// 1x1xSxS or 1xSxS, foreground probability (values outside [0, 1] are taken as logits).
struct SegmenterConfig {
  std::string kind = "default";
  std::string model_path;  // kind = onnx
  int input_size = 256;    // kind = onnx: S
};

// Error{invalid_argument} for an unknown kind; Error{not_found}/Error{invalid_argument} naming the model path
// when the model is missing or incompatible.
std::unique_ptr<Segmenter> make_segmenter(const SegmenterConfig& config = {});

}  // namespace tessera::segment
