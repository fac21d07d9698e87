// Mask propagation on the synthetic time-lapse, whose ground truth (masks, tracks, divisions) is exact.
#include "tessera/segment/propagate.hpp"

#include <gtest/gtest.h>

#include <map>
#include <opencv2/imgproc.hpp>

#include "tessera/core/error.hpp"
#include "tessera/synth/timelapse.hpp"

namespace tessera::segment {
namespace {

struct ChainScore {
  double mean_iou = 0;
  int scored = 0;             // (object, frame) pairs with the object present
  int divisions = 0;          // objects that divided within the chain
  int divisions_flagged = 0;  // ... flagged at the frame their daughters appear
  int flagged_clean = 0;      // frames flagged though the object did not divide
};

// Propagates every frame-0 object's ground-truth mask forward through `frames` frames, each step from the
// previous propagated mask, and scores every step against the object's true mask.
ChainScore propagate_ground_truth(const MaskPropagator& propagator, const synth::TimelapseFrames& movie, int frames) {
  std::map<int, synth::TrackRecord> tracks;
  for (const auto& t : movie.tracks) tracks[t.label] = t;
  std::map<int, cv::Mat> current;  // label -> mask being carried
  for (const auto& n : movie.nuclei[0]) {
    cv::Mat m = movie.labels[0] == n.label;
    if (cv::countNonZero(m) >= 20) current[n.label] = m;
  }
  ChainScore score;
  double iou_sum = 0;
  for (int t = 1; t <= frames && !current.empty(); ++t) {
    const FramePair pair = propagator.pair(movie.images[static_cast<size_t>(t - 1)], movie.images[static_cast<size_t>(t)]);
    for (auto it = current.begin(); it != current.end();) {
      const int label = it->first;
      const PropagatedMask p = propagator.propagate(pair, it->second);
      const synth::TrackRecord& track = tracks.at(label);
      if (track.end < t) {
        bool divided = false;
        for (const auto& [l, other] : tracks) divided = divided || (other.parent == label && other.begin == t);
        if (divided) {
          ++score.divisions;
          if (p.needs_review) ++score.divisions_flagged;
        }
        it = current.erase(it);
        continue;
      }
      if (p.needs_review) ++score.flagged_clean;
      const cv::Mat truth = movie.labels[static_cast<size_t>(t)] == label;
      iou_sum += p.mask.empty() ? 0.0 : mask_iou(p.mask, truth);
      ++score.scored;
      if (p.mask.empty()) {
        it = current.erase(it);
      } else {
        it->second = p.mask;
        ++it;
      }
    }
  }
  score.mean_iou = score.scored ? iou_sum / score.scored : 0;
  return score;
}

synth::TimelapseFrames movie(int frames, int cycle, std::uint64_t seed = 1) {
  synth::TimelapseOptions options;
  options.positions = 1;
  options.frames = frames;
  options.size = 512;
  options.nuclei = 20;
  options.cycle_frames = cycle;
  options.seed = seed;
  return synth::generate_position(options, 1);
}

// A segmenter that returns the prior: propagation by flow alone, whatever the default segmenter does.
class PriorSegmenter : public Segmenter {
 public:
  std::string name() const override { return "prior"; }
  SegmentResult segment(const cv::Mat&, const Prompts& prompts) const override { return {prompts.prior_mask, 1.0, "prior"}; }
};

TEST(MaskPropagation, FlowAloneFollowsNucleiThroughTwentyFrames) {
  const synth::TimelapseFrames m = movie(21, 40);
  for (FlowMethod method : {FlowMethod::dis, FlowMethod::farneback}) {
    PriorSegmenter prior;
    PropagateOptions options;
    options.flow = method;
    options.refine = false;
    const ChainScore s = propagate_ground_truth(MaskPropagator(prior, options), m, 20);
    std::printf("%s warp only: mean IoU %.3f over %d, divisions %d flagged %d, flagged otherwise %d\n",
                to_string(method).c_str(), s.mean_iou, s.scored, s.divisions, s.divisions_flagged, s.flagged_clean);
    EXPECT_GE(s.mean_iou, 0.85) << to_string(method);
  }
}

// The quality bar: the first frame's ground truth through 20 frames, warped and refined by the
// default segmenter: mean IoU >= 0.85 per object and frame, and every division flagged.
TEST(MaskPropagation, RefinedPropagationHoldsIoUAndFlagsEveryDivision) {
  const synth::TimelapseFrames m = movie(21, 40);
  const auto segmenter = make_segmenter();
  const ChainScore s = propagate_ground_truth(MaskPropagator(*segmenter, PropagateOptions{}), m, 20);
  std::printf("dis + refinement: mean IoU %.3f over %d, divisions %d flagged %d, flagged otherwise %d\n", s.mean_iou,
              s.scored, s.divisions, s.divisions_flagged, s.flagged_clean);
  EXPECT_GE(s.mean_iou, 0.85);
  ASSERT_GT(s.divisions, 0) << "the movie should hold divisions";
  EXPECT_EQ(s.divisions_flagged, s.divisions);
  // Flags must mean something: most undivided steps pass.
  EXPECT_LT(s.flagged_clean, s.scored / 5);
}

// The warp goes the right way: a textured disc moving 4 px right and 2 px down takes its mask along.
TEST(MaskPropagation, AMaskFollowsAMovingObject) {
  PriorSegmenter prior;
  PropagateOptions options;
  options.refine = false;
  const MaskPropagator propagator(prior, options);
  cv::Mat a = cv::Mat::zeros(96, 96, CV_8U), b = cv::Mat::zeros(96, 96, CV_8U);
  cv::circle(a, {40, 40}, 12, cv::Scalar(200), cv::FILLED);
  cv::circle(a, {36, 37}, 3, cv::Scalar(120), cv::FILLED);
  cv::circle(b, {44, 42}, 12, cv::Scalar(200), cv::FILLED);
  cv::circle(b, {40, 39}, 3, cv::Scalar(120), cv::FILLED);
  cv::GaussianBlur(a, a, {0, 0}, 1.5);
  cv::GaussianBlur(b, b, {0, 0}, 1.5);
  cv::Mat source = cv::Mat::zeros(96, 96, CV_8U), truth = cv::Mat::zeros(96, 96, CV_8U);
  cv::circle(source, {40, 40}, 12, cv::Scalar(255), cv::FILLED);
  cv::circle(truth, {44, 42}, 12, cv::Scalar(255), cv::FILLED);
  const PropagatedMask p = propagator.propagate(propagator.pair(a, b), source);
  EXPECT_GT(mask_iou(p.mask, truth), 0.85);
  EXPECT_LT(mask_iou(source, truth), 0.75);  // so staying put would fail
  // The same through the flow of a region around the mask only.
  const cv::Rect region = flow_region({source}, a.size());
  EXPECT_LT(region.area(), a.size().area());
  const PropagatedMask in_region = propagator.propagate(propagator.pair(a, b, region), source);
  EXPECT_GT(mask_iou(in_region.mask, truth), 0.85);
}

TEST(MaskPropagation, BadInputIsRefusedNamingTheProblem) {
  PriorSegmenter prior;
  PropagateOptions options;
  options.min_confidence = 1.5;
  EXPECT_THROW(MaskPropagator(prior, options), Error);
  const MaskPropagator propagator(prior, PropagateOptions{});
  const cv::Mat a(32, 32, CV_8U, cv::Scalar(10)), b(40, 32, CV_8U, cv::Scalar(10));
  EXPECT_THROW(propagator.pair(a, b), Error);
  const FramePair pair = propagator.pair(a, a);
  EXPECT_THROW(propagator.propagate(pair, cv::Mat::zeros(16, 16, CV_8U)), Error);  // wrong size
  EXPECT_THROW(propagator.propagate(pair, cv::Mat::zeros(32, 32, CV_8U)), Error);  // empty mask
  EXPECT_THROW(parse_flow_method("lucas-kanade"), Error);
  EXPECT_THROW(flow_frame(cv::Mat()), Error);
}

}  // namespace
}  // namespace tessera::segment
