#include "tessera/exchange/ecotaxa.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "exchange/ecotaxa_columns.hpp"
#include "exchange/ecotaxa_values.hpp"
#include "exchange/temp_file.hpp"
#include "exchange/zip_names.hpp"
#include "tessera/core/error.hpp"
#include "tessera/exchange/zip_writer.hpp"
#include "tessera/image/encode.hpp"

namespace tessera::exchange {
namespace {

using ecotaxa::Columns;
using ecotaxa::Family;

[[noreturn]] void invalid(std::string_view object_id, const std::string& what) {
  throw Error(ErrorCode::invalid_argument, fmt::format("EcoTaxa object '{}': {}", object_id, what));
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool is_image_signature(std::string_view bytes) {
  auto starts = [&](std::string_view magic) { return bytes.substr(0, magic.size()) == magic; };
  return starts("\x89PNG\r\n\x1a\n") || starts("\xFF\xD8\xFF") || starts("GIF87a") || starts("GIF89a");
}

// The file name part of the TSV: anything outside [A-Za-z0-9._-] becomes '_' so the name matches
// EcoTaxa's ecotaxa*.tsv glob on every system.
std::string tsv_file_name(const EcoTaxaOptions& options, const std::filesystem::path& zip_path) {
  std::string name = options.name.empty() ? zip_path.stem().string() : options.name;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
  }
  if (name.empty()) name = "export";
  return fmt::format("ecotaxa_{}.tsv", name);
}

void append_u32(std::string& out, uint32_t v) {
  char bytes[4];
  std::memcpy(bytes, &v, 4);
  out.append(bytes, 4);
}

// One TSV line before the column order is known: (column index, cell text) for its non-empty cells.
using Cells = std::vector<std::pair<size_t, std::string>>;

struct PreparedImage {
  std::string entry;  // path inside the zip, also the img_file_name value
  std::string bytes;
  bool already_stored = false;
};

}  // namespace

struct EcoTaxaWriter::State {
  State(std::filesystem::path path, EcoTaxaOptions opts)
      : zip_path(std::move(path)),
        options(std::move(opts)),
        tsv_name(tsv_file_name(options, zip_path)),
        zip(zip_path) {
    const auto scratch = options.scratch_dir.empty() ? zip_path.parent_path() : options.scratch_dir;
    rows = std::make_unique<TempFile>(scratch, zip_path.filename().string() + ".rows");
    images = std::make_unique<TempFile>(scratch, zip_path.filename().string() + ".images");
  }

  std::filesystem::path zip_path;
  EcoTaxaOptions options;
  std::string tsv_name;
  ZipWriter zip;
  std::unique_ptr<TempFile> rows;    // spooled lines: u32 cell count, then (u32 column, u32 size, bytes)
  std::unique_ptr<TempFile> images;  // image bytes back to back; the zip reads its ranges at finish()
  Columns columns;
  std::unordered_set<std::string> object_ids;
  std::unordered_map<std::string, std::pair<uint64_t, uint64_t>> stored_images;  // entry -> spool range
  std::unordered_map<std::string, std::string> acq_sample;                      // acq_id -> sample_id
  uint64_t lines = 0;
  bool finished = false;

  std::vector<PreparedImage> prepare_images(const EcoTaxaObject& object) const;
  Cells object_cells(const EcoTaxaObject& object, std::string* acq_id, std::string* sample_id);
  void add_parent_cells(const EcoTaxaObject& object, Family family,
                        const std::vector<std::pair<std::string, std::string>>& fields, Cells& cells,
                        std::string* id_out);
  void commit(const EcoTaxaObject& object, std::vector<PreparedImage>& images, const Cells& cells);
  void write_tsv(TempFile& tsv);
};

std::vector<PreparedImage> EcoTaxaWriter::State::prepare_images(const EcoTaxaObject& object) const {
  const std::string& id = object.object_id;
  if (object.images.empty()) invalid(id, "has no image (EcoTaxa needs img_file_name on every line)");
  std::vector<PreparedImage> out;
  for (const EcoTaxaImage& image : object.images) {
    if (const auto problem = zip_name_problem(image.file_name); !problem.empty()) {
      invalid(id, fmt::format("image file name '{}' {}", image.file_name, problem));
    }
    if (!ecotaxa::is_valid_utf8(image.file_name)) {
      invalid(id, fmt::format("image file name '{}' is not UTF-8", image.file_name));
    }
    PreparedImage prepared;
    prepared.entry = options.image_folder.empty() ? image.file_name
                                                  : options.image_folder + "/" + image.file_name;
    if (prepared.entry == tsv_name) invalid(id, fmt::format("image file name '{}' is the TSV's name", image.file_name));
    for (const auto& other : out) {
      if (other.entry == prepared.entry) {
        invalid(id, fmt::format("image '{}' is listed twice ((object_id, img_file_name) must be unique)",
                                prepared.entry));
      }
    }
    if (!image.encoded.empty()) {
      if (!is_image_signature(image.encoded)) {
        invalid(id, fmt::format("image '{}' is not PNG, JPEG or GIF data", image.file_name));
      }
      prepared.bytes = image.encoded;
    } else if (!image.pixels.empty()) {
      const std::string ext = lower(std::filesystem::path(image.file_name).extension().string());
      if (ext != ".png" && ext != ".jpg" && ext != ".jpeg") {
        invalid(id, fmt::format("image '{}': pixels are encoded by extension, which must be .png, .jpg or .jpeg",
                                image.file_name));
      }
      if (ext != ".png" && image.pixels.depth() != CV_8U) {
        invalid(id, fmt::format("image '{}': JPEG holds 8-bit pixels only", image.file_name));
      }
      try {
        prepared.bytes = image::encode(image.pixels, ext);
      } catch (const Error& e) {
        invalid(id, fmt::format("image '{}': {}", image.file_name, e.what()));
      }
    } else {
      invalid(id, fmt::format("image '{}' has neither encoded bytes nor pixels", image.file_name));
    }
    if (const auto it = stored_images.find(prepared.entry); it != stored_images.end()) {
      const auto [offset, size] = it->second;
      if (size != prepared.bytes.size() || images->read_at(offset, size) != prepared.bytes) {
        invalid(id, fmt::format("image '{}' is already in the bundle with different content", prepared.entry));
      }
      prepared.already_stored = true;
      prepared.bytes.clear();
    }
    out.push_back(std::move(prepared));
  }
  return out;
}

Cells EcoTaxaWriter::State::object_cells(const EcoTaxaObject& o, std::string* acq_id, std::string* sample_id) {
  const std::string& id = o.object_id;
  Cells cells;
  cells.emplace_back(columns.fixed("object_id"), ecotaxa::text_cell(id));
  auto text = [&](std::string_view column, std::string_view field, const std::optional<std::string>& value) {
    if (!value) return;
    if (!ecotaxa::is_valid_utf8(*value)) invalid(id, fmt::format("{} is not UTF-8", field));
    cells.emplace_back(columns.fixed(column), ecotaxa::text_cell(*value));
  };
  auto number = [&](std::string_view column, const std::optional<double>& value) {
    if (value) cells.emplace_back(columns.fixed(column), ecotaxa::number_cell(*value));
  };
  auto degrees = [&](std::string_view column, std::string_view field, const std::optional<double>& value,
                     double range) {
    if (value && !std::isnan(*value) && !(std::fabs(*value) <= range)) {
      invalid(id, fmt::format("{} {} is outside -{}..{} degrees", field, *value, range, range));
    }
    number(column, value);
  };
  auto date = [&](std::string_view column, std::string_view field, const std::optional<std::string>& value,
                  bool normalise) {
    if (!value) return;
    const auto parsed = value->empty() ? std::optional<std::string>("") : ecotaxa::parse_date(*value);
    if (!parsed) invalid(id, fmt::format("{} '{}' is not a date as YYYYMMDD or YYYY-MM-DD", field, *value));
    cells.emplace_back(columns.fixed(column), normalise ? *parsed : *value);
  };
  auto time = [&](std::string_view column, std::string_view field, const std::optional<std::string>& value,
                  bool normalise) {
    if (!value) return;
    const auto parsed = value->empty() ? std::optional<std::string>("") : ecotaxa::parse_time(*value);
    if (!parsed) invalid(id, fmt::format("{} '{}' is not a time as HHMMSS, HHMM or HH:MM:SS", field, *value));
    cells.emplace_back(columns.fixed(column), normalise ? *parsed : *value);
  };

  degrees("object_lat", "lat", o.lat, 90.0);
  degrees("object_lon", "lon", o.lon, 180.0);
  date("object_date", "date", o.date, false);
  time("object_time", "time", o.time, false);
  number("object_depth_min", o.depth_min);
  number("object_depth_max", o.depth_max);
  text("object_link", "link", o.link);
  text("complement_info", "complement_info", o.complement_info);

  // Classification: status and category come together (EcoTaxa refuses one without the other).
  const bool has_category = (o.annotation_category && !o.annotation_category->empty()) || o.annotation_category_id;
  std::string status;
  if (o.annotation_status) {
    const auto parsed = ecotaxa::parse_status(*o.annotation_status);
    if (!parsed) {
      invalid(id, fmt::format("annotation_status '{}' is not predicted, validated, dubious or discarded",
                              *o.annotation_status));
    }
    status = *parsed;
  }
  if (has_category && status.empty()) invalid(id, "has an annotation category but no annotation_status");
  if (!has_category && !status.empty()) invalid(id, fmt::format("annotation_status '{}' needs a category", status));
  if (o.annotation_category_id && *o.annotation_category_id <= 0) {
    invalid(id, fmt::format("annotation_category_id {} is not a taxon id (> 0)", *o.annotation_category_id));
  }
  text("object_annotation_category", "annotation_category", o.annotation_category);
  if (o.annotation_category_id) {
    cells.emplace_back(columns.fixed("object_annotation_category_id"), fmt::format("{}", *o.annotation_category_id));
  }
  if (o.annotation_status) cells.emplace_back(columns.fixed("object_annotation_status"), status);
  text("object_annotation_person_name", "annotation_person_name", o.annotation_person_name);
  text("object_annotation_person_email", "annotation_person_email", o.annotation_person_email);
  date("object_annotation_date", "annotation_date", o.annotation_date, true);
  time("object_annotation_time", "annotation_time", o.annotation_time, true);

  const size_t fixed_end = cells.size();
  for (const auto& [name, value] : o.numbers) {
    cells.emplace_back(columns.field(Family::object, name, true, id), ecotaxa::number_cell(value));
  }
  for (const auto& [name, value] : o.texts) {
    if (!ecotaxa::is_valid_utf8(value)) invalid(id, fmt::format("text '{}' is not UTF-8", name));
    cells.emplace_back(columns.field(Family::object, name, false, id), ecotaxa::text_cell(value));
  }
  std::string process_id;
  add_parent_cells(o, Family::sample, o.sample, cells, sample_id);
  add_parent_cells(o, Family::acq, o.acquisition, cells, acq_id);
  add_parent_cells(o, Family::process, o.process, cells, &process_id);

  // Two of the caller's names landing on one column ("id" and "ID", or a name given twice).
  std::vector<size_t> used;
  for (size_t i = fixed_end; i < cells.size(); ++i) used.push_back(cells[i].first);
  std::sort(used.begin(), used.end());
  if (const auto dup = std::adjacent_find(used.begin(), used.end()); dup != used.end()) {
    invalid(id, fmt::format("column '{}' is given twice", columns.at(*dup).name));
  }
  return cells;
}

void EcoTaxaWriter::State::add_parent_cells(const EcoTaxaObject& o, Family family,
                                            const std::vector<std::pair<std::string, std::string>>& fields,
                                            Cells& cells, std::string* id_out) {
  static constexpr std::string_view kGroup[] = {"object", "sample", "acq", "process"};
  const std::string_view group = kGroup[static_cast<size_t>(family)];
  bool has_id = false;
  for (const auto& [name, value] : fields) {
    if (!ecotaxa::is_valid_utf8(value)) invalid(o.object_id, fmt::format("{} field '{}' is not UTF-8", group, name));
    const size_t column = columns.field(family, name, false, o.object_id);
    if (columns.at(column).name == fmt::format("{}_id", group)) {
      if (value.empty()) invalid(o.object_id, fmt::format("{}_id is empty", group));
      has_id = true;
      *id_out = value;
    }
    cells.emplace_back(column, ecotaxa::text_cell(value));
  }
  if (!fields.empty() && !has_id) {
    invalid(o.object_id, fmt::format("has {} fields but no {}_id (EcoTaxa requires it)", group, group));
  }
}

void EcoTaxaWriter::State::commit(const EcoTaxaObject& object, std::vector<PreparedImage>& prepared,
                                  const Cells& cells) {
  const size_t file_column = columns.fixed("img_file_name");
  const size_t rank_column = columns.fixed("img_rank");
  columns.commit();
  for (PreparedImage& image : prepared) {
    if (image.already_stored) continue;
    const uint64_t offset = images->size();
    images->append(image.bytes);
    images->flush();
    zip.add_file(image.entry, images->path(), ZipMethod::store, offset, image.bytes.size());
    stored_images.emplace(image.entry, std::make_pair(offset, static_cast<uint64_t>(image.bytes.size())));
  }
  std::string record;
  for (size_t rank = 0; rank < prepared.size(); ++rank) {
    record.clear();
    append_u32(record, static_cast<uint32_t>(cells.size() + 2));
    auto put = [&](size_t column, std::string_view cell) {
      append_u32(record, static_cast<uint32_t>(column));
      append_u32(record, static_cast<uint32_t>(cell.size()));
      record.append(cell);
    };
    for (const auto& [column, cell] : cells) put(column, cell);
    put(file_column, ecotaxa::text_cell(prepared[rank].entry));
    put(rank_column, fmt::format("{}", rank));
    rows->append(record);
    ++lines;
  }
  object_ids.insert(object.object_id);
}

EcoTaxaWriter::EcoTaxaWriter(std::filesystem::path zip_path, EcoTaxaOptions options)
    : state_(std::make_unique<State>(std::move(zip_path), std::move(options))) {
  if (!state_->options.image_folder.empty()) {
    if (const auto problem = zip_name_problem(state_->options.image_folder); !problem.empty()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("EcoTaxa image folder '{}' {}", state_->options.image_folder, problem));
    }
  }
}

EcoTaxaWriter::~EcoTaxaWriter() = default;

void EcoTaxaWriter::add(const EcoTaxaObject& object) {
  State& s = *state_;
  const std::string& id = object.object_id;
  if (s.finished) invalid(id, fmt::format("bundle '{}' is already finished", s.zip_path.string()));
  if (id.empty()) invalid(id, "object_id is empty");
  if (id.find_first_of("\t\r\n") != std::string::npos || !ecotaxa::is_valid_utf8(id)) {
    invalid(id, "object_id holds TAB, CR, LF or non-UTF-8 bytes");
  }
  if (s.object_ids.count(id) > 0) invalid(id, "object_id is already in the bundle (EcoTaxa needs it unique)");
  auto images = s.prepare_images(object);
  std::string acq_id, sample_id;
  Cells cells;
  try {
    cells = s.object_cells(object, &acq_id, &sample_id);
    if (!acq_id.empty()) {
      const auto it = s.acq_sample.find(acq_id);
      if (it != s.acq_sample.end() && it->second != sample_id) {
        invalid(id, fmt::format("acq_id '{}' belongs to sample_id '{}' already, not '{}'", acq_id, it->second,
                                sample_id));
      }
    }
  } catch (...) {
    s.columns.rollback();
    throw;
  }
  s.commit(object, images, cells);
  if (!acq_id.empty()) s.acq_sample.emplace(acq_id, sample_id);
}

void EcoTaxaWriter::State::write_tsv(TempFile& tsv) {
  const size_t count = columns.committed_size();
  const std::vector<size_t> order = columns.order(count);
  std::vector<size_t> position(count);
  for (size_t i = 0; i < count; ++i) position[order[i]] = i;

  std::string line = "\xEF\xBB\xBF";  // UTF-8 BOM: EcoTaxa reads Latin-1 without it
  for (size_t i = 0; i < count; ++i) line += (i ? "\t" : "") + columns.at(order[i]).name;
  line += '\n';
  for (size_t i = 0; i < count; ++i) line += (i ? "\t" : "") + std::string(columns.at(order[i]).numeric ? "[f]" : "[t]");
  line += '\n';
  tsv.append(line);

  rows->flush();
  FileCursor cursor(rows->path());
  std::vector<std::string> cells(count);
  std::string scratch;
  while (!cursor.at_end()) {
    for (auto& cell : cells) cell.clear();
    const uint32_t n = cursor.read_u32();
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t column = cursor.read_u32();
      const uint32_t size = cursor.read_u32();
      cursor.read(size, scratch);
      cells.at(position.at(column)) = scratch;
    }
    line.clear();
    for (size_t i = 0; i < count; ++i) {
      if (i) line += '\t';
      line += cells[i];
    }
    line += '\n';
    tsv.append(line);
  }
  tsv.flush();
}

void EcoTaxaWriter::finish() {
  State& s = *state_;
  if (s.finished) {
    throw Error(ErrorCode::invalid_argument, fmt::format("EcoTaxa bundle '{}': finish() called twice", s.zip_path.string()));
  }
  if (s.object_ids.empty()) {
    throw Error(ErrorCode::invalid_argument, fmt::format("EcoTaxa bundle '{}' has no object", s.zip_path.string()));
  }
  s.finished = true;
  const auto scratch = s.options.scratch_dir.empty() ? s.zip_path.parent_path() : s.options.scratch_dir;
  TempFile tsv(scratch, s.zip_path.filename().string() + ".tsv");
  s.write_tsv(tsv);
  s.rows.reset();
  s.zip.add_file(s.tsv_name, tsv.path(), ZipMethod::deflate);
  s.images->flush();
  s.zip.finish();
  s.images.reset();
}

uint64_t EcoTaxaWriter::object_count() const { return state_->object_ids.size(); }

uint64_t EcoTaxaWriter::line_count() const { return state_->lines; }

std::vector<EcoTaxaColumn> EcoTaxaWriter::columns() const {
  const auto& columns = state_->columns;
  std::vector<EcoTaxaColumn> out;
  for (const size_t i : columns.order(columns.committed_size())) out.push_back(columns.at(i));
  return out;
}

std::string EcoTaxaWriter::tsv_name() const { return state_->tsv_name; }

}  // namespace tessera::exchange
