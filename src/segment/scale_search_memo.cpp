#include "segment/scale_search_memo.hpp"

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "tessera/core/sha256.hpp"

namespace tessera::segment {

namespace {

// Exact (hexadecimal) coordinates: two clicks a thousandth of a pixel apart are two keys.
std::string prompts_key(const Prompts& prompts) {
  std::string out;
  for (const auto& p : prompts.points) out += fmt::format("{:a},{:a},{};", p.x, p.y, p.positive ? '+' : '-');
  return out;
}

}  // namespace

std::string pixels_key(const cv::Mat& image) {
  const cv::Mat bytes = image.isContinuous() ? image : image.clone();
  const std::string digest = sha256_hex(std::span<const std::byte>(
      reinterpret_cast<const std::byte*>(bytes.data), bytes.total() * bytes.elemSize()));
  return fmt::format("{}x{}:{}:{}", bytes.cols, bytes.rows, bytes.type(), digest);
}

// The key is held twice (the entry and the index); the list and hash nodes, the crop's header and heap block
// are about 256 bytes more (measured with malloc statistics: within 1.2x of the heap's growth for small masks).
std::size_t ScaleSearchMemo::Entry::bytes() const {
  return 2 * key.size() + method.size() + crop.total() * crop.elemSize() + sizeof(Entry) + 256;
}

ScaleSearchMemo::ScaleSearchMemo(std::size_t max_bytes) : max_bytes_(max_bytes) {}

SegmentResult ScaleSearchMemo::find_or_compute(const std::string& pixels, const Prompts& prompts,
                                               cv::Size image_size, const std::function<SegmentResult()>& compute) {
  const std::string key = fmt::format("{}|{}x{}|{}", pixels, image_size.width, image_size.height, prompts_key(prompts));
  {
    std::lock_guard lock(mutex_);
    const auto found = index_.find(key);
    if (found != index_.end()) {
      entries_.splice(entries_.begin(), entries_, found->second);
      const Entry& e = *found->second;
      ++stats_.hits;
      SegmentResult out{cv::Mat::zeros(image_size, CV_8U), e.confidence, e.method};
      if (!e.box.empty()) e.crop.copyTo(out.mask(e.box));
      return out;
    }
    ++stats_.misses;
  }
  SegmentResult result = compute();
  if (result.mask.size() == image_size && result.mask.type() == CV_8U) {
    Entry entry{key, cv::boundingRect(result.mask), {}, result.confidence, result.method};
    if (!entry.box.empty()) entry.crop = result.mask(entry.box).clone();
    insert(std::move(entry));
  }
  return result;
}

void ScaleSearchMemo::insert(Entry entry) {
  std::lock_guard lock(mutex_);
  if (index_.count(entry.key) != 0) return;  // another thread computed the same search meanwhile
  const std::size_t bytes = entry.bytes();
  if (bytes > max_bytes_) return;
  entries_.push_front(std::move(entry));
  index_[entries_.front().key] = entries_.begin();
  stats_.bytes += bytes;
  while (stats_.bytes > max_bytes_) {
    stats_.bytes -= entries_.back().bytes();
    index_.erase(entries_.back().key);
    entries_.pop_back();
  }
  stats_.entries = entries_.size();
}

ScaleSearchMemo::Stats ScaleSearchMemo::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void ScaleSearchMemo::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
  index_.clear();
  stats_ = {};
}

ScaleSearchMemo& scale_search_memo() {
  static ScaleSearchMemo memo(64u << 20);
  return memo;
}

}  // namespace tessera::segment
