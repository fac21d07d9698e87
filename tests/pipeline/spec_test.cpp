#include "tessera/pipeline/spec.hpp"

#include <fstream>
#include <regex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeline_fixtures.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"

namespace tessera::pipeline {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using test::parse;

// The problems of a pipeline that must not parse: the Error's message (also checked to be invalid_argument)
// and its one-line-per-problem details.
struct Problems {
  std::string message;
  std::vector<std::string> lines;
};

Problems problems_of(const json& pipeline) {
  Problems p;
  try {
    parse(pipeline);
    ADD_FAILURE() << "the pipeline parsed; expected problems:\n" << pipeline.dump(1);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.what();
    p.message = e.what();
    if (e.details().is_array()) {
      for (const json& line : e.details()) p.lines.push_back(line.get<std::string>());
    }
  }
  return p;
}

// The one problem line naming the node, or "" when there is none.
std::string line_for(const Problems& p, const std::string& node) {
  for (const std::string& line : p.lines) {
    if (line.rfind(node + ":", 0) == 0) return line;
  }
  return "";
}

json valid_tail(const std::string& dir = "/tmp/unused") {
  return json::array({{{"write", "csv"}, {"path", dir + "/objects.csv"}}});
}

TEST(PipelineSpec, ValidPipelineParsesWithStagesDefaultsAndMappings) {
  const PipelineSpec spec = parse(test::with_nodes(test::split_nodes(5), valid_tail()));
  ASSERT_EQ(spec.nodes.size(), 5u);
  EXPECT_EQ(spec.stages, 2);
  EXPECT_EQ(spec.name, "test");
  EXPECT_EQ(spec.nodes[0].kind, Node::Kind::op);
  EXPECT_EQ(spec.nodes[0].label(), "node 1 (threshold_fixed)");
  EXPECT_EQ(spec.nodes[0].params["dark_objects"], false);  // defaults filled in by the registry
  EXPECT_EQ(spec.nodes[0].in.at("image"), "raw");
  EXPECT_EQ(spec.nodes[0].out.at("mask"), "mask");
  EXPECT_EQ(spec.nodes[0].out.count("threshold"), 0u) << "unmapped outputs of a two-output op are dropped";
  EXPECT_EQ(spec.nodes[3].kind, Node::Kind::split);
  EXPECT_EQ(spec.nodes[3].stage, 0);
  EXPECT_EQ(spec.nodes[4].kind, Node::Kind::write);
  EXPECT_EQ(spec.nodes[4].stage, 1) << "a writer after a split consumes the split's objects";
}

TEST(PipelineSpec, ShippedExampleParses) {
  const json example = json::parse(read_file(std::string(TESSERA_SOURCE_DIR) + "/examples/plankton_ecotaxa.json"));
  const PipelineSpec spec = parse(example);
  EXPECT_EQ(spec.stages, 2);
  EXPECT_EQ(spec.name, "plankton-ecotaxa");
}

// The user's first contact with a broken file: every problem in one error, each naming its node, so one
// edit fixes them all.
TEST(PipelineSpec, EveryProblemComesInOneErrorEachNamingItsNode) {
  const json pipeline = {
      {"name", "broken"},
      {"nam", "typo at the top"},
      {"nodes",
       {
           {{"op", "to_gray"}, {"in", "raw"}, {"out", "gray"}, {"colour", "red"}},                        // 1 unknown field
           {{"op", "threshold_otsuu"}, {"in", "gray"}, {"out", "m0"}},                                     // 2 unknown op
           {{"op", "threshold_otsu"}, {"in", "grey"}, {"out", "mask"}},                                    // 3 missing facet
           {{"op", "label"}, {"in", "mask"}, {"out", "labels"}, {"params", {{"connectivity", 3}}}},       // 4 bad parameter
           {{"op", "regionprops"}, {"in", {{"labels", "labels"}}}, {"out", "features"}},                  // fine
           {{"op", "to_gray"}, {"in", "features"}, {"out", "g2"}},                                         // 6 wrong kind
           {{"write", "csv"}, {"images", {"gray"}}},                                                       // 7 no path
           {{"op", "to_gray"}, {"in", "raw"}, {"out", "g3"}},                                              // 8 after writer
       }}};
  const Problems p = problems_of(pipeline);
  EXPECT_THAT(p.message, HasSubstr("pipeline 'broken'"));
  EXPECT_THAT(line_for(p, "pipeline"), HasSubstr("unknown field 'nam'"));
  EXPECT_THAT(line_for(p, "node 1 (to_gray)"), HasSubstr("unknown field 'colour'"));
  EXPECT_THAT(line_for(p, "node 2 (threshold_otsuu)"), HasSubstr("no operation named 'threshold_otsuu'"));
  EXPECT_THAT(line_for(p, "node 2 (threshold_otsuu)"), HasSubstr("threshold_otsu"));  // the close name
  EXPECT_THAT(line_for(p, "node 3 (threshold_otsu)"), HasSubstr("'grey'"));
  EXPECT_THAT(line_for(p, "node 3 (threshold_otsu)"), HasSubstr("available: "));
  EXPECT_THAT(line_for(p, "node 4 (label)"), HasSubstr("parameter 'connectivity'"));
  EXPECT_THAT(line_for(p, "node 4 (label)"), HasSubstr("got 3"));
  EXPECT_THAT(line_for(p, "node 6 (to_gray)"), HasSubstr("'features' is a table"));
  EXPECT_THAT(line_for(p, "node 7 (csv)"), HasSubstr("'path' is required"));
  EXPECT_THAT(line_for(p, "node 8 (to_gray)"), HasSubstr("comes after a writer"));
  EXPECT_TRUE(line_for(p, "node 5 (regionprops)").empty()) << "a correct node has no problem: " << line_for(p, "node 5 (regionprops)");
  // The message is the same list, one problem per line after a count.
  EXPECT_THAT(p.message, HasSubstr(fmt::format("{} problems:", p.lines.size())));
  for (const std::string& line : p.lines) EXPECT_THAT(p.message, HasSubstr("\n  " + line));
  for (const std::string& line : p.lines) {
    EXPECT_TRUE(std::regex_search(line, std::regex(R"(^(pipeline|node \d+ \([a-z_]+\)): )"))) << line;
  }
}

// A misspelt op name gets a hint even when the typo is in its first letters (a transposition or a dropped
// letter is the common typo). Was a bug, fixed (src/ops/registry.cpp, OpRegistry::get): close names are found only by
// substring or a shared 4-letter prefix, so "treshold_otsu" or "lable" get no hint at all.
TEST(PipelineSpec, UnknownOpGetsACloseNameHintForTypos) {
  const struct {
    const char* typo;
    const char* meant;
  } cases[] = {{"threshold_otsuu", "threshold_otsu"}, {"treshold_otsu", "threshold_otsu"}, {"lable", "label"},
               {"regoinprops", "regionprops"}, {"to_grey", "to_gray"}};
  for (const auto& c : cases) {
    json pipeline = test::with_nodes(json::array({{{"op", c.typo}, {"in", "raw"}, {"out", "x"}}}), valid_tail());
    const Problems p = problems_of(pipeline);
    const std::string line = line_for(p, fmt::format("node 1 ({})", c.typo));
    EXPECT_THAT(line, HasSubstr("did you mean")) << c.typo;
    EXPECT_THAT(line, HasSubstr(c.meant)) << c.typo;
  }
}

// A misspelt op is one problem, not one per later node that uses what it was meant to make. Was a bug, fixed:
// (src/pipeline/spec.cpp, check_op returns before adding the node's "out" facets when the op is unknown):
// every later node reading 'gray' reports it missing too, burying the one real mistake (the shipped
// example with "to_grey" reports 4 problems instead of 1).
TEST(PipelineSpec, UnknownOpDoesNotCascadeIntoMissingFacets) {
  const json nodes = json::array({
      {{"op", "to_grey"}, {"in", "raw"}, {"out", {{"image", "gray"}}}},
      {{"op", "threshold_otsu"}, {"in", "gray"}, {"out", "mask"}},
      {{"op", "label"}, {"in", "mask"}, {"out", "labels"}},
      {{"split", "extract_regions"}, {"labels", "labels"}, {"crop", {"gray"}}},
  });
  const Problems p = problems_of(test::with_nodes(nodes, json::array({{{"write", "csv"}, {"path", "/tmp/x.csv"}, {"images", "gray"}}})));
  EXPECT_THAT(line_for(p, "node 1 (to_grey)"), HasSubstr("did you mean to_gray"));
  EXPECT_EQ(p.lines.size(), 1u) << p.message;
}

TEST(PipelineSpec, PipelineWithoutWriterIsRejected) {
  const Problems p = problems_of(test::with_nodes(test::split_nodes(5), json::array()));
  EXPECT_THAT(line_for(p, "pipeline"), HasSubstr("has no writer"));
  EXPECT_EQ(p.lines.size(), 1u);
}

// "One error listing every problem": a missing writer is a problem like the others. Was a bug, fixed:
// (src/pipeline/spec.cpp, parse_pipeline, `if (problems.lines.empty() && !wrote)`): the no-writer problem is
// only reported when there is no other problem, so the user fixes the parameter, reruns --check and only
// then learns the pipeline also needs a writer.
TEST(PipelineSpec, MissingWriterIsListedWithTheOtherProblems) {
  json nodes = test::split_nodes(5);
  nodes[1]["params"] = {{"connectivity", 7}};
  const Problems p = problems_of(test::with_nodes(nodes, json::array()));
  EXPECT_THAT(line_for(p, "node 2 (label)"), HasSubstr("connectivity"));
  EXPECT_THAT(line_for(p, "pipeline"), HasSubstr("has no writer"));
}

// Every bad parameter of a node is a problem of its own. Was a bug, fixed (src/ops/registry.cpp, OpRegistry::validate,
// which throws at the first bad parameter and is called once per node by src/pipeline/spec.cpp check_op):
// only the first bad parameter of a node is reported.
TEST(PipelineSpec, EveryBadParameterOfANodeIsListed) {
  json pipeline = test::with_nodes(
      json::array({{{"op", "threshold_otsu"}, {"in", "raw"}, {"out", "mask"}, {"params", {{"bins", 1}, {"dark_objects", "maybe"}}}}}),
      valid_tail());
  const Problems p = problems_of(pipeline);
  EXPECT_THAT(p.message, HasSubstr("'bins'"));
  EXPECT_THAT(p.message, HasSubstr("'dark_objects'"));
}

TEST(PipelineSpec, BadParametersNameOpParameterAndValue) {
  const struct {
    json params;
    const char* expected;
  } cases[] = {
      {{{"bins", 1}}, "threshold_otsu: parameter 'bins' must be in [2, 65536], got 1"},
      {{{"binz", 10}}, "unknown parameter 'binz'"},
      {{{"bins", "many"}}, "'bins'"},
      {json::array({1}), "parameters must be a JSON object"},
  };
  for (const auto& c : cases) {
    json pipeline = test::with_nodes(json::array({{{"op", "threshold_otsu"}, {"in", "raw"}, {"out", "mask"}, {"params", c.params}}}),
                                     valid_tail());
    const Problems p = problems_of(pipeline);
    EXPECT_THAT(line_for(p, "node 1 (threshold_otsu)"), HasSubstr(c.expected)) << c.params.dump();
  }
}

TEST(PipelineSpec, FacetMappingsAreChecked) {
  const json nodes = json::array({
      {{"op", "to_gray"}, {"in", {{"picture", "raw"}}}, {"out", "gray"}},  // not one of the op's inputs
      {{"op", "to_gray"}, {"in", 42}, {"out", "g"}},                       // neither a name nor a mapping
      {{"op", "to_gray"}, {"in", {{"image", ""}}}, {"out", "g2"}},         // empty name
  });
  const Problems p = problems_of(test::with_nodes(nodes, valid_tail()));
  EXPECT_THAT(line_for(p, "node 1 (to_gray)"), HasSubstr("'picture'"));
  EXPECT_THAT(line_for(p, "node 2 (to_gray)"), HasSubstr("'in' must be"));
  EXPECT_THAT(line_for(p, "node 3 (to_gray)"), HasSubstr("non-empty"));
}

TEST(PipelineSpec, FacetsOfEarlierStagesAreGoneAfterASplit) {
  // After the split, objects carry only the crops and their mask: the root's 'labels' and 'features' are
  // not theirs.
  json more = json::array({{{"op", "regionprops"}, {"in", {{"labels", "labels"}}}, {"out", "f2"}},
                           {{"write", "csv"}, {"path", "/tmp/x.csv"}, {"images", {"raw", "mask", "features"}}}});
  const Problems p = problems_of(test::with_nodes(test::split_nodes(5), more));
  EXPECT_THAT(line_for(p, "node 5 (regionprops)"), HasSubstr("'labels'"));
  EXPECT_THAT(line_for(p, "node 6 (csv)"), HasSubstr("'features'"));
  EXPECT_EQ(p.lines.size(), 2u) << p.message;
}

TEST(PipelineSpec, SplitNodeProblemsAreNamed) {
  const struct {
    json split;
    const char* expected;
  } cases[] = {
      {{{"split", "extract_blobs"}}, "unknown split 'extract_blobs'"},
      {{{"split", "extract_regions"}, {"labels", "features"}}, "labels facet 'features' is a table"},
      {{{"split", "extract_regions"}, {"labels", "nope"}}, "labels facet 'nope' is not made by any earlier node"},
      {{{"split", "extract_regions"}, {"crop", {"raw", "grey"}}}, "crop facet 'grey'"},
      {{{"split", "extract_regions"}, {"features", "mask"}}, "features facet 'mask'"},
      {{{"split", "extract_regions"}, {"padding", -1}}, "'padding' must be an integer"},
      {{{"split", "extract_regions"}, {"padding", 2.5}}, "'padding' must be an integer"},
      {{{"split", "extract_regions"}, {"nested", "outer"}}, "'nested' must be one of count, children, ignore"},
      {{{"split", "extract_regions"}, {"crop", {"mask"}}}, "the name of the region mask"},
      {{{"split", "extract_regions"}, {"pad", 3}}, "unknown field 'pad'"},
  };
  for (const auto& c : cases) {
    json nodes = test::split_nodes(5);
    nodes.erase(3);
    nodes.push_back(c.split);
    const std::string name = c.split["split"].get<std::string>();
    const Problems p = problems_of(test::with_nodes(nodes, valid_tail()));
    EXPECT_THAT(line_for(p, fmt::format("node 4 ({})", name)), HasSubstr(c.expected)) << c.split.dump() << "\n" << p.message;
  }
}

TEST(PipelineSpec, WriterProblemsAreNamed) {
  const struct {
    json writer;
    const char* expected;
  } cases[] = {
      {{{"write", "csv"}}, "'path' is required"},
      {{{"write", "csv"}, {"path", ""}}, "'path' is required"},
      {{{"write", "csv"}, {"path", "/tmp/a.csv"}, {"images", {"nope"}}}, "'nope'"},
      {{{"write", "csv"}, {"path", "/tmp/a.csv"}, {"image_format", "gif"}}, "png or tif"},
      {{{"write", "images"}, {"facets", {"raw"}}}, "'dir' is required"},
      {{{"write", "images"}, {"dir", "/tmp/d"}}, "'facets' is required"},
      {{{"write", "ecotaxa"}, {"images", {"raw"}}}, "'path' is required"},
      {{{"write", "ecotaxa"}, {"path", "/tmp/e.zip"}}, "'images' is required"},
      {{{"write", "ecotaxa"}, {"path", "/tmp/e.zip"}, {"images", {"raw"}}, {"format", "gif"}}, "png or jpg"},
      {{{"write", "ecotaxa"}, {"path", "/tmp/e.zip"}, {"images", {"raw"}}, {"sample", {{"station", "{station}"}}}}, "needs an 'id'"},
      {{{"write", "ecotaxa"}, {"path", "/tmp/e.zip"}, {"images", {"raw"}}, {"object", {{"colour", "x"}}}}, "'object.colour'"},
      {{{"write", "ecotaxa"}, {"path", "/tmp/e.zip"}, {"images", {"raw"}}, {"pathh", "x"}}, "unknown field 'pathh'"},
      {{{"write", "parquet"}, {"path", "/tmp/e.pq"}}, "unknown writer 'parquet' (known: csv, images, ecotaxa"},
  };
  for (const auto& c : cases) {
    const std::string name = c.writer["write"].get<std::string>();
    const Problems p = problems_of(test::with_nodes(test::split_nodes(5), json::array({c.writer})));
    EXPECT_THAT(line_for(p, fmt::format("node 5 ({})", name)), HasSubstr(c.expected)) << c.writer.dump() << "\n" << p.message;
  }
}

TEST(PipelineSpec, WriterBeforeASplitEndsThePipeline) {
  json nodes = test::split_nodes(2);
  const json writer = {{"write", "record"}};
  nodes.insert(nodes.begin() + 3, writer);
  nodes.push_back(writer);
  const Problems p = problems_of({{"nodes", nodes}});
  EXPECT_THAT(line_for(p, "node 5 (extract_regions)"), HasSubstr("comes after a writer"));
  EXPECT_EQ(p.lines.size(), 1u) << p.message;
}

TEST(PipelineSpec, EcoTaxaNeedsObjectsNotWholeFrames) {
  const json nodes = json::array({{{"write", "ecotaxa"}, {"path", "/tmp/e.zip"}, {"images", {"raw"}}}});
  const Problems p = problems_of({{"nodes", nodes}});
  EXPECT_THAT(line_for(p, "node 1 (ecotaxa)"), HasSubstr("split node"));
}

TEST(PipelineSpec, MalformedFilesAreRejectedWithoutCrashing) {
  for (const json& bad : {json(nullptr), json::array(), json("text"), json{{"nodes", json::array()}}, json{{"nodes", 3}},
                          json{{"nodes", {3}}}, json{{"nodes", {{{"op", "to_gray"}, {"write", "csv"}}}}},
                          json{{"nodes", {{{"op", 7}}}}}, json{{"name", 7}, {"nodes", {{{"comment", "x"}}}}}}) {
    EXPECT_THROW(
        {
          try {
            parse(bad);
          } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << bad.dump();
            throw;
          }
        },
        Error)
        << bad.dump();
  }
}

}  // namespace
}  // namespace tessera::pipeline
