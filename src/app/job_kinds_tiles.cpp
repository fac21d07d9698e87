// The 'tiles.pyramid' job: renders every tile of an image's pyramid ahead of viewers
// (tiles::TileCache::build_pyramid), one streaming read of the image per level, reporting progress per
// row of tiles. Params: image (id, required) and the tile request's own parameters, each as in a tile URL
// (text) or typed: format ("png", "jpg", "webp"; default png), frame (integer), channels ([0, 1, 2] or
// "0,1,2"), min and max (numbers), percentiles ([0.5, 99.5] or "0.5,99.5").
#include <fmt/format.h>

#include "tessera/app/job_kinds.hpp"
#include "tessera/core/error.hpp"
#include "tessera/tiles/tile_cache.hpp"

namespace tessera::app {
namespace {

using json = nlohmann::json;

constexpr const char* kKnown[] = {"image", "format", "frame", "channels", "min", "max", "percentiles"};

[[noreturn]] void bad(const std::string& field, const std::string& problem) {
  throw Error(ErrorCode::invalid_argument, fmt::format("job 'tiles.pyramid': {}", problem), {{"field", field}});
}

// A parameter as the text a tile URL would carry: numbers as written, lists joined with commas.
std::optional<std::string> as_text(const json& params, const char* field) {
  auto it = params.find(field);
  if (it == params.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
  if (it->is_number()) return fmt::format("{}", it->get<double>());
  if (it->is_array()) {
    std::string text;
    for (const json& part : *it) {
      if (!part.is_number()) bad(field, fmt::format("parameter '{}' must list numbers, got {}", field, it->dump()));
      text += (text.empty() ? "" : ",") + (part.is_number_integer() ? std::to_string(part.get<std::int64_t>())
                                                                    : fmt::format("{}", part.get<double>()));
    }
    return text;
  }
  bad(field, fmt::format("parameter '{}' must be a number, a list or text, got {}", field, it->dump()));
}

struct PyramidRequest {
  catalog::ImageRecord image;
  tiles::SourceImage source;
  tiles::RenderSpec spec;
};

PyramidRequest request_of(Workspace& workspace, const std::optional<catalog::Project>& project, const json& params) {
  for (const auto& [key, value] : params.items()) {
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
      bad(key,
          fmt::format("unknown parameter '{}' (known: image, format, frame, channels, min, max, percentiles)", key));
    }
  }
  const auto id = params.find("image");
  if (id == params.end() || !id->is_number_integer() || id->get<catalog::Id>() <= 0) {
    bad("image", "parameter 'image' must be an image id");
  }
  PyramidRequest request;
  try {
    request.image = workspace.catalog().get_image(id->get<catalog::Id>());
  } catch (const Error& e) {
    if (e.code() != ErrorCode::not_found) throw;
  }
  // An image of another project is reported like a missing one.
  if (request.image.id == 0 || !project || request.image.project_id != project->id) {
    throw Error(ErrorCode::not_found,
                fmt::format("job 'tiles.pyramid': no image with id {} in this project", id->dump()),
                {{"field", "image"}});
  }
  const auto type = image::parse_pixel_type(request.image.pixel_type);
  if (!type)
    bad("image", fmt::format("image {} has pixel type '{}', which tiles cannot show", request.image.id,
                             request.image.pixel_type));
  request.source = {request.image.blob_hash, request.image.width,  request.image.height,
                    request.image.channels,  request.image.frames, *type};
  const std::string format_text = as_text(params, "format").value_or("png");
  const auto format = tiles::parse_tile_format(format_text);
  if (!format) bad("format", fmt::format("parameter 'format' must be png, jpg or webp, got '{}'", format_text));
  tiles::RenderQuery query;
  query.frame = as_text(params, "frame");
  query.channels = as_text(params, "channels");
  query.min = as_text(params, "min");
  query.max = as_text(params, "max");
  query.percentiles = as_text(params, "percentiles");
  request.spec = tiles::resolve_render_spec(request.source, query, *format);
  return request;
}

void validate_pyramid(Workspace& workspace, const std::optional<catalog::Project>& project, const json& params) {
  request_of(workspace, project, params);
}

json run_pyramid(Workspace& workspace, const json& params, JobContext& context) {
  const catalog::Job& job = context.job();
  std::optional<catalog::Project> project;
  if (job.project_id) project = catalog::Project{*job.project_id, job.project.value_or(""), "", ""};
  const PyramidRequest request = request_of(workspace, project, params);
  tiles::TileCache cache(workspace.blobs());
  context.progress(0, "starting");
  const std::int64_t written =
      cache.build_pyramid(request.source, request.spec, [&](std::int64_t done, std::int64_t total) {
        context.progress(total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0,
                         fmt::format("{} of {} tiles", done, total));
      });
  const tiles::TileGrid grid(request.source.width, request.source.height);
  std::int64_t total = 0;
  for (int z = 0; z < grid.level_count(); ++z) total += std::int64_t{grid.level(z).tiles_x} * grid.level(z).tiles_y;
  return {{"image", request.image.id},
          {"format", tiles::to_string(request.spec.format)},
          {"levels", grid.level_count()},
          {"tiles", total},
          {"written", written}};
}

}  // namespace

JobKind tiles_pyramid_job_kind() {
  return {.name = "tiles.pyramid",
          .summary =
              "Renders every tile of an image's pyramid ahead of viewers (params: image, format, frame, "
              "channels, min, max, percentiles as in a tile URL)",
          .needs_project = true,
          .validate = validate_pyramid,
          .run = run_pyramid};
}

}  // namespace tessera::app
