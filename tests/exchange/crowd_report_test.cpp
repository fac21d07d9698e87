#include "tessera/exchange/crowd_report.hpp"

#include <gtest/gtest.h>

#include "tessera/core/error.hpp"

namespace tessera::exchange {
namespace {

using Records = std::vector<std::vector<std::string>>;

const std::vector<std::string> kHeader{"_unit_id", "broken_link", "annotation", "image_url", "identifier"};

std::vector<std::string> row(std::string id, std::string broken, std::string annotation, std::string image) {
  return {std::move(id), std::move(broken), std::move(annotation), std::move(image), "exp"};
}

TEST(CrowdReport, LaterGoodRowForgetsEarlierBrokenOnes) {
  Records records{kHeader,
                  row("1", "true", "", "http://h/exp_x_0_y_0_montage_0.png"),
                  row("2", "false", R"({"url": "https://a/1.png"})", "http://h/exp_x_0_y_1_montage_0.png"),
                  row("3", "true", "", "http://h/exp_x_1_y_0_montage_0.png"),
                  row("4", "false", R"({"url": "file:///tmp/2.png"})", "http://h/exp_x_0_y_0_montage_0.png")};
  CrowdReport report = parse_crowd_report(records, "job_1_full_report.csv");
  CrowdReportPlan plan = plan_crowd_report(report);
  ASSERT_EQ(plan.good.size(), 2u);
  EXPECT_EQ(plan.good[0]->annotation_url, "https://a/1.png");
  EXPECT_EQ(plan.good[1]->annotation_url, "file:///tmp/2.png");
  ASSERT_EQ(plan.broken.size(), 1u);
  EXPECT_EQ(plan.broken[0]->fields[0], "3");
  EXPECT_EQ(broken_links_csv(report, plan.broken),
            "_unit_id,broken_link,annotation,image_url,identifier\n3,true,,http://h/exp_x_1_y_0_montage_0.png,exp\n");
  EXPECT_EQ(reupload_csv(plan.broken), "identifier,image_url\nexp,http://h/exp_x_1_y_0_montage_0.png\n");
}

TEST(CrowdReport, MalformedRowsAreBrokenWithTheirProblemAndTheRestProceeds) {
  Records records{kHeader,
                  row("1", "false", "", "http://h/a.png"),
                  row("2", "false", R"({"url": "ftp://x/y.png"})", "http://h/b.png"),
                  row("3", "false", "{not json", "http://h/c.png"),
                  row("4", "maybe", "", "http://h/d.png"),
                  row("5", "false", R"({"url": "http://a/e.png", "x": "q,\"r"})", "http://h/e.png")};
  CrowdReport report = parse_crowd_report(records, "r.csv");
  CrowdReportPlan plan = plan_crowd_report(report);
  ASSERT_EQ(plan.good.size(), 1u);
  EXPECT_EQ(plan.good[0]->fields[0], "5");
  ASSERT_EQ(plan.broken.size(), 4u);
  EXPECT_NE(plan.broken[0]->problem.find("empty"), std::string::npos);
  EXPECT_NE(plan.broken[1]->problem.find("ftp://x/y.png"), std::string::npos);
  EXPECT_NE(plan.broken[2]->problem.find("JSON"), std::string::npos);
  EXPECT_NE(plan.broken[3]->problem.find("maybe"), std::string::npos);
  EXPECT_EQ(plan.broken[2]->line, 4u);
}

TEST(CrowdReport, HeaderWithoutARequiredColumnIsNamed) {
  try {
    parse_crowd_report(Records{{"broken_link", "annotation", "identifier"}}, "r.csv");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("image_url"), std::string::npos) << e.what();
  }
}

TEST(CrowdReport, OutputNamesFollowTheReference) {
  EXPECT_EQ(reupload_csv_name("job_12345_full_report"), "job_12345_reupload.csv");
  EXPECT_EQ(reupload_csv_name("job_report"), "job_report_reupload.csv");
  EXPECT_EQ(broken_links_csv_name("job_report"), "job_report_broken_links.csv");
  EXPECT_EQ(montage_stem_of_url("https://s3/b/exp_x_0_y_1_montage_2.png?sig=1"), "exp_x_0_y_1_montage_2");
}

}  // namespace
}  // namespace tessera::exchange
