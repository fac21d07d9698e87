// `tessera annotate generate IMAGE --point x,y,+ ...`: a point-prompted mask on a catalog image, over
// app::generate_mask (the same use case as POST /api/v1/images/{id}/masks:generate).

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <memory>

#include "commands.hpp"
#include "tessera/app/generate_mask.hpp"
#include "tessera/core/error.hpp"
#include "tessera/image/encode.hpp"

namespace tessera::cli {
namespace {

struct GenerateArgs {
  std::string image;
  std::vector<std::string> points;
  std::string box;
  std::int64_t frame = 0;
  std::string tag;
  std::string color;
  std::string overlap = "allow";
  bool save = false;
  std::string out;
  std::string model;
  bool json = false;
};

std::vector<double> parse_numbers(const std::string& text, std::size_t count, const std::string& option,
                                  std::string* rest) {
  std::vector<double> out;
  const char* at = text.data();
  const char* end = text.data() + text.size();
  while (out.size() < count) {
    double v = 0;
    auto [next, ec] = std::from_chars(at, end, v);
    if (ec != std::errc()) break;
    out.push_back(v);
    at = next;
    if (at == end) break;
    if (*at != ',') break;
    ++at;
  }
  if (out.size() != count)
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: '{}' needs {} comma-separated numbers", option, text, count));
  *rest = std::string(at, end);
  return out;
}

// "x,y,+" | "x,y,-" | "x,y" (positive).
segment::PromptPoint parse_point(const std::string& text) {
  std::string sign;
  const auto xy = parse_numbers(text, 2, "--point", &sign);
  if (!sign.empty() && sign != "+" && sign != "-")
    throw Error(ErrorCode::invalid_argument, fmt::format("--point: '{}' must be x,y,+ or x,y,-", text));
  return {xy[0], xy[1], sign != "-"};
}

// "x0,y0,x1,y1", half-open as annotation bboxes.
cv::Rect parse_box(const std::string& text) {
  std::string rest;
  const auto v = parse_numbers(text, 4, "--box", &rest);
  if (!rest.empty()) throw Error(ErrorCode::invalid_argument, fmt::format("--box: '{}' must be x0,y0,x1,y1", text));
  return cv::Rect(cv::Point(static_cast<int>(v[0]), static_cast<int>(v[1])),
                  cv::Point(static_cast<int>(v[2]), static_cast<int>(v[3])));
}

// IMAGE: an image id, or the source path an import recorded (exact, or its unique ending).
catalog::Id find_image(app::Workspace& ws, const std::string& project, const std::string& text) {
  catalog::Id id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec == std::errc() && end == text.data() + text.size()) return id;
  catalog::ImageQuery query;
  query.project_id = ws.catalog().get_project(project).id;
  std::vector<catalog::Id> matches;
  for (const auto& image : ws.catalog().list_images(query)) {
    if (image.source_path == text) return image.id;
    const std::string& p = image.source_path;
    if (p.size() > text.size() && p.compare(p.size() - text.size(), text.size(), text) == 0 &&
        p[p.size() - text.size() - 1] == '/')
      matches.push_back(image.id);
  }
  if (matches.size() == 1) return matches.front();
  throw Error(ErrorCode::not_found, matches.empty()
                                        ? fmt::format("IMAGE: no image '{}' in project '{}'", text, project)
                                        : fmt::format("IMAGE: '{}' matches {} images; give the id", text, matches.size()));
}

catalog::Id find_tag(app::Workspace& ws, const std::string& project, const std::string& tag) {
  const catalog::Project p = ws.catalog().get_project(project);
  for (const catalog::Tag& t : ws.catalog().list_tags(p.id))
    if (t.name == tag || std::to_string(t.id) == tag) return t.id;
  throw Error(ErrorCode::not_found, fmt::format("--tag: no tag '{}' in project '{}'", tag, project));
}

void run(GlobalOptions& global, const GenerateArgs& args) {
  app::GenerateMaskRequest request;
  for (const auto& p : args.points) request.points.push_back(parse_point(p));
  if (!args.box.empty()) request.box = parse_box(args.box);
  request.frame_index = args.frame;
  request.overlap = app::parse_overlap(args.overlap);
  request.save = args.save;
  if (!args.color.empty()) request.color = args.color;
  if (!args.model.empty()) request.segmenter = {"onnx", args.model, 256};
  app::Workspace ws = global.open_workspace();
  request.image_id = find_image(ws, global.project, args.image);
  if (!args.tag.empty()) request.tag_id = find_tag(ws, global.project, args.tag);
  const app::GenerateMaskOutcome outcome = app::generate_mask(ws, request, local_actor());
  if (outcome.status == catalog::EditStatus::locked)
    throw Error(ErrorCode::conflict, fmt::format("image {} is locked by '{}' until {}; nothing was stored",
                                                 outcome.lease->image_id, outcome.lease->holder, outcome.lease->expires_at));
  if (outcome.status == catalog::EditStatus::stale)
    throw Error(ErrorCode::conflict, fmt::format("annotation {} changed meanwhile; nothing was stored",
                                                 outcome.current ? outcome.current->id : 0));
  if (!args.out.empty()) {
    const std::string png = image::encode(outcome.mask, ".png");
    std::ofstream file(args.out, std::ios::binary);
    file.write(png.data(), static_cast<std::streamsize>(png.size()));
    if (!file) throw Error(ErrorCode::io, fmt::format("--out: cannot write '{}'", args.out));
  }
  const cv::Rect b = outcome.bbox;
  if (args.json) {
    nlohmann::json out = {{"image_id", request.image_id},
                          {"segmenter", outcome.segmenter},
                          {"confidence", outcome.confidence},
                          {"area", cv::countNonZero(outcome.mask)},
                          {"bbox", {b.x, b.y, b.x + b.width, b.y + b.height}}};
    if (outcome.annotation) out["annotation_id"] = outcome.annotation->id;
    nlohmann::json updated = nlohmann::json::array();
    for (const auto& a : outcome.updated) updated.push_back(a.id);
    out["updated"] = updated;
    out["deleted"] = outcome.deleted;
    fmt::print("{}\n", out.dump(2));
    return;
  }
  fmt::print("mask on image {}: {} px, bbox [{}, {}, {}, {}], confidence {:.2f} ({})\n", request.image_id,
             cv::countNonZero(outcome.mask), b.x, b.y, b.x + b.width, b.y + b.height, outcome.confidence,
             outcome.segmenter);
  if (outcome.annotation) fmt::print("saved annotation {} (version {})\n", outcome.annotation->id, outcome.annotation->version);
  for (const auto& a : outcome.updated) fmt::print("updated annotation {}: gave up its pixels under the new mask\n", a.id);
  for (const auto id : outcome.deleted) fmt::print("deleted annotation {}: the new mask covered it\n", id);
}

}  // namespace

void add_annotate_generate_command(CLI::App& annotate, GlobalOptions& global) {
  auto args = std::make_shared<GenerateArgs>();
  auto* cmd = annotate.add_subcommand("generate", "A mask from + / - clicks (graph cut, or an ONNX model)");
  cmd->add_option("IMAGE", args->image, "Image id or imported path")->required();
  cmd->add_option("--point", args->points, "x,y,+ (object) or x,y,- (not the object); repeat");
  cmd->add_option("--box", args->box, "x0,y0,x1,y1: the object lies inside");
  cmd->add_option("--frame", args->frame, "Frame index of a multi-frame image");
  cmd->add_option("--tag", args->tag, "Tag name or id of the saved mask");
  cmd->add_option("--color", args->color, "Mask colour #RRGGBB");
  cmd->add_option("--overlap", args->overlap, "allow | take (others give up pixels) | clip (the new mask does)");
  cmd->add_flag("--save", args->save, "Store the mask as an annotation (source generated)");
  cmd->add_option("--out", args->out, "Write the mask (image size, 0/255) as a PNG");
  cmd->add_option("--model", args->model, "ONNX segmentation model instead of the graph cut");
  cmd->add_flag("--json", args->json, "Print the result as JSON");
  cmd->callback([&global, args] { run(global, *args); });
}

}  // namespace tessera::cli
