#include "tessera/app/export_dataset.hpp"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "tessera/app/annotations.hpp"
#include "tessera/app/import.hpp"
#include "tessera/app/upload.hpp"
#include "tessera/catalog/tracks.hpp"
#include "tessera/exchange/zip_reader.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/exchange/npz.hpp"
#include "tessera/image/encode.hpp"
#include "test_util.hpp"

namespace tessera::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kWidth = 40, kHeight = 30;

// The masks of image k (k = 0..2): a ring (a hole), two disjoint squares in one annotation, a blob.
std::vector<cv::Mat> masks_of(int k) {
  std::vector<cv::Mat> masks;
  cv::Mat ring(kHeight, kWidth, CV_8UC1, cv::Scalar(0));
  cv::rectangle(ring, cv::Rect(2 + k, 3, 10, 8), cv::Scalar(255), cv::FILLED);
  ring(cv::Rect(5 + k, 6, 3, 2)).setTo(0);
  masks.push_back(ring);
  cv::Mat parts(kHeight, kWidth, CV_8UC1, cv::Scalar(0));
  parts(cv::Rect(20, 2 + k, 4, 4)).setTo(255);
  parts(cv::Rect(30, 10, 3, 5)).setTo(255);
  masks.push_back(parts);
  cv::Mat blob(kHeight, kWidth, CV_8UC1, cv::Scalar(0));
  cv::circle(blob, {12, 22}, 4 + k, cv::Scalar(255), cv::FILLED);
  masks.push_back(blob);
  return masks;
}

cv::Mat pixels_of(int k) {
  cv::Mat m(kHeight, kWidth, CV_8UC1);
  for (int r = 0; r < kHeight; ++r)
    for (int c = 0; c < kWidth; ++c) m.at<std::uint8_t>(r, c) = std::uint8_t(k * 50 + r + 2 * c);
  return m;
}

json mask_body(const cv::Mat& mask, std::optional<catalog::Id> tag) {
  const cv::Rect box = cv::boundingRect(mask);
  json body = {{"kind", "mask"}, {"bbox", {box.x, box.y, box.x + box.width, box.y + box.height}}};
  // Uncompressed COCO RLE over the box, as the API takes it.
  const cv::Mat crop = mask(box);
  json counts = json::array();
  std::uint8_t current = 0;
  std::int64_t run = 0;
  for (int c = 0; c < crop.cols; ++c) {
    for (int r = 0; r < crop.rows; ++r) {
      const std::uint8_t v = crop.at<std::uint8_t>(r, c) ? 1 : 0;
      if (v != current) {
        counts.push_back(run);
        run = 0;
        current = v;
      }
      ++run;
    }
  }
  counts.push_back(run);
  body["mask_rle"] = {{"size", {box.height, box.width}}, {"counts", counts}};
  if (tag) body["tag_id"] = *tag;
  return body;
}

// A workspace with three images in set "train", tags nucleus and mitotic, and per image the three masks
// of masks_of (ring and blob: nucleus; parts: mitotic), a box (nucleus) and an untagged point.
class ExportDatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_ = std::make_unique<Workspace>(Workspace::init(dir_ / "ws", ""));
    fs::create_directories(dir_ / "images");
    for (int k = 0; k < 3; ++k) {
      write_file_atomic(dir_ / "images" / fmt::format("frame_{}.png", k), image::encode(pixels_of(k), ".png"));
    }
    ImportOptions import;
    import.sources = {dir_ / "images"};
    import.set = "train";
    import.progress = false;
    import_images(*ws_, import);
    auto& c = ws_->catalog();
    project_ = c.get_project("default").id;
    const auto tags = c.upsert_tags(project_, {{"nucleus", "#00ff00", "label", std::nullopt},
                                               {"mitotic", "#ff00ff", "label", std::nullopt}});
    std::map<std::string, catalog::Id> tag;
    for (const auto& t : tags) tag[t.name] = t.id;
    catalog::ImageQuery query;
    query.project_id = project_;
    images_ = c.list_images(query);
    Annotations annotations(*ws_);
    const catalog::Actor actor{std::nullopt, "test"};
    for (size_t k = 0; k < images_.size(); ++k) {
      const auto masks = masks_of(int(k));
      annotations.create(images_[k], actor, mask_body(masks[0], tag["nucleus"]));
      annotations.create(images_[k], actor, mask_body(masks[1], tag["mitotic"]));
      annotations.create(images_[k], actor, mask_body(masks[2], tag["nucleus"]));
      annotations.create(images_[k], actor,
                         json{{"kind", "box"}, {"geometry", {{"box", {30, 20, 36, 25}}}},
                              {"tag_id", tag["nucleus"]}});
      annotations.create(images_[k], actor, json{{"kind", "point"}, {"geometry", {{"points", {{3, 3}}}}}});
    }
  }

  ExportDatasetOptions options(DatasetFormat format, const fs::path& out) {
    ExportDatasetOptions o;
    o.format = format;
    o.set = "train";
    o.out = out;
    return o;
  }

  test::TempDir dir_;
  std::unique_ptr<Workspace> ws_;
  catalog::Id project_ = 0;
  std::vector<catalog::ImageRecord> images_;
};

std::map<std::string, std::string> files_under(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files[fs::relative(e.path(), dir).generic_string()] = read_file(e.path());
  }
  return files;
}

TEST_F(ExportDatasetTest, NpzHoldsPixelsAsFloatAndInstanceLabelsInAnnotationOrder) {
  const auto report = export_dataset(*ws_, options(DatasetFormat::npz, dir_ / "out.npz"));
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.images, 3);
  EXPECT_EQ(report.objects, 12);  // the points have no area
  exchange::NpzReader npz(dir_ / "out.npz");
  const auto x = npz.read("X");
  const auto y = npz.read("y");
  EXPECT_EQ(x.type, exchange::NpyType::f32);
  EXPECT_EQ(x.shape, (std::vector<uint64_t>{3, kHeight, kWidth, 1}));
  EXPECT_EQ(y.type, exchange::NpyType::i32);
  EXPECT_EQ(y.shape, (std::vector<uint64_t>{3, kHeight, kWidth, 1}));
  const auto xs = exchange::npy_to_mats(x);
  const auto ys = exchange::npy_to_mats(y);
  for (int k = 0; k < 3; ++k) {
    cv::Mat expected_x;
    pixels_of(k).convertTo(expected_x, CV_32F);
    EXPECT_EQ(cv::countNonZero(xs[k] != expected_x), 0);
    cv::Mat expected_y(kHeight, kWidth, CV_32SC1, cv::Scalar(0));
    const auto masks = masks_of(k);
    for (int m = 0; m < 3; ++m) expected_y.setTo(m + 1, masks[m]);
    expected_y(cv::Rect(30, 20, 6, 5)).setTo(4);
    EXPECT_EQ(cv::countNonZero(ys[k] != expected_y), 0) << "image " << k;
  }
}

TEST_F(ExportDatasetTest, NpzIn3dNeedsSeries) {
  auto o = options(DatasetFormat::npz, dir_ / "movie.npz");
  o.dims = "3d";
  test::expect_invalid([&] { export_dataset(*ws_, o); }, "belongs to no series");
}

TEST_F(ExportDatasetTest, CocoExportImportExportIsByteIdentical) {
  for (bool rle : {false, true}) {
    auto o = options(DatasetFormat::coco, dir_ / "a.json");
    o.rle = rle;
    const auto first = export_dataset(*ws_, o);
    EXPECT_EQ(first.classes, (std::vector<std::string>{"nucleus", "mitotic"}));
    EXPECT_EQ(first.untagged, 0);  // the untagged points have no area: they are not objects at all
    test::TempDir other;
    Workspace fresh = Workspace::init(other / "ws", "");
    ImportDatasetOptions import;
    import.set = "again";
    const auto imported = import_coco(fresh, dir_ / "a.json", dir_ / "images", import);
    EXPECT_TRUE(imported.ok()) << imported.to_json().dump();
    EXPECT_EQ(imported.annotations, 12);
    EXPECT_EQ(imported.images_imported, 3);
    auto again = o;
    again.set = "again";
    again.out = dir_ / "b.json";
    export_dataset(fresh, again);
    json a = json::parse(read_file(dir_ / "a.json")), b = json::parse(read_file(dir_ / "b.json"));
    EXPECT_EQ(a["info"]["description"], "train");
    a["info"]["description"] = b["info"]["description"];  // the set's name
    EXPECT_EQ(a.dump(), b.dump()) << "rle " << rle;
  }
}

// Importing the same dataset twice used to store every annotation twice.
TEST_F(ExportDatasetTest, ImportRunTwiceAddsNoAnnotationTheSecondTime) {
  auto o = options(DatasetFormat::coco, dir_ / "twice.json");
  o.rle = true;
  export_dataset(*ws_, o);
  test::TempDir other;
  Workspace fresh = Workspace::init(other / "ws", "");
  ImportDatasetOptions import;
  import.set = "again";
  const auto first = import_coco(fresh, dir_ / "twice.json", dir_ / "images", import);
  EXPECT_EQ(first.annotations, 12);
  EXPECT_EQ(first.annotations_existing, 0);
  const auto second = import_coco(fresh, dir_ / "twice.json", dir_ / "images", import);
  EXPECT_TRUE(second.ok()) << second.to_json().dump();
  EXPECT_EQ(second.annotations, 0);
  EXPECT_EQ(second.annotations_existing, 12);
  EXPECT_EQ(second.images_imported, 0);
  auto again = o;
  again.set = "again";
  again.out = dir_ / "twice-b.json";
  export_dataset(fresh, again);
  EXPECT_EQ(json::parse(read_file(dir_ / "twice-b.json"))["annotations"].size(), 12u);
}

TEST_F(ExportDatasetTest, CocoRleKeepsHolesAndPolygonsFillThem) {
  auto o = options(DatasetFormat::coco, dir_ / "rle.json");
  o.rle = true;
  export_dataset(*ws_, o);
  o.rle = false;
  o.out = dir_ / "poly.json";
  export_dataset(*ws_, o);
  const json rle = json::parse(read_file(dir_ / "rle.json")), poly = json::parse(read_file(dir_ / "poly.json"));
  EXPECT_EQ(rle["annotations"][0]["area"], 10 * 8 - 3 * 2);
  EXPECT_EQ(poly["annotations"][0]["area"], 10 * 8);
  EXPECT_EQ(rle["annotations"][0]["bbox"], json({2, 3, 10, 8}));
  EXPECT_EQ(poly["annotations"][1]["segmentation"].size(), 2u);  // two squares, two polygons
}

TEST_F(ExportDatasetTest, YoloExportImportExportIsByteIdentical) {
  for (auto task : {exchange::YoloTask::detect, exchange::YoloTask::segment}) {
    auto o = options(DatasetFormat::yolo, dir_ / "yolo-a");
    o.task = task;
    o.val_fraction = 0.34;
    export_dataset(*ws_, o);
    const auto a = files_under(dir_ / "yolo-a");
    EXPECT_EQ(a.count("data.yaml"), 1u);
    EXPECT_EQ(a.at("data.yaml"), "train: images/train\nval: images/val\nnc: 2\nnames:\n  0: nucleus\n  1: mitotic\n");
    test::TempDir other;
    Workspace fresh = Workspace::init(other / "ws", "");
    ImportDatasetOptions import;
    import.set = "train";
    const auto imported = import_yolo(fresh, dir_ / "yolo-a", import);
    EXPECT_TRUE(imported.ok()) << imported.to_json().dump();
    auto again = o;
    again.out = dir_ / "yolo-b";
    export_dataset(fresh, again);
    EXPECT_EQ(files_under(dir_ / "yolo-b"), a) << to_string(task);
    fs::remove_all(dir_ / "yolo-a");
    fs::remove_all(dir_ / "yolo-b");
  }
}

TEST_F(ExportDatasetTest, YoloSplitIsSeededAndDeterministic) {
  auto o = options(DatasetFormat::yolo, dir_ / "y1");
  o.val_fraction = 0.34;  // one of three
  export_dataset(*ws_, o);
  o.out = dir_ / "y2";
  export_dataset(*ws_, o);
  EXPECT_EQ(files_under(dir_ / "y1"), files_under(dir_ / "y2"));
  size_t val = 0;
  for (const auto& [name, bytes] : files_under(dir_ / "y1")) val += name.rfind("images/val/", 0) == 0;
  EXPECT_EQ(val, 1u);
  std::set<std::string> val_by_seed;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    o.seed = seed;
    o.out = dir_ / fmt::format("s{}", seed);
    export_dataset(*ws_, o);
    for (const auto& e : fs::directory_iterator(o.out / "images" / "val")) val_by_seed.insert(e.path().filename());
  }
  EXPECT_GT(val_by_seed.size(), 1u);  // the seed matters
}

TEST_F(ExportDatasetTest, UnknownSetEmptySetAndBadOptionsAreNamed) {
  try {
    export_dataset(*ws_, [&] {
      auto o = options(DatasetFormat::coco, dir_ / "x.json");
      o.set = "nope";
      return o;
    }());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos) << e.what();
  }
  // A set whose image has no annotation.
  ImportOptions import;
  fs::create_directories(dir_ / "lone");
  write_file_atomic(dir_ / "lone" / "lone.png", image::encode(pixels_of(7), ".png"));
  import.sources = {dir_ / "lone"};
  import.set = "lonely";
  import.progress = false;
  import_images(*ws_, import);
  auto o = options(DatasetFormat::npz, dir_ / "lonely.npz");
  o.set = "lonely";
  test::expect_invalid([&] { export_dataset(*ws_, o); }, "set 'lonely' has no annotations");
  EXPECT_FALSE(fs::exists(dir_ / "lonely.npz"));
  test::expect_invalid([] { export_options_from_json({{"format", "tiff"}, {"set", "a"}}); }, "'format'");
  test::expect_invalid([] { export_options_from_json({{"format", "yolo"}, {"set", "a"}, {"val", 2}}); }, "'val'");
  test::expect_invalid([] { export_options_from_json({{"format", "yolo"}, {"set", "a"}, {"task", "x"}}); }, "'task'");
  test::expect_invalid([] { export_options_from_json({{"format", "coco"}}); }, "'set'");
  test::expect_invalid([] { export_options_from_json({{"format", "coco"}, {"set", "a"}, {"colour", 1}}); },
                       "'colour'");
}

TEST_F(ExportDatasetTest, AnUndecodableMaskIsReportedAndTheRestExported) {
  // The blob mask of image 0 (its size is unique to image 0; other masks' PNGs are shared between images
  // by content) is damaged on disk: that annotation is left out, named, and the rest written.
  Annotations annotations(*ws_);
  catalog::ViewportQuery query;
  query.image_id = images_[0].id;
  const auto first = annotations.in_viewport(query).annotations.at(2);
  const fs::path blob = ws_->blobs().path_of(*first.state.mask_blob);
  fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
  write_file_atomic(blob, "not a png");
  const auto report = export_dataset(*ws_, options(DatasetFormat::coco, dir_ / "partial.json"));
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].annotation_id, first.id);
  EXPECT_NE(report.problems[0].reason.find(fmt::format("annotation {}", first.id)), std::string::npos);
  EXPECT_EQ(json::parse(read_file(dir_ / "partial.json"))["annotations"].size(), 11u);
}

// Two series of two frames each in set "movies", one mask per frame (frame t of series s: image 10 + 2s + t).
class SeriesExportTest : public ExportDatasetTest {
 protected:
  void SetUp() override {
    ExportDatasetTest::SetUp();
    Annotations annotations(*ws_);
    std::vector<catalog::Id> ids;
    for (int s = 0; s < 2; ++s) {
      for (int t = 1; t >= 0; --t) {  // uploaded last frame first: the export orders by frame index
        Upload upload;
        upload.name = fmt::format("s{}_t{}.png", s, t);
        upload.bytes = image::encode(pixels_of(10 + 2 * s + t), ".png");
        upload.series = fmt::format("movie{}", s);
        upload.frame_index = t;
        const auto record = upload_image(*ws_, project_, upload).record;
        ids.push_back(record.id);
        annotations.create(record, {std::nullopt, "test"}, mask_body(masks_of(t)[2], std::nullopt));
      }
    }
    ws_->catalog().ensure_set(project_, "movies");
    ws_->catalog().add_to_set(project_, "movies", ids);
  }
};

TEST_F(SeriesExportTest, NpzIn3dHasOneMoviePerSeriesInFrameOrder) {
  auto o = options(DatasetFormat::npz, dir_ / "movies.npz");
  o.set = "movies";
  o.dims = "3d";
  EXPECT_TRUE(export_dataset(*ws_, o).ok());
  exchange::NpzReader npz(dir_ / "movies.npz");
  const auto x = npz.read("X"), y = npz.read("y");
  EXPECT_EQ(x.shape, (std::vector<uint64_t>{2, 2, kHeight, kWidth, 1}));
  EXPECT_EQ(y.shape, (std::vector<uint64_t>{2, 2, kHeight, kWidth, 1}));
  const auto frames = exchange::npy_to_mats(x);
  const auto labels = exchange::npy_to_mats(y);
  ASSERT_EQ(frames.size(), 4u);
  for (int s = 0; s < 2; ++s) {
    for (int t = 0; t < 2; ++t) {
      cv::Mat expected;
      pixels_of(10 + 2 * s + t).convertTo(expected, CV_32F);
      EXPECT_EQ(cv::countNonZero(frames[2 * s + t] != expected), 0) << "series " << s << " frame " << t;
      EXPECT_EQ(cv::countNonZero(labels[2 * s + t] == 1), cv::countNonZero(masks_of(t)[2]));
    }
  }
}

// A 3d npz used to number labels per frame even for a tracked series, so one cell changed id between frames.
TEST_F(SeriesExportTest, NpzIn3dPaintsTrackNumbersWhenTheSeriesHasTracks) {
  catalog::TrackStore tracks(ws_->catalog());
  const catalog::Id series = tracks.find_series(project_, "movie1")->id;
  const std::vector<catalog::SeriesImage> images = tracks.series_images(series);
  ASSERT_EQ(images.size(), 2u);
  const std::string square = ws_->blobs().put(image::encode(cv::Mat(4, 4, CV_8UC1, cv::Scalar(255)), ".png"));
  auto object_at = [&](catalog::Id image, int x, int y) {
    catalog::NewObject o;
    o.label = 1;
    o.bbox_x0 = x;
    o.bbox_y0 = y;
    o.bbox_x1 = x + 4;
    o.bbox_y1 = y + 4;
    o.mask_blob = square;
    return ws_->catalog().add_objects(project_, std::nullopt, image, {o}).at(0);
  };
  // Track A: (2,2) in frame 0, moved to (4,2) in frame 1; track B appears in frame 1 at (20,10).
  const catalog::Id a0 = object_at(images[0].id, 2, 2), a1 = object_at(images[1].id, 4, 2);
  const catalog::Id b1 = object_at(images[1].id, 20, 10);
  tracks.replace_tracks(series, std::nullopt, {{0, 1, std::nullopt, {a0, a1}}, {1, 1, std::nullopt, {b1}}},
                        {std::nullopt, "test"}, json::object());
  auto o = options(DatasetFormat::npz, dir_ / "tracked.npz");
  o.set = "movies";
  o.dims = "3d";
  export_dataset(*ws_, o);
  const auto labels = exchange::npy_to_mats(exchange::NpzReader(dir_ / "tracked.npz").read("y"));
  ASSERT_EQ(labels.size(), 4u);
  const cv::Mat& f0 = labels[2];  // series movie1, frames 0 and 1
  const cv::Mat& f1 = labels[3];
  EXPECT_EQ(f0.at<std::int32_t>(3, 3), 1);
  EXPECT_EQ(f1.at<std::int32_t>(3, 5), 1);  // the same cell keeps its number
  EXPECT_EQ(f1.at<std::int32_t>(11, 21), 2);
  EXPECT_EQ(cv::countNonZero(f0), 16);
  EXPECT_EQ(cv::countNonZero(f1), 32);
  // movie0 has no tracks: labelled per frame from its annotations, as before.
  EXPECT_EQ(cv::countNonZero(labels[0] == 1), cv::countNonZero(masks_of(0)[2]));
}

TEST_F(SeriesExportTest, DeepCellLabelProjectOfASeries) {
  auto o = options(DatasetFormat::deepcell_label, dir_ / "dcl.zip");
  o.set.clear();
  o.series = "movie1";
  EXPECT_TRUE(export_dataset(*ws_, o).ok());
  exchange::ZipReader zip(dir_ / "dcl.zip");
  const auto x = exchange::decode_npy(zip.read("X.npy"));
  const auto y = exchange::decode_npy(zip.read("y.npy"));
  EXPECT_EQ(x.shape, (std::vector<uint64_t>{2, kHeight, kWidth, 1}));
  EXPECT_EQ(y.type, exchange::NpyType::i32);
  EXPECT_EQ(y.shape, (std::vector<uint64_t>{2, kHeight, kWidth, 1}));
  EXPECT_EQ(json::parse(zip.read("cells.json")),
            json::parse(R"([{"value": 1, "cell": 1, "t": 0, "c": 0}, {"value": 1, "cell": 1, "t": 1, "c": 0}])"));
  EXPECT_EQ(zip.read("divisions.json"), "[]");
  o.series = "no-such-series";
  EXPECT_THROW(export_dataset(*ws_, o), Error);
}

}  // namespace
}  // namespace tessera::app
