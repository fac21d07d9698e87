// Active learning over HTTP (docs/api/learn.md): a round over a set is a 'learn.round' job (editors start
// it: 202 + Location of the job, progress on the feed); the set's recorded rounds and the project's models
// are read by viewers.
#include <fmt/format.h>

#include "server/routes.hpp"
#include "tessera/app/learn_round.hpp"
#include "tessera/catalog/learn.hpp"
#include "tessera/core/error.hpp"

namespace tessera::server {
namespace {

using nlohmann::json;

// The set with this id if the caller has at least `min` on its project; 404 alike for a missing set and one
// of a project the caller is not in.
catalog::ImageSet learn_set(Context& ctx, Id set_id, Role min) {
  const auto missing = [&] { return HttpError(404, "not_found", fmt::format("no set with id {}", set_id)); };
  const std::optional<catalog::ImageSet> set = catalog::LearnStore(ctx.catalog()).find_set(set_id);
  if (!set) throw missing();
  try {
    ctx.project(set->project_id, min);
  } catch (const HttpError& e) {
    if (e.status() == 404) throw missing();
    throw;
  }
  return *set;
}

// POST /api/v1/sets/{id}/learn/rounds {"tags": [...], "models"?, "top"?, "patch"?, ...}
void queue_round(Context& ctx) {
  const catalog::ImageSet set = learn_set(ctx, ctx.path_id(1, "set"), Role::editor);
  json params = ctx.json_body();
  if (params.contains("set"))
    throw HttpError(400, "invalid_argument", "field 'set' is not allowed: the set is the one in the path",
                    json{{"field", "set"}});
  params["set"] = set.name;
  ctx.queue_job(set.project_id, "learn.round", params);
}

void list_rounds(Context& ctx) {
  const catalog::ImageSet set = learn_set(ctx, ctx.path_id(1, "set"), Role::viewer);
  json rounds = json::array();
  for (const catalog::RoundRecord& r : catalog::LearnStore(ctx.catalog()).list_rounds(set.id)) {
    rounds.push_back(catalog::to_json(r));
  }
  ctx.send_json({{"set_id", set.id}, {"set", set.name}, {"rounds", rounds}});
}

void get_round(Context& ctx) {
  const Id set_id = ctx.path_id(1, "set");
  const Id round_id = ctx.path_id(2, "round");
  const catalog::ImageSet set = learn_set(ctx, set_id, Role::viewer);
  const std::optional<catalog::RoundRecord> round = catalog::LearnStore(ctx.catalog()).find_round(round_id);
  if (!round || round->set_id != set.id)
    throw HttpError(404, "not_found", fmt::format("set {} has no learning round with id {}", set_id, round_id));
  ctx.send_json(catalog::to_json(*round));
}

void list_models(Context& ctx) {
  const Id project_id = ctx.path_id(1, "project");
  ctx.project(project_id, Role::viewer);
  json models = json::array();
  for (const catalog::ModelRecord& m : catalog::LearnStore(ctx.catalog()).list_models(project_id)) {
    models.push_back(catalog::to_json(m));
  }
  ctx.send_json({{"models", models}});
}

}  // namespace

void add_learn_routes(Router& router) {
  router.post(R"(/api/v1/sets/(\d+)/learn/rounds)", queue_round);
  router.get(R"(/api/v1/sets/(\d+)/learn/rounds)", list_rounds);
  router.get(R"(/api/v1/sets/(\d+)/learn/rounds/(\d+))", get_round);
  router.get(R"(/api/v1/projects/(\d+)/models)", list_models);
}

}  // namespace tessera::server
