// `tessera montage make`, `tessera crowd ingest`, `tessera augment`, `tessera score`: training data from
// crowd annotation rounds, augmentation of a set, and segmentation scores.
#include <fstream>

#include <fmt/format.h>
#include <httplib.h>

#include "commands.hpp"
#include "tessera/app/augment_set.hpp"
#include "tessera/app/crowd_ingest.hpp"
#include "tessera/app/montage_make.hpp"
#include "tessera/app/score.hpp"
#include "tessera/core/error.hpp"

namespace tessera::cli {
namespace {

namespace fs = std::filesystem;

// One GET of an http(s) URL into `partial`, resuming at offset with a Range request (cpp-httplib; Debian's
// build has OpenSSL, so https works). Transient failures are Error{unavailable} so download() retries them.
void http_get(const std::string& url, const fs::path& partial, std::uint64_t offset, std::chrono::seconds timeout) {
  size_t scheme_end = url.find("://");
  size_t path_start = url.find('/', scheme_end + 3);
  std::string origin = url.substr(0, path_start);
  std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  httplib::Client client(origin);
  if (!client.is_valid()) throw Error(ErrorCode::invalid_argument, fmt::format("{}: not a usable URL", url));
  client.set_follow_location(true);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  httplib::Headers headers;
  if (offset > 0) headers.emplace("Range", fmt::format("bytes={}-", offset));
  int status = 0;
  std::ofstream out;
  auto result = client.Get(
      path, headers,
      [&](const httplib::Response& response) {
        status = response.status;
        if (status != 200 && status != 206) return false;
        // 200 to a Range request: the server sends the whole file, so start it over.
        auto mode = std::ios::binary | (status == 206 ? std::ios::app : std::ios::trunc);
        out.open(partial, mode);
        return out.good();
      },
      [&](const char* data, size_t length) {
        out.write(data, static_cast<std::streamsize>(length));
        return out.good();
      });
  out.close();
  if (!result && status == 0) {
    throw Error(ErrorCode::unavailable, fmt::format("{}: {}", url, httplib::to_string(result.error())));
  }
  if (status == 200 || status == 206) {
    if (!result) throw Error(ErrorCode::unavailable, fmt::format("{}: {}", url, httplib::to_string(result.error())));
    return;
  }
  if (status == 416 && offset > 0) {
    fs::remove(partial);  // the partial file is longer than the resource: fetch it whole next time
    throw Error(ErrorCode::unavailable, fmt::format("{}: HTTP 416 for a resumed download", url));
  }
  bool transient = status == 408 || status == 429 || status >= 500;
  ErrorCode code = transient ? ErrorCode::unavailable : (status == 404 ? ErrorCode::not_found : ErrorCode::forbidden);
  throw Error(code, fmt::format("{}: HTTP {}", url, status));
}

// Problems a command went past: each on stderr, then exit status 1.
void report_problems(const std::vector<std::string>& problems) {
  if (problems.empty()) return;
  for (const auto& p : problems) fmt::print(stderr, "tessera: {}\n", p);
  throw CLI::RuntimeError(1);
}

void add_montage_make(CLI::App& app) {
  auto* montage = app.add_subcommand("montage", "Montages for crowd annotation (chopper + montage maker)");
  montage->require_subcommand(1);
  auto* make = montage->add_subcommand("make", "Chop raw frames into overlapping tiles and lay consecutive frames "
                                                "of each tile out as montages, with the JSON logs and upload list");
  auto options = std::make_shared<app::MontageMakeOptions>();
  make->add_option("--raw", options->raw, "Folder of raw frames (natural-sorted = frame order)")->required();
  make->add_option("--identifier,--id", options->identifier, "Identifier naming every output")->required();
  make->add_option("--x-segments", options->chopper.num_x_segments, "Tile columns")->capture_default_str();
  make->add_option("--y-segments", options->chopper.num_y_segments, "Tile rows")->capture_default_str();
  make->add_option("--overlap", options->chopper.overlap_perc, "Overlap, percent of a tile step")->capture_default_str();
  make->add_option("--montage-len", options->montage.montage_len, "Frames per montage")->capture_default_str();
  make->add_option("--row-length", options->montage.row_length, "Frames per montage row")->capture_default_str();
  make->add_option("--x-buffer", options->montage.x_buffer, "Zero columns between frames")->capture_default_str();
  make->add_option("--y-buffer", options->montage.y_buffer, "Zero rows between frames")->capture_default_str();
  make->add_option("--base", options->base, "Output base folder (default: the raw folder's parent)");
  make->add_option("--url-prefix", options->url_prefix, "Upload list URL prefix (default: file:// URLs)");
  make->callback([options] {
    app::MontageMakeResult r = app::make_montages(*options);
    fmt::print("{} frames -> {} tiles in {}; {} montages ({} per position) in {}; logs in {}; upload list {}\n",
               r.frames, r.tiles, r.chopped.string(), r.montage_count, r.montages_in_pos, r.montages.string(),
               r.chopper_log.parent_path().string(), r.upload_csv.string());
  });
}

void add_crowd_ingest(CLI::App& app, GlobalOptions& global) {
  auto* crowd = app.add_subcommand("crowd", "Crowd-annotation rounds");
  crowd->require_subcommand(1);
  auto* ingest = crowd->add_subcommand(
      "ingest", "Download a job report's annotations, clean them, cut montages back into movies and write .npz");
  auto options = std::make_shared<app::CrowdIngestOptions>();
  auto attempts = std::make_shared<int>(4);
  auto timeout = std::make_shared<int>(30);
  ingest->add_option("REPORT", options->report, "Job report CSV")->required();
  ingest->add_option("--logs", options->logs, "Folder with the chopper and montage maker JSON logs")->required();
  ingest->add_option("--raw", options->raw, "Folder of the raw frames the montages were made from")->required();
  ingest->add_option("--out", options->out, "Output folder (default: the report's folder)");
  ingest->add_option("--attempts", *attempts, "Download attempts per URL")->capture_default_str()->check(CLI::Range(1, 100));
  ingest->add_option("--timeout", *timeout, "Seconds per download attempt")->capture_default_str()->check(CLI::Range(1, 3600));
  ingest->add_option("--hole-area", options->clean.hole_area, "Fill holes with fewer pixels")->capture_default_str();
  ingest->add_option("--min-size", options->clean.min_size, "Remove objects with fewer pixels")->capture_default_str();
  ingest->add_flag("!--no-npz", options->write_npz, "Do not write the training .npz files");
  auto to_catalog = std::make_shared<bool>(false);
  auto catalog = std::make_shared<app::CrowdCatalogOptions>();
  ingest->add_flag("--catalog", *to_catalog,
                   "Also store every cleaned frame's objects as mask annotations on the catalog images of the raw "
                   "frames (matched by content, imported when missing); a re-run adds nothing");
  ingest->add_option("--tag", catalog->tag, "With --catalog: tag the stored objects (created when missing)");
  ingest->add_option("--series-prefix", catalog->series_prefix,
                     "With --catalog: match raw frames only to images of series whose name starts with this");
  ingest->callback([&global, options, attempts, timeout, to_catalog, catalog] {
    options->download.attempts = *attempts;
    options->download.timeout = std::chrono::seconds(*timeout);
    options->download.http = http_get;
    if (!*to_catalog && (catalog->tag || catalog->series_prefix)) {
      throw CLI::ValidationError("--tag/--series-prefix", "only with --catalog");
    }
    app::CrowdIngestResult r;
    if (*to_catalog) {
      app::Workspace ws = global.open_workspace();
      catalog->project = global.project;
      app::CrowdIngestReport report = app::ingest_crowd_report_to_catalog(ws, *options, *catalog);
      r = std::move(report.ingest);
      fmt::print("catalog: {} frames ({} imported), {} annotations stored, {} already there\n", report.catalog.frames,
                 report.catalog.images_imported, report.catalog.annotations, report.catalog.annotations_existing);
    } else {
      r = app::ingest_crowd_report(*options);
    }
    fmt::print("{} annotations downloaded, {} kept from before; {} montages -> {} movies; {} npz\n", r.downloaded,
               r.reused, r.montages, r.movies, r.npz.size());
    if (r.broken_rows > 0) {
      fmt::print("{} rows still broken: {} and {}\n", r.broken_rows, r.broken_links_csv.string(), r.reupload_csv.string());
    } else {
      fmt::print("no broken links\n");
    }
    report_problems(r.problems);
  });
}

void add_score(CLI::App& app) {
  auto* score = app.add_subcommand("score", "IoU and Dice per image and mean; object precision/recall/F1");
  auto pred = std::make_shared<fs::path>();
  auto truth = std::make_shared<fs::path>();
  auto threshold = std::make_shared<double>(0.5);
  auto json = std::make_shared<bool>(false);
  score->add_option("PRED", *pred, "Predicted label image or folder")->required();
  score->add_option("GT", *truth, "Reference label image or folder (files matched by name)")->required();
  score->add_option("--iou", *threshold, "IoU at which objects match")->capture_default_str();
  score->add_flag("--json", *json, "Print JSON");
  score->callback([pred, truth, threshold, json] {
    app::ScoreSummary s = app::score_labels(*pred, *truth, *threshold);
    if (*json) {
      nlohmann::json out = {{"mean_iou", s.mean_iou}, {"mean_dice", s.mean_dice}, {"iou_threshold", s.threshold},
                            {"true_positives", s.true_positives}, {"false_positives", s.false_positives},
                            {"false_negatives", s.false_negatives}, {"precision", s.precision},
                            {"recall", s.recall}, {"f1", s.f1}, {"images", nlohmann::json::array()}};
      for (const auto& i : s.images) {
        out["images"].push_back({{"name", i.name}, {"iou", i.iou}, {"dice", i.dice},
                                 {"precision", i.objects.precision}, {"recall", i.objects.recall},
                                 {"f1", i.objects.f1}, {"true_objects", i.objects.true_objects},
                                 {"predicted_objects", i.objects.predicted_objects}});
      }
      fmt::print("{}\n", out.dump(2));
      return;
    }
    fmt::print("{:<40} {:>7} {:>7} {:>9} {:>7} {:>7}\n", "image", "IoU", "Dice", "precision", "recall", "F1");
    for (const auto& i : s.images) {
      fmt::print("{:<40} {:>7.4f} {:>7.4f} {:>9.4f} {:>7.4f} {:>7.4f}\n", i.name, i.iou, i.dice, i.objects.precision,
                 i.objects.recall, i.objects.f1);
    }
    fmt::print("mean IoU {:.4f}, mean Dice {:.4f}; objects at IoU {}: precision {:.4f}, recall {:.4f}, F1 {:.4f} "
               "(TP {}, FP {}, FN {})\n",
               s.mean_iou, s.mean_dice, s.threshold, s.precision, s.recall, s.f1, s.true_positives, s.false_positives,
               s.false_negatives);
  });
}

void add_augment(CLI::App& app, GlobalOptions& global) {
  auto* augment = app.add_subcommand("augment", "Rotated, mirrored and shifted copies of an annotated set (eighths "
                                                 "scheme; images and masks moved identically) into a new set");
  auto options = std::make_shared<app::AugmentSetOptions>();
  auto rotations = std::make_shared<std::string>("0");
  auto flip = std::make_shared<bool>(false);
  auto translate = std::make_shared<std::string>();
  auto size = std::make_shared<int>(0);
  augment->add_option("--set", options->set, "Source set")->required();
  augment->add_option("--out", options->out_set, "Output set (default: <set>_augmented)");
  augment->add_option("--rot", *rotations, "Rotations in degrees, of 0,90,180,270")->capture_default_str();
  augment->add_flag("--flip", *flip, "Also mirror left-right");
  augment->add_option("--translate", *translate, "Shifts in eighths of the side: a range 1/8:7/8 or a list 2/8,4/8");
  augment->add_option("--size", *size, "Resize to SIZE x SIZE first (nearest for labels)");
  augment->callback([&global, options, rotations, flip, translate, size] {
    options->scheme = app::parse_augment_scheme(*rotations, *flip, *translate, *size);
    app::Workspace ws = global.open_workspace();
    catalog::Id project = ws.catalog().get_project(global.project).id;
    app::AugmentSetResult r = app::augment_set(ws, project, *options);
    fmt::print("{} images x {} variants -> {} images, {} mask annotations in set '{}'\n", r.images_in,
               r.variants_per_image, r.images_out, r.annotations_out, r.out_set);
    report_problems(r.problems);
  });
}

}  // namespace

void add_crowd_commands(CLI::App& app, GlobalOptions& global) {
  add_montage_make(app);
  add_crowd_ingest(app, global);
  add_score(app);
  add_augment(app, global);
}

}  // namespace tessera::cli
