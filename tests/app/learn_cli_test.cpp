// Every `tessera learn` command with bad input, through the real CLI: one class, no annotated pixels, an
// image whose pixels do not match its catalog size, a model file of another format version or damaged, an
// unknown set, options out of range. Each exits non-zero with the exit status of its error kind and a
// message naming the problem, and leaves nothing behind: no model (in the catalog or as --out), no round,
// no round set, no suggested annotation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "learn_test_data.hpp"
#include "tessera/catalog/learn.hpp"
#include "test_util.hpp"

namespace tessera::app {
namespace {

using ::testing::HasSubstr;

struct BadCommand {
  std::string args;
  int status;           // 2 invalid or unsupported, 3 not found, 5 corrupt (core/error.cpp)
  std::string message;  // part of what stderr must say
};

class LearnCliTest : public ::testing::Test {
 protected:
  // ws/: set "cells" of four disk images, the first two scribbled with nucleus and background; set "bare"
  // of the two unscribbled ones; set "odd" of an image recorded 80 px wide whose pixels are 96, scribbled.
  // A good pixel model trained by the CLI (good.tsm, stored as "good"), one of another format version and
  // one cut short.
  void SetUp() override {
    {
      Workspace workspace = Workspace::init(dir_ / "ws", "");
      const catalog::Id project = workspace.catalog().ensure_project("default").id;
      const auto tags = learn_testing::add_tags(workspace, project, {"nucleus", "background", "debris"});
      std::vector<catalog::ImageRecord> cells;
      for (int i = 0; i < 4; ++i)
        cells.push_back(learn_testing::add_image(workspace, project, fmt::format("cells/{}.png", i), learn_testing::cells_image(i)));
      for (int i = 0; i < 2; ++i) learn_testing::scribble_cells(workspace, cells[static_cast<std::size_t>(i)], i, tags);
      learn_testing::add_to_set(workspace, project, "cells", cells);
      learn_testing::add_to_set(workspace, project, "bare", {cells[2], cells[3]});
      const catalog::ImageRecord odd =
          learn_testing::add_image(workspace, project, "odd.png", learn_testing::cells_image(5), 80);
      // Inside the recorded 80 px, so the annotations are accepted and the frame's size is what is wrong.
      learn_testing::mark(workspace, odd, tags.at("nucleus"), "scribble", {{50, 35}, {60, 35}});
      learn_testing::mark(workspace, odd, tags.at("background"), "scribble", {{2, 85}, {70, 85}});
      learn_testing::add_to_set(workspace, project, "odd", {odd});
    }
    const learn_testing::CliRun good =
        learn_testing::run_cli(dir_.path(), "learn pixels train --set cells --tags nucleus,background --out good.tsm --trees 5");
    ASSERT_EQ(good.status, 0) << good.err;
    std::string bytes = read_file(dir_ / "good.tsm");
    write_file_atomic(dir_ / "damaged.tsm", bytes.substr(0, bytes.size() / 2));
    bytes[6] = 7;  // the format version after the six-byte magic
    write_file_atomic(dir_ / "other-version.tsm", bytes);
  }

  // What a refused command must not have left: only the good model, no rounds or round sets, no suggestions.
  void expect_nothing_stored() {
    Workspace workspace = Workspace::open(dir_ / "ws");
    auto& catalog = workspace.catalog();
    const catalog::Id project = catalog.get_project("default").id;
    catalog::LearnStore store(catalog);
    const auto models = store.list_models(project);
    ASSERT_EQ(models.size(), 1u);
    EXPECT_EQ(models[0].name, "good");
    for (const catalog::ImageSet& set : catalog.list_sets(project)) {
      EXPECT_THAT(set.name, ::testing::Not(HasSubstr("-round-")));
      EXPECT_TRUE(store.list_rounds(set.id).empty()) << set.name;
    }
    catalog::ImageQuery all;
    all.project_id = project;
    Annotations annotations(workspace);
    for (const catalog::ImageRecord& image : catalog.list_images(all)) {
      catalog::ViewportQuery q;
      q.image_id = image.id;
      for (const auto& a : annotations.in_viewport(q).annotations) EXPECT_NE(a.state.source, "suggested") << image.id;
    }
    for (const char* file : {"bad.tsm", "debris.tsm", "odd.tsm", "nope.tsm", "objects.tsm"})
      EXPECT_FALSE(std::filesystem::exists(dir_ / file)) << file;
  }

  test::TempDir dir_{"tessera-learn-cli"};
};

TEST_F(LearnCliTest, EveryLearnCommandRefusesBadInputByNameWithItsExitStatus) {
  const std::vector<BadCommand> commands = {
      // learn pixels train
      {"learn pixels train --set cells --tags nucleus --out bad.tsm", 2, "at least two classes"},
      {"learn pixels train --set cells --tags nucleus,debris --out debris.tsm", 2, "class 'debris' has no annotated pixels"},
      {"learn pixels train --set bare --tags nucleus,background --out bad.tsm", 2, "no annotated pixels"},
      {"learn pixels train --set odd --tags nucleus,background --out odd.tsm", 2, "decodes to 96x96"},
      {"learn pixels train --set nope --tags nucleus,background --out nope.tsm", 3, "nope"},
      {"learn pixels train --set cells --tags nucleus,background --out bad.tsm --trees 0", 2, "trees"},
      {"learn pixels train --set cells --tags nucleus,background --out good.tsm", 4, "'good' already exists"},
      // learn pixels predict
      {"learn pixels predict --model other-version.tsm --set cells --save", 2, "model 'other-version.tsm': "},
      {"learn pixels predict --model other-version.tsm --set cells", 2, "format version 7"},
      {"learn pixels predict --model damaged.tsm --set cells --save", 5, "model 'damaged.tsm': "},
      {"learn pixels predict --model no-such.tsm --set cells --save", 3, "no-such.tsm"},
      {"learn pixels predict --model good --set nope --save", 3, "nope"},
      // learn objects train | predict
      {"learn objects train --set cells --tags nucleus --out objects.tsm", 2, "at least two classes"},
      {"learn objects train --set cells --tags nucleus,background --out objects.tsm", 2, "no measured objects"},
      {"learn objects train --set nope --tags nucleus,background --out objects.tsm", 3, "nope"},
      {"learn objects predict --model good --set cells", 2, "is a pixel_classifier, not a object_classifier"},
      {"learn objects predict --model good.tsm --set cells", 5, "model 'good.tsm': "},
      {"learn objects predict --model damaged.tsm --set cells --min-probability 1.5", 2, "min_probability"},
      // learn round | rounds
      {"learn round --set cells --tags nucleus", 2, "at least two classes"},
      {"learn round --set bare --tags nucleus,background", 2, "no annotated pixels"},
      {"learn round --set cells --tags nucleus,debris", 2, "class 'debris' has no annotated pixels"},
      {"learn round --set odd --tags nucleus,background --patch 32", 2, "decodes to 96x96"},
      {"learn round --set nope --tags nucleus,background", 3, "nope"},
      {"learn round --set cells --tags nucleus,background --models 1", 2, "models"},
      {"learn round --set cells --tags nucleus,background --held-out 0.95", 2, "held_out"},
      {"learn rounds --set nope", 3, "nope"},
  };
  for (const BadCommand& c : commands) {
    const learn_testing::CliRun run = learn_testing::run_cli(dir_.path(), c.args);
    EXPECT_EQ(run.status, c.status) << c.args << "\n" << run.err;
    EXPECT_THAT(run.err, HasSubstr(c.message)) << c.args;
  }
  expect_nothing_stored();
}

}  // namespace
}  // namespace tessera::app
