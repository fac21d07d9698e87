// A user-supplied ONNX segmentation model behind the Segmenter interface (contract in segmenter.hpp), so a
// SAM-like model can replace the graph cut without touching callers. The model is checked once at load with a
// zero input: a model that cannot take 1x4xSxS or answers another shape is rejected there, not mid-request.

#include <cmath>
#include <filesystem>
#include <mutex>

#include <fmt/format.h>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "segment/graph_cut.hpp"
#include "segment/prompt_validation.hpp"
#include "segment/segmenters.hpp"
#include "tessera/core/error.hpp"

namespace tessera::segment {

namespace {

std::string shape_text(const cv::Mat& blob) {
  std::string out;
  for (int i = 0; i < blob.dims; ++i) out += (i ? "x" : "") + std::to_string(blob.size[i]);
  return out;
}

// The output as an SxS probability map, or empty when its shape does not fit.
cv::Mat probability_map(const cv::Mat& output, int size) {
  const bool fits = (output.dims == 4 && output.size[0] == 1 && output.size[1] == 1 && output.size[2] == size &&
                     output.size[3] == size) ||
                    (output.dims == 3 && output.size[0] == 1 && output.size[1] == size && output.size[2] == size);
  if (!fits || output.depth() != CV_32F) return {};
  cv::Mat map(size, size, CV_32F, const_cast<float*>(output.ptr<float>()));
  map = map.clone();
  double lo = 0, hi = 0;
  cv::minMaxLoc(map, &lo, &hi);
  if (lo < 0 || hi > 1) {  // logits
    cv::exp(-map, map);
    map = 1.0 / (1.0 + map);
  }
  return map;
}

class OnnxSegmenter final : public Segmenter {
 public:
  OnnxSegmenter(std::string path, int size) : path_(std::move(path)), size_(size) {
    if (!std::filesystem::is_regular_file(path_))
      throw Error(ErrorCode::not_found, fmt::format("segmenter: ONNX model '{}' not found", path_));
    try {
      net_ = cv::dnn::readNetFromONNX(path_);
    } catch (const cv::Exception& e) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("segmenter: ONNX model '{}' could not be read: {}", path_, e.what()));
    }
    if (net_.empty()) throw Error(ErrorCode::invalid_argument, fmt::format("segmenter: ONNX model '{}' is empty", path_));
    const int shape[] = {1, 4, size_, size_};
    cv::Mat probe(4, shape, CV_32F, cv::Scalar(0));
    cv::Mat output;
    try {
      net_.setInput(probe);
      output = net_.forward();
    } catch (const cv::Exception& e) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("segmenter: ONNX model '{}' does not accept a 1x4x{}x{} input: {}", path_, size_,
                              size_, e.what()));
    }
    if (probability_map(output, size_).empty())
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("segmenter: ONNX model '{}' answers {} (float32 1x1x{}x{} or 1x{}x{} expected)", path_,
                              shape_text(output), size_, size_, size_, size_));
  }

  std::string name() const override { return "onnx:" + std::filesystem::path(path_).filename().string(); }

  SegmentResult segment(const cv::Mat& image, const Prompts& prompts) const override {
    validate_prompts(image, prompts);
    const cv::Mat image8 = to_display_8bit(image);
    const cv::Rect whole(0, 0, image.cols, image.rows);
    cv::Rect region = whole;
    if (prompts.box) {
      const cv::Rect b = *prompts.box;
      region = cv::Rect(b.x - b.width / 10, b.y - b.height / 10, b.width + b.width / 5, b.height + b.height / 5) & whole;
    } else if (!prompts.prior_mask.empty() && cv::countNonZero(prompts.prior_mask) > 0) {
      const cv::Rect b = cv::boundingRect(prompts.prior_mask);
      region = cv::Rect(b.x - b.width / 4, b.y - b.height / 4, b.width + b.width / 2, b.height + b.height / 2) & whole;
    }
    cv::Mat rgb;
    cv::resize(image8(region), rgb, cv::Size(size_, size_), 0, 0, cv::INTER_AREA);
    if (rgb.channels() == 1) cv::cvtColor(rgb, rgb, cv::COLOR_GRAY2RGB);
    else cv::cvtColor(rgb, rgb, cv::COLOR_BGR2RGB);
    cv::Mat prompt_channel(size_, size_, CV_32F, cv::Scalar(0));
    const int radius = std::max(1, size_ * 3 / 100);
    for (const auto& p : prompts.points) {
      if (!region.contains(cv::Point(static_cast<int>(p.x), static_cast<int>(p.y)))) continue;
      const cv::Point at(static_cast<int>((p.x - region.x) * size_ / region.width),
                         static_cast<int>((p.y - region.y) * size_ / region.height));
      cv::circle(prompt_channel, at, radius, p.positive ? 1.0 : -1.0, cv::FILLED);
    }
    const int shape[] = {1, 4, size_, size_};
    cv::Mat input(4, shape, CV_32F);
    std::vector<cv::Mat> planes;
    cv::split(rgb, planes);
    for (int c = 0; c < 4; ++c) {
      cv::Mat plane(size_, size_, CV_32F, input.ptr<float>(0, c));
      if (c < 3) planes[c].convertTo(plane, CV_32F, 1.0 / 255);
      else prompt_channel.copyTo(plane);
    }
    cv::Mat probability;
    {
      std::lock_guard lock(mutex_);  // cv::dnn::Net::forward is not re-entrant
      try {
        net_.setInput(input);
        probability = probability_map(net_.forward(), size_);
      } catch (const cv::Exception& e) {
        throw Error(ErrorCode::internal, fmt::format("segmenter: ONNX model '{}' failed: {}", path_, e.what()));
      }
    }
    cv::Mat resized;
    cv::resize(probability, resized, region.size(), 0, 0, cv::INTER_LINEAR);
    SegmentResult result;
    result.mask = cv::Mat::zeros(image.size(), CV_8U);
    cv::Mat target = result.mask(region);
    target.setTo(255, resized > 0.5f);  // strictly: a logit of 0 says nothing
    // Confidence: the model's mean certainty |2p - 1| over the pixels it calls foreground.
    const cv::Mat certainty = cv::abs(2 * resized - 1);
    result.confidence = cv::countNonZero(target) > 0 ? cv::mean(certainty, target)[0] : 0.0;
    return result;
  }

 private:
  std::string path_;
  int size_;
  mutable cv::dnn::Net net_;
  mutable std::mutex mutex_;
};

}  // namespace

std::unique_ptr<Segmenter> make_onnx_segmenter(const std::string& model_path, int input_size) {
  return std::make_unique<OnnxSegmenter>(model_path, input_size);
}

}  // namespace tessera::segment
