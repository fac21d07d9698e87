#include <fmt/format.h>

#include "server/routes.hpp"
#include "tessera/core/base64.hpp"
#include "tessera/core/error.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/image/encode.hpp"
#include "tessera/ops/registry.hpp"

namespace tessera::server {
namespace {

// Largest image an op runs on synchronously; bigger work belongs in a pipeline job.
constexpr long long kMaxSyncPixels = 64LL * 1024 * 1024;

ops::Facet facet_from_image(Context& ctx, const ops::FacetSpec& spec, Id image_id, std::int64_t frame) {
  const auto record = ctx.image(image_id);
  if (static_cast<long long>(record.width) * record.height > kMaxSyncPixels) {
    throw HttpError(422, "too_large",
                    fmt::format("image {} has {}x{} pixels; run operations on images this large in a pipeline job",
                                image_id, record.width, record.height));
  }
  if (frame < 0 || frame >= record.frames) {
    throw HttpError(400, "invalid_argument", fmt::format("image {} has {} frame(s); frame {} does not exist", image_id, record.frames, frame),
                    nlohmann::json{{"field", "frame"}});
  }
  cv::Mat mat = image::decode(ctx.blobs().get(record.blob_hash), record.source_path).frames.at(static_cast<size_t>(frame));
  switch (spec.kind) {
    case ops::FacetKind::image: return ops::Facet::image(mat);
    case ops::FacetKind::mask:
      if (mat.channels() != 1) throw HttpError(422, "invalid_input", fmt::format("input '{}': a mask must have one channel", spec.name));
      return ops::Facet::mask(mat != 0);
    case ops::FacetKind::labels: {
      if (mat.channels() != 1) throw HttpError(422, "invalid_input", fmt::format("input '{}': labels must have one channel", spec.name));
      cv::Mat labels;
      mat.convertTo(labels, CV_32S);
      return ops::Facet::labels(labels);
    }
    default:
      throw HttpError(400, "invalid_argument",
                      fmt::format("input '{}' is a {}, which cannot come from an image over HTTP", spec.name, ops::to_string(spec.kind)));
  }
}

nlohmann::json facet_json(const ops::Facet& facet) {
  switch (facet.kind) {
    case ops::FacetKind::table: return {{"kind", "table"}, {"rows", facet.table}};
    case ops::FacetKind::images: {
      nlohmann::json items = nlohmann::json::array();
      for (const auto& m : facet.mats) items.push_back(base64_encode(image::encode(m, ".png")));
      return {{"kind", "images"}, {"png_base64", items}, {"rows", facet.table}};
    }
    default: {
      cv::Mat out = facet.mat;
      if (facet.kind == ops::FacetKind::labels) {
        // Labels travel as 16-bit PNG when they fit, else 32-bit values are not representable in PNG.
        double max = 0;
        cv::minMaxLoc(out, nullptr, &max);
        if (max > 65535) throw HttpError(422, "too_many_labels", "more than 65535 labels do not fit a 16-bit PNG");
        out.convertTo(out, CV_16U);
      }
      return {{"kind", std::string(ops::to_string(facet.kind))}, {"width", out.cols}, {"height", out.rows},
              {"png_base64", base64_encode(image::encode(out, ".png"))}};
    }
  }
}

}  // namespace

void add_ops_routes(Router& router) {
  // Every operation with its inputs, outputs and parameter schema: the same descriptors the CLI and
  // pipelines use.
  router.get(R"(/api/v1/ops)", [](Context& ctx) { ctx.send_json({{"ops", ops::builtin_ops().describe()}}); });

  // Runs one operation on catalog images: {"inputs": {"image": IMAGE_ID, ...}, "params": {...}, "frame": 0}.
  // Outputs come back as JSON: tables as rows, images/masks/labels as base64 PNG. With ?output=NAME the one
  // output is sent as image/png instead.
  router.post(R"(/api/v1/ops/([a-z0-9_]+))", [](Context& ctx) {
    const std::string name = ctx.path(1);
    const ops::OpDescriptor* op = nullptr;
    for (const auto* d : ops::builtin_ops().list()) {
      if (d->name == name) op = d;
    }
    if (!op) throw HttpError(404, "not_found", fmt::format("no operation named '{}' (GET /api/v1/ops lists them)", name));
    const nlohmann::json body = ctx.json_body();
    nlohmann::json params = body.value("params", nlohmann::json::object());
    if (!params.is_object()) throw HttpError(400, "invalid_argument", "field 'params' must be an object", nlohmann::json{{"field", "params"}});
    nlohmann::json valid;
    try {
      valid = ops::builtin_ops().validate(name, params);
    } catch (const Error& e) {
      throw HttpError(400, "invalid_argument", e.what(), e.details());
    }
    const auto inputs_json = body.value("inputs", nlohmann::json::object());
    if (!inputs_json.is_object()) throw HttpError(400, "invalid_argument", "field 'inputs' must be an object", nlohmann::json{{"field", "inputs"}});
    const std::int64_t frame = optional_int(body, "frame").value_or(0);
    ops::FacetMap inputs;
    for (const auto& spec : op->inputs) {
      auto it = inputs_json.find(spec.name);
      if (it == inputs_json.end()) {
        if (spec.optional) continue;
        throw HttpError(400, "invalid_argument", fmt::format("field 'inputs.{}' is missing: an image id", spec.name),
                        nlohmann::json{{"field", "inputs." + spec.name}});
      }
      if (!it->is_number_integer()) {
        throw HttpError(400, "invalid_argument", fmt::format("field 'inputs.{}' must be an image id", spec.name),
                        nlohmann::json{{"field", "inputs." + spec.name}});
      }
      inputs.emplace(spec.name, facet_from_image(ctx, spec, it->get<Id>(), frame));
    }
    for (const auto& [key, _] : inputs_json.items()) {
      if (std::none_of(op->inputs.begin(), op->inputs.end(), [&](const auto& s) { return s.name == key; })) {
        throw HttpError(400, "invalid_argument", fmt::format("operation '{}' has no input '{}'", name, key),
                        nlohmann::json{{"field", "inputs." + key}});
      }
    }
    if (inputs.empty() && !op->inputs.empty()) throw HttpError(400, "invalid_argument", "field 'inputs' names no image");
    ops::FacetMap outputs;
    try {
      outputs = ops::builtin_ops().run(name, inputs, valid);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::invalid_argument) throw HttpError(422, "invalid_input", e.what(), e.details());
      throw;
    }
    if (auto wanted = ctx.query("output")) {
      auto it = outputs.find(*wanted);
      if (it == outputs.end() || it->second.kind == ops::FacetKind::table || it->second.kind == ops::FacetKind::images) {
        throw HttpError(400, "invalid_argument", fmt::format("'{}' is not an image output of '{}'", *wanted, name),
                        nlohmann::json{{"field", "output"}});
      }
      cv::Mat out = it->second.mat;
      if (it->second.kind == ops::FacetKind::labels) out.convertTo(out, CV_16U);
      ctx.res.set_content(image::encode(out, ".png"), "image/png");
      return;
    }
    nlohmann::json result = nlohmann::json::object();
    for (const auto& [key, facet] : outputs) result[key] = facet_json(facet);
    ctx.send_json({{"op", name}, {"params", valid}, {"outputs", result}});
  });
}

}  // namespace tessera::server
