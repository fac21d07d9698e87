#pragma once

#include <filesystem>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "tessera/track/movie.hpp"
#include "tessera/track/tracker.hpp"

namespace tessera::track {

// Per-frame images of one series read from a folder.
struct FrameFiles {
  std::vector<std::filesystem::path> files;  // frame order
  std::vector<cv::Mat> frames;
};

// The image files of a folder in frame order: the mask###.tif (else man_track###, man_seg###) files of
// a Cell Tracking Challenge folder, otherwise every .png/.tif/.tiff file, natural-sorted ("t2" before
// "t10"). Each file is one frame. `labels`: frames must be one channel of integers and are returned
// as CV_32S. Error{not_found} when there is no such file, Error{invalid_argument} naming the frame and
// file when the size changes within the series or a label image is not one channel of integers.
FrameFiles read_frame_folder(const std::filesystem::path& dir, bool labels);

enum class SeriesFormat { ctc, trk };

// `tessera track files`: tracks the label images of `masks` (optional `images`: intensity frames, used
// as a cue and kept as the raw movie) and writes the tracked movie to `out` (a folder for ctc, a .trk
// file for trk).
struct TrackFilesRequest {
  std::filesystem::path masks;
  std::filesystem::path images;  // empty: none
  std::filesystem::path out;
  SeriesFormat format = SeriesFormat::ctc;
  TrackOptions options;
};
struct TrackFilesSummary {
  int frames = 0;
  long long objects = 0;
  int tracks = 0;
  int divisions = 0;  // mothers with two or more daughters
};
TrackFilesSummary track_files(const TrackFilesRequest& request);

// Reads a tracked movie from a .trk/.trks file or a Cell Tracking Challenge folder, and writes one: the
// format of each side comes from the path (".trk" suffix, else a folder). Returns the movie written.
TrackedMovie read_movie(const std::filesystem::path& path);
void write_movie(const std::filesystem::path& path, const TrackedMovie& movie);
SeriesFormat format_of(const std::filesystem::path& path);

}  // namespace tessera::track
