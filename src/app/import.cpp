#include "tessera/app/import.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "tessera/app/path_pattern.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/core/parallel.hpp"
#include "tessera/core/progress.hpp"
#include "tessera/core/sha256.hpp"
#include "tessera/image/decode.hpp"

namespace tessera::app {
namespace fs = std::filesystem;
namespace {

using Candidate = ImageFile;

// What one worker made of one file.
struct Outcome {
  enum class Kind { pending, ready, skipped, failed, unmatched } kind = Kind::pending;
  std::optional<catalog::NewImage> image;
  std::string hash;
  std::string reason;
};

std::string absolute_string(const fs::path& p) { return fs::weakly_canonical(fs::absolute(p)).string(); }

class Importer {
 public:
  Importer(Workspace& workspace, const ImportOptions& options)
      : workspace_(workspace), options_(options), project_(workspace.catalog().ensure_project(options.project)) {
    if (options.pattern) pattern_.emplace(*options.pattern);
    for (auto& [path, hash] : workspace.catalog().image_paths(project_.id)) known_[path].insert(hash);
  }

  void run(const std::vector<Candidate>& candidates, ImportReport& report) {
    const auto start = std::chrono::steady_clock::now();
    report.candidates += static_cast<std::int64_t>(candidates.size());
    Progress progress("import", static_cast<std::int64_t>(candidates.size()));
    int jobs = options_.jobs > 0 ? options_.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

    std::vector<catalog::NewImage> batch;
    std::vector<std::pair<std::string, std::string>> present;  // (path, hash) to add to the set
    // Workers read known_ without a lock, so what this run adds joins it only after they have stopped.
    std::vector<std::pair<std::string, std::string>> fresh;
    auto flush = [&] {
      if (batch.empty()) return;
      auto result = workspace_.catalog().add_images(project_.id, batch, options_.set);
      report.imported += static_cast<std::int64_t>(result.added.size());
      report.skipped += static_cast<std::int64_t>(result.already_present.size());
      for (const auto& image : batch) {
        report.bytes += image.byte_size;
        fresh.emplace_back(image.source_path, image.blob_hash);
      }
      batch.clear();
    };
    // Files are decoded in parallel and committed in path order, so the same tree always yields the same
    // ids. A failing blob store throws out of process() and stops the run: what was committed stays, and
    // a re-run completes it.
    ordered_parallel_for<Outcome>(
        candidates.size(), jobs,
        [&](size_t i) {
          Outcome outcome = process(candidates[i]);
          if (options_.progress) progress.advance();
          return outcome;
        },
        [&](size_t i, Outcome&& outcome) {
          switch (outcome.kind) {
            case Outcome::Kind::ready:
              batch.push_back(std::move(*outcome.image));
              if (batch.size() >= kBatch) flush();
              break;
            case Outcome::Kind::skipped:
              ++report.skipped;
              if (options_.set) present.emplace_back(absolute_string(candidates[i].path), outcome.hash);
              break;
            case Outcome::Kind::failed: report.failed.push_back({candidates[i].path.string(), outcome.reason}); break;
            case Outcome::Kind::unmatched: report.unmatched.push_back(candidates[i].path.string()); break;
            case Outcome::Kind::pending: break;
          }
        },
        kWindow);
    flush();
    progress.finish();
    for (auto& [path, hash] : fresh) known_[path].insert(hash);
    if (options_.set) {
      workspace_.catalog().ensure_set(project_.id, *options_.set);
      std::vector<catalog::Id> ids;
      for (const auto& [path, hash] : present) {
        if (auto id = workspace_.catalog().find_image(project_.id, path, hash)) ids.push_back(*id);
      }
      workspace_.catalog().add_to_set(project_.id, *options_.set, ids);
    }
    report.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

 private:
  static constexpr size_t kBatch = 128;
  static constexpr size_t kWindow = 4096;  // decoded-but-uncommitted files at most

  // Runs on a worker thread. Problems with the file itself become an Outcome; a failing blob store
  // (disk full, permissions) throws and stops the import, since every later file would fail the same way.
  Outcome process(const Candidate& candidate) {
    Outcome out;
    nlohmann::json fields = nlohmann::json::object();
    if (pattern_) {
      auto matched = pattern_->match(candidate.relative);
      if (!matched) {
        out.kind = Outcome::Kind::unmatched;
        return out;
      }
      fields = std::move(*matched);
    }
    std::string bytes;
    try {
      bytes = read_file(candidate.path);
    } catch (const Error& e) {
      out.kind = Outcome::Kind::failed;
      out.reason = e.what();
      return out;
    }
    const std::string path = absolute_string(candidate.path);
    out.hash = sha256_hex(bytes);
    if (is_known(path, out.hash)) {
      out.kind = Outcome::Kind::skipped;
      return out;
    }
    image::ImportDecode decoded;
    try {
      decoded = image::decode_for_import(bytes, candidate.relative);
    } catch (const Error& e) {
      out.kind = Outcome::Kind::failed;
      out.reason = e.what();
      return out;
    } catch (const std::exception& e) {
      out.kind = Outcome::Kind::failed;
      out.reason = fmt::format("{}: {}", candidate.relative, e.what());
      return out;
    }
    workspace_.blobs().put_hashed(bytes, out.hash);

    catalog::NewImage image;
    image.blob_hash = out.hash;
    image.source_path = path;
    image.format = decoded.info.format;
    image.byte_size = static_cast<std::int64_t>(bytes.size());
    image.width = decoded.info.width;
    image.height = decoded.info.height;
    image.channels = decoded.info.channels;
    image.pixel_type = std::string(image::to_string(decoded.info.pixel_type));
    image.frames = decoded.info.frames;
    image.acquired_at = decoded.info.acquired_at;
    image.focus = decoded.focus;
    image.metadata = fields;
    if (!options_.series_by.empty()) {
      catalog::SeriesRef series;
      series.kind = options_.series_kind;
      series.key = nlohmann::json::object();
      for (const std::string& field : options_.series_by) {
        const auto& value = fields[field];
        series.name += (series.name.empty() ? "" : "/") + (value.is_string() ? value.get<std::string>() : value.dump());
        series.key[field] = value;
      }
      image.series = series;
    }
    if (options_.frame_by) image.frame_index = fields[*options_.frame_by].get<std::int64_t>();
    out.image = std::move(image);
    out.kind = Outcome::Kind::ready;
    return out;
  }

  bool is_known(const std::string& path, const std::string& hash) const {
    auto it = known_.find(path);
    return it != known_.end() && it->second.count(hash) > 0;
  }

  Workspace& workspace_;
  const ImportOptions& options_;
  catalog::Project project_;
  std::optional<PathPattern> pattern_;
  // (path -> hashes) already catalogued. Read by workers during a run; updated only between runs.
  std::unordered_map<std::string, std::unordered_set<std::string>> known_;
};

}  // namespace

std::vector<ImageFile> scan_image_files(const std::vector<fs::path>& sources) {
  std::vector<ImageFile> out;
  for (const fs::path& source : sources) {
    std::error_code ec;
    if (fs::is_regular_file(source, ec)) {
      out.push_back({fs::absolute(source), source.filename().string()});
      continue;
    }
    const fs::path root = fs::absolute(source);
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      const std::string name = it->path().filename().string();
      if (name.starts_with(".")) {  // hidden files and folders (editors' temp files, .DS_Store, ...)
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file() || !image::has_image_extension(it->path())) continue;
      // Lexically: fs::relative would resolve a symlinked file to its target's path, which the pattern cannot match.
      out.push_back({it->path(), it->path().lexically_relative(root).generic_string()});
    }
  }
  std::sort(out.begin(), out.end(), [](const ImageFile& a, const ImageFile& b) { return a.path < b.path; });
  out.erase(std::unique(out.begin(), out.end(), [](const ImageFile& a, const ImageFile& b) { return a.path == b.path; }),
            out.end());
  return out;
}


void validate_import_options(const ImportOptions& options) {
  if (options.sources.empty()) throw Error(ErrorCode::invalid_argument, "import: name at least one source folder or file");
  for (const fs::path& source : options.sources) {
    std::error_code ec;
    if (!fs::exists(source, ec)) {
      throw Error(ErrorCode::not_found, fmt::format("import: source '{}' does not exist", source.string()));
    }
  }
  if (options.jobs < 0) throw Error(ErrorCode::invalid_argument, fmt::format("import: --jobs must be >= 0, got {}", options.jobs));
  static const std::set<std::string> kinds = {"timelapse", "zstack", "video", "other"};
  if (!kinds.count(options.series_kind)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("import: --series-kind must be timelapse, zstack, video or other, got '{}'", options.series_kind));
  }
  if ((!options.series_by.empty() || options.frame_by) && !options.pattern) {
    throw Error(ErrorCode::invalid_argument, "import: --series-by and --frame-by name fields of --pattern, which is missing");
  }
  if (!options.pattern) return;
  const PathPattern pattern(*options.pattern);
  for (const std::string& field : options.series_by) {
    if (!pattern.find_field(field)) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("import: --series-by names '{}', which is not a field of the pattern '{}'", field, pattern.text()));
    }
  }
  if (options.frame_by) {
    const auto* field = pattern.find_field(*options.frame_by);
    if (!field) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("import: --frame-by names '{}', which is not a field of the pattern '{}'", *options.frame_by,
                              pattern.text()));
    }
    if (field->type != "int") {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("import: --frame-by field '{}' must be an integer: write {{{}:int}} in the pattern",
                              *options.frame_by, *options.frame_by));
    }
    if (options.series_by.empty()) {
      throw Error(ErrorCode::invalid_argument, "import: --frame-by orders frames within a series: add --series-by");
    }
  }
}

ImportReport import_images(Workspace& workspace, const ImportOptions& options) {
  validate_import_options(options);
  ImportReport report;
  Importer importer(workspace, options);
  importer.run(scan_image_files(options.sources), report);
  return report;
}

void watch_images(Workspace& workspace, const ImportOptions& options, const std::atomic<bool>& stop,
                  std::chrono::milliseconds poll, const std::function<void(const ImportReport&)>& on_round) {
  validate_import_options(options);
  Importer importer(workspace, options);
  struct State {
    std::uintmax_t size = 0;
    fs::file_time_type modified;
    bool operator==(const State&) const = default;
  };
  std::map<fs::path, State> last_seen;  // what the previous poll saw
  std::map<fs::path, State> handled;    // the state each file was last imported (or rejected) in
  while (!stop) {
    std::vector<Candidate> stable;
    std::map<fs::path, State> now;
    for (Candidate& c : scan_image_files(options.sources)) {
      std::error_code ec;
      State s{fs::file_size(c.path, ec), fs::last_write_time(c.path, ec)};
      if (ec) continue;
      now[c.path] = s;
      // A file still being written changes between polls; import it once it holds still.
      auto prev = last_seen.find(c.path);
      auto done = handled.find(c.path);
      if (prev != last_seen.end() && prev->second == s && (done == handled.end() || !(done->second == s))) {
        stable.push_back(std::move(c));
      }
    }
    last_seen = std::move(now);
    if (!stable.empty()) {
      ImportReport report;
      importer.run(stable, report);
      for (const Candidate& c : stable) handled[c.path] = last_seen[c.path];
      if (on_round) on_round(report);
    }
    for (auto waited = std::chrono::milliseconds(0); waited < poll && !stop; waited += std::chrono::milliseconds(50)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

}  // namespace tessera::app
