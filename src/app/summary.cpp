#include "tessera/app/summary.hpp"

#include <set>

#include <fmt/format.h>

namespace tessera::app {

std::string describe_workspace(Workspace& workspace) {
  auto& catalog = workspace.catalog();
  const catalog::Summary s = catalog.summary();
  std::string out;
  out += fmt::format("workspace  {}\n", workspace.root().string());
  out += fmt::format("catalog    {} ({}, schema v{})\n", workspace.catalog_url_for_display(), catalog.backend(),
                     catalog.schema_version());
  out += fmt::format("blobs      {}\n", workspace.blobs().root().string());
  out += fmt::format("projects {}  images {}  ({:.1f} MB)  series {}  sets {}  tags {}  annotations {}  objects {}  events {}\n",
                     s.projects, s.images, static_cast<double>(s.bytes) / 1e6, s.series, s.sets, s.tags,
                     s.annotations, s.objects, s.events);
  for (const auto& project : catalog.list_projects()) {
    catalog::ImageQuery q;
    q.project_id = project.id;
    out += fmt::format("project '{}': {} images\n", project.name, catalog.count_images(q));
    for (const auto& series : catalog.list_series(project.id)) {
      out += fmt::format("  series {:<24} {:>6} frames  ({})\n", series.name, series.frame_count, series.kind);
    }
    for (const auto& set : catalog.list_sets(project.id)) {
      out += fmt::format("  set    {:<24} {:>6} images{}\n", set.name, set.image_count,
                         set.query ? fmt::format("  where {}", *set.query) : "");
    }
  }
  return out;
}

CheckReport check_workspace(Workspace& workspace, bool verify_content) {
  CheckReport report;
  const auto referenced = workspace.catalog().referenced_blobs();
  const std::set<std::string> wanted(referenced.begin(), referenced.end());
  report.blobs_referenced = static_cast<std::int64_t>(wanted.size());
  std::set<std::string> stored;
  workspace.blobs().for_each([&](const std::string& hash) { stored.insert(hash); });
  report.blobs_stored = static_cast<std::int64_t>(stored.size());
  for (const auto& hash : wanted) {
    if (!stored.count(hash)) report.missing.push_back(hash);
    else if (verify_content && !workspace.blobs().verify(hash)) report.damaged.push_back(hash);
  }
  for (const auto& hash : stored) {
    if (!wanted.count(hash)) report.unreferenced.push_back(hash);
  }
  report.temp_files = static_cast<std::int64_t>(workspace.blobs().temp_files().size());
  return report;
}

}  // namespace tessera::app
