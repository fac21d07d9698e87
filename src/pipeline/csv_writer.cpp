// The "csv" writer: one row per object with its ids, boxes, loader fields and features, plus (optionally)
// chosen facets saved as image files whose paths the rows name.
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "tessera/core/csv.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/pipeline/writer.hpp"
#include "writer_util.hpp"

namespace tessera::pipeline {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

std::string csv_cell(const ojson& v) {
  if (v.is_null()) return "";
  if (v.is_number_float()) return fmt::format("{}", v.get<double>());
  if (!v.is_string()) return v.dump();
  return csv_field(v.get<std::string>());
}

struct CsvRows : Prepared {
  std::vector<ojson> records;
  std::vector<std::pair<fs::path, std::string>> files;  // relative path -> encoded bytes
};

class CsvWriter : public Writer {
 public:
  explicit CsvWriter(const json& node)
      : path_(node.at("path").get<std::string>()),
        facets_(facet_list(node, "images")),
        format_(node.value("image_format", "png")),
        spool_(path_) {
    image_dir_ = node.contains("image_dir") ? fs::path(node["image_dir"].get<std::string>())
                                            : path_.parent_path() / (path_.stem().string() + "_images");
    if (!facets_.empty()) fs::create_directories(image_dir_);
  }

  std::unique_ptr<Prepared> prepare(const Batch& batch, int stage) const override {
    auto out = std::make_unique<CsvRows>();
    for (int i : written_objects(batch, stage)) {
      ojson record = flat_record(batch, i);
      for (const std::string& facet : facets_) {
        const std::string name = fmt::format("{}_{}.{}", batch.objects[i].id, facet, format_);
        out->files.emplace_back(name, encode_facet(batch.objects[i], facet, format_));
        record["image_" + facet] = (image_dir_ / name).lexically_relative(path_.parent_path().empty() ? "." : path_.parent_path()).string();
      }
      out->records.push_back(std::move(record));
    }
    return out;
  }

  void write(const Batch&, int, std::unique_ptr<Prepared> prepared) override {
    auto* rows = static_cast<CsvRows*>(prepared.get());
    for (auto& [name, bytes] : rows->files) {
      write_file_atomic(image_dir_ / name, bytes);
      ++images_;
    }
    for (ojson& record : rows->records) {
      for (const auto& [key, value] : record.items()) {
        if (seen_.insert(key).second) columns_.push_back(key);
      }
      spool_.append(record);
    }
  }

  void finish() override {
    std::string text;
    for (size_t c = 0; c < columns_.size(); ++c) text += (c ? "," : "") + csv_cell(columns_[c]);
    text += "\n";
    spool_.replay([&](const ojson& record) {
      for (size_t c = 0; c < columns_.size(); ++c) {
        if (c) text += ',';
        auto it = record.find(columns_[c]);
        if (it != record.end()) text += csv_cell(*it);
      }
      text += '\n';
    });
    write_file_atomic(path_, text);
    rows_ = spool_.size();
  }

  json summary() const override {
    return {{"writer", "csv"}, {"path", path_.string()}, {"rows", rows_}, {"images", images_}};
  }

 private:
  fs::path path_;
  std::vector<std::string> facets_;
  std::string format_;
  fs::path image_dir_;
  Spool spool_;
  std::vector<std::string> columns_;
  std::set<std::string> seen_;
  std::int64_t rows_ = 0;
  std::int64_t images_ = 0;
};

std::vector<std::string> check_image_format(const json& node, const char* field) {
  if (node.contains(field) && (!node[field].is_string() || (node[field] != "png" && node[field] != "tif")))
    return {fmt::format("'{}' must be png or tif", field)};
  return {};
}

}  // namespace

WriterKind csv_writer_kind() {
  return {.name = "csv",
          .summary = "One CSV row per object (ids, box, loader fields, features); optional facets saved as images",
          .fields = {"path", "images", "image_dir", "image_format"},
          .check =
              [](const json& node, const std::map<std::string, ops::FacetKind>& facets, int) {
                std::vector<std::string> problems = check_image_format(node, "image_format");
                need_text(node, "path", problems);
                need_facets(node, "images", facets, false, problems);
                if (node.contains("image_dir") && !node["image_dir"].is_string()) problems.push_back("'image_dir' must be a path");
                return problems;
              },
          .create = [](const json& node) -> std::unique_ptr<Writer> { return std::make_unique<CsvWriter>(node); }};
}

}  // namespace tessera::pipeline
