// The 'learn.round' job: app::run_learn_round over a set of the job's project (params: set, tags, and the
// RoundOptions names), progress reported as the ensemble trains and the images are scored; the result is
// the recorded round.
#include <fmt/format.h>

#include <tuple>

#include "tessera/app/job_actor.hpp"
#include "tessera/app/job_kinds.hpp"
#include "tessera/app/learn_round.hpp"
#include "tessera/core/error.hpp"

namespace tessera::app {
namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& field, const std::string& problem) {
  throw Error(ErrorCode::invalid_argument, fmt::format("job 'learn.round': {}", problem), {{"field", field}});
}

// The set and tags of the params; Error naming them when missing or of the wrong type.
std::pair<std::string, std::vector<std::string>> set_and_tags(const json& params) {
  if (!params.contains("set") || !params["set"].is_string() || params["set"].get<std::string>().empty())
    bad("set", "parameter 'set' must name a set of the project");
  if (!params.contains("tags") || !params["tags"].is_array()) bad("tags", "parameter 'tags' must be a list of tag names");
  std::vector<std::string> tags;
  for (const json& t : params["tags"]) {
    if (!t.is_string()) bad("tags", fmt::format("parameter 'tags' holds {}, not a tag name", t.dump()));
    tags.push_back(t.get<std::string>());
  }
  return {params["set"].get<std::string>(), tags};
}

LearnRoundRequest request_of(const json& params, const std::string& project) {
  LearnRoundRequest request;
  request.project = project;
  std::tie(request.set, request.tags) = set_and_tags(params);
  request.options = round_options_from_json(params);
  return request;
}

void validate_round(Workspace& workspace, const std::optional<catalog::Project>& project, const json& params) {
  if (!project) bad("project", "a learning round runs in a project");
  try {
    check_round_request(workspace, request_of(params, project->name));
  } catch (const Error& e) {
    if (e.code() == ErrorCode::not_found) bad("set", e.what());
    throw;
  }
}

json run_round(Workspace& workspace, const json& params, JobContext& context) {
  const catalog::Job& job = context.job();
  if (!job.project) throw Error(ErrorCode::invalid_argument, fmt::format("job {}: a round needs a project", job.id));
  LearnRoundRequest request = request_of(params, *job.project);
  request.job_id = job.id;
  request.actor = job_actor(workspace, job);
  context.progress(0, "starting");
  const LearnRoundResult result =
      run_learn_round(workspace, request, [&](double fraction, const std::string& message) {
        context.progress(fraction, message);
      });
  json out = catalog::to_json(result.round);
  out["suggested"] = result.suggested;
  return out;
}

}  // namespace

JobKind learn_round_job_kind() {
  return {.name = "learn.round",
          .summary = "An active-learning round over a set (params: set, tags, models, top, patch, trees, max_depth, "
                     "held_out, seed, with_masks): trains a bootstrap ensemble, ranks the unannotated images by "
                     "uncertainty, creates '<set>-round-K' with suggested annotations; the result is the round",
          .needs_project = true,
          .validate = validate_round,
          .run = run_round};
}

}  // namespace tessera::app
