#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tessera/app/workspace.hpp"

namespace tessera::app {

struct ImportOptions {
  std::vector<std::filesystem::path> sources;  // folders (walked recursively) or single files
  std::optional<std::string> pattern;          // path pattern (see path_pattern.hpp); none = any image file
  std::vector<std::string> series_by;          // pattern fields whose values name a series
  std::optional<std::string> frame_by;         // integer pattern field giving the frame index
  std::string series_kind = "timelapse";
  std::optional<std::string> set;              // add every imported (or already present) image to this set
  std::string project = "default";
  int jobs = 0;                                // decode threads; 0 = one per core
  bool progress = true;
};

struct ImportProblem {
  std::string path;
  std::string reason;
};

struct ImportReport {
  std::int64_t candidates = 0;   // image files seen
  std::int64_t imported = 0;     // new records
  std::int64_t skipped = 0;      // same path and content already in the catalog
  std::int64_t bytes = 0;        // bytes of newly imported files
  std::vector<ImportProblem> failed;     // corrupt, truncated or unsupported files: not imported
  std::vector<std::string> unmatched;    // paths the pattern does not match: not imported
  double seconds = 0;
  bool ok() const { return failed.empty() && unmatched.empty(); }
};

// An image file found under a source folder.
struct ImageFile {
  std::filesystem::path path;  // absolute
  std::string relative;        // to its source, '/'-separated: what a path pattern sees
};

// Image files (by extension) under the sources, recursively, hidden files and folders skipped, sorted by
// path, each once. A source that is a file is taken as it is.
std::vector<ImageFile> scan_image_files(const std::vector<std::filesystem::path>& sources);

// Validates options against each other (fields named by series_by/frame_by exist in the pattern, the
// frame field is an integer, the sources exist). Error{invalid_argument} naming the option.
void validate_import_options(const ImportOptions& options);

// Imports the sources into the workspace: every file is read once, hashed (SHA-256), fully decoded (so a
// damaged file is caught), scored for focus and stored as a blob before its catalog record is committed, so
// an interrupted import leaves no record without its blob, and a re-run adds only what is missing.
// Records are committed in batches in path order, so ids are deterministic.
ImportReport import_images(Workspace& workspace, const ImportOptions& options);

// Watches the sources and imports files as they appear (once their size and time stopped changing
// between two polls), until `stop` becomes true. on_round is called after each round that did anything.
void watch_images(Workspace& workspace, const ImportOptions& options, const std::atomic<bool>& stop,
                  std::chrono::milliseconds poll, const std::function<void(const ImportReport&)>& on_round);

}  // namespace tessera::app
