#pragma once

// The GrabCut path's scale search costs about a second of wall time per 1024^2 click (seconds on colour images
// and 4000^2 ones), and an annotation client sends the whole point list with every click: each request would
// repeat the search of the first '+' and one more per '-' inside the mask (click_corrections.cpp). The search is
// deterministic (run_cut seeds GrabCut per cut), so its result for the same pixels and the same prompts can be
// kept: a process-wide memo, bounded in bytes, least recently used out first. Thread-safe.

#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include <opencv2/core.hpp>

#include "tessera/segment/segmenter.hpp"

namespace tessera::segment {

// The key of an image's pixels: size, type and a SHA-256 of the bytes (a 1024^2 8-bit image ~1 ms).
std::string pixels_key(const cv::Mat& image);

class ScaleSearchMemo {
 public:
  explicit ScaleSearchMemo(std::size_t max_bytes);

  // The stored result for (pixels, image_size, prompts' points), else compute() stored and returned. The caller
  // gets its own copy of the mask. compute() runs outside the lock: two threads asking for the same key both
  // compute it; when it throws nothing is stored.
  SegmentResult find_or_compute(const std::string& pixels, const Prompts& prompts, cv::Size image_size,
                                const std::function<SegmentResult()>& compute);

  struct Stats {
    std::size_t hits = 0, misses = 0, entries = 0, bytes = 0;
  };
  Stats stats() const;
  void clear();

 private:
  // The mask is kept as its bounding box's crop: a nucleus on a 4000^2 image is kilobytes, not 16 MB.
  struct Entry {
    std::string key;
    cv::Rect box;
    cv::Mat crop;
    double confidence = 0;
    std::string method;
    std::size_t bytes() const;
  };
  void insert(Entry entry);

  std::size_t max_bytes_;
  mutable std::mutex mutex_;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  Stats stats_;
};

// The memo the default segmenter uses (64 MB).
ScaleSearchMemo& scale_search_memo();

}  // namespace tessera::segment
