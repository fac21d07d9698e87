// The ONNX segmenter on models written here byte by byte (no onnx Python package on this machine): a 1x1
// convolution that passes the prompt channel through (so the mask is the disks drawn at positive clicks), one
// that answers two channels, one that expects three input channels, a missing file and a file of garbage.

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tessera/core/error.hpp"
#include "tessera/segment/segmenter.hpp"

namespace fs = std::filesystem;
using tessera::Error;
using tessera::ErrorCode;
using tessera::segment::make_segmenter;
using tessera::segment::Prompts;
using tessera::segment::SegmenterConfig;

namespace {

// Protocol buffer encoding, just enough for onnx.proto's ModelProto.
std::string varint(std::uint64_t v) {
  std::string out;
  do {
    std::uint8_t byte = v & 0x7f;
    v >>= 7;
    out.push_back(static_cast<char>(byte | (v ? 0x80 : 0)));
  } while (v);
  return out;
}
std::string field_varint(int field, std::uint64_t v) { return varint(static_cast<std::uint64_t>(field) << 3) + varint(v); }
std::string field_bytes(int field, const std::string& bytes) {
  return varint((static_cast<std::uint64_t>(field) << 3) | 2) + varint(bytes.size()) + bytes;
}

std::string value_info(const std::string& name, const std::vector<int>& dims) {
  std::string shape;
  for (int d : dims) shape += field_bytes(1, field_varint(1, d));                 // TensorShapeProto.dim.dim_value
  const std::string tensor = field_varint(1, 1) + field_bytes(2, shape);          // elem_type FLOAT, shape
  return field_bytes(1, name) + field_bytes(2, field_bytes(1, tensor));           // name, TypeProto.tensor_type
}

// A model computing Conv(X, W) with W of shape [out, in, 1, 1] (bias-free), X declared 1 x in x size x size.
std::string conv_model(int out_channels, int in_channels, const std::vector<float>& weights, int size) {
  std::string raw(reinterpret_cast<const char*>(weights.data()), weights.size() * sizeof(float));
  const std::string initializer = field_varint(1, out_channels) + field_varint(1, in_channels) + field_varint(1, 1) +
                                  field_varint(1, 1) + field_varint(2, 1) + field_bytes(8, "W") + field_bytes(9, raw);
  // AttributeProto kernel_shape = [1, 1] (type INTS): OpenCV's importer needs it spelled out.
  const std::string kernel = field_bytes(1, "kernel_shape") + field_varint(8, 1) + field_varint(8, 1) + field_varint(20, 7);
  const std::string node = field_bytes(1, "X") + field_bytes(1, "W") + field_bytes(2, "Y") + field_bytes(4, "Conv") +
                           field_bytes(5, kernel);
  const std::string graph = field_bytes(1, node) + field_bytes(2, "g") + field_bytes(5, initializer) +
                            field_bytes(11, value_info("X", {1, in_channels, size, size})) +
                            field_bytes(12, value_info("Y", {1, out_channels, size, size}));
  return field_varint(1, 7) + field_bytes(7, graph) + field_bytes(8, field_varint(2, 13));  // ir 7, opset 13
}

class OnnxSegmenter : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tessera_onnx_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& bytes) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
  fs::path dir_;
};

ErrorCode code_of(const SegmenterConfig& config, std::string* message) {
  try {
    make_segmenter(config);
  } catch (const Error& e) {
    *message = e.what();
    return e.code();
  }
  ADD_FAILURE() << "no error for " << config.model_path;
  return ErrorCode::internal;
}

TEST_F(OnnxSegmenter, PassThroughModelMasksThePositiveClick) {
  const std::string path = write("prompt.onnx", conv_model(1, 4, {0, 0, 0, 1}, 64));
  const auto segmenter = make_segmenter({"onnx", path, 64});
  EXPECT_EQ(segmenter->name(), "onnx:prompt.onnx");
  cv::Mat image(128, 128, CV_8UC3, cv::Scalar(40, 80, 120));
  Prompts prompts;
  prompts.points = {{64, 64, true}, {20, 20, false}};
  const auto result = segmenter->segment(image, prompts);
  ASSERT_EQ(result.mask.size(), image.size());
  EXPECT_EQ(result.mask.at<uchar>(64, 64), 255);
  EXPECT_EQ(result.mask.at<uchar>(20, 20), 0);
  EXPECT_EQ(result.mask.at<uchar>(100, 30), 0);
  const int area = cv::countNonZero(result.mask);
  EXPECT_GT(area, 10);
  EXPECT_LT(area, 200);  // a disk of ~3 % of the input size, scaled back: radius ~2 * 2 px
  EXPECT_GT(result.confidence, 0.0);
}

TEST_F(OnnxSegmenter, MissingModelIsNotFoundNamingThePath) {
  std::string message;
  EXPECT_EQ(code_of({"onnx", (dir_ / "absent.onnx").string(), 64}, &message), ErrorCode::not_found);
  EXPECT_NE(message.find("absent.onnx"), std::string::npos) << message;
}

TEST_F(OnnxSegmenter, GarbageFileIsInvalidNamingThePath) {
  std::string message;
  EXPECT_EQ(code_of({"onnx", write("garbage.onnx", "this is not a protobuf"), 64}, &message),
            ErrorCode::invalid_argument);
  EXPECT_NE(message.find("garbage.onnx"), std::string::npos) << message;
}

TEST_F(OnnxSegmenter, ModelWithTwoOutputChannelsIsRefusedAtLoad) {
  std::string message;
  EXPECT_EQ(code_of({"onnx", write("two.onnx", conv_model(2, 4, {0, 0, 0, 1, 0, 0, 0, 1}, 64)), 64}, &message),
            ErrorCode::invalid_argument);
  EXPECT_NE(message.find("1x2x64x64"), std::string::npos) << message;
}

TEST_F(OnnxSegmenter, ModelExpectingThreeInputChannelsIsRefusedAtLoad) {
  std::string message;
  EXPECT_EQ(code_of({"onnx", write("rgb.onnx", conv_model(1, 3, {1, 1, 1}, 64)), 64}, &message),
            ErrorCode::invalid_argument);
  EXPECT_NE(message.find("rgb.onnx"), std::string::npos) << message;
}

TEST(SegmenterFactory, UnknownKindAndOnnxWithoutPathAreInvalid) {
  std::string message;
  EXPECT_EQ(code_of({"sam", "", 256}, &message), ErrorCode::invalid_argument);
  EXPECT_NE(message.find("sam"), std::string::npos);
  EXPECT_EQ(code_of({"onnx", "", 256}, &message), ErrorCode::invalid_argument);
}

}  // namespace
