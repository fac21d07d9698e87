#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "tessera/app/workspace.hpp"
#include "tessera/catalog/locks.hpp"

namespace tessera::app {

// The post-annotation side of a crowd job (formats.md 1.5-1.7): one call instead of the notebook. The CLI
// (`tessera crowd ingest`) and jobs call ingest_crowd_report().

// ---- cleaning (formats.md 1.6) ----

struct CrowdCleanParams {
  std::int64_t hole_area = 64;  // background components (4-connected) with fewer pixels are filled
  std::int64_t min_size = 10;   // foreground components (4-connected, of the mask) with fewer pixels go
};

// A returned annotation as a one-channel label image: RGB(A) -> its first (red) channel, as the reference's
// convert_grayscale_all. Error{invalid_argument} naming source when it is not an integer image of 1, 3 or 4
// channels (e.g. float pixels), i.e. not a label image.
cv::Mat annotation_labels(const cv::Mat& annotation, std::string_view source);

// remove_small_holes(area_threshold=hole_area, connectivity=1) then remove_small_objects(min_size,
// connectivity=1) on the mask (labels != 0), scikit-image semantics (border components count); original
// pixels keep their label, a filled hole takes the label most often 4-adjacent to it (ties: smallest), then
// relabel_sequential. Ids must lie in [0, 2^24] (Error{invalid_argument} otherwise). Output CV_8U when the result has at most 255 labels, else CV_16U (the reference wraps
// ids above 255 instead). labels: one-channel integer (CV_8U/16U/32S).
cv::Mat clean_crowd_labels(const cv::Mat& labels, const CrowdCleanParams& params = {});

// ---- downloads ----

// One attempt at an http(s) URL: append the bytes after `offset` to the file `partial` (offset = its current
// size, so an interrupted download resumes with a Range request; a server that ignores Range may rewrite
// the file from the start). Throws Error{unavailable} for what may pass (timeout, connection, 5xx, 429) and
// another code (not_found, forbidden, invalid_argument) for what will not. Front ends supply it (the CLI
// uses cpp-httplib), so the use cases stay free of an HTTP library.
using HttpGet = std::function<void(const std::string& url, const std::filesystem::path& partial,
                                   std::uint64_t offset, std::chrono::seconds timeout)>;

struct DownloadOptions {
  int attempts = 4;                                    // per URL, >= 1
  std::chrono::milliseconds first_backoff{500};        // doubled after each failed attempt
  std::chrono::seconds timeout{30};                    // per attempt
  HttpGet http;                                        // empty: http(s) URLs fail with Error{unsupported}
};

// Fetches url (http://, https:// or file://) to dest: bytes go to "<dest>.part", are checked with verify
// (throws to reject) and only then renamed to dest, so dest is always whole. Transient failures are retried
// with doubling backoff. Errors name the URL and the last reason.
void download(const std::string& url, const std::filesystem::path& dest, const DownloadOptions& options,
              const std::function<void(const std::filesystem::path&)>& verify);

// ---- the ingest ----

// One cleaned frame of one annotated tile, as ingest_crowd_report cuts it back out of its montage.
struct CrowdFrameTile {
  std::string identifier;
  int part = 0;
  int x = 0;  // tile position
  int y = 0;
  int frame = 0;                   // frame of the part's movie
  std::filesystem::path raw_file;  // the raw frame the tile was chopped from
  cv::Rect tile;                   // where the tile lies in the raw frame (it may pass the frame's edges)
  cv::Rect core;                   // the part of the frame this tile owns: tiles overlap, cores do not
  cv::Mat labels;                  // cleaned labels, tile-sized
};

struct CrowdIngestOptions {
  std::filesystem::path report;  // job report CSV (formats.md 1.5)
  std::filesystem::path logs;    // folder with <id>_montage_maker_log.json and <id>_overlapping_chopper_log.json
  std::filesystem::path raw;     // the raw frames the montages were made from (natural-sorted, as chopped)
  std::filesystem::path out;     // empty = the report's folder
  DownloadOptions download;
  CrowdCleanParams clean;
  bool write_npz = true;
  std::function<void(const CrowdFrameTile&)> on_frame;  // called for every frame written, when set
};

struct CrowdIngestResult {
  int downloaded = 0;       // annotations fetched in this run
  int reused = 0;           // annotations already present and readable, kept
  int montages = 0;         // annotations cleaned and chopped into movie frames
  int movies = 0;           // (part, position) folders written with annotated/ and raw/
  int broken_rows = 0;      // rows still broken after the report (listed in the broken-links CSV)
  std::filesystem::path broken_links_csv;  // empty when nothing is broken
  std::filesystem::path reupload_csv;
  std::vector<std::filesystem::path> npz;  // one per part
  std::vector<std::string> problems;       // every row, file or montage skipped, named; empty = all went well
};

// Reads the report, downloads every good row's annotation to <out>/annotations/<montage>_annotation.png
// (kept on a re-run), writes <stem>_broken_links.csv and <p0>_<p1>_reupload.csv into out when rows stay
// broken, converts to labels, cleans (cleaned copies in <out>/cleaned/), cuts each montage into its frames at
// <out>/movies/part{m}/x_{XX}_y_{YY}/annotated/ and the matching raw tiles at .../raw/ (formats.md 1.7), and
// writes <out>/npz/<id>_part{m}.npz (X float32 (positions, frames, rows, cols, 1), y int32) per part.
// Bad rows, failed downloads, annotations that are not label images and montages that disagree with their
// logs are named in problems and skipped; the rest proceeds. Throws only when nothing can start (unreadable
// report or header, raw folder missing).
CrowdIngestResult ingest_crowd_report(const CrowdIngestOptions& options);

// ---- straight into the catalog ----

struct CrowdCatalogOptions {
  std::string project = "default";
  std::optional<std::string> tag;            // every stored object gets this tag (created when missing)
  std::optional<std::string> series_prefix;  // frames match only images of series whose name starts with it
  catalog::Actor actor{std::nullopt, "crowd"};
};

struct CrowdCatalogResult {
  int frames = 0;               // raw frames matched to catalog images
  int images_imported = 0;      // raw frames that were not in the catalog and were imported
  int annotations = 0;          // objects stored in this run
  int annotations_existing = 0; // objects an earlier run already stored: kept, not added again
};

struct CrowdIngestReport {
  CrowdIngestResult ingest;
  CrowdCatalogResult catalog;   // all zero when not stored
  nlohmann::json to_json() const;
};

// ingest_crowd_report, and every cleaned frame's objects stored as mask annotations (source "imported",
// source_ref {"crowd": identifier, "part", "x", "y", "frame", "label"}) on the catalog image of its raw
// frame: matched by content (see find_or_import_image), imported when the catalog lacks it and no prefix is
// given. An object belongs to the tile whose core holds its bbox centre, so the overlap between tiles is
// stored once. Running it again adds nothing (same image, frame, tag and pixels). Frames that match no
// image are named in ingest.problems.
CrowdIngestReport ingest_crowd_report_to_catalog(Workspace& workspace, CrowdIngestOptions options,
                                                 const CrowdCatalogOptions& catalog);

}  // namespace tessera::app
