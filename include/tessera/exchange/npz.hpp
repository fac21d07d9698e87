#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

#include "tessera/exchange/npy.hpp"

namespace tessera::exchange {

// One array of an NpzWriter whose first axis grows as data is appended, so a stack of frames never
// has to be in memory at once. Owned by its NpzWriter; valid until finish() or the writer's end.
class NpyStream {
 public:
  ~NpyStream();
  NpyStream(const NpyStream&) = delete;
  NpyStream& operator=(const NpyStream&) = delete;

  // Raw items in the array's type, little-endian, C order; any amount (frames, rows, single items).
  void append(std::string_view bytes);

  // Appends one frame: its rows x cols x channels values must match the end of the item shape, either
  // (..., rows, cols, channels) or, for one channel, (..., rows, cols). Values are converted to the
  // array's type when the Mat's depth differs, only where no value can change: integer -> wider
  // integer, integer -> float (int32 -> float32 rounds above 2^24, as NumPy's astype does), float32 ->
  // float64, uint8 -> bool (non-zero is True). Error{invalid_argument} names the key and both shapes or
  // types otherwise.
  void append(const cv::Mat& frame);

  uint64_t length() const;  // complete items appended so far (the first axis)
  const std::vector<uint64_t>& item_shape() const;
  NpyType type() const;

 private:
  friend class NpzWriter;
  struct State;
  explicit NpyStream(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Writes a .npz as numpy.savez does: a ZIP with one stored entry "<key>.npy" per array, each header with a
// ZIP64 field, ZIP64 directory records when a size or offset passes 4 GiB (src/exchange/npz_zip.cpp). The
// first array streamed with begin(), and arrays add()ed while no stream grows, go straight into the archive
// (written once); arrays begun or added while that stream still grows are spooled to scratch files beside
// the output (or in scratch_dir) and copied in at finish(), since ZIP entries are contiguous. Memory stays at
// one frame. The archive is built in a temporary file, fsynced and renamed: it appears atomically. Not
// thread-safe.
//
// DeepCell training data (formats.md 1.2): X float32 (batch, [frames,] rows, cols, channels) and y int32
// (batch, [frames,] rows, cols, 1), e.g.
//   NpzWriter npz(path);
//   NpyStream& x = npz.begin("X", NpyType::f32, {frames, rows, cols, 1});
//   NpyStream& y = npz.begin("y", NpyType::i32, {frames, rows, cols, 1});
//   for (each movie, each frame) { x.append(raw_frame); y.append(label_frame); }
//   npz.finish();
class NpzWriter {
 public:
  explicit NpzWriter(std::filesystem::path path, std::filesystem::path scratch_dir = {});
  ~NpzWriter();
  NpzWriter(const NpzWriter&) = delete;
  NpzWriter& operator=(const NpzWriter&) = delete;

  // A whole array, spooled at once. Error{invalid_argument} for a bad key (see begin()) or data that
  // does not match shape and type.
  void add(std::string_view key, const NpyArray& array);

  // A growing array of items of item_shape (the shape without its first axis). Keys are NumPy's names
  // ("X", "y"), stored as "<key>.npy"; they must be valid zip entry names and unique.
  NpyStream& begin(std::string_view key, NpyType type, std::vector<uint64_t> item_shape);

  // Writes every array's final header (its first axis = items appended) and the archive. Error{invalid_argument}
  // naming the key if a stream ends inside an item. Call once.
  void finish();

  const std::filesystem::path& path() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Reads a .npz (stored or deflated entries: numpy.savez and savez_compressed). Not thread-safe.
class NpzReader {
 public:
  explicit NpzReader(std::filesystem::path path);  // Error{not_found}/Error{corrupt} as ZipReader
  ~NpzReader();
  NpzReader(const NpzReader&) = delete;
  NpzReader& operator=(const NpzReader&) = delete;

  std::vector<std::string> keys() const;  // entry names ending in ".npy", without it, archive order
  bool contains(std::string_view key) const;
  // The array; Error{not_found} naming the file and key, and decode_npy()'s errors.
  NpyArray read(std::string_view key) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tessera::exchange
