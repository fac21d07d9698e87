#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "commands.hpp"
#include "tessera/app/path_pattern.hpp"
#include "tessera/app/tags_csv.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/stitch/mosaic.hpp"
#include "tessera/stitch/register.hpp"

namespace tessera::cli {
namespace fs = std::filesystem;
namespace {

struct StitchArgs {
  std::vector<std::string> sources;
  std::string pattern;
  std::string grid;
  std::string positions;
  bool snake = false;
  double overlap = 0.1;
  std::string out;
  std::string report;
  std::string pairs;
  stitch::RegisterOptions reg;
  stitch::MosaicOptions mosaic;
};

[[noreturn]] void invalid(const std::string& what) {
  throw Error(ErrorCode::invalid_argument, "stitch: " + what);
}

// A tile file, and whether it was found in a folder (rather than named on the command line).
struct TileFile {
  fs::path path;
  bool found = false;
};

bool same_file(const fs::path& a, const std::string& b) {
  std::error_code ec;
  return !b.empty() && fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

// Files as given, and the image files directly inside given folders, each folder sorted by name;
// the mosaic being written is never one of its own tiles on a re-run.
std::vector<TileFile> tile_files(const StitchArgs& a) {
  std::vector<TileFile> files;
  for (const std::string& s : a.sources) {
    if (!fs::is_directory(s)) {
      files.push_back({s, false});
      continue;
    }
    std::vector<fs::path> inside;
    for (const auto& e : fs::directory_iterator(s)) {
      if (e.is_regular_file() && image::has_image_extension(e.path()) &&
          !same_file(e.path(), a.out)) {
        inside.push_back(e.path());
      }
    }
    std::sort(inside.begin(), inside.end());
    if (inside.empty()) invalid(fmt::format("folder '{}' holds no image files", s));
    for (fs::path& p : inside) files.push_back({std::move(p), true});
  }
  return files;
}

// --pattern: its fields row/col or x/y give the place. Files found in folders that do not match are
// not tiles (the pattern picks them); a file named on the command line must match.
std::vector<stitch::Tile> tiles_by_pattern(const std::vector<TileFile>& files,
                                           const std::string& text) {
  const app::PathPattern pattern(text);
  const bool grid = pattern.find_field("row") && pattern.find_field("col");
  const bool pixels = pattern.find_field("x") && pattern.find_field("y");
  if (!grid && !pixels) {
    invalid(
        fmt::format("--pattern '{}' needs the fields {{row}} and {{col}} (grid indices) or {{x}} "
                    "and {{y}} (pixels)",
                    text));
  }
  std::vector<stitch::Tile> tiles;
  for (const TileFile& f : files) {
    const auto fields = pattern.match(f.path.filename().string());
    if (!fields) {
      if (!f.found)
        invalid(fmt::format("--pattern '{}' does not match '{}'", text, f.path.string()));
      continue;
    }
    stitch::Tile t = stitch::Tile::from_file(f.path);
    stitch::apply_layout_row(t, *fields, fmt::format("'{}' (--pattern)", f.path.string()));
    tiles.push_back(std::move(t));
  }
  if (tiles.empty()) {
    invalid(fmt::format("--pattern '{}' matches none of the {} file(s), e.g. '{}'", text,
                        files.size(), files.front().path.filename().string()));
  }
  return tiles;
}

// --grid COLSxROWS: files in name order fill the grid row by row.
std::vector<stitch::Tile> tiles_on_grid(const std::vector<TileFile>& files, const std::string& text,
                                        bool snake) {
  int cols = 0, rows = 0;
  char x = 0, extra = 0;
  if (std::sscanf(text.c_str(), "%d%c%d%c", &cols, &x, &rows, &extra) != 3 ||
      (x != 'x' && x != 'X') || cols < 1 || rows < 1) {
    invalid(fmt::format("--grid must be COLUMNSxROWS, e.g. 6x4, got '{}'", text));
  }
  if (static_cast<size_t>(cols) * rows != files.size()) {
    invalid(fmt::format("--grid {} needs {} tiles, got {}", text, cols * rows, files.size()));
  }
  std::vector<stitch::Tile> tiles;
  for (const TileFile& f : files) tiles.push_back(stitch::Tile::from_file(f.path));
  stitch::fill_grid(tiles, cols, snake);
  return tiles;
}

// --positions CSV: a header naming file (or tile) and x, y and/or row, col; relative files are
// beside the CSV.
std::vector<stitch::Tile> tiles_from_positions(const std::string& csv) {
  const auto records = app::parse_csv(read_file(csv), csv);
  if (records.size() < 2)
    invalid(fmt::format("--positions '{}' needs a header line and one line per tile", csv));
  const auto& header = records.front();
  // "tile" too, so a --report of one run can place the tiles of the next.
  auto file_col = std::find(header.begin(), header.end(), "file");
  if (file_col == header.end()) file_col = std::find(header.begin(), header.end(), "tile");
  if (file_col == header.end())
    invalid(fmt::format("--positions '{}': no 'file' (or 'tile') column in the header", csv));
  std::vector<stitch::Tile> tiles;
  for (size_t r = 1; r < records.size(); ++r) {
    nlohmann::json row = nlohmann::json::object();
    for (size_t c = 0; c < header.size() && c < records[r].size(); ++c)
      row[header[c]] = records[r][c];
    fs::path file = records[r][static_cast<size_t>(file_col - header.begin())];
    if (file.is_relative()) file = fs::path(csv).parent_path() / file;
    stitch::Tile t = stitch::Tile::from_file(file);
    stitch::apply_layout_row(t, row, fmt::format("--positions '{}' line {}", csv, r + 1));
    tiles.push_back(std::move(t));
  }
  return tiles;
}

std::vector<stitch::Tile> collect_tiles(const StitchArgs& a) {
  const int ways = !a.pattern.empty() + !a.grid.empty() + !a.positions.empty();
  if (ways != 1)
    invalid("give exactly one of --pattern, --grid or --positions to say where the tiles go");
  if (!a.positions.empty()) {
    if (!a.sources.empty()) invalid("--positions lists the tiles; give no TILES with it");
    return tiles_from_positions(a.positions);
  }
  if (a.sources.empty()) invalid("no TILES given");
  const std::vector<TileFile> files = tile_files(a);
  return a.pattern.empty() ? tiles_on_grid(files, a.grid, a.snake)
                           : tiles_by_pattern(files, a.pattern);
}

void print_summary(const stitch::Placement& p, const stitch::MosaicInfo& m, const StitchArgs& a,
                   double seconds) {
  int no_signal = 0, beyond = 0, outliers = 0;
  for (const auto& pair : p.pairs) {
    no_signal += pair.status == stitch::PairStatus::no_signal;
    beyond += pair.status == stitch::PairStatus::beyond_max_shift;
    outliers += pair.status == stitch::PairStatus::outlier;
  }
  for (size_t i = 0; i < p.placed.size(); ++i) {
    if (!p.placed[i].fell_back) continue;
    fmt::print(stderr,
               "fell back: {}: no usable overlap with any neighbour; left at its nominal position "
               "({}, {})\n",
               p.tiles[i].name, p.placed[i].nominal.x, p.placed[i].nominal.y);
  }
  fmt::print(
      "stitched {} tiles ({}x{}) into {} ({}x{}): {} pairs measured, {} used, {} without "
      "overlap signal, {} beyond max shift, {} outliers; {} tile(s) fell back to nominal; "
      "registration {:.2f} s, mosaic {:.2f} s, total {:.2f} s\n",
      p.tiles.size(), p.format.size.width, p.format.size.height, a.out, m.size.width, m.size.height,
      p.pairs.size(), p.pairs_used(), no_signal, beyond, outliers, p.fallbacks(), p.seconds,
      m.seconds, seconds);
}

}  // namespace

void add_stitch_command(CLI::App& app, GlobalOptions&) {
  auto* cmd = app.add_subcommand(
      "stitch", "Register overlapping tiles and blend them into one mosaic (TIFF or PNG)");
  auto a = std::make_shared<StitchArgs>();
  a->reg.jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cmd->add_option("TILES", a->sources, "Tile files, or folders whose image files are the tiles");
  cmd->add_option("--pattern", a->pattern,
                  "File-name pattern with {row} and {col} (grid indices) or {x} and {y} (pixels), "
                  "e.g. 'tile_r{row}_c{col}.tif'");
  cmd->add_option("--grid", a->grid,
                  "COLUMNSxROWS: the tiles, sorted by name, fill the grid row by row");
  cmd->add_option("--positions", a->positions,
                  "CSV with a header: file and x, y (pixels) or row, col (a --report works too)");
  cmd->add_flag("--snake", a->snake, "--grid: odd rows run right to left (serpentine scan)");
  cmd->add_option("--overlap", a->overlap,
                  "Nominal overlap of grid neighbours, fraction of the tile size")
      ->check(CLI::Range(0.0, 0.9))
      ->capture_default_str();
  cmd->add_option("--out,-o", a->out, "Mosaic file: .tif/.tiff (tiled) or .png")->required();
  cmd->add_option("--report", a->report,
                  "Write the placement table (one row per tile) to this CSV");
  cmd->add_option("--pairs", a->pairs,
                  "Write every measured pair (offsets, quality, status, residual) to this CSV");
  cmd->add_option("--max-shift", a->reg.max_shift,
                  "Pixels a pair may be off its nominal offset (0 = 30% of its overlap)")
      ->capture_default_str();
  cmd->add_option("--min-quality", a->reg.min_quality,
                  "Correlation below which an overlap has no signal")
      ->capture_default_str();
  cmd->add_option("--max-residual", a->reg.max_residual,
                  "Pixels a pair may disagree with the global solution")
      ->capture_default_str();
  cmd->add_option("--min-overlap", a->reg.min_overlap,
                  "Pixels of nominal overlap a pair needs to be measured")
      ->capture_default_str();
  cmd->add_option("--anchor", a->reg.anchor,
                  "Index (in tile order) of the tile kept at its nominal position")
      ->capture_default_str();
  cmd->add_option("--feather", a->mosaic.feather,
                  "Blend ramp width in pixels (0 = the nominal overlap)")
      ->capture_default_str();
  cmd->add_flag("--pyramid", a->mosaic.pyramid, "TIFF: add reduced-resolution levels");
  cmd->add_option("--compression", a->mosaic.compression, "TIFF: none, deflate or lzw")
      ->capture_default_str();
  cmd->add_option("--jobs,-j", a->reg.jobs, "Threads decoding and correlating tiles")
      ->check(CLI::Range(1, 1024));
  cmd->callback([a] {
    const auto start = std::chrono::steady_clock::now();
    std::vector<stitch::Tile> tiles = collect_tiles(*a);
    const stitch::TileFormat format = stitch::probe_tiles(tiles);
    stitch::check_mosaic_output(a->out, format, a->mosaic);  // a typo in --out costs nothing
    stitch::place_on_grid(tiles, format.size, a->overlap, a->overlap);
    const stitch::Placement placement = stitch::register_tiles(std::move(tiles), a->reg);
    const stitch::MosaicInfo mosaic = stitch::render_mosaic(placement, a->out, a->mosaic);
    if (!a->report.empty()) write_file_atomic(a->report, stitch::placement_csv(placement));
    if (!a->pairs.empty()) write_file_atomic(a->pairs, stitch::pairs_csv(placement));
    print_summary(placement, mosaic, *a,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  });
}

}  // namespace tessera::cli
