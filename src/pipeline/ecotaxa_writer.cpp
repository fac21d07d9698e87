// The "ecotaxa" writer: every object becomes an EcoTaxa object (its features as object_* columns, its
// chosen facets as images, img_rank in the order given) in an import bundle zip another lab's EcoTaxa
// takes as it is (exchange/ecotaxa.hpp holds the format).
#include <regex>

#include <fmt/format.h>

#include "tessera/core/error.hpp"
#include "tessera/exchange/ecotaxa.hpp"
#include "tessera/pipeline/writer.hpp"
#include "tessera/version.hpp"
#include "writer_util.hpp"

namespace tessera::pipeline {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kObjectFields[] = {"lat", "lon", "date", "time", "depth_min", "depth_max", "link"};

// "{station}_{depth}" with the root's loader fields (plus "source" and "id"); Error naming the field.
std::string expand(const std::string& text, const Batch& batch, int index) {
  const Object& root = root_of(batch, index);
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '{') {
      out += text[i];
      continue;
    }
    const size_t end = text.find('}', i);
    if (end == std::string::npos) throw Error(ErrorCode::invalid_argument, fmt::format("ecotaxa writer: unclosed '{{' in '{}'", text));
    const std::string name = text.substr(i + 1, end - i - 1);
    json value;
    if (name == "source") value = root.metadata.value("source", "");
    else if (name == "id") value = batch.objects[index].id;
    else if (root.metadata.contains("fields") && root.metadata["fields"].contains(name)) value = root.metadata["fields"][name];
    else
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("ecotaxa writer: {} has no field '{}' (used in '{}'); loader fields: {}", root.id, name, text,
                              root.metadata.value("fields", json::object()).dump()));
    out += value.is_string() ? value.get<std::string>() : value.dump();
    i = end;
  }
  return out;
}

struct PreparedObjects : Prepared {
  std::vector<exchange::EcoTaxaObject> objects;
};

class EcoTaxaPipelineWriter : public Writer {
 public:
  explicit EcoTaxaPipelineWriter(const json& node)
      : path_(node.at("path").get<std::string>()), facets_(facet_list(node, "images")), format_(node.value("format", "png")),
        node_(node) {
    exchange::EcoTaxaOptions options;
    options.name = node.value("name", "");
    if (!path_.parent_path().empty()) fs::create_directories(path_.parent_path());
    writer_ = std::make_unique<exchange::EcoTaxaWriter>(path_, options);
    if (!node_.contains("process")) node_["process"] = {{"id", "tessera"}, {"software", fmt::format("tessera {}", kTesseraVersion)}};
  }

  std::unique_ptr<Prepared> prepare(const Batch& batch, int stage) const override {
    auto out = std::make_unique<PreparedObjects>();
    for (int i : written_objects(batch, stage)) {
      const Object& o = batch.objects[i];
      exchange::EcoTaxaObject e;
      e.object_id = o.id;
      for (const std::string& facet : facets_) {
        exchange::EcoTaxaImage image;
        image.file_name = fmt::format("{}_{}.{}", o.id, facet, format_);
        if (format_ == "png") {
          image.encoded = encode_facet(o, facet, "png");
        } else {
          image.pixels = o.facets.at(facet).mat;  // JPEG: the bundle writer encodes it
        }
        e.images.push_back(std::move(image));
      }
      if (o.metadata.contains("features")) {
        for (const auto& [name, value] : o.metadata["features"].items()) {
          if (name == "label") continue;
          if (value.is_number()) e.numbers.emplace_back(name, value.get<double>());
          if (value.is_array()) {
            for (size_t k = 0; k < value.size(); ++k) {
              if (value[k].is_number()) e.numbers.emplace_back(fmt::format("{}_{}", name, k), value[k].get<double>());
            }
          }
        }
      }
      if (o.metadata.contains("nested_count")) e.numbers.emplace_back("nested_count", o.metadata["nested_count"].get<double>());
      for (const char* key : {"sample", "acq", "process"}) {
        if (!node_.contains(key)) continue;
        auto& group = key[0] == 's' ? e.sample : key[0] == 'a' ? e.acquisition : e.process;
        for (const auto& [field, text] : node_[key].items()) group.emplace_back(field, expand(text.get<std::string>(), batch, i));
      }
      if (node_.contains("object")) {
        for (const auto& [field, text] : node_["object"].items()) {
          const std::string v = expand(text.get<std::string>(), batch, i);
          auto number = [&] {
            try {
              size_t used = 0;
              const double d = std::stod(v, &used);
              if (used != v.size()) throw std::invalid_argument(v);
              return d;
            } catch (const std::exception&) {
              throw Error(ErrorCode::invalid_argument, fmt::format("ecotaxa writer: {}: object.{} = '{}' is not a number", o.id, field, v));
            }
          };
          if (field == "lat") e.lat = number();
          else if (field == "lon") e.lon = number();
          else if (field == "depth_min") e.depth_min = number();
          else if (field == "depth_max") e.depth_max = number();
          else if (field == "date") e.date = v;
          else if (field == "time") e.time = v;
          else if (field == "link") e.link = v;
        }
      }
      out->objects.push_back(std::move(e));
    }
    return out;
  }

  void write(const Batch&, int, std::unique_ptr<Prepared> prepared) override {
    for (const auto& object : static_cast<PreparedObjects*>(prepared.get())->objects) writer_->add(object);
  }

  void finish() override {
    if (writer_->object_count() == 0)
      throw Error(ErrorCode::invalid_argument, fmt::format("ecotaxa writer: no objects to export to {}", path_.string()));
    writer_->finish();
  }

  json summary() const override {
    return {{"writer", "ecotaxa"}, {"path", path_.string()}, {"tsv", writer_->tsv_name()}, {"objects", writer_->object_count()},
            {"lines", writer_->line_count()}};
  }

 private:
  fs::path path_;
  std::vector<std::string> facets_;
  std::string format_;
  json node_;
  std::unique_ptr<exchange::EcoTaxaWriter> writer_;
};

std::vector<std::string> check_node(const json& node, const std::map<std::string, ops::FacetKind>& facets, int stage) {
  std::vector<std::string> problems;
  need_text(node, "path", problems);
  need_facets(node, "images", facets, true, problems);
  if (stage == 0) problems.push_back("needs objects: put a split node (extract_regions) before it");
  if (node.contains("format") && node["format"] != "png" && node["format"] != "jpg")
    problems.push_back("'format' must be png or jpg");
  if (node.contains("name") && !node["name"].is_string()) problems.push_back("'name' must be text");
  for (const char* key : {"sample", "acq", "process", "object"}) {
    if (!node.contains(key)) continue;
    const json& group = node[key];
    if (!group.is_object() || !std::all_of(group.begin(), group.end(), [](const json& v) { return v.is_string(); })) {
      problems.push_back(fmt::format("'{}' must map field names to text templates such as \"{{station}}\"", key));
      continue;
    }
    if (std::string(key) == "object") {
      for (const auto& [field, value] : group.items()) {
        if (std::find(std::begin(kObjectFields), std::end(kObjectFields), field) == std::end(kObjectFields))
          problems.push_back(fmt::format("'object.{}' is not one of lat, lon, date, time, depth_min, depth_max, link", field));
      }
    } else if (!group.contains("id") && !group.empty()) {
      problems.push_back(fmt::format("'{}' needs an 'id' (EcoTaxa requires {}_id when any {}_* column exists)", key, key, key));
    }
  }
  return problems;
}

}  // namespace

WriterKind ecotaxa_writer_kind() {
  return {.name = "ecotaxa",
          .summary = "EcoTaxa import zip: features as object_* columns, chosen facets as images, sample/acq/process fields",
          .fields = {"path", "images", "format", "name", "sample", "acq", "process", "object"},
          .check = check_node,
          .create = [](const json& node) -> std::unique_ptr<Writer> { return std::make_unique<EcoTaxaPipelineWriter>(node); }};
}

}  // namespace tessera::pipeline
