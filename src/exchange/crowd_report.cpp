// Crowd job report rows and the broken-links / re-upload CSVs (formats.md 1.5).
#include "tessera/exchange/crowd_report.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tessera/core/csv.hpp"
#include "tessera/core/error.hpp"

namespace tessera::exchange {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool has_supported_scheme(std::string_view url) {
  std::string l = lower(url.substr(0, 8));
  bool http = l.starts_with("http://") || l.starts_with("https://");
  bool file = l.starts_with("file://");
  // Something must follow the scheme: a host for http(s), a path for file.
  size_t after = url.find("://") + 3;
  return (http || file) && after < url.size();
}

// The annotation's "url", or a problem saying why there is none.
std::string annotation_url(std::string_view annotation, std::string& problem) {
  if (annotation.empty()) {
    problem = "annotation is empty";
    return {};
  }
  nlohmann::json parsed = nlohmann::json::parse(annotation, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    problem = "annotation is not a JSON object";
    return {};
  }
  auto it = parsed.find("url");
  if (it == parsed.end() || !it->is_string()) {
    problem = "annotation has no \"url\" string";
    return {};
  }
  std::string url = it->get<std::string>();
  if (!has_supported_scheme(url)) {
    problem = fmt::format("annotation url '{}' is not an http://, https:// or file:// URL", url);
    return {};
  }
  return url;
}

}  // namespace

CrowdReport parse_crowd_report(const std::vector<std::vector<std::string>>& records, std::string_view name) {
  if (records.empty()) throw Error(ErrorCode::invalid_argument, fmt::format("{}: empty report, expected a header", name));
  CrowdReport report;
  report.header = records.front();
  std::map<std::string, size_t> column;
  for (size_t c = 0; c < report.header.size(); ++c) column.emplace(report.header[c], c);
  for (const char* needed : {"broken_link", "annotation", "image_url", "identifier"}) {
    if (!column.contains(needed)) {
      throw Error(ErrorCode::invalid_argument, fmt::format("{}: header has no '{}' column", name, needed));
    }
  }
  auto field = [&](const std::vector<std::string>& record, const char* key) -> std::string {
    size_t c = column.at(key);
    return c < record.size() ? record[c] : std::string();
  };
  for (size_t r = 1; r < records.size(); ++r) {
    const auto& record = records[r];
    // A trailing empty line is no row.
    if (record.size() == 1 && record[0].empty()) continue;
    CrowdReportRow row;
    row.line = r + 1;
    row.fields = record;
    row.image_url = field(record, "image_url");
    row.identifier = field(record, "identifier");
    std::string broken = lower(field(record, "broken_link"));
    if (broken == "true" || broken == "1") {
      row.broken = true;
    } else if (broken == "false" || broken == "0") {
      row.annotation_url = annotation_url(field(record, "annotation"), row.problem);
    } else {
      row.problem = fmt::format("broken_link must be true or false, got '{}'", field(record, "broken_link"));
    }
    if (row.problem.empty() && montage_stem_of_url(row.image_url).empty()) {
      row.problem = fmt::format("image_url '{}' names no file", row.image_url);
    }
    if (!row.problem.empty()) {
      row.broken = true;
      row.annotation_url.clear();
    }
    report.rows.push_back(std::move(row));
  }
  return report;
}

CrowdReportPlan plan_crowd_report(const CrowdReport& report) {
  CrowdReportPlan plan;
  std::map<std::string, size_t> good_index;  // image_url -> position in plan.good
  for (const auto& row : report.rows) {
    if (row.broken) {
      plan.broken.push_back(&row);
      continue;
    }
    std::erase_if(plan.broken, [&](const CrowdReportRow* b) { return b->image_url == row.image_url; });
    auto [it, inserted] = good_index.emplace(row.image_url, plan.good.size());
    if (inserted) {
      plan.good.push_back(&row);
    } else {
      plan.good[it->second] = &row;  // a re-run: its newer annotation wins, as the reference overwrites
    }
  }
  return plan;
}

std::string broken_links_csv_name(std::string_view stem) { return fmt::format("{}_broken_links.csv", stem); }

std::string broken_links_csv(const CrowdReport& report, const std::vector<const CrowdReportRow*>& rows) {
  auto line = [](const std::vector<std::string>& fields) {
    std::string out;
    for (size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + csv_field(fields[i]);
    return out + "\n";
  };
  std::string text = line(report.header);
  for (const auto* row : rows) text += line(row->fields);
  return text;
}

std::string reupload_csv_name(std::string_view stem) {
  size_t first = stem.find('_');
  size_t second = first == std::string_view::npos ? first : stem.find('_', first + 1);
  std::string_view prefix = second == std::string_view::npos ? stem : stem.substr(0, second);
  return fmt::format("{}_reupload.csv", prefix);
}

std::string reupload_csv(const std::vector<const CrowdReportRow*>& rows) {
  std::string text = "identifier,image_url\n";
  std::set<std::string> seen;
  for (const auto* row : rows) {
    if (row->image_url.empty() || !seen.insert(row->image_url).second) continue;
    text += csv_field(row->identifier) + "," + csv_field(row->image_url) + "\n";
  }
  return text;
}

std::string montage_stem_of_url(std::string_view url) {
  size_t cut = url.find_first_of("?#");
  if (cut != std::string_view::npos) url = url.substr(0, cut);
  size_t slash = url.rfind('/');
  std::string_view base = slash == std::string_view::npos ? url : url.substr(slash + 1);
  size_t dot = base.rfind('.');
  if (dot != std::string_view::npos && dot > 0) base = base.substr(0, dot);
  return std::string(base);
}

}  // namespace tessera::exchange
