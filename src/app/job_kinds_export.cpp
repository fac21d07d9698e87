// Being written: the 'export.dataset' job kind. Until then, queuing it is refused with a clear error.
#include "tessera/app/job_kinds.hpp"
#include "tessera/core/error.hpp"

namespace tessera::app {

JobKind export_dataset_job_kind() {
  JobKind kind;
  kind.name = "export.dataset";
  kind.summary = "not available yet";
  kind.validate = [](Workspace&, const std::optional<catalog::Project>&, const nlohmann::json&) {
    throw Error(ErrorCode::unsupported, "job 'export.dataset' is not available in this build");
  };
  kind.run = [](Workspace&, const nlohmann::json&, JobContext&) -> nlohmann::json {
    throw Error(ErrorCode::unsupported, "job 'export.dataset' is not available in this build");
  };
  return kind;
}

}  // namespace tessera::app
