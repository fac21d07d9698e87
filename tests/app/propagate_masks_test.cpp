// Propagating masks through a catalog series: a synthetic time-lapse uploaded as a series, the nuclei of
// one frame annotated from the ground truth, propagated both ways and scored against the truth; then
// re-propagation (journaled updates), a person's edits and frames left alone, leases and bad requests.
#include "tessera/app/propagate_masks.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tessera/app/annotations.hpp"
#include "tessera/app/job_kinds.hpp"
#include "tessera/app/upload.hpp"
#include "tessera/core/error.hpp"
#include "tessera/image/encode.hpp"
#include "tessera/synth/timelapse.hpp"
#include "test_util.hpp"

namespace tessera::app {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

constexpr int kFrames = 6;
constexpr int kSourceFrame = 2;

template <typename Fn>
Error expect_error(ErrorCode code, Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    return e;
  }
  ADD_FAILURE() << "did not throw";
  return Error(ErrorCode::internal, "did not throw");
}

class PropagateMasksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_ = std::make_unique<Workspace>(Workspace::init(dir_.path() / "ws", ""));
    project_ = ws_->catalog().ensure_project("lab").id;
    for (const catalog::Tag& t : ws_->catalog().upsert_tags(
             project_, {catalog::TagSpec{"nucleus", "#ff0000", "label", std::nullopt},
                        catalog::TagSpec{"debris", "#00ff00", "label", std::nullopt}})) {
      (t.name == "nucleus" ? tag_ : other_tag_) = t.id;
    }
    synth::TimelapseOptions o;
    o.positions = 1;
    o.frames = kFrames;
    o.size = 160;
    o.nuclei = 6;
    o.seed = 5;
    o.cycle_frames = 0;  // no divisions: every object is followed through every frame
    o.touching_fraction = 0;
    movie_ = synth::generate_position(o, 1);
    for (int t = 0; t < kFrames; ++t) {
      Upload u;
      u.name = fmt::format("t{:03}.png", t);
      u.bytes = image::encode(movie_.images[static_cast<size_t>(t)], ".png");
      u.series = "movie";
      u.frame_index = t;
      images_.push_back(upload_image(*ws_, project_, u).record);
    }
    series_ = *images_.front().series_id;
    Annotations annotations(*ws_);
    for (const synth::NucleusGeometry& n : movie_.nuclei[kSourceFrame]) {
      const cv::Mat truth = movie_.labels[kSourceFrame] == n.label;
      if (cv::countNonZero(truth) < 30) continue;
      const catalog::Annotation a = annotate(kSourceFrame, truth, "manual");
      source_label_[a.id] = n.label;
    }
    ASSERT_GE(source_label_.size(), 3u);
  }

  catalog::Annotation annotate(int frame, const cv::Mat& mask, const std::string& source) {
    const cv::Rect box = cv::boundingRect(mask);
    AnnotationDraft draft;
    draft.state.kind = "mask";
    draft.state.tag_id = tag_;
    draft.state.bbox = {static_cast<double>(box.x), static_cast<double>(box.y),
                        static_cast<double>(box.x + box.width), static_cast<double>(box.y + box.height)};
    draft.state.source = source;
    draft.state.geometry = nullptr;
    draft.mask_png = image::encode(mask(box), ".png");
    const catalog::EditResult r = Annotations(*ws_).create(images_[static_cast<size_t>(frame)], person_, draft);
    EXPECT_EQ(r.status, catalog::EditStatus::applied);
    return *r.annotation;
  }

  PropagateMasksRequest request() const {
    PropagateMasksRequest r;
    r.series_id = series_;
    r.frame = kSourceFrame;
    r.tag_id = tag_;
    r.actor = {std::nullopt, "propagator"};
    return r;
  }

  std::vector<catalog::Annotation> on_frame(int frame) {
    catalog::ViewportQuery q;
    q.image_id = images_[static_cast<size_t>(frame)].id;
    q.tag_id = tag_;
    return Annotations(*ws_).in_viewport(q).annotations;
  }

  cv::Mat pixels_of(const catalog::Annotation& a) {
    const std::string png = Annotations(*ws_).mask_png(a);
    const cv::Mat crop = cv::imdecode(std::vector<std::uint8_t>(png.begin(), png.end()), cv::IMREAD_GRAYSCALE);
    cv::Mat full = cv::Mat::zeros(movie_.labels[0].size(), CV_8U);
    crop.copyTo(full(cv::Rect(static_cast<int>(a.state.bbox.x0), static_cast<int>(a.state.bbox.y0), crop.cols,
                              crop.rows)));
    return full;
  }

  test::TempDir dir_{"tessera-propagate"};
  std::unique_ptr<Workspace> ws_;
  catalog::Id project_ = 0, tag_ = 0, other_tag_ = 0, series_ = 0;
  synth::TimelapseFrames movie_;
  std::vector<catalog::ImageRecord> images_;
  std::map<catalog::Id, int> source_label_;  // source annotation -> ground-truth label
  catalog::Actor person_{std::nullopt, "alice"};
};

TEST_F(PropagateMasksTest, PropagatesBothWaysAndStoresEachMaskWithItsSource) {
  PropagateMasksRequest r = request();
  std::vector<double> fractions;
  r.on_progress = [&](double f, const std::string&) { fractions.push_back(f); };
  const PropagateMasksReport report = propagate_masks(*ws_, r);
  const auto objects = static_cast<std::int64_t>(source_label_.size());
  EXPECT_EQ(report.created, objects * (kFrames - 1));
  EXPECT_EQ(report.updated, 0);
  EXPECT_EQ(report.frames, kFrames - 1);
  ASSERT_EQ(fractions.size(), static_cast<size_t>(kFrames - 1));
  EXPECT_DOUBLE_EQ(fractions.back(), 1.0);

  double iou_sum = 0;
  int scored = 0;
  for (int t = 0; t < kFrames; ++t) {
    if (t == kSourceFrame) continue;
    const auto stored = on_frame(t);
    ASSERT_EQ(stored.size(), source_label_.size()) << "frame " << t;
    for (const catalog::Annotation& a : stored) {
      EXPECT_EQ(a.state.kind, "mask");
      EXPECT_EQ(a.state.source, "propagated");
      EXPECT_EQ(a.state.source_ref["from_frame"], kSourceFrame);
      const catalog::Id from = a.state.source_ref["from_annotation"].get<catalog::Id>();
      ASSERT_TRUE(source_label_.count(from)) << a.state.source_ref.dump();
      ASSERT_TRUE(a.state.confidence.has_value());
      EXPECT_GE(*a.state.confidence, 0.0);
      EXPECT_LE(*a.state.confidence, 1.0);
      EXPECT_EQ(a.state.needs_review, a.state.attributes.contains("review_reason"));
      iou_sum += segment::mask_iou(pixels_of(a), movie_.labels[static_cast<size_t>(t)] == source_label_.at(from));
      ++scored;
    }
  }
  const double mean_iou = iou_sum / scored;
  std::printf("catalog propagation: mean IoU %.3f over %d masks\n", mean_iou, scored);
  EXPECT_GE(mean_iou, 0.8);
}

TEST_F(PropagateMasksTest, RepropagationUpdatesItsOwnMasksThroughTheJournal) {
  propagate_masks(*ws_, request());
  const auto before = on_frame(kSourceFrame + 1);
  const PropagateMasksReport again = propagate_masks(*ws_, request());
  EXPECT_EQ(again.created, 0);
  EXPECT_EQ(again.updated, static_cast<std::int64_t>(source_label_.size() * (kFrames - 1)));
  const auto after = on_frame(kSourceFrame + 1);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].id, before[i].id);
    EXPECT_EQ(after[i].version, before[i].version + 1);
    const auto history = Annotations(*ws_).history(after[i].id);
    ASSERT_EQ(history.size(), 2u);
    EXPECT_EQ(history[1].action, "update");
  }
}

TEST_F(PropagateMasksTest, APersonsEditedMaskAndAnnotatedFrameAreNeverOverwritten) {
  propagate_masks(*ws_, request());
  // A person trims one propagated mask on the next frame (a journaled update that does not touch
  // source_ref), and annotates frame 0 themselves.
  catalog::Annotation edited = on_frame(kSourceFrame + 1).front();
  Annotations(*ws_).update(edited.id, person_, edited.version, {{"needs_review", false}, {"color", "#00ff00"}});
  edited = Annotations(*ws_).get(edited.id);
  const catalog::Annotation manual = annotate(0, movie_.labels[0] == movie_.nuclei[0].front().label, "manual");
  const auto frame0_before = on_frame(0);

  const PropagateMasksReport again = propagate_masks(*ws_, request());
  EXPECT_EQ(Annotations(*ws_).get(edited.id).version, edited.version);
  EXPECT_EQ(Annotations(*ws_).get(edited.id).state.color, "#00ff00");
  const auto frame0_after = on_frame(0);
  ASSERT_EQ(frame0_after.size(), frame0_before.size());
  for (size_t i = 0; i < frame0_after.size(); ++i) EXPECT_EQ(frame0_after[i].version, frame0_before[i].version);
  bool saw_manual_frame = false, saw_kept = false;
  for (const PropagatedFrame& s : again.steps) {
    if (s.action == "manual_frame") {
      saw_manual_frame = true;
      EXPECT_EQ(s.frame, 0);
    }
    if (s.action == "kept_edited") {
      saw_kept = true;
      EXPECT_EQ(*s.annotation_id, edited.id);
    }
  }
  EXPECT_TRUE(saw_manual_frame);
  EXPECT_TRUE(saw_kept);
  EXPECT_EQ(Annotations(*ws_).get(manual.id).version, 1);
}

TEST_F(PropagateMasksTest, BadRequestsNameTheFieldAndStoreNothing) {
  PropagateMasksRequest r = request();
  r.frame = kFrames + 3;
  EXPECT_EQ(expect_error(ErrorCode::invalid_argument, [&] { propagate_masks(*ws_, r); }).details()["field"],
            "frame");
  r = request();
  r.tag_id = other_tag_;
  const Error none = expect_error(ErrorCode::invalid_argument, [&] { propagate_masks(*ws_, r); });
  EXPECT_THAT(none.what(), HasSubstr("holds no mask of tag"));
  r.tag_id = 99999;
  expect_error(ErrorCode::not_found, [&] { propagate_masks(*ws_, r); });
  r = request();
  r.series_id = 99999;
  expect_error(ErrorCode::not_found, [&] { propagate_masks(*ws_, r); });
  r = request();
  r.options.min_confidence = 1.5;
  EXPECT_THAT(expect_error(ErrorCode::invalid_argument, [&] { propagate_masks(*ws_, r); }).what(),
              HasSubstr("min_confidence"));

  // Someone else holds a lease on the last frame: refused up front, nothing stored anywhere.
  Annotations(*ws_).acquire_lock(images_.back().id, {std::nullopt, "bob"});
  const Error locked = expect_error(ErrorCode::conflict, [&] { propagate_masks(*ws_, request()); });
  EXPECT_EQ(locked.details()["reason"], "locked");
  EXPECT_EQ(locked.details()["image_id"], images_.back().id);
  for (int t = 0; t < kFrames; ++t) {
    if (t != kSourceFrame) {
      EXPECT_TRUE(on_frame(t).empty()) << "frame " << t;
    }
  }
}

TEST_F(PropagateMasksTest, TheJobKindValidatesItsParametersByName) {
  const JobKind& kind = get_job_kind("masks.propagate");
  const catalog::Project project = ws_->catalog().get_project(project_);
  const json good = {{"series_id", series_}, {"frame", kSourceFrame}, {"tag_id", tag_}};
  kind.validate(*ws_, project, good);
  const auto field_of = [&](json params) {
    try {
      kind.validate(*ws_, project, params);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.what();
      return e.details().value("field", std::string());
    }
    return std::string("(accepted)");
  };
  EXPECT_EQ(field_of({{"frame", 0}, {"tag_id", tag_}}), "series_id");
  EXPECT_EQ(field_of({{"series_id", series_}, {"frame", 40}, {"tag_id", tag_}}), "frame");
  EXPECT_EQ(field_of({{"series_id", series_}, {"frame", 0}, {"tag_id", tag_}}), "tag_id");  // no mask there
  json p = good;
  p["direction"] = "sideways";
  EXPECT_EQ(field_of(p), "direction");
  p = good;
  p["min_confidence"] = -1;
  EXPECT_EQ(field_of(p), "min_confidence");
  p = good;
  p["flow"] = "lucas-kanade";
  EXPECT_EQ(field_of(p), "flow");
  p = good;
  p["colour"] = 1;
  EXPECT_EQ(field_of(p), "colour");
}

}  // namespace
}  // namespace tessera::app
