#pragma once

// Workspaces the learning tests share (learn_objects_test, learn_cli_test): generated images with known
// truth, people's marks on some of them, and the real CLI run over such a workspace.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "tessera/app/annotations.hpp"
#include "tessera/app/workspace.hpp"
#include "tessera/core/file.hpp"
#include "tessera/image/encode.hpp"

namespace tessera::app::learn_testing {

using json = nlohmann::json;

struct CliRun {
  int status = -1;
  std::string out;
  std::string err;
};

// The real `tessera --dir ws ARGS` in `dir` (stdout and stderr kept apart).
inline CliRun run_cli(const std::filesystem::path& dir, const std::string& args) {
  const auto out = dir / "stdout.txt";
  const auto err = dir / "stderr.txt";
  const std::string command =
      fmt::format("cd '{}' && {} --dir ws {} >'{}' 2>'{}'", dir.string(), TESSERA_BINARY, args, out.string(), err.string());
  const int raw = std::system(command.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read_file(out), read_file(err)};
}

// Adds pixels as an image of the project; `recorded_width` lets a test record a size the pixels do not have.
inline catalog::ImageRecord add_image(Workspace& workspace, catalog::Id project, const std::string& path,
                                      const cv::Mat& pixels, std::optional<int> recorded_width = std::nullopt) {
  catalog::NewImage image;
  image.blob_hash = workspace.blobs().put(image::encode(pixels, ".png"));
  image.source_path = path;
  image.format = "png";
  image.width = recorded_width.value_or(pixels.cols);
  image.height = pixels.rows;
  image.channels = 1;
  image.pixel_type = "uint8";
  auto& catalog = workspace.catalog();
  return catalog.get_image(catalog.add_images(project, {image}).added.at(0));
}

inline std::map<std::string, catalog::Id> add_tags(Workspace& workspace, catalog::Id project,
                                                    const std::vector<std::string>& names) {
  std::vector<catalog::TagSpec> specs;
  for (const std::string& name : names) specs.push_back({name, "#00ff00", "label", std::nullopt});
  std::map<std::string, catalog::Id> ids;
  for (const catalog::Tag& t : workspace.catalog().upsert_tags(project, specs)) ids[t.name] = t.id;
  return ids;
}

inline void add_to_set(Workspace& workspace, catalog::Id project, const std::string& set,
                       const std::vector<catalog::ImageRecord>& images) {
  std::vector<catalog::Id> ids;
  for (const auto& image : images) ids.push_back(image.id);
  workspace.catalog().ensure_set(project, set);
  workspace.catalog().add_to_set(project, set, ids);
}

// A person's annotation of `kind` ("scribble": a 3 px stroke through the points, "point": the first point).
inline void mark(Workspace& workspace, const catalog::ImageRecord& image, catalog::Id tag, const std::string& kind,
                 const std::vector<std::array<int, 2>>& points) {
  json pts = json::array();
  for (const auto& p : points) pts.push_back({p[0], p[1]});
  json geometry = {{"points", pts}};
  if (kind == "scribble") geometry["width"] = 3;
  const json draft = {{"kind", kind}, {"tag_id", tag}, {"geometry", geometry}};
  ASSERT_EQ(Annotations(workspace).create(image, {std::nullopt, "tester"}, draft).status, catalog::EditStatus::applied);
}

// Bright disks on a noisy dark background, 96 x 96, different for each i.
inline cv::Mat cells_image(int i) {
  cv::Mat pixels(96, 96, CV_8U, cv::Scalar(60));
  cv::circle(pixels, {30 + 5 * i, 35}, 12, 170, cv::FILLED);
  cv::circle(pixels, {65, 65 - 2 * i}, 9, 170, cv::FILLED);
  cv::Mat noise(pixels.size(), CV_8U);
  cv::RNG(100 + i).fill(noise, cv::RNG::UNIFORM, 0, 25 + 5 * i);
  return pixels + noise;
}

// Scribbles of nucleus and background on a cells_image(i).
inline void scribble_cells(Workspace& workspace, const catalog::ImageRecord& image, int i,
                           const std::map<std::string, catalog::Id>& tags) {
  const int cx = 30 + 5 * i;
  mark(workspace, image, tags.at("nucleus"), "scribble", {{cx - 6, 35}, {cx + 6, 35}});
  mark(workspace, image, tags.at("nucleus"), "scribble", {{62, 65 - 2 * i}, {68, 65 - 2 * i}});
  mark(workspace, image, tags.at("background"), "scribble", {{5, 85}, {90, 85}});
  mark(workspace, image, tags.at("background"), "scribble", {{5, 5}, {90, 8}});
}

// One generated object: where its centre is, and what it is.
struct PlacedObject {
  int x = 0, y = 0;
  std::string truth;
};

// Objects of two classes that differ in shape and brightness on a 160 x 160 dark noisy field, one per cell of
// a 4 x 4 grid (jittered): "round" = disks of radius 7-9 at ~200 counts, "elongated" = ellipses of half-axes
// 14 x 4 at any angle at ~120 counts. The class of each cell is drawn at random.
inline cv::Mat objects_image(std::uint64_t seed, std::vector<PlacedObject>& placed) {
  std::mt19937_64 random(seed);
  auto uniform = [&](int low, int high) { return std::uniform_int_distribution<int>(low, high)(random); };
  cv::Mat pixels(160, 160, CV_8U, cv::Scalar(30));
  for (int row = 0; row < 4; ++row) {
    for (int col = 0; col < 4; ++col) {
      const cv::Point centre(20 + 40 * col + uniform(-3, 3), 20 + 40 * row + uniform(-3, 3));
      if (uniform(0, 1) == 0) {
        cv::circle(pixels, centre, uniform(7, 9), uniform(185, 215), cv::FILLED);
        placed.push_back({centre.x, centre.y, "round"});
      } else {
        cv::ellipse(pixels, centre, {14, 4}, uniform(0, 179), 0, 360, uniform(105, 135), cv::FILLED);
        placed.push_back({centre.x, centre.y, "elongated"});
      }
    }
  }
  cv::Mat noise(pixels.size(), CV_8U);
  cv::RNG(seed).fill(noise, cv::RNG::UNIFORM, 0, 20);
  return pixels + noise;
}

// A project's set "plankton" of `images` objects_image()s; every object of the first `marked` images carries a
// person's point annotation of its class. The truth of every object by image id.
struct ObjectScene {
  std::vector<catalog::ImageRecord> images;
  std::map<catalog::Id, std::vector<PlacedObject>> truth;
  std::map<std::string, catalog::Id> tags;
};

inline ObjectScene object_scene(Workspace& workspace, catalog::Id project, int images, int marked) {
  ObjectScene scene;
  scene.tags = add_tags(workspace, project, {"round", "elongated", "debris"});
  for (int i = 0; i < images; ++i) {
    std::vector<PlacedObject> placed;
    const cv::Mat pixels = objects_image(static_cast<std::uint64_t>(i) + 1, placed);
    scene.images.push_back(add_image(workspace, project, fmt::format("plankton/{}.png", i), pixels));
    scene.truth[scene.images.back().id] = placed;
    if (i >= marked) continue;
    for (const PlacedObject& o : placed) mark(workspace, scene.images.back(), scene.tags.at(o.truth), "point", {{o.x, o.y}});
  }
  add_to_set(workspace, project, "plankton", scene.images);
  return scene;
}

}  // namespace tessera::app::learn_testing
