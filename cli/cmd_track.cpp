#include <fmt/format.h>

#include "commands.hpp"
#include "tessera/core/error.hpp"
#include "tessera/track/files.hpp"

namespace tessera::cli {

// The catalog side of `tessera track` (--series, list, edit, history, export): cmd_track_series.cpp.
void add_track_series_commands(CLI::App& track, GlobalOptions& global);

// `tessera track files` and `tessera track convert`: tracking and format conversion on files, no
// workspace needed. (The catalog-backed `tessera track --series` builds on the same track:: API.)
void add_track_commands(CLI::App& app, GlobalOptions& global) {
  auto* track = app.add_subcommand("track", "Link objects through time-lapses; Cell Tracking Challenge and .trk files");
  track->require_subcommand(0, 1);  // none: `tessera track --series S`
  add_track_series_commands(*track, global);

  auto* files = track->add_subcommand("files", "Track a folder of per-frame label images");
  auto request = std::make_shared<track::TrackFilesRequest>();
  auto format = std::make_shared<std::string>("ctc");
  files
      ->add_option("--masks", request->masks,
                   "Folder of label images: a Cell Tracking Challenge folder (mask###.tif) or one PNG/TIFF per frame, "
                   "natural-sorted")
      ->required();
  files->add_option("--images", request->images,
                    "Folder of intensity images, one per frame (optional; used as a cue "
                    "and written as the raw movie)");
  files->add_option("--out", request->out, "Output: a folder (ctc) or a .trk file (trk)")->required();
  files->add_option("--format", *format, "Output format")->check(CLI::IsMember({"ctc", "trk"}));
  files->add_option("--max-gap", request->options.max_gap, "Frames an object may be missing and its track go on")
      ->capture_default_str();
  files->add_option("--max-distance", request->options.max_distance,
                    "Pixels a centroid may move per frame (0: 1.5 x the median object diameter)");
  files->add_flag("!--no-divisions", request->options.divisions, "Do not detect divisions");
  files->callback([request, format] {
    request->format = *format == "trk" ? track::SeriesFormat::trk : track::SeriesFormat::ctc;
    if (request->format == track::SeriesFormat::trk && track::format_of(request->out) != track::SeriesFormat::trk) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("--format trk writes a .trk file; '{}' does not end in .trk", request->out.string()));
    }
    const track::TrackFilesSummary s = track::track_files(*request);
    fmt::print("tracked {} frames, {} objects: {} tracks, {} divisions -> {}\n", s.frames, s.objects, s.tracks,
               s.divisions, request->out.string());
  });

  auto* convert = track->add_subcommand("convert", "Convert a tracked movie: Cell Tracking Challenge folder <-> .trk");
  auto in = std::make_shared<std::filesystem::path>();
  auto out = std::make_shared<std::filesystem::path>();
  convert->add_option("IN", *in, "A .trk file or a Cell Tracking Challenge folder")->required();
  convert->add_option("OUT", *out, "A .trk file or a folder")->required();
  convert->callback([in, out] {
    const track::TrackedMovie movie = track::read_movie(*in);
    track::write_movie(*out, movie);
    fmt::print("converted {} frames, {} tracks: {} -> {}\n", movie.labels.size(), movie.tracks.size(), in->string(),
               out->string());
  });
}

}  // namespace tessera::cli
