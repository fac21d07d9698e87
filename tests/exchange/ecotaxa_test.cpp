#include "tessera/exchange/ecotaxa.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "exchange/python.hpp"
#include "tessera/core/error.hpp"
#include "tessera/exchange/zip_reader.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/image/encode.hpp"
#include "test_util.hpp"

namespace tessera::exchange {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

cv::Mat gradient(int rows, int cols, int channels, int seed) {
  cv::Mat m(rows, cols, CV_8UC(channels));
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols * channels; ++x) m.ptr<uint8_t>(y)[x] = static_cast<uint8_t>(seed + 7 * y + 3 * x);
  }
  return m;
}

size_t files_in(const std::filesystem::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

// A valid object with one generated PNG; tests change what they look at.
EcoTaxaObject basic(const std::string& id) {
  EcoTaxaObject o;
  o.object_id = id;
  o.images.push_back({.file_name = id + ".png", .encoded = {}, .pixels = gradient(4, 5, 1, 1)});
  return o;
}

// Reads a bundle with Python's zipfile + csv (EcoTaxa's own reader: delimiter TAB, quotechar '"') and
// returns the parsed table as JSON: header, types, rows, the BOM check and every [f] cell as a float.
nlohmann::json read_with_python(const std::filesystem::path& zip, const std::string& tsv) {
  const std::string out = test::run_python(R"(
import csv, io, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
raw = z.read(sys.argv[2])
text = raw.decode('utf-8-sig')
rows = list(csv.reader(io.StringIO(text, newline=''), delimiter='\t', quotechar='"'))
header, types, body = rows[0], rows[1], rows[2:]
floats = [[float(c) if t == '[f]' and c != '' else None for c, t in zip(r, types)] for r in body]
images = {n: len(z.read(n)) for n in z.namelist() if n != sys.argv[2]}
print(json.dumps({'bom': raw.startswith(b'\xef\xbb\xbf'), 'header': header, 'types': types, 'rows': body,
                  'floats': floats, 'images': images,
                  'methods': {i.filename: i.compress_type for i in z.infolist()}}))
)", {zip.string(), tsv});
  return nlohmann::json::parse(out.substr(out.find('{')));
}

size_t column(const nlohmann::json& table, const std::string& name) {
  const auto& header = table["header"];
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return i;
  }
  ADD_FAILURE() << "no column " << name << " in " << header.dump();
  return 0;
}

TEST(EcoTaxaWriter, WritesABundleThatPythonReadsBack) {
  test::TempDir dir;
  const auto zip = dir / "station 12.zip";
  const std::string jpeg = image::encode(gradient(8, 6, 3, 40), ".jpg");
  const std::vector<double> awkward = {0.1, 1.0 / 3.0, 1e300, -2.5e-300, 5e-324, 123456789012345678.0, -0.0};
  {
    EcoTaxaWriter writer(zip);
    EXPECT_EQ(writer.tsv_name(), "ecotaxa_station_12.tsv");
    EcoTaxaObject a = basic("obj_1");
    a.images.push_back({.file_name = "obj_1_side.jpg", .encoded = jpeg, .pixels = {}});
    a.lat = 43.6845;
    a.lon = 7.315;
    a.date = "2024-01-15";
    a.time = "143000";
    a.depth_min = 0;
    a.depth_max = 12.5;
    a.annotation_category = "Copepoda";
    a.annotation_status = "Validated";
    a.annotation_person_name = "Ana Ñúñez";
    a.annotation_date = "2024-02-01";
    a.annotation_time = "930";
    a.numbers = {{"Area", 532}, {"Perimeter", 98.41}, {"nan_value", kNaN}, {"pos_inf", kInf}, {"neg_inf", -kInf}};
    for (size_t i = 0; i < awkward.size(); ++i) a.numbers.emplace_back("v" + std::to_string(i), awkward[i]);
    a.texts = {{"comment", "tab\there, \"quoted\"\nand a new line"}, {"note", "Copépode µm"}};
    a.sample = {{"id", "st12"}, {"ship", "Meteor"}};
    a.acquisition = {{"id", "st12_net1"}, {"instrument", "ZooScan"}};
    a.process = {{"id", "st12_proc"}, {"software", "tessera 0.1"}};
    writer.add(a);

    EcoTaxaObject b = basic("obj_2");
    b.images[0].pixels = gradient(3, 3, 3, 9);
    b.numbers = {{"Area", 211}, {"late_feature", 2.5}};  // a column first seen on the second object
    b.sample = {{"id", "st12"}};
    writer.add(b);
    EXPECT_EQ(writer.object_count(), 2u);
    EXPECT_EQ(writer.line_count(), 3u);
    writer.finish();
  }
  EXPECT_EQ(files_in(dir.path()), 1u) << "only the zip remains, no scratch file";

  // Our own reader: the layout of formats.md 3.1.
  ZipReader reader(zip);
  ASSERT_TRUE(reader.find("ecotaxa_station_12.tsv"));
  EXPECT_EQ(reader.find("ecotaxa_station_12.tsv")->method, ZipMethod::deflate);
  ASSERT_TRUE(reader.find("images/obj_1.png"));
  EXPECT_EQ(reader.find("images/obj_1.png")->method, ZipMethod::store);
  EXPECT_EQ(reader.read("images/obj_1_side.jpg"), jpeg);
  const image::Image png = image::decode(reader.read("images/obj_2.png"), "obj_2.png");
  ASSERT_EQ(png.frames.size(), 1u);
  EXPECT_EQ(cv::norm(png.frames[0], gradient(3, 3, 3, 9), cv::NORM_INF), 0.0) << "PNG is lossless";
  const std::string tsv = reader.read("ecotaxa_station_12.tsv");
  EXPECT_EQ(tsv.substr(0, 3), "\xEF\xBB\xBF");
  EXPECT_EQ(tsv.substr(3, tsv.find('\n') - 3),
            "object_id\timg_file_name\timg_rank\tobject_lat\tobject_lon\tobject_date\tobject_time\t"
            "object_depth_min\tobject_depth_max\tobject_annotation_category\tobject_annotation_status\t"
            "object_annotation_person_name\tobject_annotation_date\tobject_annotation_time\tobject_area\t"
            "object_perimeter\tobject_nan_value\tobject_pos_inf\tobject_neg_inf\tobject_v0\tobject_v1\tobject_v2\t"
            "object_v3\tobject_v4\tobject_v5\tobject_v6\tobject_comment\tobject_note\tobject_late_feature\t"
            "sample_id\tsample_ship\tacq_id\tacq_instrument\tprocess_id\tprocess_software");
  EXPECT_EQ(tsv.find("-inf"), std::string::npos);
  EXPECT_EQ(tsv.find("nan"), tsv.find("nan_value")) << "no NaN cell, only the column name";

  // Python's zipfile + csv, as EcoTaxa reads it.
  const auto table = read_with_python(zip, "ecotaxa_station_12.tsv");
  EXPECT_TRUE(table["bom"]);
  const auto& rows = table["rows"];
  ASSERT_EQ(rows.size(), 3u);
  for (size_t i = 0; i < table["types"].size(); ++i) {
    const std::string name = table["header"][i];
    const bool numeric = name == "img_rank" || name == "object_lat" || name == "object_lon" ||
                         name.starts_with("object_depth") || name == "object_area" || name == "object_perimeter" ||
                         name == "object_late_feature" || name.ends_with("_inf") || name == "object_nan_value" ||
                         (name.starts_with("object_v") && name.size() == 9);
    EXPECT_EQ(table["types"][i], numeric ? "[f]" : "[t]") << name;
  }
  const size_t id = column(table, "object_id"), file = column(table, "img_file_name"),
               rank = column(table, "img_rank");
  EXPECT_EQ(rows[0][id], "obj_1");
  EXPECT_EQ(rows[0][file], "images/obj_1.png");
  EXPECT_EQ(rows[0][rank], "0");
  EXPECT_EQ(rows[1][id], "obj_1");
  EXPECT_EQ(rows[1][file], "images/obj_1_side.jpg");
  EXPECT_EQ(rows[1][rank], "1");
  EXPECT_EQ(rows[2][id], "obj_2");
  EXPECT_EQ(rows[2][rank], "0");
  EXPECT_EQ(rows[1][column(table, "object_comment")], "tab\there, \"quoted\"\nand a new line");
  EXPECT_EQ(rows[0][column(table, "object_note")], "Copépode µm");
  EXPECT_EQ(rows[0][column(table, "object_annotation_person_name")], "Ana Ñúñez");
  EXPECT_EQ(rows[0][column(table, "object_annotation_status")], "validated");
  EXPECT_EQ(rows[0][column(table, "object_date")], "2024-01-15");
  EXPECT_EQ(rows[0][column(table, "object_annotation_date")], "20240201");
  EXPECT_EQ(rows[0][column(table, "object_annotation_time")], "093000");
  for (const char* empty : {"object_nan_value", "object_pos_inf", "object_neg_inf"}) {
    EXPECT_EQ(rows[0][column(table, empty)], "") << empty;
  }
  for (size_t i = 0; i < awkward.size(); ++i) {
    const double back = table["floats"][0][column(table, "object_v" + std::to_string(i))];
    EXPECT_EQ(back, awkward[i]) << i;
    EXPECT_EQ(std::signbit(back), std::signbit(awkward[i])) << i;
  }
  EXPECT_EQ(double(table["floats"][1][column(table, "object_lat")]), 43.6845);
  EXPECT_EQ(rows[2][column(table, "object_late_feature")], "2.5");
  EXPECT_EQ(rows[0][column(table, "object_late_feature")], "");
  EXPECT_EQ(rows[2][column(table, "sample_ship")], "");
  EXPECT_EQ(rows[2][column(table, "acq_id")], "");
  EXPECT_EQ(table["images"].size(), 3u);
  EXPECT_EQ(table["methods"]["images/obj_1.png"], 0) << "stored";
  EXPECT_EQ(table["methods"]["ecotaxa_station_12.tsv"], 8) << "deflated";
}

TEST(EcoTaxaWriter, SharedImageNamesNeedIdenticalBytesAndAreStoredOnce) {
  test::TempDir dir;
  EcoTaxaWriter writer(dir / "b.zip");
  EcoTaxaObject a = basic("a");
  a.images[0].file_name = "shared.png";
  writer.add(a);
  EcoTaxaObject b = basic("b");
  b.images[0].file_name = "shared.png";
  writer.add(b);  // same pixels, same bytes: allowed (EcoTaxa's own sample does this)
  EcoTaxaObject c = basic("c");
  c.images[0].file_name = "shared.png";
  c.images[0].pixels = gradient(4, 5, 1, 99);
  test::expect_invalid([&] { writer.add(c); }, "already in the bundle with different content");
  writer.finish();
  ZipReader reader(dir / "b.zip");
  EXPECT_EQ(reader.entries().size(), 2u);
  const std::string tsv = reader.read("ecotaxa_b.tsv");
  EXPECT_NE(tsv.find("a\timages/shared.png\t0"), std::string::npos) << tsv;
  EXPECT_NE(tsv.find("b\timages/shared.png\t0"), std::string::npos) << tsv;
}

TEST(EcoTaxaWriter, NamesColumnsWithoutClashes) {
  test::TempDir dir;
  EcoTaxaWriter writer(dir / "names.zip", {.name = "run 7/a", .image_folder = "", .scratch_dir = {}});
  EcoTaxaObject o = basic("o1");
  o.numbers = {{"Area", 1}, {"area", 2}, {"Feret (px)", 3}, {"lat", 4}, {"annotation_status", 5}, {"area_2", 6}};
  o.sample = {{"ID", "s1"}, {"Dataportal Descriptor", "d"}, {"Station-Name", "x"}};
  o.acquisition = {{"id", "a1"}, {"Instrument", "FlowCam"}};
  writer.add(o);
  std::vector<std::string> names;
  for (const auto& c : writer.columns()) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "object_id", "img_file_name", "img_rank", "object_area", "object_area_2", "object_feret_px",
                       "object_lat_2", "object_annotation_status_2", "object_area_2_2", "sample_id",
                       "sample_dataportal_descriptor", "sample_station_name", "acq_id", "acq_instrument"}));
  EXPECT_EQ(writer.columns()[4].source, "area");
  EXPECT_EQ(writer.tsv_name(), "ecotaxa_run_7_a.tsv");
  // The mapping holds for later objects whatever order they give their names in.
  EcoTaxaObject p = basic("o2");
  p.numbers = {{"area", 20}, {"Area", 10}};
  writer.add(p);
  writer.finish();
  const std::string tsv = ZipReader(dir / "names.zip").read("ecotaxa_run_7_a.tsv");
  EXPECT_NE(tsv.find("o2\to2.png\t0\t10\t20\t"), std::string::npos) << tsv;
}

TEST(EcoTaxaWriter, RejectsWhatEcoTaxaWouldRejectNamingObjectAndField) {
  test::TempDir dir;
  EcoTaxaWriter writer(dir / "bad.zip");
  writer.add(basic("taken"));
  struct Case {
    std::function<void(EcoTaxaObject&)> change;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](EcoTaxaObject& o) { o.lat = 90.5; }, "lat 90.5 is outside -90..90"},
      {[](EcoTaxaObject& o) { o.lon = -180.01; }, "lon -180.01 is outside"},
      {[](EcoTaxaObject& o) { o.lat = kInf; }, "lat inf is outside"},
      {[](EcoTaxaObject& o) { o.date = "20230229"; }, "date '20230229'"},
      {[](EcoTaxaObject& o) { o.date = "2023/01/01"; }, "date '2023/01/01'"},
      {[](EcoTaxaObject& o) { o.time = "2460"; }, "time '2460'"},
      {[](EcoTaxaObject& o) { o.annotation_time = "12:3:45"; }, "annotation_time '12:3:45'"},
      {[](EcoTaxaObject& o) { o.annotation_category = "Copepoda"; o.annotation_status = "sure"; },
       "annotation_status 'sure'"},
      {[](EcoTaxaObject& o) { o.annotation_category = "Copepoda"; }, "category but no annotation_status"},
      {[](EcoTaxaObject& o) { o.annotation_status = "predicted"; }, "needs a category"},
      {[](EcoTaxaObject& o) { o.annotation_category_id = 0; o.annotation_status = "predicted"; },
       "annotation_category_id 0"},
      {[](EcoTaxaObject& o) { o.object_id = "taken"; }, "object_id is already in the bundle"},
      {[](EcoTaxaObject& o) { o.object_id = ""; }, "object_id is empty"},
      {[](EcoTaxaObject& o) { o.object_id = "a\tb"; }, "TAB"},
      {[](EcoTaxaObject& o) { o.images.push_back(o.images[0]); }, "listed twice"},
      {[](EcoTaxaObject& o) { o.images.clear(); }, "has no image"},
      {[](EcoTaxaObject& o) { o.images[0].file_name = "../up.png"; }, "'../up.png'"},
      {[](EcoTaxaObject& o) { o.images[0].file_name = "x.gif"; }, "must be .png, .jpg or .jpeg"},
      {[](EcoTaxaObject& o) { o.images[0].file_name = "x.jpg"; o.images[0].pixels.convertTo(o.images[0].pixels, CV_16U); },
       "JPEG holds 8-bit pixels only"},
      {[](EcoTaxaObject& o) { o.images[0].encoded = "BM not an accepted format"; }, "not PNG, JPEG or GIF"},
      {[](EcoTaxaObject& o) { o.images[0].pixels = cv::Mat(); }, "neither encoded bytes nor pixels"},
      {[](EcoTaxaObject& o) { o.sample = {{"ship", "Meteor"}}; }, "sample fields but no sample_id"},
      {[](EcoTaxaObject& o) { o.process = {{"id", ""}}; }, "process_id is empty"},
      {[](EcoTaxaObject& o) { o.acquisition = {{"id", "a1"}}; o.sample = {{"id", "s2"}}; },
       "acq_id 'a1' belongs to sample_id 's1' already"},
      {[](EcoTaxaObject& o) { o.texts = {{"shape", "round"}}; }, "field 'shape' is text here but column 'object_shape' is numeric"},
      {[](EcoTaxaObject& o) { o.numbers = {{"(%)", 1}}; }, "'(%)' has no letter or digit"},
      {[](EcoTaxaObject& o) { o.numbers = {{"x", 1}, {"x", 2}}; }, "column 'object_x' is given twice"},
      {[](EcoTaxaObject& o) { o.sample = {{"id", "s"}, {"ID", "t"}}; }, "column 'sample_id' is given twice"},
      {[](EcoTaxaObject& o) { o.texts = {{"note", "Cop\xe9pode"}}; }, "text 'note' is not UTF-8"},
  };
  EcoTaxaObject first = basic("first");
  first.acquisition = {{"id", "a1"}};
  first.sample = {{"id", "s1"}};
  first.numbers = {{"shape", 1.5}};
  writer.add(first);
  for (size_t i = 0; i < cases.size(); ++i) {
    EcoTaxaObject o = basic("object_" + std::to_string(i));
    o.numbers.emplace_back("leak_" + std::to_string(i), 1.0);  // must not survive the rejection
    cases[i].change(o);
    SCOPED_TRACE(cases[i].message);
    test::expect_invalid([&] { writer.add(o); }, cases[i].message);
  }
  EXPECT_EQ(writer.object_count(), 2u);
  for (const auto& c : writer.columns()) EXPECT_FALSE(c.name.starts_with("object_leak")) << c.name;
  writer.add(basic("still_usable"));
  writer.finish();
  const std::string tsv = ZipReader(dir / "bad.zip").read("ecotaxa_bad.tsv");
  EXPECT_EQ(tsv.find("leak"), std::string::npos);
  EXPECT_NE(tsv.find("still_usable"), std::string::npos);
  test::expect_invalid([&] { writer.add(basic("late")); }, "already finished");
}

TEST(EcoTaxaWriter, EnforcesEcoTaxaColumnLimits) {
  test::TempDir dir;
  EcoTaxaWriter writer(dir / "wide.zip");
  EcoTaxaObject o = basic("wide");
  for (int i = 0; i < 500; ++i) o.numbers.emplace_back(fmt::format("n{}", i), i);
  for (int i = 0; i < 20; ++i) o.texts.emplace_back(fmt::format("t{}", i), "x");
  o.sample = {{"id", "s"}, {"dataportal_descriptor", "d"}};
  for (int i = 0; i < 60; ++i) o.sample.emplace_back(fmt::format("s{}", i), "x");
  o.acquisition = {{"id", "a"}, {"instrument", "i"}};
  for (int i = 0; i < 30; ++i) o.acquisition.emplace_back(fmt::format("a{}", i), "x");
  o.process = {{"id", "p"}};
  for (int i = 0; i < 30; ++i) o.process.emplace_back(fmt::format("p{}", i), "x");
  writer.add(o);
  auto one_more = [&](auto change) {
    EcoTaxaObject x = basic("x");
    x.sample = {{"id", "s"}};
    x.acquisition = {{"id", "a"}};
    change(x);
    writer.add(x);
  };
  test::expect_invalid([&] { one_more([](EcoTaxaObject& x) { x.numbers = {{"n500", 1}}; }); },
                       "limit of 500 numeric object columns");
  test::expect_invalid([&] { one_more([](EcoTaxaObject& x) { x.texts = {{"t20", "y"}}; }); },
                       "limit of 20 text object columns");
  test::expect_invalid([&] { one_more([](EcoTaxaObject& x) { x.sample.emplace_back("s60", "y"); }); },
                       "limit of 60 sample columns");
  test::expect_invalid([&] { one_more([](EcoTaxaObject& x) { x.acquisition.emplace_back("a30", "y"); }); },
                       "limit of 30 acquisition columns");
  test::expect_invalid([&] { one_more([](EcoTaxaObject& x) { x.process = {{"id", "p"}, {"p30", "y"}}; }); },
                       "limit of 30 process columns");
  one_more([](EcoTaxaObject& x) { x.numbers = {{"n499", 1}}; });  // existing columns are still fine
  writer.finish();
  const auto table = read_with_python(dir / "wide.zip", "ecotaxa_wide.tsv");
  EXPECT_EQ(table["header"].size(), 3u + 500 + 20 + 62 + 32 + 31);
}

TEST(EcoTaxaWriter, AbandonedOrEmptyBundleLeavesNoFiles) {
  test::TempDir dir;
  {
    EcoTaxaWriter writer(dir / "gone.zip");
    writer.add(basic("a"));
  }
  EXPECT_EQ(files_in(dir.path()), 0u);
  EcoTaxaWriter empty(dir / "empty.zip");
  test::expect_invalid([&] { empty.finish(); }, "has no object");
}

}  // namespace
}  // namespace tessera::exchange
