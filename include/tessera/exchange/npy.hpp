#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

namespace tessera::exchange {

// Item types of NumPy arrays that tessera reads and writes (all little-endian).
enum class NpyType { u8, i8, u16, i16, u32, i32, u64, i64, f32, f64, boolean };

std::string_view npy_descr(NpyType type);  // NumPy's dtype string: "|u1", "<f4", "|b1", ...
size_t npy_item_size(NpyType type);        // bytes per item

// An n-dimensional array as NumPy lays it out: items in C order (last axis fastest), little-endian.
// This is the exchange form for .npy/.npz and for formats that embed them (deepcell .trk).
struct NpyArray {
  NpyType type = NpyType::u8;
  std::vector<uint64_t> shape;  // empty = a 0-d array (one item)
  std::string data;             // item_count() * npy_item_size(type) bytes

  uint64_t item_count() const;  // product of shape (1 for a 0-d array)
};

// What a .npy header says. data_offset is where the items start.
struct NpyHeader {
  NpyType type = NpyType::u8;
  std::vector<uint64_t> shape;
  bool fortran_order = false;
  size_t data_offset = 0;
};

// The .npy header for an array: magic, version, little-endian length, the dict literal
// {'descr': ..., 'fortran_order': False, 'shape': (...), } padded with spaces and a final '\n' so the
// data starts on a multiple of 64 bytes. Version 1.0 unless that needs more than 65535 bytes (then 2.0).
// min_size pads it further (to at least min_size, still a multiple of 64) so it can be rewritten in
// place once a growing first axis is known.
std::string npy_header(NpyType type, std::span<const uint64_t> shape, size_t min_size = 0);

// Reads the header of .npy bytes (versions 1.0, 2.0, 3.0; the dict's keys in any order, trailing comma
// optional). Error{corrupt} naming `name` for a damaged header, Error{unsupported} for big-endian,
// object ('|O') or other dtypes outside NpyType.
NpyHeader parse_npy_header(std::string_view bytes, std::string_view name = "array");

// Header + data. Error{invalid_argument} if data does not match shape and type.
std::string encode_npy(const NpyArray& array);

// A whole .npy. Fortran-ordered data is transposed to C order; the header errors above, and
// Error{corrupt} when the data is shorter or longer than the shape needs.
NpyArray decode_npy(std::string_view bytes, std::string_view name = "array");

// OpenCV depth of a type (boolean -> CV_8U); Error{unsupported} for u32, u64 and i64, which cv::Mat
// cannot hold.
int npy_cv_depth(NpyType type);
NpyType npy_type_of_depth(int cv_depth);  // Error{unsupported} for CV_16F and unknown depths

// Frames of one size and type stacked as (frames, rows, cols, channels); channels is 1 for
// single-channel frames. Channel order is kept (tessera keeps RGB). Error{invalid_argument} when
// frames disagree or the list is empty.
NpyArray npy_from_mats(std::span<const cv::Mat> frames);

// The opposite: an array (..., rows, cols, channels) as one cv::Mat per leading index (the product of
// the leading axes; one Mat for a 3-d array). With channels_last false the array is (..., rows, cols)
// and the Mats have one channel. The Mats own copies of the data. Error{invalid_argument} for too few
// axes or more than CV_CN_MAX channels, Error{unsupported} as npy_cv_depth().
std::vector<cv::Mat> npy_to_mats(const NpyArray& array, bool channels_last = true);

}  // namespace tessera::exchange
