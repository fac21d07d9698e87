// The "images" writer: chosen facets of every object as image files named <object id>_<facet>.<ext>.
#include <fmt/format.h>

#include "tessera/core/file.hpp"
#include "tessera/pipeline/writer.hpp"
#include "writer_util.hpp"

namespace tessera::pipeline {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct EncodedFiles : Prepared {
  std::vector<std::pair<std::string, std::string>> files;  // name -> bytes
};

class ImagesWriter : public Writer {
 public:
  explicit ImagesWriter(const json& node)
      : dir_(node.at("dir").get<std::string>()), facets_(facet_list(node, "facets")), format_(node.value("format", "png")) {
    fs::create_directories(dir_);
  }

  std::unique_ptr<Prepared> prepare(const Batch& batch, int stage) const override {
    auto out = std::make_unique<EncodedFiles>();
    for (int i : written_objects(batch, stage)) {
      for (const std::string& facet : facets_) {
        out->files.emplace_back(fmt::format("{}_{}.{}", batch.objects[i].id, facet, format_),
                                encode_facet(batch.objects[i], facet, format_));
      }
    }
    return out;
  }

  void write(const Batch&, int, std::unique_ptr<Prepared> prepared) override {
    for (auto& [name, bytes] : static_cast<EncodedFiles*>(prepared.get())->files) {
      write_file_atomic(dir_ / name, bytes);
      ++files_;
    }
  }

  void finish() override {}

  json summary() const override { return {{"writer", "images"}, {"dir", dir_.string()}, {"files", files_}}; }

 private:
  fs::path dir_;
  std::vector<std::string> facets_;
  std::string format_;
  std::int64_t files_ = 0;
};

}  // namespace

WriterKind images_writer_kind() {
  return {.name = "images",
          .summary = "Chosen facets of every object as image files <object id>_<facet>.<png|tif>",
          .fields = {"dir", "facets", "format"},
          .check =
              [](const json& node, const std::map<std::string, ops::FacetKind>& facets, int) {
                std::vector<std::string> problems;
                if (!node.contains("dir") || !node["dir"].is_string() || node["dir"].get<std::string>().empty())
                  problems.push_back("'dir' is required (a folder)");
                need_facets(node, "facets", facets, true, problems);
                if (node.contains("format") && node["format"] != "png" && node["format"] != "tif")
                  problems.push_back("'format' must be png or tif");
                return problems;
              },
          .create = [](const json& node) -> std::unique_ptr<Writer> { return std::make_unique<ImagesWriter>(node); }};
}

}  // namespace tessera::pipeline
