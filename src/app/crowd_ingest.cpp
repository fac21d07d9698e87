// The crowd-annotation intake: report -> downloads -> labels -> cleaning -> movies and training .npz.
#include "tessera/app/crowd_ingest.hpp"

#include <map>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tessera/app/tags_csv.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/exchange/crowd_report.hpp"
#include "tessera/exchange/montage.hpp"
#include "tessera/exchange/npz.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/image/encode.hpp"

namespace tessera::app {
namespace {

namespace fs = std::filesystem;
using exchange::MontageKey;

// Everything the two logs of one identifier say.
struct JobLogs {
  exchange::ChopperGeometry chopper;
  exchange::MontageLog montage;
};

nlohmann::json read_json(const fs::path& path) {
  nlohmann::json parsed = nlohmann::json::parse(read_file(path), nullptr, false);
  if (parsed.is_discarded()) throw Error(ErrorCode::invalid_argument, fmt::format("{}: not valid JSON", path.string()));
  return parsed;
}

JobLogs read_logs(const fs::path& folder, const std::string& identifier) {
  fs::path montage_path = folder / exchange::montage_log_name(identifier);
  fs::path chopper_path = folder / exchange::chopper_log_name(identifier);
  JobLogs logs;
  logs.montage = exchange::parse_montage_log(read_json(montage_path), montage_path.string());
  logs.chopper = exchange::parse_chopper_log(read_json(chopper_path), chopper_path.string());
  if (logs.montage.num_x_segments != logs.chopper.params.num_x_segments ||
      logs.montage.num_y_segments != logs.chopper.params.num_y_segments) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: segments {}x{} disagree with the chopper log's {}x{}", montage_path.string(),
                            logs.montage.num_x_segments, logs.montage.num_y_segments,
                            logs.chopper.params.num_x_segments, logs.chopper.params.num_y_segments));
  }
  return logs;
}

cv::Mat read_single_frame(const fs::path& path) {
  image::Image decoded = image::decode(read_file(path), path.string());
  if (decoded.frames.size() != 1) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: {} frames, expected one image", path.string(), decoded.frames.size()));
  }
  return decoded.frames.front();
}

// One annotated montage of the report, once downloaded.
struct Annotation {
  MontageKey key;
  fs::path file;
};

// Frames of one part, by position, after cleaning and chopping.
using PartFrames = std::map<std::pair<int, int>, std::vector<cv::Mat>>;

class Ingest {
 public:
  Ingest(const CrowdIngestOptions& options, CrowdIngestResult& result)
      : options_(options), result_(result), out_(options.out.empty() ? options.report.parent_path() : options.out) {
    if (out_.empty()) out_ = ".";
  }

  void run() {
    std::error_code ec;
    if (!fs::is_directory(options_.raw, ec)) {
      throw Error(ErrorCode::not_found, fmt::format("--raw {}: not a folder", options_.raw.string()));
    }
    exchange::CrowdReport report =
        exchange::parse_crowd_report(parse_csv(read_file(options_.report), options_.report.string()),
                                     options_.report.string());
    exchange::CrowdReportPlan plan = exchange::plan_crowd_report(report);
    for (const auto& row : report.rows) {
      if (!row.problem.empty()) problem(fmt::format("{} line {}: {}", options_.report.string(), row.line, row.problem));
    }
    write_broken(report, plan);
    std::vector<Annotation> annotations = fetch(plan);
    std::map<std::string, std::vector<Annotation>> by_identifier;
    for (auto& a : annotations) by_identifier[a.key.identifier].push_back(std::move(a));
    for (const auto& [identifier, list] : by_identifier) ingest_identifier(identifier, list);
  }

 private:
  void problem(std::string message) { result_.problems.push_back(std::move(message)); }

  void write_broken(const exchange::CrowdReport& report, const exchange::CrowdReportPlan& plan) {
    result_.broken_rows = static_cast<int>(plan.broken.size());
    if (plan.broken.empty()) return;
    std::string stem = options_.report.stem().string();
    fs::create_directories(out_);
    result_.broken_links_csv = out_ / exchange::broken_links_csv_name(stem);
    result_.reupload_csv = out_ / exchange::reupload_csv_name(stem);
    write_file_atomic(result_.broken_links_csv, exchange::broken_links_csv(report, plan.broken));
    write_file_atomic(result_.reupload_csv, exchange::reupload_csv(plan.broken));
  }

  std::vector<Annotation> fetch(const exchange::CrowdReportPlan& plan) {
    std::vector<Annotation> annotations;
    auto verify = [](const fs::path& file) { read_single_frame(file); };
    for (const auto* row : plan.good) {
      std::string stem = exchange::montage_stem_of_url(row->image_url);
      auto key = exchange::parse_montage_stem(stem);
      std::string where = fmt::format("{} line {}", options_.report.string(), row->line);
      if (!key) {
        problem(fmt::format("{}: image_url '{}' is not a montage name <id>_x_<x>_y_<y>_montage_<m>", where,
                            row->image_url));
        continue;
      }
      fs::path dest = out_ / "annotations" / (stem + "_annotation.png");
      std::error_code ec;
      if (fs::exists(dest, ec)) {
        try {
          verify(dest);
          ++result_.reused;
          annotations.push_back({*key, dest});
          continue;
        } catch (const Error&) {
          fs::remove(dest, ec);  // unreadable: fetch it again
        }
      }
      try {
        download(row->annotation_url, dest, options_.download, verify);
        ++result_.downloaded;
        annotations.push_back({*key, dest});
      } catch (const Error& e) {
        problem(fmt::format("{}: {}", where, e.what()));
      }
    }
    return annotations;
  }

  void ingest_identifier(const std::string& identifier, const std::vector<Annotation>& annotations) {
    JobLogs logs;
    try {
      logs = read_logs(options_.logs, identifier);
    } catch (const Error& e) {
      problem(fmt::format("identifier '{}': {} ({} annotation(s) skipped)", identifier, e.what(), annotations.size()));
      return;
    }
    const auto& p = logs.montage.params;
    std::map<int, std::vector<const Annotation*>> by_part;
    for (const auto& a : annotations) {
      const MontageKey& k = a.key;
      if (k.x >= logs.chopper.params.num_x_segments || k.y >= logs.chopper.params.num_y_segments ||
          k.montage >= logs.montage.montages_in_pos) {
        problem(fmt::format("{}: position ({}, {}) or montage {} outside the logs ({}x{} segments, {} montages)",
                            a.file.string(), k.x, k.y, k.montage, logs.chopper.params.num_x_segments,
                            logs.chopper.params.num_y_segments, logs.montage.montages_in_pos));
        continue;
      }
      by_part[k.montage].push_back(&a);
    }
    std::vector<fs::path> raw_files = exchange::list_pipeline_images(options_.raw);
    size_t needed = static_cast<size_t>(logs.montage.montages_in_pos) * static_cast<size_t>(p.montage_len);
    if (raw_files.size() < needed) {
      problem(fmt::format("--raw {}: {} image(s), the logs of '{}' need {} ({} montages of {} frames)",
                          options_.raw.string(), raw_files.size(), identifier, needed, logs.montage.montages_in_pos,
                          p.montage_len));
      return;
    }
    for (const auto& [part, list] : by_part) {
      PartFrames frames = annotated_part(identifier, logs, part, list);
      if (!frames.empty()) write_part(identifier, logs, part, frames, raw_files);
    }
  }

  PartFrames annotated_part(const std::string& identifier, const JobLogs& logs, int part,
                            const std::vector<const Annotation*>& list) {
    PartFrames frames;
    int rows = logs.chopper.tile_rows();
    int cols = logs.chopper.tile_cols();
    for (const Annotation* a : list) {
      try {
        cv::Mat labels = annotation_labels(read_single_frame(a->file), a->file.string());
        cv::Mat cleaned = clean_crowd_labels(labels, options_.clean);
        auto split = exchange::split_montage(cleaned, logs.montage.params, rows, cols, a->file.string());
        fs::create_directories(out_ / "cleaned");
        image::write_image(out_ / "cleaned" / a->file.filename(), cleaned);
        fs::path folder = movie_folder(part, a->key.x, a->key.y) / "annotated";
        fs::create_directories(folder);
        for (size_t k = 0; k < split.size(); ++k) {
          image::write_image(folder / exchange::annotated_frame_name(identifier, a->key.x, a->key.y, static_cast<int>(k)),
                             split[k]);
        }
        frames[{a->key.x, a->key.y}] = std::move(split);
        ++result_.montages;
      } catch (const Error& e) {
        problem(e.what());
      }
    }
    return frames;
  }

  fs::path movie_folder(int part, int x, int y) const {
    return out_ / "movies" / fmt::format("part{}", part) / exchange::position_folder(x, y);
  }

  void write_part(const std::string& identifier, const JobLogs& logs, int part, const PartFrames& annotated,
                  const std::vector<fs::path>& raw_files) {
    const auto& p = logs.montage.params;
    // raw[position][k]: the raw tiles of this part's frames for the annotated positions.
    std::map<std::pair<int, int>, std::vector<cv::Mat>> raw;
    for (int k = 0; k < p.montage_len; ++k) {
      const fs::path& file = raw_files[static_cast<size_t>(part * p.montage_len + k)];
      cv::Mat frame;
      try {
        frame = read_single_frame(file);
        if (frame.channels() != 1) {
          throw Error(ErrorCode::invalid_argument, fmt::format("{}: {} channels, expected one", file.string(), frame.channels()));
        }
        for (const auto& [position, labels] : annotated) {
          raw[position].push_back(exchange::chop_tile(frame, logs.chopper, position.first, position.second));
        }
      } catch (const Error& e) {
        problem(fmt::format("part {} of '{}' skipped: raw frame {}: {}", part, identifier, file.string(), e.what()));
        return;
      }
    }
    fs::path npz_path = out_ / "npz" / fmt::format("{}_part{}.npz", identifier, part);
    std::unique_ptr<exchange::NpzWriter> npz;
    exchange::NpyStream* x_stream = nullptr;
    exchange::NpyStream* y_stream = nullptr;
    if (options_.write_npz) {
      fs::create_directories(npz_path.parent_path());
      npz = std::make_unique<exchange::NpzWriter>(npz_path);
      auto frames = static_cast<uint64_t>(p.montage_len);
      auto rows = static_cast<uint64_t>(logs.chopper.tile_rows());
      auto cols = static_cast<uint64_t>(logs.chopper.tile_cols());
      x_stream = &npz->begin("X", exchange::NpyType::f32, {frames, rows, cols, 1});
      y_stream = &npz->begin("y", exchange::NpyType::i32, {frames, rows, cols, 1});
    }
    for (const auto& [position, labels] : annotated) {
      fs::path folder = movie_folder(part, position.first, position.second) / "raw";
      fs::create_directories(folder);
      const auto& tiles = raw.at(position);
      for (size_t k = 0; k < tiles.size(); ++k) {
        image::write_image(folder / exchange::raw_frame_name(identifier, position.first, position.second, static_cast<int>(k)),
                           tiles[k]);
        if (npz) {
          cv::Mat x_frame;
          cv::Mat y_frame;
          tiles[k].convertTo(x_frame, CV_32F);
          labels[k].convertTo(y_frame, CV_32S);
          x_stream->append(x_frame);
          y_stream->append(y_frame);
        }
      }
      if (options_.on_frame) emit_frames(identifier, logs.chopper, part, position, labels, raw_files);
      ++result_.movies;
    }
    if (npz) {
      npz->finish();
      result_.npz.push_back(npz_path);
    }
  }

  void emit_frames(const std::string& identifier, const exchange::ChopperGeometry& g, int part,
                   const std::pair<int, int>& position, const std::vector<cv::Mat>& labels,
                   const std::vector<fs::path>& raw_files) {
    const auto [i, j] = position;
    CrowdFrameTile frame;
    frame.identifier = identifier;
    frame.part = part;
    frame.x = i;
    frame.y = j;
    frame.tile = cv::Rect(i * g.start_x - g.overlap_x, j * g.start_y - g.overlap_y, g.tile_cols(), g.tile_rows());
    // The last tile of a row or column owns the remainder the integer step leaves.
    const int core_x1 = i + 1 == g.params.num_x_segments ? g.original_x : (i + 1) * g.start_x;
    const int core_y1 = j + 1 == g.params.num_y_segments ? g.original_y : (j + 1) * g.start_y;
    frame.core = cv::Rect(i * g.start_x, j * g.start_y, core_x1 - i * g.start_x, core_y1 - j * g.start_y);
    const int frames_per_part = static_cast<int>(labels.size());
    for (int k = 0; k < frames_per_part; ++k) {
      frame.frame = k;
      frame.raw_file = raw_files[static_cast<size_t>(part * frames_per_part + k)];
      frame.labels = labels[static_cast<size_t>(k)];
      options_.on_frame(frame);
    }
  }

  const CrowdIngestOptions& options_;
  CrowdIngestResult& result_;
  fs::path out_;
};

}  // namespace

CrowdIngestResult ingest_crowd_report(const CrowdIngestOptions& options) {
  CrowdIngestResult result;
  Ingest(options, result).run();
  return result;
}

}  // namespace tessera::app
