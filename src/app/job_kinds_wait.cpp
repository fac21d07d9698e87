// The 'wait' job: sleeps `ms` milliseconds in short slices, reporting progress after each. It does no
// work; it exists to check workers (claiming, heartbeats, cancellation, reclaiming after a crash).
#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "tessera/app/job_kinds.hpp"
#include "tessera/core/error.hpp"

namespace tessera::app {
namespace {

using json = nlohmann::json;

constexpr std::int64_t kMaxMs = 24 * 3600 * 1000;

void validate_wait(Workspace&, const std::optional<catalog::Project>&, const json& params) {
  for (const auto& [key, value] : params.items()) {
    if (key != "ms" && key != "fail")
      throw Error(ErrorCode::invalid_argument, fmt::format("job 'wait': unknown parameter '{}' (known: ms, fail)", key),
                  {{"field", key}});
  }
  const auto ms = params.find("ms");
  if (ms == params.end() || !ms->is_number_integer() || ms->get<std::int64_t>() < 0 || ms->get<std::int64_t>() > kMaxMs)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("job 'wait': parameter 'ms' must be an integer in [0, {}]{}", kMaxMs,
                            ms == params.end() ? " and is missing" : ", got " + ms->dump()),
                {{"field", "ms"}});
  if (params.contains("fail") && !params["fail"].is_string())
    throw Error(ErrorCode::invalid_argument, "job 'wait': parameter 'fail' must be a message (text)",
                {{"field", "fail"}});
}

json run_wait(Workspace&, const json& params, JobContext& context) {
  using Clock = std::chrono::steady_clock;
  const auto total = std::chrono::milliseconds(params.at("ms").get<std::int64_t>());
  // Slices short enough that a cancel or a shutdown is seen quickly, and at least 20 reports per job.
  const auto slice =
      std::clamp<std::chrono::milliseconds>(total / 20, std::chrono::milliseconds(1), std::chrono::milliseconds(50));
  const auto start = Clock::now();
  context.progress(0, "waiting");
  for (;;) {
    const auto waited = Clock::now() - start;
    if (waited >= total) break;
    std::this_thread::sleep_for(std::min<Clock::duration>(slice, total - waited));
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::min<Clock::duration>(Clock::now() - start, total));
    context.progress(static_cast<double>(ms.count()) / static_cast<double>(total.count()),
                     fmt::format("waited {} of {} ms", ms.count(), total.count()));
  }
  if (params.contains("fail")) throw Error(ErrorCode::internal, params["fail"].get<std::string>());
  return {{"slept_ms", total.count()}, {"worker", context.worker()}};
}

}  // namespace

JobKind wait_job_kind() {
  return {.name = "wait",
          .summary =
              "Diagnostic: sleeps 'ms' milliseconds reporting progress (and fails with 'fail' if given); "
              "for checking workers",
          .needs_project = false,
          .validate = validate_wait,
          .run = run_wait};
}

}  // namespace tessera::app
