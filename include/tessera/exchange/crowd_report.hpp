#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tessera::exchange {

// A crowd platform's job report (formats.md 1.5), read from CSV records, and the two CSVs written for rows
// that still need work. Pure: records in, text out. Thread-safe.

struct CrowdReportRow {
  size_t line = 0;                  // 1-based CSV record number (the header is 1), for messages
  std::vector<std::string> fields;  // every original column, as read
  bool broken = false;              // broken_link said true, or the row could not be used (see problem)
  std::string image_url;            // the montage that was uploaded
  std::string identifier;
  std::string annotation_url;       // "url" of the annotation JSON; empty for broken rows
  std::string problem;              // why a row is unusable beyond broken_link (bad URL, bad JSON); else empty
};

struct CrowdReport {
  std::vector<std::string> header;
  std::vector<CrowdReportRow> rows;  // file order
};

// Reads records (header first). Error{invalid_argument} naming `name` for an empty report or a header without
// broken_link, annotation, image_url or identifier. Row-level trouble (a good row whose annotation has no
// http://, https:// or file:// "url", a broken_link value that is not true/false, a missing image_url) does not
// throw: the row is marked broken with its problem, so the rest proceeds.
CrowdReport parse_crowd_report(const std::vector<std::vector<std::string>>& records, std::string_view name);

// What to download and what is still broken after applying the rows in file order: a good row is fetched and
// forgets earlier broken rows of the same image_url, a broken row is remembered. good = the last good row of
// each image_url, in the order of first appearance.
struct CrowdReportPlan {
  std::vector<const CrowdReportRow*> good;
  std::vector<const CrowdReportRow*> broken;
};
CrowdReportPlan plan_crowd_report(const CrowdReport& report);

// "<stem>_broken_links.csv": the header and every original column of the rows.
std::string broken_links_csv_name(std::string_view report_stem);
std::string broken_links_csv(const CrowdReport& report, const std::vector<const CrowdReportRow*>& rows);
// "<p0>_<p1>_reupload.csv" from the first two '_' parts of the stem (job_12345_full_report ->
// job_12345_reupload.csv): header identifier,image_url, one row per distinct image_url, ready to re-post.
std::string reupload_csv_name(std::string_view report_stem);
std::string reupload_csv(const std::vector<const CrowdReportRow*>& rows);

// The annotation's target file stem: basename of image_url without its extension (query and fragment
// dropped). Empty if the URL has no file name.
std::string montage_stem_of_url(std::string_view image_url);

}  // namespace tessera::exchange
