// Propagation benchmark driver (scripts/bench_propagate.sh): a synthetic 512x512 time-lapse (ground truth
// known), the first frame's true masks carried through the following frames by segment::MaskPropagator,
// timed per frame and scored (mean IoU per object and frame), and in the same run the anchor: plain OpenCV,
// Farneback backward flow + nearest remap of the mask, no consistency check and no refinement.
//   tessera_bench_propagate --mode tessera|anchor [--flow dis|farneback] [--refine 0|1] [--objects one|all]
//                           [--frames N] [--size S]
// Prints one line: "mode=... fps=... frames=... objects=... mean_iou=... flagged=... seconds=...".
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <map>
#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>
#include <string>

#include "tessera/segment/propagate.hpp"
#include "tessera/synth/timelapse.hpp"

namespace {

using namespace tessera;
using Clock = std::chrono::steady_clock;

struct Args {
  std::string mode = "tessera";
  std::string flow = "dis";
  bool refine = true;
  bool all_objects = false;
  int frames = 20;
  int size = 512;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const std::string value = argv[i + 1];
    if (key == "--mode") a.mode = value;
    else if (key == "--flow") a.flow = value;
    else if (key == "--refine") a.refine = value == "1";
    else if (key == "--objects") a.all_objects = value == "all";
    else if (key == "--frames") a.frames = std::stoi(value);
    else if (key == "--size") a.size = std::stoi(value);
    else throw std::runtime_error("unknown option " + key);
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args args = parse(argc, argv);
    synth::TimelapseOptions o;
    o.positions = 1;
    o.frames = args.frames + 1;
    o.size = args.size;
    o.nuclei = 20;
    o.seed = 3;
    const synth::TimelapseFrames movie = synth::generate_position(o, 1);
    std::map<int, int> track_end;
    for (const auto& t : movie.tracks) track_end[t.label] = t.end;
    // The objects to carry: the largest one, or every frame-0 nucleus of some size.
    std::map<int, cv::Mat> masks;
    int largest = 0;
    for (const auto& n : movie.nuclei[0]) {
      cv::Mat m = movie.labels[0] == n.label;
      const int area = cv::countNonZero(m);
      if (area < 30) continue;
      if (args.all_objects) masks[n.label] = m;
      if (largest == 0 || area > cv::countNonZero(movie.labels[0] == largest)) largest = n.label;
    }
    if (!args.all_objects) masks[largest] = movie.labels[0] == largest;

    const auto segmenter = segment::make_segmenter();
    segment::PropagateOptions options;
    options.flow = segment::parse_flow_method(args.flow);
    options.refine = args.refine;
    const segment::MaskPropagator propagator(*segmenter, options);

    double seconds = 0, iou_sum = 0;
    int scored = 0, flagged = 0;
    for (int t = 1; t <= args.frames; ++t) {
      const cv::Mat& previous = movie.images[static_cast<size_t>(t - 1)];
      const cv::Mat& current = movie.images[static_cast<size_t>(t)];
      const auto started = Clock::now();
      std::map<int, cv::Mat> next;
      if (args.mode == "anchor") {
        // What a short OpenCV script does: 8-bit frames, one Farneback flow (target -> source), remap.
        cv::Mat a, b, flow;
        cv::normalize(previous, a, 0, 255, cv::NORM_MINMAX, CV_8U);
        cv::normalize(current, b, 0, 255, cv::NORM_MINMAX, CV_8U);
        cv::calcOpticalFlowFarneback(b, a, flow, 0.5, 4, 15, 3, 5, 1.1, 0);
        cv::Mat map(flow.size(), CV_32FC2);
        for (int r = 0; r < map.rows; ++r) {
          for (int c = 0; c < map.cols; ++c) {
            const cv::Vec2f f = flow.at<cv::Vec2f>(r, c);
            map.at<cv::Vec2f>(r, c) = cv::Vec2f(static_cast<float>(c) + f[0], static_cast<float>(r) + f[1]);
          }
        }
        for (const auto& [label, mask] : masks) {
          cv::Mat warped;
          cv::remap(mask, warped, map, cv::noArray(), cv::INTER_NEAREST);
          next[label] = warped;
        }
      } else {
        std::vector<cv::Mat> carried;
        for (const auto& [label, mask] : masks) carried.push_back(mask);
        const segment::FramePair pair =
            propagator.pair(previous, current, segment::flow_region(carried, previous.size()));
        for (const auto& [label, mask] : masks) {
          const segment::PropagatedMask p = propagator.propagate(pair, mask);
          if (p.needs_review) ++flagged;
          if (!p.mask.empty()) next[label] = p.mask;
        }
      }
      seconds += std::chrono::duration<double>(Clock::now() - started).count();
      for (auto it = next.begin(); it != next.end();) {
        if (track_end.at(it->first) < t) {  // divided or left: no truth to score against, stop carrying
          it = next.erase(it);
          continue;
        }
        iou_sum += segment::mask_iou(it->second, movie.labels[static_cast<size_t>(t)] == it->first);
        ++scored;
        ++it;
      }
      masks = std::move(next);
    }
    fmt::print("mode={} flow={} refine={} objects={} fps={:.1f} frames={} mean_iou={:.3f} scored={} flagged={} "
               "seconds={:.3f}\n",
               args.mode, args.mode == "anchor" ? "farneback" : args.flow, args.refine ? 1 : 0,
               args.all_objects ? "all" : "one", args.frames / seconds, args.frames,
               scored ? iou_sum / scored : 0.0, scored, flagged, seconds);
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "tessera_bench_propagate: {}\n", e.what());
    return 1;
  }
}
