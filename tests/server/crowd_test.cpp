// The crowd intake over real loopback HTTP: an editor queues a 'crowd.ingest' job on a report, logs and raw
// frames inside the workspace (202 + Location), the in-process runner writes movies, .npz and the
// broken-links CSVs and stores the objects in the catalog; bad parameters and paths that climb out of the
// workspace are 400 naming the field; viewers get 403, strangers 404.

#include <gmock/gmock.h>

#include <chrono>
#include <thread>

#include <opencv2/imgproc.hpp>

#include "server/server_fixture.hpp"
#include "tessera/app/annotations.hpp"
#include "tessera/catalog/jobs.hpp"
#include "tessera/core/file.hpp"
#include "tessera/exchange/montage.hpp"
#include "tessera/image/encode.hpp"

namespace tessera::server::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* kId = "exp";

// crowd/ in the workspace: 4 raw frames (2 parts of 2), logs for a 2x2 chop, the annotations of tiles
// (0,0) and (1,1) of both parts as file:// URLs, and one broken row.
class CrowdApiTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    const fs::path crowd = workspace().root() / "crowd-in";
    fs::create_directories(crowd / "raw");
    fs::create_directories(crowd / "logs");
    fs::create_directories(crowd / "returned");
    const exchange::ChopperGeometry geometry = exchange::chopper_geometry(64, 64, {2, 2, 10});
    const exchange::MontageParams montage{2, 2, 3, 3};
    std::vector<cv::Mat> labels;
    for (int t = 0; t < 4; ++t) {
      cv::Mat l = cv::Mat::zeros(64, 64, CV_8UC1);
      cv::rectangle(l, cv::Rect(4 + t, 5, 12, 10), cv::Scalar(1), cv::FILLED);
      cv::rectangle(l, cv::Rect(40, 38 + t, 14, 12), cv::Scalar(2), cv::FILLED);
      labels.push_back(l);
      image::write_image(crowd / "raw" / fmt::format("t{}.png", t), l * 50 + 20);
    }
    write_file_atomic(crowd / "logs" / exchange::chopper_log_name(kId),
                      exchange::chopper_log(geometry, kId, "2026-11-22", 4).dump());
    write_file_atomic(crowd / "logs" / exchange::montage_log_name(kId),
                      exchange::montage_log(montage, geometry.params, kId, "2026-11-22", 2).dump());
    std::string report = "_unit_id,broken_link,annotation,image_url,identifier\n";
    int row = 0;
    for (int part = 0; part < 2; ++part) {
      for (int xy = 0; xy < 2; ++xy) {
        std::vector<cv::Mat> crops;
        for (int k = 0; k < 2; ++k) crops.push_back(exchange::chop_tile(labels[size_t(part * 2 + k)], geometry, xy, xy));
        const std::string stem = fmt::format("{}_x_{}_y_{}_montage_{}", kId, xy, xy, part);
        const fs::path file = crowd / "returned" / (stem + ".png");
        image::write_image(file, exchange::make_montage(crops, montage));
        report += fmt::format("{},false,\"{{\"\"url\"\": \"\"file://{}\"\"}}\",https://up.example/{}.png,{}\n", row++,
                              file.string(), stem, kId);
      }
    }
    report += fmt::format("{},true,,https://up.example/{}_x_1_y_0_montage_0.png,{}\n", row, kId, kId);
    write_file_atomic(crowd / "report.csv", report);
  }

  std::string ingest_path(catalog::Id project) const { return fmt::format("/api/v1/projects/{}/crowd/ingest", project); }

  static json params() {
    return {{"report", "crowd-in/report.csv"}, {"logs", "crowd-in/logs"}, {"raw", "crowd-in/raw"}};
  }
};

TEST_F(CrowdApiTest, AnEditorIngestsAReportIntoFilesAndTheCatalog) {
  json request = params();
  request["catalog"] = true;
  request["tag"] = "nucleus";
  const auto queued = post(ingest_path(lab()), request, "bob");
  ASSERT_TRUE(queued);
  ASSERT_EQ(queued->status, 202) << queued->body;
  const json job = body(queued)["job"];
  EXPECT_EQ(job["kind"], "crowd.ingest");
  EXPECT_EQ(queued->get_header_value("Location"), fmt::format("/api/v1/jobs/{}", job["id"].get<catalog::Id>()));
  const catalog::Job done = wait_for_job(job["id"].get<catalog::Id>());
  ASSERT_EQ(catalog::to_string(done.state), "succeeded") << done.message.value_or("");
  const json& r = done.result;
  EXPECT_EQ(r["downloaded"], 4);
  EXPECT_EQ(r["movies"], 4);
  EXPECT_EQ(r["broken_rows"], 1);
  EXPECT_EQ(r["npz"].size(), 2u);
  EXPECT_TRUE(r["problems"].empty()) << r.dump();
  ASSERT_TRUE(r["reupload_csv"].is_string());
  EXPECT_TRUE(fs::exists(r["reupload_csv"].get<std::string>()));
  EXPECT_THAT(r["output"].get<std::string>(), HasSubstr(fmt::format("crowd/job-{}", done.id)));
  EXPECT_EQ(r["catalog"]["frames"], 4);
  EXPECT_EQ(r["catalog"]["images_imported"], 4);
  // Tile (0,0) owns object 1 of each frame, tile (1,1) object 2: two objects on each of the four frames.
  EXPECT_EQ(r["catalog"]["annotations"], 8);

  // Again: nothing new in the catalog.
  const auto again = post(ingest_path(lab()), request, "alice");
  ASSERT_EQ(again->status, 202) << again->body;
  const catalog::Job second = wait_for_job(body(again)["job"]["id"].get<catalog::Id>());
  ASSERT_EQ(catalog::to_string(second.state), "succeeded") << second.message.value_or("");
  EXPECT_EQ(second.result["catalog"]["annotations"], 0);
  EXPECT_EQ(second.result["catalog"]["annotations_existing"], 8);
}

TEST_F(CrowdApiTest, BadParametersAndPathsOutOfTheWorkspaceAre400NamingTheField) {
  auto with = [](const std::string& key, const json& value) {
    json p = params();
    p[key] = value;
    return p;
  };
  json no_raw = params();
  no_raw.erase("raw");
  const std::vector<std::pair<json, std::string>> cases = {
      {no_raw, "raw"},
      {with("report", "../../etc/passwd"), "report"},
      {with("logs", "/etc"), "logs"},
      {with("out", "crowd-in/../../elsewhere"), "out"},
      {with("raw", "crowd-in/no-such-folder"), "raw"},
      {with("min_size", -1), "min_size"},
      {with("attempts", "many"), "attempts"},
      {with("tag", "nucleus"), "tag"},  // without "catalog": true
      {with("colour", 1), "colour"},
  };
  for (const auto& [request, field] : cases) {
    const auto r = post(ingest_path(lab()), request, "bob");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << field << ": " << r->body;
    EXPECT_EQ(body(r)["error"]["details"]["field"], field) << r->body;
  }
}

TEST_F(CrowdApiTest, ViewersMayNotStartOneAndStrangersDoNotSeeTheProject) {
  EXPECT_EQ(post(ingest_path(lab()), params(), "carol")->status, 403);
  EXPECT_EQ(post(ingest_path(lab()), params(), "mallory")->status, 404);
  EXPECT_EQ(post(ingest_path(other()), params(), "alice")->status, 404);
}

}  // namespace
}  // namespace tessera::server::testing
