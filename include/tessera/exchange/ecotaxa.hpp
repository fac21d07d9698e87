#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

namespace tessera::exchange {

// One image of an EcoTaxa object (one TSV line).
struct EcoTaxaImage {
  // Path of the image under the bundle's image folder, e.g. "obj_000001.png" or "sub/obj_1_b.jpg":
  // relative, '/'-separated, no '.'/'..' parts. The TSV's img_file_name is "<image_folder>/<file_name>".
  // Several objects may name the same file only with identical bytes; it is stored once.
  std::string file_name;
  // Already-encoded PNG, JPEG or GIF bytes, stored as they are (EcoTaxa detects the format by content;
  // the writer checks the signature, it does not decode).
  std::string encoded;
  // Used only when `encoded` is empty: encoded by file_name's extension, .png (8/16-bit) or .jpg/.jpeg
  // (8-bit). Channels in file order (gray, RGB, RGBA), as tessera::image keeps them.
  cv::Mat pixels;
};

// One object of the bundle: one TSV line per image, img_rank 0..n-1 in `images` order (0 = main image).
//
// Columns appear in the TSV when some object sets them: an optional field that holds a value, even an
// empty string or NaN, creates its column; that object's cell is then empty. Objects that do not set a
// column get an empty cell in it. Non-finite numbers (NaN, ±inf) are written as empty cells, except
// that an infinite lat/lon is rejected as out of range.
struct EcoTaxaObject {
  std::string object_id;            // required, unique in the bundle; no TAB/CR/LF
  std::vector<EcoTaxaImage> images;  // at least one

  // Predefined object columns (fixed EcoTaxa types; validated as EcoTaxa's import does).
  std::optional<double> lat;              // object_lat, decimal degrees in [-90, 90]
  std::optional<double> lon;              // object_lon, decimal degrees in [-180, 180]
  std::optional<std::string> date;        // object_date, YYYYMMDD or YYYY-MM-DD (a real calendar date)
  std::optional<std::string> time;        // object_time, HHMMSS, HHMM (shorter: left zero-padded) or
                                          // HH:MM:SS; written as given
  std::optional<double> depth_min;        // object_depth_min, metres
  std::optional<double> depth_max;        // object_depth_max, metres
  std::optional<std::string> link;        // object_link, free text / URL
  std::optional<std::string> complement_info;  // complement_info

  // Classification. A non-empty status requires a category (name or id) and vice versa.
  std::optional<std::string> annotation_category;     // taxon name (EcoTaxa matches it ignoring case)
  std::optional<int64_t> annotation_category_id;      // EcoTaxa taxon id (> 0); wins over the name
  std::optional<std::string> annotation_status;       // predicted|validated|dubious|discarded, any case,
                                                      // written lower case; "" = unclassified
  std::optional<std::string> annotation_person_name;
  std::optional<std::string> annotation_person_email;
  std::optional<std::string> annotation_date;  // as `date`; written as YYYYMMDD (EcoTaxa slices digits)
  std::optional<std::string> annotation_time;  // as `time`; written as HHMMSS (same reason)

  // Custom measurements, name without prefix (e.g. "area", "Feret (px)"). The column is
  // "object_" + the name lower-cased, every run of '_' and characters outside [a-z0-9] made one '_',
  // none at either end ("Feret (px)" -> object_feret_px). A name whose column is already taken (by a
  // predefined column or another name, e.g. "Area" after "area") gets the first free suffix _2, _3, ...
  // The mapping is fixed by first appearance and kept for the whole bundle; see columns(). A name is
  // numeric [f] or text [t] for the whole bundle. Limits: 500 numeric and 20 text columns.
  std::vector<std::pair<std::string, double>> numbers;
  std::vector<std::pair<std::string, std::string>> texts;

  // Parent records, field names without prefix, e.g. {{"id", "st12"}, {"ship", "meteor"}} ->
  // sample_id, sample_ship (named like custom measurements; names that land on a predefined field,
  // "id", sample "dataportal_descriptor", acq "instrument", are that field). All text. If an object
  // has any field of a group, it must give that group's non-empty "id". An acq id belongs to one
  // sample id for the whole bundle. Limits (besides the predefined fields): 60 sample, 30 acq and 30
  // process columns.
  std::vector<std::pair<std::string, std::string>> sample;
  std::vector<std::pair<std::string, std::string>> acquisition;
  std::vector<std::pair<std::string, std::string>> process;
};

struct EcoTaxaOptions {
  // The TSV is "ecotaxa_<name>.tsv" at the root of the zip; empty = the archive's file stem.
  // Characters outside [A-Za-z0-9._-] become '_'.
  std::string name;
  // Folder of the images inside the zip, relative to the TSV; "" puts them beside the TSV.
  std::string image_folder = "images";
  // Where rows and images are spooled until finish(); empty = the archive's folder. Needs about the
  // size of the finished archive plus its TSV.
  std::filesystem::path scratch_dir;
};

// A column of the bundle's TSV.
struct EcoTaxaColumn {
  std::string name;    // e.g. "object_area"
  bool numeric = false;  // type row [f] when true, [t] otherwise
  std::string source;  // the caller's field name it came from ("Area"), empty for fixed columns
};

// Writes an EcoTaxa import bundle (formats.md section 3): one zip holding ecotaxa_<name>.tsv (UTF-8
// with BOM, TAB-separated, '"'-quoted where a value holds TAB, CR, LF or '"'; header row, type row,
// one line per object image) and the images under image_folder. Objects stream in: rows are spooled to
// a scratch file (the header, the union of all columns, is known only at the end) and images to another
// that the zip reads at finish(), so no row or image stays in memory; what grows is about 1 KB per image
// line for the object ids and image names kept to enforce uniqueness and libzip's directory entries
// (measured: +85 MB over 100,000 objects). Images are stored, the TSV deflated. Column order: object_id, img_file_name,
// img_rank, predefined object columns, custom object columns (first appearance), then sample_*,
// acq_*, process_* each led by its id.
//
// Errors are tessera::Error{invalid_argument} naming the object and field; add() checks the whole
// object before writing anything, so after a throwing add() the writer is unchanged and usable.
// Destroying the writer without finish() leaves no archive and no scratch files. Not thread-safe.
class EcoTaxaWriter {
 public:
  explicit EcoTaxaWriter(std::filesystem::path zip_path, EcoTaxaOptions options = {});
  ~EcoTaxaWriter();
  EcoTaxaWriter(const EcoTaxaWriter&) = delete;
  EcoTaxaWriter& operator=(const EcoTaxaWriter&) = delete;

  void add(const EcoTaxaObject& object);

  // Writes the TSV, then the zip (atomically: temp name, fsync, rename). At least one object is
  // required. Call once.
  void finish();

  uint64_t object_count() const;
  uint64_t line_count() const;  // (object, image) lines so far
  std::vector<EcoTaxaColumn> columns() const;  // in TSV order, as they stand now
  std::string tsv_name() const;                // "ecotaxa_<name>.tsv"

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tessera::exchange
