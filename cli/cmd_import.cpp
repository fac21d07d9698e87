#include <csignal>

#include <fmt/format.h>

#include "commands.hpp"
#include "tessera/app/import.hpp"
#include "tessera/core/error.hpp"

namespace tessera::cli {
namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

void print_problems(const app::ImportReport& report) {
  for (const auto& p : report.failed) fmt::print(stderr, "failed: {}: {}\n", p.path, p.reason);
  for (const auto& p : report.unmatched) fmt::print(stderr, "unmatched: {}: does not match the pattern\n", p);
}

std::string summary_line(const app::ImportReport& r) {
  const double rate = r.seconds > 0 ? static_cast<double>(r.imported) / r.seconds : 0.0;
  return fmt::format("imported {} images ({:.1f} MB) in {:.2f} s ({:.0f}/s), {} already present, {} failed, {} unmatched",
                     r.imported, static_cast<double>(r.bytes) / 1e6, r.seconds, rate, r.skipped, r.failed.size(),
                     r.unmatched.size());
}

}  // namespace

void add_import_command(CLI::App& app, GlobalOptions& global) {
  auto* cmd = app.add_subcommand("import", "Import image files and folders; path tokens become metadata");
  auto opt = std::make_shared<app::ImportOptions>();
  auto sources = std::make_shared<std::vector<std::string>>();
  auto pattern = std::make_shared<std::string>();
  auto frame_by = std::make_shared<std::string>();
  auto set = std::make_shared<std::string>();
  auto watch = std::make_shared<bool>(false);
  auto poll_ms = std::make_shared<int>(1000);
  cmd->add_option("SRC", *sources, "Folders (walked recursively) or files")->required();
  cmd->add_option("--pattern", *pattern,
                  "Path pattern relative to SRC, e.g. '{experiment}/{well}/t{time:int}_c{channel}.tif'");
  cmd->add_option("--series-by", opt->series_by, "Pattern fields that name a series (comma separated)")->delimiter(',');
  cmd->add_option("--frame-by", *frame_by, "Integer pattern field giving the frame index within the series");
  cmd->add_option("--series-kind", opt->series_kind, "timelapse, zstack, video or other");
  cmd->add_option("--set", *set, "Add the images to this set (created if missing)");
  cmd->add_option("--jobs,-j", opt->jobs, "Decode threads (0 = one per core)");
  cmd->add_flag("--watch", *watch, "Keep importing files as they appear, until interrupted");
  cmd->add_option("--poll-ms", *poll_ms, "Watch: milliseconds between folder scans")->check(CLI::Range(50, 3600000));
  cmd->callback([&global, opt, sources, pattern, frame_by, set, watch, poll_ms] {
    for (const auto& s : *sources) opt->sources.emplace_back(s);
    if (!pattern->empty()) opt->pattern = *pattern;
    if (!frame_by->empty()) opt->frame_by = *frame_by;
    if (!set->empty()) opt->set = *set;
    opt->project = global.project;
    app::validate_import_options(*opt);  // before opening anything: a typo costs nothing
    app::Workspace ws = global.open_workspace();
    if (*watch) {
      std::signal(SIGINT, on_signal);
      std::signal(SIGTERM, on_signal);
      opt->progress = false;
      fmt::print(stderr, "watching {} source(s); Ctrl-C to stop\n", opt->sources.size());
      app::ImportReport total;
      app::watch_images(ws, *opt, g_stop, std::chrono::milliseconds(*poll_ms), [&](const app::ImportReport& r) {
        print_problems(r);
        fmt::print("{}\n", summary_line(r));
        std::fflush(stdout);
        total.imported += r.imported;
      });
      fmt::print("watch stopped: {} images imported\n", total.imported);
      return;
    }
    const app::ImportReport report = app::import_images(ws, *opt);
    print_problems(report);
    fmt::print("{}\n", summary_line(report));
    if (!report.ok()) {
      throw Error(ErrorCode::internal,
                  fmt::format("{} file(s) could not be imported and {} did not match the pattern (listed above)",
                              report.failed.size(), report.unmatched.size()));
    }
  });
}

}  // namespace tessera::cli
