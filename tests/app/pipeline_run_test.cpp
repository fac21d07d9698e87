// The pipeline use case end to end on generated plankton images whose truth is known (manifest.json):
// folder and catalog inputs, the EcoTaxa zip read back by Python, catalog objects with masks and nested
// parents, run records, partial and failed runs, and exact repeats.
#include "tessera/app/pipeline_run.hpp"

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "exchange/python.hpp"
#include "tessera/app/import.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/exchange/zip_reader.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/image/encode.hpp"
#include "tessera/synth/plankton.hpp"
#include "tessera/version.hpp"
#include "test_util.hpp"

namespace tessera::app {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kPattern = "st{station}/img_{index:int}.png";

// Four 512x512 plankton images (seed 4 gives organisms holding a particle, which the nested checks need).
synth::PlanktonOptions plankton_options() {
  synth::PlanktonOptions o;
  o.images = 4;
  o.width = 512;
  o.height = 512;
  o.max_objects = 6;
  o.nested_fraction = 1.0;
  o.seed = 4;
  return o;
}

// A workspace, the generated images under data/, and an out/ folder for the writers.
struct Plankton {
  tessera::test::TempDir dir{"tessera-pipeline-run"};
  fs::path data = dir / "data";
  fs::path out = dir / "out";
  json manifest;
  Workspace ws = Workspace::init(dir / "ws", "");

  Plankton() {
    // Rendering is the slow part: done once per test binary, then copied into each test's own folder.
    static const tessera::test::TempDir rendered("tessera-pipeline-plankton");
    static const synth::PlanktonSummary summary = synth::write_plankton(rendered / "data", plankton_options());
    fs::copy(rendered / "data", data, fs::copy_options::recursive);
    manifest = json::parse(read_file(data / "manifest.json"));
    EXPECT_GT(summary.nested, 0) << "the generated set must hold nested organisms";
    fs::create_directories(out);
  }

  // The root id a pipeline gives a file of the folder ("st01/img_00000.png" -> "st01_img_00000").
  static std::string root_id(const std::string& file) {
    std::string id = fs::path(file).replace_extension().generic_string();
    std::replace(id.begin(), id.end(), '/', '_');
    return id;
  }

  void import(const std::string& set = "all") {
    ImportOptions io;
    io.sources = {data};
    io.pattern = kPattern;
    io.set = set;
    io.progress = false;
    io.jobs = 2;
    const ImportReport r = import_images(ws, io);
    ASSERT_EQ(r.imported, 4);
  }

  catalog::Id project_id() { return ws.catalog().get_project("default").id; }
};

// The shipped EcoTaxa example with its outputs moved under out/ and, optionally, its split and writers changed.
json plankton_pipeline(const fs::path& out, const std::string& nested = "count") {
  json p = json::parse(read_file(std::string(TESSERA_SOURCE_DIR) + "/examples/plankton_ecotaxa.json"));
  p.erase("input");
  for (json& node : p["nodes"]) {
    if (node.contains("split")) node["nested"] = nested;
    if (node.value("write", "") == "ecotaxa") node["path"] = (out / "plankton.zip").string();
    if (node.value("write", "") == "csv") node["path"] = (out / "objects.csv").string();
  }
  return p;
}

// The example's segmentation with a catalog writer (and a CSV) after a split with the given padding.
json catalog_pipeline(const fs::path& out, int padding, const std::string& nested = "children") {
  json p = plankton_pipeline(out, nested);
  json nodes = json::array();
  for (json& node : p["nodes"]) {
    if (node.contains("split")) {
      node["padding"] = padding;
      nodes.push_back(node);
      break;
    }
    nodes.push_back(node);
  }
  nodes.push_back({{"write", "catalog"}});
  nodes.push_back({{"write", "csv"}, {"path", (out / "objects.csv").string()}});
  p["nodes"] = nodes;
  p["name"] = "plankton-catalog";
  return p;
}

PipelineInput folder_input(const fs::path& dir) {
  PipelineInput in;
  in.dir = dir;
  in.pattern = kPattern;
  return in;
}

PipelineRunOptions quiet(int jobs = 2) {
  PipelineRunOptions o;
  o.jobs = jobs;
  o.progress = false;
  return o;
}

// CSV rows as maps (no quoted commas in these files: ids, numbers and station codes).
std::vector<std::map<std::string, std::string>> read_csv(const fs::path& path) {
  std::vector<std::map<std::string, std::string>> rows;
  std::istringstream in(read_file(path));
  std::string line;
  std::vector<std::string> header;
  auto split = [](const std::string& s) {
    std::vector<std::string> cells;
    std::stringstream ss(s);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    if (!s.empty() && s.back() == ',') cells.push_back("");
    return cells;
  };
  std::getline(in, line);
  header = split(line);
  while (std::getline(in, line)) {
    const auto cells = split(line);
    EXPECT_EQ(cells.size(), header.size()) << line;
    std::map<std::string, std::string> row;
    for (size_t c = 0; c < header.size() && c < cells.size(); ++c) row[header[c]] = cells[c];
    rows.push_back(std::move(row));
  }
  return rows;
}

double iou(const cv::Rect& a, const cv::Rect& b) {
  const double inter = (a & b).area();
  return inter / (a.area() + b.area() - inter);
}

// Reads the EcoTaxa zip as EcoTaxa's importer would (zipfile + csv), checking the format on the way, and
// returns per object: sample id, nested count and the number of images.
const char* kEcoTaxaReader = R"PY(
import collections, csv, io, json, sys, zipfile
import cv2, numpy as np
z = zipfile.ZipFile(sys.argv[1])
names = set(z.namelist())
tsvs = [n for n in names if n.rsplit('/', 1)[-1].startswith('ecotaxa') and n.endswith('.tsv')]
assert len(tsvs) == 1, tsvs
raw = z.read(tsvs[0])
assert raw.startswith(b'\xef\xbb\xbf'), 'no UTF-8 BOM'
rows = list(csv.reader(io.StringIO(raw[3:].decode('utf-8'), newline=''), delimiter='\t', quotechar='"'))
rows = [r for r in rows if r != []]
header, types, data = rows[0], rows[1], rows[2:]
assert len(types) == len(header), (len(types), len(header))
assert all(t in ('[f]', '[t]') for t in types), types
col = {h: i for i, h in enumerate(header)}
for required in ('object_id', 'img_file_name', 'img_rank', 'sample_id', 'acq_id', 'process_id', 'object_nested_count'):
    assert required in col, required
assert types[col['object_id']] == '[t]' and types[col['img_file_name']] == '[t]'
assert types[col['img_rank']] == '[f]' and types[col['object_area']] == '[f]' and types[col['sample_id']] == '[t]'
for h in header:
    assert h.split('_', 1)[0] in ('object', 'img', 'sample', 'acq', 'process'), h
objects = collections.OrderedDict()
folder = tsvs[0].rsplit('/', 1)[0] + '/' if '/' in tsvs[0] else ''
pairs = set()
for r in data:
    assert len(r) == len(header), r
    oid, name = r[col['object_id']], r[col['img_file_name']]
    assert (oid, name) not in pairs, (oid, name)
    pairs.add((oid, name))
    path = folder + name
    assert path in names, path
    img = cv2.imdecode(np.frombuffer(z.read(path), np.uint8), cv2.IMREAD_UNCHANGED)
    assert img is not None and img.size > 0, path
    o = objects.setdefault(oid, {'ranks': [], 'sample': r[col['sample_id']], 'acq': r[col['acq_id']],
                                 'nested': float(r[col['object_nested_count']]), 'area': float(r[col['object_area']])})
    o['ranks'].append(int(r[col['img_rank']]))
print(json.dumps({'objects': objects, 'lines': len(data)}))
)PY";

json read_ecotaxa(const fs::path& zip) {
  const std::string out = tessera::test::run_python(kEcoTaxaReader, {zip.string()});
  try {
    return json::parse(out);
  } catch (const json::exception&) {
    ADD_FAILURE() << "reader output: " << out;
    return json::object();
  }
}

TEST(PipelineRun, FolderRunExportsAnEcoTaxaZipThatMatchesTheTruth) {
  Plankton p;
  const PipelineRunReport report = run_pipeline(p.ws, "default", plankton_pipeline(p.out), folder_input(p.data), quiet());
  EXPECT_EQ(report.status, "succeeded");
  EXPECT_EQ(report.stats.failed, 0);
  EXPECT_EQ(report.stats.items, 4);

  const json eco = read_ecotaxa(p.out / "plankton.zip");
  ASSERT_TRUE(eco.contains("objects"));
  const json& objects = eco["objects"];
  std::int64_t organisms = 0;
  for (const json& image : p.manifest["images"]) {
    const std::string root = Plankton::root_id(image["file"]);
    const std::string station = fmt::format("{:02}", image["station"].get<int>());
    int found = 0;
    double nested = 0;
    for (const auto& [oid, o] : objects.items()) {
      if (oid.rfind(root + "_", 0) != 0) continue;
      ++found;
      nested += o["nested"].get<double>();
      EXPECT_EQ(o["ranks"], json({0, 1, 2})) << oid << ": one line per image, ranks 0..2 in order";
      EXPECT_EQ(o["sample"], station) << oid;
      EXPECT_EQ(o["acq"], station + "_flowcell") << oid;
    }
    EXPECT_EQ(found, static_cast<int>(image["organisms"].size())) << image["file"];
    EXPECT_EQ(nested, image["nested"].get<double>()) << image["file"];
    organisms += static_cast<std::int64_t>(image["organisms"].size());
  }
  EXPECT_EQ(static_cast<std::int64_t>(objects.size()), organisms);
  EXPECT_EQ(eco["lines"], 3 * organisms);
  EXPECT_EQ(report.stats.objects.at(1), organisms);

  // The CSV: one row per organism with the pattern's fields, its box matching one true box (IoU > 0.8).
  const auto rows = read_csv(p.out / "objects.csv");
  ASSERT_EQ(static_cast<std::int64_t>(rows.size()), organisms);
  for (const json& image : p.manifest["images"]) {
    std::vector<cv::Rect> truth;
    for (const json& b : image["organisms"]) truth.emplace_back(cv::Point(b[0], b[1]), cv::Point(b[2], b[3]));
    std::vector<int> matched(truth.size(), 0);
    for (const auto& row : rows) {
      if (row.at("source") != image["file"].get<std::string>()) continue;
      EXPECT_EQ(row.at("station"), fmt::format("{:02}", image["station"].get<int>()));
      EXPECT_EQ(row.at("index"), std::to_string(std::stoi(fs::path(image["file"].get<std::string>()).stem().string().substr(4))));
      const cv::Rect box(cv::Point(std::stoi(row.at("bbox_x0")), std::stoi(row.at("bbox_y0"))),
                         cv::Point(std::stoi(row.at("bbox_x1")), std::stoi(row.at("bbox_y1"))));
      int best = -1;
      for (size_t t = 0; t < truth.size(); ++t) {
        if (iou(box, truth[t]) > 0.8) best = static_cast<int>(t);
      }
      ASSERT_GE(best, 0) << row.at("object_id") << " matches no organism of " << image["file"];
      ++matched[static_cast<size_t>(best)];
    }
    for (int m : matched) EXPECT_EQ(m, 1) << image["file"];
  }

  // The run record: the pipeline as given, the version, parameters, the folder and its digest, counts.
  const catalog::Run run = p.ws.catalog().get_run(report.run_id);
  EXPECT_EQ(run.kind, "pipeline");
  EXPECT_EQ(run.status, "succeeded");
  EXPECT_EQ(run.spec["name"], "plankton-ecotaxa");
  EXPECT_EQ(run.spec["pipeline"], plankton_pipeline(p.out));
  EXPECT_EQ(run.tessera_version, kTesseraVersion);
  EXPECT_EQ(run.params["jobs"], 2);
  EXPECT_EQ(run.params["fail_fast"], false);
  EXPECT_EQ(run.inputs["dir"], fs::absolute(p.data).lexically_normal().string());
  EXPECT_EQ(run.inputs["pattern"], kPattern);
  EXPECT_EQ(run.inputs["files"], 4);
  EXPECT_EQ(run.inputs["unmatched"], 0) << run.inputs.dump();
  EXPECT_EQ(run.inputs["digest"].get<std::string>().size(), 64u);
  EXPECT_EQ(run.counts["items"], 4);
  EXPECT_EQ(run.counts["failed"], 0);
  EXPECT_EQ(run.counts["objects"][1], organisms);
  ASSERT_EQ(run.counts["outputs"].size(), 2u);
  EXPECT_EQ(run.counts["outputs"][0]["objects"], organisms);
  EXPECT_FALSE(run.error.has_value());
  EXPECT_TRUE(run.duration_s.has_value());
}

// Every entry of a zip, name -> bytes, in archive order.
std::vector<std::pair<std::string, std::string>> zip_entries(const fs::path& path) {
  exchange::ZipReader zip(path);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : zip.entries()) out.emplace_back(e.name, zip.read(e.name));
  return out;
}

TEST(PipelineRun, OutputsAreIdenticalWithOneOrFourJobs) {
  Plankton p;
  run_pipeline(p.ws, "default", plankton_pipeline(p.out), folder_input(p.data), quiet(1));
  const std::string csv1 = read_file(p.out / "objects.csv");
  const auto zip1 = zip_entries(p.out / "plankton.zip");
  run_pipeline(p.ws, "default", plankton_pipeline(p.out), folder_input(p.data), quiet(4));
  EXPECT_EQ(read_file(p.out / "objects.csv"), csv1);
  EXPECT_EQ(zip_entries(p.out / "plankton.zip"), zip1);
}

TEST(PipelineRun, RepeatOfAFolderRunGivesIdenticalOutputs) {
  Plankton p;
  const PipelineRunReport first = run_pipeline(p.ws, "default", plankton_pipeline(p.out), folder_input(p.data), quiet(2));
  const std::string csv = read_file(p.out / "objects.csv");
  const auto zip = zip_entries(p.out / "plankton.zip");
  fs::remove(p.out / "objects.csv");
  fs::remove(p.out / "plankton.zip");
  const PipelineRunReport again = repeat_run(p.ws, "default", first.run_id, quiet(3));
  EXPECT_NE(again.run_id, first.run_id);
  EXPECT_EQ(again.status, "succeeded");
  EXPECT_EQ(read_file(p.out / "objects.csv"), csv);
  EXPECT_EQ(zip_entries(p.out / "plankton.zip"), zip);
  const catalog::Run run = p.ws.catalog().get_run(again.run_id);
  EXPECT_EQ(run.inputs["repeat_of"], first.run_id);
  EXPECT_EQ(run.inputs["digest"], p.ws.catalog().get_run(first.run_id).inputs["digest"]);
  EXPECT_EQ(run.spec["pipeline"], p.ws.catalog().get_run(first.run_id).spec["pipeline"]);
  EXPECT_EQ(run.params["jobs"], 3);
}

TEST(PipelineRun, RepeatOfAFolderRunWhoseFilesChangedIsAConflict) {
  Plankton p;
  const PipelineRunReport first = run_pipeline(p.ws, "default", plankton_pipeline(p.out), folder_input(p.data), quiet());
  auto expect_conflict = [&](const std::string& what) {
    try {
      repeat_run(p.ws, "default", first.run_id, quiet());
      ADD_FAILURE() << "repeat after " << what << " went through";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::conflict) << what << ": " << e.what();
      EXPECT_THAT(e.what(), HasSubstr(fmt::format("run {}", first.run_id))) << what;
    }
  };
  const fs::path file = p.data / "st02" / "img_00001.png";
  const std::string original = read_file(file);
  // Rewritten with other pixels (another image of the set).
  write_file_atomic(file, read_file(p.data / "st01" / "img_00000.png"));
  expect_conflict("a file changed");
  // Removed.
  fs::remove(file);
  expect_conflict("a file was removed");
  // Back, plus a new file the pattern selects.
  write_file_atomic(file, original);
  fs::copy_file(p.data / "st01" / "img_00000.png", p.data / "st01" / "img_00009.png");
  expect_conflict("a file was added");
  const auto runs = p.ws.catalog().list_runs(p.project_id());
  EXPECT_EQ(runs.size(), 1u) << "a refused repeat records no run";
}

TEST(PipelineRun, CatalogWriterOnAFolderIsRefusedBeforeAnythingRuns) {
  Plankton p;
  try {
    run_pipeline(p.ws, "default", catalog_pipeline(p.out, 0), folder_input(p.data), quiet());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_THAT(e.what(), HasSubstr("catalog writer"));
    EXPECT_THAT(e.what(), HasSubstr("--set"));
  }
  EXPECT_TRUE(p.ws.catalog().list_runs(p.project_id()).empty());
  EXPECT_FALSE(fs::exists(p.out / "objects.csv"));
}

TEST(PipelineRun, BrokenPipelineIsRejectedWithEveryProblemAndNoRun) {
  Plankton p;
  json broken = plankton_pipeline(p.out);
  broken["nodes"][1]["op"] = "to_grey";
  broken["nodes"][2]["params"]["bins"] = 1;
  try {
    run_pipeline(p.ws, "default", broken, folder_input(p.data), quiet());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_THAT(e.what(), HasSubstr("node 2 (to_grey)"));
    EXPECT_THAT(e.what(), HasSubstr("node 3 (threshold_otsu)"));
    EXPECT_THAT(e.what(), HasSubstr("'bins'"));
  }
  EXPECT_TRUE(p.ws.catalog().list_runs(p.project_id()).empty());
  EXPECT_THROW(check_pipeline(p.ws, "default", broken), Error);
  EXPECT_NO_THROW(check_pipeline(p.ws, "default", plankton_pipeline(p.out)));
}

TEST(PipelineRun, NoInputIsAClearError) {
  Plankton p;
  try {
    run_pipeline(p.ws, "default", plankton_pipeline(p.out), {}, quiet());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_THAT(e.what(), HasSubstr("no input"));
  }
  EXPECT_THROW(run_pipeline(p.ws, "default", plankton_pipeline(p.out), folder_input(p.dir / "nowhere"), quiet()), Error);
  EXPECT_TRUE(p.ws.catalog().list_runs(p.project_id()).empty());
}

// One unreadable file among good ones: the others are exported, the run ends partial with the count and
// the first errors kept in its record.
TEST(PipelineRun, UnreadableFileMakesAPartialRunWithCountsAndFirstErrors) {
  Plankton p;
  fs::create_directories(p.data / "st09");
  write_file_atomic(p.data / "st09" / "img_00099.png", "not a png at all");
  const PipelineRunReport report = run_pipeline(p.ws, "default", plankton_pipeline(p.out), folder_input(p.data), quiet());
  EXPECT_EQ(report.status, "partial");
  EXPECT_EQ(report.stats.items, 5);
  EXPECT_EQ(report.stats.failed, 1);
  const catalog::Run run = p.ws.catalog().get_run(report.run_id);
  EXPECT_EQ(run.status, "partial");
  EXPECT_EQ(run.counts["failed"], 1);
  EXPECT_EQ(run.counts["items"], 5);
  ASSERT_TRUE(run.counts.contains("errors"));
  ASSERT_EQ(run.counts["errors"].size(), 1u);
  EXPECT_THAT(run.counts["errors"][0]["object"].get<std::string>(), HasSubstr("img_00099.png"));
  EXPECT_EQ(run.counts["errors"][0]["node"], "load");
  ASSERT_TRUE(run.error.has_value());
  EXPECT_THAT(*run.error, HasSubstr("1 object failed"));
  EXPECT_THAT(*run.error, HasSubstr("img_00099.png"));
  // The good images were exported all the same.
  std::int64_t organisms = 0;
  for (const json& image : p.manifest["images"]) organisms += static_cast<std::int64_t>(image["organisms"].size());
  EXPECT_EQ(static_cast<std::int64_t>(read_csv(p.out / "objects.csv").size()), organisms);
}

// Distinct files must give distinct objects. Was a bug, fixed (src/app/pipeline_sources.cpp, DirectorySource::load: the
// root id is safe_id(relative path without extension), which maps ' ' and '/' to '_'): "st01/img 7.png" and
// "st01/img_7.png", or "st01/img_7.png" and "st01_img_7.png", get the same root id, so their regions share
// object ids: the EcoTaxa writer stops the run ("object_id is already in the bundle"), and without it the
// CSV holds duplicate ids and the images writer silently overwrites one file's crops with the other's.
TEST(PipelineRun, DistinctFilesWhoseNamesLookAlikeGiveDistinctObjectIds) {
  Plankton p;
  const fs::path dir = p.dir / "alike";
  fs::create_directories(dir / "st01");
  fs::copy_file(p.data / "st01" / "img_00000.png", dir / "st01" / "img 7.png");
  fs::copy_file(p.data / "st02" / "img_00001.png", dir / "st01" / "img_7.png");
  fs::copy_file(p.data / "st03" / "img_00002.png", dir / "st01_img_7.png");
  PipelineInput in;
  in.dir = dir;
  json pipeline = plankton_pipeline(p.out);
  for (json& node : pipeline["nodes"]) {
    if (node.value("write", "") == "ecotaxa") {
      node["sample"] = {{"id", "alike"}};
      node["acq"] = {{"id", "alike_acq"}};
    }
  }
  try {
    const PipelineRunReport report = run_pipeline(p.ws, "default", pipeline, in, quiet());
    EXPECT_EQ(report.status, "succeeded");
  } catch (const Error& e) {
    ADD_FAILURE() << "run failed: " << e.what();
  }
  // Without the EcoTaxa writer the run goes through: ids in the CSV must still be unique.
  json csv_only = plankton_pipeline(p.out);
  csv_only["nodes"].erase(csv_only["nodes"].size() - 2);
  csv_only["nodes"].back()["images"] = "mask";
  run_pipeline(p.ws, "default", csv_only, in, quiet());
  const auto rows = read_csv(p.out / "objects.csv");
  std::set<std::string> ids, sources;
  for (const auto& row : rows) {
    EXPECT_TRUE(ids.insert(row.at("object_id")).second) << "duplicate object id " << row.at("object_id") << " (" << row.at("source") << ")";
    sources.insert(row.at("source"));
  }
  EXPECT_EQ(sources.size(), 3u);
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(p.out / "objects_images")) files += entry.is_regular_file() ? 1 : 0;
  EXPECT_EQ(files, rows.size()) << "one mask file per row, none overwritten";
}

// With fail_fast the same file stops the run: recorded failed, the error rethrown, no half-written output.
TEST(PipelineRun, FailFastRunIsRecordedFailedAndLeavesNoOutputs) {
  Plankton p;
  fs::create_directories(p.data / "st00");
  write_file_atomic(p.data / "st00" / "img_00099.png", "not a png at all");
  PipelineRunOptions options = quiet();
  options.fail_fast = true;
  EXPECT_THROW(run_pipeline(p.ws, "default", plankton_pipeline(p.out), folder_input(p.data), options), Error);
  const auto runs = p.ws.catalog().list_runs(p.project_id());
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, "failed");
  ASSERT_TRUE(runs[0].error.has_value());
  EXPECT_THAT(*runs[0].error, HasSubstr("img_00099.png"));
  EXPECT_EQ(runs[0].params["fail_fast"], true);
  std::vector<std::string> left;
  for (const auto& entry : fs::recursive_directory_iterator(p.out)) {
    if (entry.is_regular_file()) left.push_back(entry.path().filename().string());
  }
  EXPECT_TRUE(left.empty()) << "left behind: " << ::testing::PrintToString(left);
}

// The catalog rows a Catalog call does not return (parent link, mask blob), read with Python's sqlite3.
std::map<catalog::Id, json> catalog_rows(const fs::path& db, catalog::Id run_id) {
  const char* script = R"PY(
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for row in c.execute('SELECT id, image_id, parent_id, run_id, mask_blob FROM objects WHERE run_id = ? ORDER BY id', (int(sys.argv[2]),)):
    print(json.dumps(row))
)PY";
  std::map<catalog::Id, json> out;
  std::istringstream lines(tessera::test::run_python(script, {db.string(), std::to_string(run_id)}));
  for (std::string line; std::getline(lines, line);) {
    const json row = json::parse(line);
    out[row[0].get<catalog::Id>()] = row;
  }
  return out;
}

// Where an object's mask lies in its image: at its box when the mask is the box's size, else at the crop
// the record states. nullopt (and a failure) when the record does not say.
std::optional<cv::Point> mask_origin(const catalog::ObjectRecord& o, const cv::Mat& mask) {
  const cv::Rect box(cv::Point(o.bbox_x0, o.bbox_y0), cv::Point(o.bbox_x1, o.bbox_y1));
  if (mask.size() == box.size()) return box.tl();
  if (o.features.contains("crop") && o.features["crop"].is_array() && o.features["crop"].size() == 4) {
    const cv::Rect crop(cv::Point(o.features["crop"][0], o.features["crop"][1]), cv::Point(o.features["crop"][2], o.features["crop"][3]));
    EXPECT_EQ(crop.size(), mask.size());
    return crop.tl();
  }
  ADD_FAILURE() << o.features["object_id"] << ": the mask is " << mask.cols << "x" << mask.rows << " but the box is " << box.width
                << "x" << box.height << " and the record holds no crop: the mask cannot be placed in the image";
  return std::nullopt;
}

void check_catalog_objects(Plankton& p, catalog::Id run_id, bool expect_children) {
  const auto rows = catalog_rows(p.ws.root() / "catalog.db", run_id);
  catalog::ImageQuery q;
  q.project_id = p.project_id();
  const auto images = p.ws.catalog().list_images(q);
  ASSERT_EQ(images.size(), 4u);
  std::size_t seen = 0;
  for (const auto& image : images) {
    const json* truth = nullptr;
    for (const json& m : p.manifest["images"]) {
      if (image.source_path.ends_with(m["file"].get<std::string>())) truth = &m;
    }
    ASSERT_TRUE(truth) << image.source_path;
    const auto objects = p.ws.catalog().list_objects(image.id, run_id);
    seen += objects.size();
    std::map<catalog::Id, const catalog::ObjectRecord*> by_id;
    for (const auto& o : objects) by_id[o.id] = &o;
    int outer = 0, inner = 0;
    double counted = 0;
    for (const auto& o : objects) {
      SCOPED_TRACE(o.features.value("object_id", "?"));
      ASSERT_TRUE(rows.count(o.id)) << "object " << o.id << " not linked to run " << run_id;
      const json& row = rows.at(o.id);
      EXPECT_EQ(o.run_id, run_id);
      EXPECT_EQ(o.image_id, image.id);
      EXPECT_EQ(o.frame_index, 0);
      // Box = regionprops' bbox (rows/cols) of the same label; features carry the pipeline's object id.
      EXPECT_EQ(o.bbox_y0, o.features["bbox-0"].get<std::int64_t>());
      EXPECT_EQ(o.bbox_x0, o.features["bbox-1"].get<std::int64_t>());
      EXPECT_EQ(o.bbox_y1, o.features["bbox-2"].get<std::int64_t>());
      EXPECT_EQ(o.bbox_x1, o.features["bbox-3"].get<std::int64_t>());
      EXPECT_EQ(o.label, o.features["label"].get<std::int64_t>());
      EXPECT_THAT(o.features["object_id"].get<std::string>(), ::testing::StartsWith(fmt::format("img{}_", image.id)));
      // The mask blob decodes to the region's own pixels: its area, and its extent is exactly the box.
      ASSERT_TRUE(row[4].is_string()) << "no mask blob";
      const image::Image decoded = image::decode(p.ws.blobs().get(row[4].get<std::string>()), "mask.png");
      ASSERT_EQ(decoded.frames.size(), 1u);
      const cv::Mat& mask = decoded.frames[0];
      ASSERT_EQ(mask.type(), CV_8UC1);
      EXPECT_EQ(cv::countNonZero(mask), o.features["area"].get<int>());
      if (auto origin = mask_origin(o, mask)) {
        cv::Mat nz;
        cv::findNonZero(mask, nz);
        EXPECT_EQ(cv::boundingRect(nz) + *origin, cv::Rect(cv::Point(o.bbox_x0, o.bbox_y0), cv::Point(o.bbox_x1, o.bbox_y1)));
      }
      if (row[2].is_null()) {
        ++outer;
        counted += o.features.value("nested_count", 0.0);
      } else {
        ++inner;
        const catalog::Id parent = row[2].get<catalog::Id>();
        ASSERT_TRUE(by_id.count(parent)) << "parent " << parent << " is not an object of this image and run";
        const catalog::ObjectRecord& outer_object = *by_id.at(parent);
        EXPECT_GE(outer_object.features["nested_count"].get<int>(), 1);
        EXPECT_THAT(o.features["object_id"].get<std::string>(),
                    ::testing::StartsWith(outer_object.features["object_id"].get<std::string>() + "_"));
        EXPECT_LE(outer_object.bbox_x0, o.bbox_x0);
        EXPECT_LE(outer_object.bbox_y0, o.bbox_y0);
        EXPECT_GE(outer_object.bbox_x1, o.bbox_x1);
        EXPECT_GE(outer_object.bbox_y1, o.bbox_y1);
        EXPECT_TRUE(rows.at(parent)[2].is_null()) << "nesting is one level deep";
      }
    }
    EXPECT_EQ(outer, static_cast<int>((*truth)["organisms"].size())) << image.source_path;
    EXPECT_EQ(counted, (*truth)["nested"].get<double>()) << image.source_path;
    EXPECT_EQ(inner, expect_children ? (*truth)["nested"].get<int>() : 0) << image.source_path;
  }
  EXPECT_EQ(seen, rows.size()) << "every object of the run belongs to an image of the project";
}

// Was a bug, fixed (src/app/catalog_writer.cpp, CatalogWriter::write, the two-pass loop): in pass 0 an item goes in when
// its parent is not yet in `stored`, which is true for every item then, nested children included; in pass 1
// the children go in again with their parent. Each nested region is stored twice (once without a parent,
// so it counts as an organism) and the writer's summary says 21 objects where the run made 18.
TEST(PipelineRun, CatalogRunStoresObjectsWithRunBoxFeaturesMasksAndNestedParents) {
  Plankton p;
  p.import();
  PipelineInput in;
  in.set = "all";
  const PipelineRunReport report = run_pipeline(p.ws, "default", catalog_pipeline(p.out, 0), in, quiet());
  EXPECT_EQ(report.status, "succeeded");
  check_catalog_objects(p, report.run_id, true);
  const catalog::Run run = p.ws.catalog().get_run(report.run_id);
  EXPECT_EQ(run.inputs["set"], "all");
  EXPECT_EQ(run.inputs["images"], 4);
  catalog::ImageQuery q;
  q.project_id = p.project_id();
  const auto images = p.ws.catalog().list_images(q);
  EXPECT_EQ(run.inputs["image_ids"], json::array({{images.front().id, images.back().id}})) << "ids as compact ranges";
  EXPECT_EQ(run.counts["outputs"][0]["writer"], "catalog");
  EXPECT_EQ(run.counts["outputs"][0]["objects"], report.stats.objects.at(1));
  // The CSV of a catalog run names the catalog image of every row.
  for (const auto& row : read_csv(p.out / "objects.csv")) EXPECT_FALSE(row.at("image_id").empty()) << row.at("object_id");
}

// With padding, the stored mask covers the padded crop: the record must say where that crop lies (a border
// object's padding is clipped, so the box alone cannot tell). Was a bug, fixed (src/app/catalog_writer.cpp,
// CatalogWriter::prepare): the mask facet (crop-sized) is stored, but neither the crop nor the padding
// actually applied is, so a mask of a padded split cannot be placed in its image.
TEST(PipelineRun, CatalogMasksOfAPaddedSplitCanBePlacedInTheImage) {
  Plankton p;
  p.import();
  PipelineInput in;
  in.set = "all";
  const PipelineRunReport report = run_pipeline(p.ws, "default", catalog_pipeline(p.out, 6, "count"), in, quiet());
  EXPECT_EQ(report.status, "succeeded");
  check_catalog_objects(p, report.run_id, false);
}

TEST(PipelineRun, WhereFilterNarrowsTheCatalogInputAndIsRecorded) {
  Plankton p;
  p.import();
  PipelineInput in;
  in.where = "station = '01'";
  const PipelineRunReport report = run_pipeline(p.ws, "default", plankton_pipeline(p.out), in, quiet());
  EXPECT_EQ(report.status, "succeeded");
  EXPECT_EQ(report.stats.items, 2) << "images 0 and 3 are at station 01";
  const catalog::Run run = p.ws.catalog().get_run(report.run_id);
  EXPECT_EQ(run.inputs["where"], "station = '01'");
  EXPECT_EQ(run.inputs["images"], 2);
  for (const auto& row : read_csv(p.out / "objects.csv")) EXPECT_EQ(row.at("station"), "01");
  // Loader fields from the catalog feed the EcoTaxa templates too.
  const json eco = read_ecotaxa(p.out / "plankton.zip");
  for (const auto& [oid, o] : eco["objects"].items()) EXPECT_EQ(o["sample"], "01") << oid;
}

TEST(PipelineRun, RepeatOfACatalogRunStoresTheSameObjectsUnderANewRun) {
  Plankton p;
  p.import();
  PipelineInput in;
  in.set = "all";
  const PipelineRunReport first = run_pipeline(p.ws, "default", catalog_pipeline(p.out, 0), in, quiet());
  // An image added to the set later is not part of the repeat: it runs on the recorded ids.
  fs::create_directories(p.dir / "more" / "st05");
  fs::copy_file(p.data / "st01" / "img_00000.png", p.dir / "more" / "st05" / "img_00050.png");
  ImportOptions io;
  io.sources = {p.dir / "more"};
  io.pattern = kPattern;
  io.set = "all";
  io.progress = false;
  ASSERT_EQ(import_images(p.ws, io).imported, 1);
  const PipelineRunReport again = repeat_run(p.ws, "default", first.run_id, quiet(4));
  EXPECT_EQ(again.status, "succeeded");
  EXPECT_EQ(again.stats.items, first.stats.items);
  catalog::ImageQuery q;
  q.project_id = p.project_id();
  for (const auto& image : p.ws.catalog().list_images(q)) {
    const auto a = p.ws.catalog().list_objects(image.id, first.run_id);
    const auto b = p.ws.catalog().list_objects(image.id, again.run_id);
    ASSERT_EQ(a.size(), b.size());
    for (size_t k = 0; k < a.size(); ++k) {
      EXPECT_NE(a[k].id, b[k].id);
      EXPECT_EQ(a[k].features, b[k].features);
      EXPECT_EQ(std::tie(a[k].bbox_x0, a[k].bbox_y0, a[k].bbox_x1, a[k].bbox_y1, a[k].label),
                std::tie(b[k].bbox_x0, b[k].bbox_y0, b[k].bbox_x1, b[k].bbox_y1, b[k].label));
    }
  }
  const catalog::Run run = p.ws.catalog().get_run(again.run_id);
  EXPECT_EQ(run.inputs["repeat_of"], first.run_id);
  EXPECT_EQ(run.inputs["image_ids"], p.ws.catalog().get_run(first.run_id).inputs["image_ids"]);
  EXPECT_THROW(repeat_run(p.ws, "default", 999999, quiet()), Error);
}

}  // namespace
}  // namespace tessera::app
