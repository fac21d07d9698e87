// The crowd intake end to end: montages made from a synthetic time-lapse's ground truth come back as
// "annotations" (RGB, with specks and holes), are fetched through file:// URLs of a job report, cleaned
// and cut back into movies that must equal the original crops exactly.
#include "tessera/app/crowd_ingest.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <set>

#include "tessera/app/annotations.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/core/sha256.hpp"
#include "tessera/exchange/montage.hpp"
#include "tessera/exchange/npz.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/image/encode.hpp"
#include "tessera/synth/timelapse.hpp"
#include "test_util.hpp"

namespace tessera::app {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

constexpr const char* kId = "exp";

cv::Mat read_image(const fs::path& path) { return image::decode(read_file(path), path.string()).frames.at(0); }

bool same(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::countNonZero(a != b) == 0;
}

// Sorted distinct non-zero values -> 1..N, as CV_8U (the test keeps fewer than 256 labels per montage).
cv::Mat relabeled(const cv::Mat& labels) {
  std::set<int> values;
  cv::Mat wide;
  labels.convertTo(wide, CV_32S);
  for (auto it = wide.begin<int>(); it != wide.end<int>(); ++it)
    if (*it) values.insert(*it);
  std::map<int, int> to;
  for (int v : values) to.emplace(v, static_cast<int>(to.size()) + 1);
  cv::Mat out(labels.size(), CV_8UC1);
  for (int r = 0; r < wide.rows; ++r)
    for (int c = 0; c < wide.cols; ++c) {
      int v = wide.at<int>(r, c);
      out.at<std::uint8_t>(r, c) = static_cast<std::uint8_t>(v ? to.at(v) : 0);
    }
  return out;
}

// True when every pixel of the (2*reach+1)^2 window around (r, c) equals value.
bool uniform(const cv::Mat& m, int r, int c, int reach, int value) {
  if (r < reach || c < reach || r + reach >= m.rows || c + reach >= m.cols) return false;
  for (int dr = -reach; dr <= reach; ++dr)
    for (int dc = -reach; dc <= reach; ++dc)
      if (m.at<std::uint16_t>(r + dr, c + dc) != value) return false;
  return true;
}

// Adds what a crowd worker leaves behind: a 2x2 speck of a stray label in empty space and a 2x2 hole
// inside a nucleus. Returns how many of each were placed.
std::pair<int, int> spoil(cv::Mat& montage) {
  int specks = 0;
  int holes = 0;
  for (int r = 8; r < montage.rows - 8 && (specks < 3 || holes < 3); r += 7) {
    for (int c = 8; c < montage.cols - 8 && (specks < 3 || holes < 3); c += 7) {
      int v = montage.at<std::uint16_t>(r, c);
      if (v == 0 && specks < 3 && uniform(montage, r, c, 5, 0)) {
        montage(cv::Rect(c, r, 2, 2)).setTo(200);
        ++specks;
      } else if (v != 0 && holes < 3 && uniform(montage, r, c, 4, v)) {
        montage(cv::Rect(c, r, 2, 2)).setTo(0);
        ++holes;
      }
    }
  }
  return {specks, holes};
}

// As an annotation tool returns it: RGB with the label in red.
cv::Mat as_rgb(const cv::Mat& labels16) {
  cv::Mat red;
  labels16.convertTo(red, CV_8U);
  cv::Mat green = cv::Mat(labels16.size(), CV_8UC1, cv::Scalar(17));
  cv::Mat rgb;
  cv::merge(std::vector<cv::Mat>{red, green, red}, rgb);
  return rgb;
}

struct Job {
  TempDir dir{"tessera-crowd"};
  synth::TimelapseFrames truth;
  exchange::ChopperGeometry geometry;
  exchange::MontageParams montage{4, 2, 5, 5};
  int parts = 2;
  std::string report_header = "_unit_id,broken_link,annotation,image_url,identifier\n";
  std::string report_rows;
  std::map<std::string, cv::Mat> expected_montages;  // montage stem -> cleaned ground truth
  int slivers = 0;                                    // truth pixels the cleaning removes (edge slivers)

  Job() {
    synth::TimelapseOptions options;
    options.positions = 1;
    options.frames = montage.montage_len * parts;
    options.size = 128;
    options.nuclei = 6;
    options.seed = 3;
    options.cycle_frames = 0;
    options.touching_fraction = 0;
    truth = synth::generate_position(options, 1);
    geometry = exchange::chopper_geometry(128, 128, {2, 2, 10});
    fs::create_directories(dir / "raw");
    fs::create_directories(dir / "logs");
    fs::create_directories(dir / "returned");
    for (size_t t = 0; t < truth.images.size(); ++t) {
      image::write_image(dir / "raw" / fmt::format("t{}_c0.png", t), truth.images[t]);
    }
    write_file_atomic(dir / "logs" / exchange::chopper_log_name(kId),
                      exchange::chopper_log(geometry, kId, "2026-11-22", options.frames).dump());
    write_file_atomic(dir / "logs" / exchange::montage_log_name(kId),
                      exchange::montage_log(montage, geometry.params, kId, "2026-11-22", parts).dump());
  }

  std::vector<cv::Mat> truth_crops(int part, int x, int y) const {
    std::vector<cv::Mat> crops;
    for (int k = 0; k < montage.montage_len; ++k) {
      crops.push_back(exchange::chop_tile(truth.labels[static_cast<size_t>(part * montage.montage_len + k)], geometry, x, y));
    }
    return crops;
  }

  // Writes the spoiled annotation of (part, x, y) and its report row.
  void annotate(int part, int x, int y) {
    cv::Mat clean = exchange::make_montage(truth_crops(part, x, y), montage);
    std::string stem = fmt::format("{}_x_{}_y_{}_montage_{}", kId, x, y, part);
    // The ground truth cut at tile edges can leave slivers under 10 px, which any cleaning removes: the
    // expectation is the truth cleaned (checked to differ from the plain renumbered truth by slivers only).
    expected_montages[stem] = clean_crowd_labels(clean);
    cv::Mat plain = relabeled(clean);
    EXPECT_LT(cv::countNonZero(expected_montages[stem] != plain), 10 * 4) << stem;
    slivers += cv::countNonZero(expected_montages[stem] != plain);
    cv::Mat spoiled = clean.clone();
    auto [specks, holes] = spoil(spoiled);
    EXPECT_GT(specks + holes, 0) << stem;
    fs::path file = dir / "returned" / (stem + "_worker.png");
    image::write_image(file, as_rgb(spoiled));
    add_row("false", fmt::format(R"({{""url"": ""file://{}""}})", file.string()), stem);
  }

  void add_row(const std::string& broken, const std::string& annotation_csv, const std::string& stem) {
    report_rows += fmt::format("{},{},\"{}\",https://uploads.example/{}.png,{}\n", report_rows.size(), broken,
                               annotation_csv, stem, kId);
  }

  CrowdIngestOptions options() const {
    CrowdIngestOptions options;
    options.report = dir / "job_7_full_report.csv";
    options.logs = dir / "logs";
    options.raw = dir / "raw";
    options.out = dir / "out";
    options.download.first_backoff = std::chrono::milliseconds(1);
    return options;
  }

  CrowdIngestResult ingest() {
    write_file_atomic(dir / "job_7_full_report.csv", report_header + report_rows);
    return ingest_crowd_report(options());
  }
};

TEST(CrowdIngest, MontagesOfTheGroundTruthComeBackAsTheOriginalCrops) {
  Job job;
  // Precondition: the ground truth itself is clean, so every difference below is the cleaning's doing.
  for (int part = 0; part < job.parts; ++part) {
    cv::Mat m = exchange::make_montage(job.truth_crops(part, 1, 0), job.montage);
    ASSERT_TRUE(same(clean_crowd_labels(m), relabeled(m)));
  }
  for (int part = 0; part < job.parts; ++part)
    for (int x = 0; x < 2; ++x)
      for (int y = 0; y < 2; ++y) job.annotate(part, x, y);
  CrowdIngestResult result = job.ingest();
  EXPECT_TRUE(result.problems.empty()) << fmt::format("{}", fmt::join(result.problems, "\n"));
  std::cout << "ground-truth pixels removed as slivers: " << job.slivers << "\n";
  EXPECT_EQ(result.downloaded, 8);
  EXPECT_EQ(result.montages, 8);
  EXPECT_EQ(result.movies, 8);
  EXPECT_TRUE(result.broken_links_csv.empty());
  for (int part = 0; part < job.parts; ++part) {
    for (int x = 0; x < 2; ++x) {
      for (int y = 0; y < 2; ++y) {
        std::string stem = fmt::format("{}_x_{}_y_{}_montage_{}", kId, x, y, part);
        auto expected = exchange::split_montage(job.expected_montages.at(stem), job.montage, job.geometry.tile_rows(),
                                                job.geometry.tile_cols(), stem);
        fs::path movie = job.dir / "out" / "movies" / fmt::format("part{}", part) / exchange::position_folder(x, y);
        for (int k = 0; k < job.montage.montage_len; ++k) {
          cv::Mat annotated = read_image(movie / "annotated" / exchange::annotated_frame_name(kId, x, y, k));
          EXPECT_TRUE(same(annotated, expected[static_cast<size_t>(k)])) << stem << " frame " << k;
          cv::Mat raw = read_image(movie / "raw" / exchange::raw_frame_name(kId, x, y, k));
          cv::Mat want_raw =
              exchange::chop_tile(job.truth.images[static_cast<size_t>(part * job.montage.montage_len + k)], job.geometry, x, y);
          EXPECT_TRUE(same(raw, want_raw)) << stem << " raw frame " << k;
        }
      }
    }
  }
  ASSERT_EQ(result.npz.size(), 2u);
  exchange::NpzReader npz(result.npz[1]);
  exchange::NpyArray y = npz.read("y");
  EXPECT_EQ(y.shape, (std::vector<uint64_t>{4, 4, 76, 76, 1}));
  EXPECT_EQ(npz.read("X").type, exchange::NpyType::f32);

  // A second run keeps what is there.
  CrowdIngestResult again = job.ingest();
  EXPECT_EQ(again.downloaded, 0);
  EXPECT_EQ(again.reused, 8);
  EXPECT_TRUE(again.problems.empty());
}

TEST(CrowdIngest, CatalogGetsEveryTruthObjectOnItsFrameOnceAcrossReRuns) {
  Job job;
  for (int part = 0; part < job.parts; ++part)
    for (int x = 0; x < 2; ++x)
      for (int y = 0; y < 2; ++y) job.annotate(part, x, y);
  TempDir wsdir("tessera-crowd-ws");
  Workspace ws = Workspace::init(wsdir / "ws", "");
  write_file_atomic(job.dir / "job_7_full_report.csv", job.report_header + job.report_rows);
  CrowdIngestOptions options = job.options();
  CrowdCatalogOptions to_catalog;
  to_catalog.tag = "nucleus";
  CrowdIngestReport first = ingest_crowd_report_to_catalog(ws, options, to_catalog);
  EXPECT_TRUE(first.ingest.problems.empty()) << fmt::format("{}", fmt::join(first.ingest.problems, "\n"));
  EXPECT_EQ(first.catalog.frames, 8);
  EXPECT_EQ(first.catalog.images_imported, 8);
  EXPECT_GT(first.catalog.annotations, 0);
  EXPECT_EQ(first.ingest.movies, 8);  // the files are written as without --catalog

  // Every truth object of every frame is covered by one stored mask for most of its pixels.
  const catalog::Id project = ws.catalog().get_project("default").id;
  Annotations annotations(ws);
  int stored = 0;
  for (size_t t = 0; t < job.truth.images.size(); ++t) {
    catalog::ImageQuery query;
    query.project_id = project;
    query.blob_hash = sha256_hex(read_file(job.dir / "raw" / fmt::format("t{}_c0.png", t)));
    auto images = ws.catalog().list_images(query);
    ASSERT_EQ(images.size(), 1u) << t;
    catalog::ViewportQuery vq;
    vq.image_id = images[0].id;
    cv::Mat painted = cv::Mat::zeros(job.truth.labels[t].size(), CV_8UC1);
    for (const auto& a : annotations.in_viewport(vq).annotations) {
      EXPECT_EQ(a.state.source, "imported");
      EXPECT_EQ(a.state.source_ref["crowd"], kId);
      EXPECT_TRUE(a.state.tag_id.has_value());
      const auto& b = a.state.bbox;
      cv::Mat mask = image::decode(annotations.mask_png(a)).frames.at(0);
      cv::Rect box(int(b.x0), int(b.y0), int(b.x1 - b.x0), int(b.y1 - b.y0));
      painted(box).setTo(255, mask);
      ++stored;
    }
    double truth_max = 0;
    cv::minMaxLoc(job.truth.labels[t], nullptr, &truth_max);
    for (int id = 1; id <= int(truth_max); ++id) {
      cv::Mat object = job.truth.labels[t] == id;
      const int area = cv::countNonZero(object);
      if (area == 0) continue;
      EXPECT_GE(cv::countNonZero(painted & object), area * 9 / 10) << "frame " << t << " object " << id;
    }
  }
  EXPECT_EQ(stored, first.catalog.annotations);

  CrowdIngestReport second = ingest_crowd_report_to_catalog(ws, options, to_catalog);
  EXPECT_EQ(second.catalog.annotations, 0);
  EXPECT_EQ(second.catalog.annotations_existing, first.catalog.annotations);
  EXPECT_EQ(second.catalog.images_imported, 0);

  // Frames that exist only outside the named series are refused by name, the files are still written.
  to_catalog.series_prefix = "plate9_";
  CrowdIngestReport prefixed = ingest_crowd_report_to_catalog(ws, options, to_catalog);
  EXPECT_EQ(prefixed.catalog.frames, 0);
  ASSERT_FALSE(prefixed.ingest.problems.empty());
  EXPECT_NE(prefixed.ingest.problems[0].find("plate9_"), std::string::npos) << prefixed.ingest.problems[0];
  EXPECT_EQ(prefixed.ingest.movies, 8);
}

TEST(CrowdIngest, BadRowsAndFilesAreNamedAndTheRestProceeds) {
  Job job;
  job.annotate(0, 0, 0);
  job.add_row("false", "", "exp_x_1_y_0_montage_0");                                      // no URL
  job.add_row("false", R"({""url"": ""gopher://x/y.png""})", "exp_x_0_y_1_montage_0");     // malformed URL
  job.add_row("true", "", "exp_x_1_y_1_montage_0");                                       // broken link
  // A montage whose size disagrees with the logs.
  image::write_image(job.dir / "returned" / "small.png", cv::Mat(40, 50, CV_8UC1, cv::Scalar(0)));
  job.add_row("false", fmt::format(R"({{""url"": ""file://{}""}})", (job.dir / "returned" / "small.png").string()),
              "exp_x_0_y_0_montage_1");
  // An annotation that is not a label image (floating point).
  image::write_image(job.dir / "returned" / "float.tif", cv::Mat(171, 167, CV_32FC1, cv::Scalar(0.5)));
  job.add_row("false", fmt::format(R"({{""url"": ""file://{}""}})", (job.dir / "returned" / "float.tif").string()),
              "exp_x_1_y_0_montage_1");
  CrowdIngestResult result = job.ingest();
  std::string all = fmt::format("{}", fmt::join(result.problems, "\n"));
  EXPECT_EQ(result.problems.size(), 4u) << all;
  EXPECT_NE(all.find("line 3: annotation is empty"), std::string::npos) << all;
  EXPECT_NE(all.find("gopher://x/y.png"), std::string::npos) << all;
  EXPECT_NE(all.find("exp_x_0_y_0_montage_1_annotation.png: montage is 50x40"), std::string::npos) << all;
  EXPECT_NE(all.find("exp_x_1_y_0_montage_1_annotation.png: not a label image"), std::string::npos) << all;
  EXPECT_EQ(result.montages, 1);  // the good one went through
  EXPECT_TRUE(fs::exists(job.dir / "out/movies/part0/x_00_y_00/annotated/exp_x_00_y_00_frame_003.png"));
  EXPECT_EQ(result.broken_rows, 3);
  EXPECT_EQ(result.reupload_csv.filename(), "job_7_reupload.csv");
  std::string reupload = read_file(result.reupload_csv);
  EXPECT_EQ(reupload,
            "identifier,image_url\nexp,https://uploads.example/exp_x_1_y_0_montage_0.png\n"
            "exp,https://uploads.example/exp_x_0_y_1_montage_0.png\nexp,https://uploads.example/exp_x_1_y_1_montage_0.png\n");
  std::string broken = read_file(result.broken_links_csv);
  EXPECT_NE(broken.find("gopher://x/y.png"), std::string::npos) << broken;  // full rows, annotation column too
}

TEST(CrowdIngest, CliNamesTheBadRowProceedsAndExitsWithStatus1) {
  Job job;
  job.annotate(0, 1, 1);
  job.add_row("false", R"({""url"": ""notaurl""})", "exp_x_0_y_0_montage_0");
  write_file_atomic(job.dir / "job_7_full_report.csv", job.report_header + job.report_rows);
  std::string command = fmt::format("{} crowd ingest {} --logs {} --raw {} --out {} >{} 2>{}", TESSERA_BINARY,
                                    (job.dir / "job_7_full_report.csv").string(), (job.dir / "logs").string(),
                                    (job.dir / "raw").string(), (job.dir / "cli").string(),
                                    (job.dir / "stdout").string(), (job.dir / "stderr").string());
  int raw = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(raw));
  EXPECT_EQ(WEXITSTATUS(raw), 1);
  std::string err = read_file(job.dir / "stderr");
  EXPECT_NE(err.find("line 3: annotation url 'notaurl'"), std::string::npos) << err;
  EXPECT_TRUE(fs::exists(job.dir / "cli/movies/part0/x_01_y_01/annotated/exp_x_01_y_01_frame_000.png"));
  EXPECT_TRUE(fs::exists(job.dir / "cli/npz/exp_part0.npz"));
  EXPECT_TRUE(fs::exists(job.dir / "cli/job_7_reupload.csv"));
}

TEST(CrowdDownload, RetriesTransientFailuresAndResumesThePartialFile) {
  TempDir dir("tessera-crowd-dl");
  int calls = 0;
  std::vector<std::uint64_t> offsets;
  DownloadOptions options;
  options.first_backoff = std::chrono::milliseconds(1);
  options.http = [&](const std::string&, const fs::path& partial, std::uint64_t offset, std::chrono::seconds) {
    ++calls;
    offsets.push_back(offset);
    std::string text = calls == 1 ? "hello " : "world";
    std::FILE* f = std::fopen(partial.c_str(), "ab");
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
    if (calls < 3) throw Error(ErrorCode::unavailable, "connection reset");
  };
  // The second attempt appends nothing new to check: verification only passes once the file is whole.
  auto verify = [](const fs::path& p) {
    if (read_file(p) != "hello worldworld") throw Error(ErrorCode::unavailable, "incomplete");
  };
  download("https://h/a.png", dir / "a.png", options, verify);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(offsets, (std::vector<std::uint64_t>{0, 6, 11}));
  EXPECT_EQ(read_file(dir / "a.png"), "hello worldworld");
  EXPECT_FALSE(fs::exists(dir / "a.png.part"));

  int permanent_calls = 0;
  options.http = [&](const std::string&, const fs::path&, std::uint64_t, std::chrono::seconds) {
    ++permanent_calls;
    throw Error(ErrorCode::not_found, "HTTP 404");
  };
  EXPECT_THROW(download("https://h/b.png", dir / "b.png", options, verify), Error);
  EXPECT_EQ(permanent_calls, 1);
  EXPECT_THROW(download("file:///no/such/file.png", dir / "c.png", options, verify), Error);
}

TEST(CrowdClean, FillsHolesRemovesSpecksAndRelabels) {
  cv::Mat labels = cv::Mat::zeros(20, 20, CV_16UC1);
  labels(cv::Rect(2, 2, 6, 6)).setTo(40);
  labels(cv::Rect(8, 2, 6, 6)).setTo(7);  // touches 40: one component of the mask
  labels.at<std::uint16_t>(4, 4) = 0;    // hole inside 40
  labels(cv::Rect(16, 16, 3, 3)).setTo(9);  // 9 pixels: fewer than 10, removed
  cv::Mat cleaned = clean_crowd_labels(labels);
  ASSERT_EQ(cleaned.type(), CV_8UC1);
  EXPECT_EQ(cleaned.at<std::uint8_t>(4, 4), 2);  // the hole took 40's label, renumbered 2 (7 -> 1)
  EXPECT_EQ(cleaned.at<std::uint8_t>(3, 10), 1);
  EXPECT_EQ(cv::countNonZero(cleaned(cv::Rect(16, 16, 3, 3))), 0);
  EXPECT_THROW(annotation_labels(cv::Mat(3, 3, CV_32FC1), "x.tif"), Error);
}

}  // namespace
}  // namespace tessera::app
