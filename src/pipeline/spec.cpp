#include "tessera/pipeline/spec.hpp"

#include <set>

#include <fmt/format.h>

#include "tessera/core/error.hpp"

namespace tessera::pipeline {
namespace {

using ops::FacetKind;
using Facets = std::map<std::string, FacetKind>;
using json = nlohmann::json;

bool is_matrix(FacetKind k) { return k == FacetKind::image || k == FacetKind::mask || k == FacetKind::labels; }

// A matrix facet can feed any matrix input (a mask is an image; the registry checks depth and channels
// when it runs); tables and lists must match.
bool fits(FacetKind have, FacetKind want) { return have == want || (is_matrix(have) && is_matrix(want)); }

// Collects problems, each prefixed with the node it belongs to. An error carrying several problems
// (the registry reports every bad parameter of an op) adds one line each.
struct Problems {
  std::vector<std::string> lines;
  void add(const std::string& where, const std::string& what) { lines.push_back(where + ": " + what); }
  void add(const std::string& where, const Error& e) {
    if (e.details().is_object() && e.details().contains("problems") && e.details()["problems"].is_array()) {
      for (const auto& p : e.details()["problems"]) add(where, p.get<std::string>());
    } else {
      add(where, std::string(e.what()));
    }
  }
};

// Facets named by a node that could not be checked (an unknown op): later nodes may use them under any
// kind, so one mistake is reported once rather than again at every node downstream.
using Unchecked = std::set<std::string>;

std::string kind_names(const Facets& facets) {
  std::string out;
  for (const auto& [name, kind] : facets) out += fmt::format("{}{} ({})", out.empty() ? "" : ", ", name, ops::to_string(kind));
  return out.empty() ? "none" : out;
}

void check_fields(const json& node, const std::set<std::string>& allowed, const std::string& where, Problems& problems) {
  for (const auto& [key, value] : node.items()) {
    if (!allowed.count(key)) problems.add(where, fmt::format("unknown field '{}'", key));
  }
}

// "in"/"out" as an object (op facet -> object facet) or a string (the op's first facet -> that name).
std::map<std::string, std::string> facet_mapping(const json& node, const char* key, const std::vector<ops::FacetSpec>& specs,
                                                 const std::string& where, Problems& problems) {
  std::map<std::string, std::string> mapping;
  if (!node.contains(key)) return mapping;
  const json& value = node.at(key);
  if (value.is_string()) {
    if (specs.empty()) {
      problems.add(where, fmt::format("'{}' names a facet but the op has none", key));
    } else {
      mapping[specs.front().name] = value.get<std::string>();
    }
    return mapping;
  }
  if (!value.is_object()) {
    problems.add(where, fmt::format("'{}' must be a facet name or an object mapping the op's facets to names", key));
    return mapping;
  }
  for (const auto& [op_facet, object_facet] : value.items()) {
    const bool known = std::any_of(specs.begin(), specs.end(), [&](const auto& s) { return s.name == op_facet; });
    if (!known) {
      std::string names;
      for (const auto& s : specs) names += (names.empty() ? "" : ", ") + s.name;
      problems.add(where, fmt::format("'{}' maps '{}', which is not one of the op's facets ({})", key, op_facet, names));
      continue;
    }
    if (!object_facet.is_string() || object_facet.get<std::string>().empty()) {
      problems.add(where, fmt::format("'{}.{}' must be a non-empty facet name", key, op_facet));
      continue;
    }
    mapping[op_facet] = object_facet.get<std::string>();
  }
  return mapping;
}

void check_op(const json& j, Node& node, const ops::OpRegistry& registry, Facets& facets, Unchecked& unchecked,
              Problems& problems) {
  const std::string where = node.label();
  const ops::OpDescriptor* op = registry.find(node.name);
  if (!op) {
    try {
      registry.get(node.name);  // for its message listing close names
    } catch (const Error& e) {
      problems.add(where, std::string(e.what()));
    }
    // What it would have made is unknown: the names its "out" gives are taken as made.
    if (j.contains("out") && j["out"].is_string()) unchecked.insert(j["out"].get<std::string>());
    if (j.contains("out") && j["out"].is_object()) {
      for (const auto& [op_facet, name] : j["out"].items()) {
        if (name.is_string()) unchecked.insert(name.get<std::string>());
      }
    }
    return;
  }
  check_fields(j, {"op", "in", "out", "params", "comment"}, where, problems);
  try {
    node.params = registry.validate(node.name, j.value("params", json::object()));
  } catch (const Error& e) {
    problems.add(where, e);
  }
  node.in = facet_mapping(j, "in", op->inputs, where, problems);
  node.out = facet_mapping(j, "out", op->outputs, where, problems);
  for (const ops::FacetSpec& input : op->inputs) {
    auto mapped = node.in.find(input.name);
    const std::string name = mapped == node.in.end() ? input.name : mapped->second;
    auto have = facets.find(name);
    if (unchecked.count(name)) {
      node.in[input.name] = name;
      continue;
    }
    if (have == facets.end()) {
      if (input.optional && mapped == node.in.end()) continue;
      problems.add(where, fmt::format("input '{}' needs the facet '{}', which no earlier node makes (available: {})",
                                      input.name, name, kind_names(facets)));
    } else if (!fits(have->second, input.kind)) {
      problems.add(where, fmt::format("input '{}' needs a {} but '{}' is a {}", input.name, ops::to_string(input.kind), name,
                                      ops::to_string(have->second)));
    } else if (mapped == node.in.end()) {
      node.in[input.name] = name;  // optional inputs take a same-named facet when there is one
    }
  }
  // Unmapped outputs keep their names when the op has one output or the file maps none; otherwise the
  // mapping says which outputs are kept.
  const bool keep_all = node.out.empty();
  for (const ops::FacetSpec& output : op->outputs) {
    auto mapped = node.out.find(output.name);
    if (mapped == node.out.end()) {
      if (!keep_all && op->outputs.size() > 1) continue;
      node.out[output.name] = output.name;
    }
    facets[node.out[output.name]] = output.kind;
    unchecked.erase(node.out[output.name]);
  }
}

void check_split(const json& j, Node& node, Facets& facets, Unchecked& unchecked, Problems& problems) {
  const std::string where = node.label();
  if (node.name != "extract_regions") {
    problems.add(where, fmt::format("unknown split '{}' (known: extract_regions)", node.name));
    return;
  }
  check_fields(j, {"split", "labels", "crop", "mask", "features", "padding", "nested", "comment"}, where, problems);
  node.params = j;
  SplitSpec split;
  try {
    split = split_spec(node);
  } catch (const Error& e) {
    problems.add(where, e.what());
    return;
  }
  auto need = [&](const std::string& name, const char* role, bool matrix) {
    if (unchecked.count(name)) return;
    auto have = facets.find(name);
    if (have == facets.end()) {
      problems.add(where, fmt::format("{} facet '{}' is not made by any earlier node (available: {})", role, name, kind_names(facets)));
    } else if (matrix ? !is_matrix(have->second) : have->second != FacetKind::table) {
      problems.add(where, fmt::format("{} facet '{}' is a {}, not {}", role, name, ops::to_string(have->second),
                                      matrix ? "an image, mask or labels" : "a table"));
    }
  };
  need(split.labels, "labels", true);
  for (const std::string& c : split.crop) need(c, "crop", true);
  if (!split.features.empty()) need(split.features, "features", false);
  Facets children;
  Unchecked unchecked_children;
  for (const std::string& c : split.crop) {
    if (facets.count(c)) children[c] = facets[c];
    if (unchecked.count(c)) unchecked_children.insert(c);
  }
  children[split.mask] = FacetKind::mask;
  facets = std::move(children);
  unchecked = std::move(unchecked_children);
}

}  // namespace

std::string Node::label() const { return fmt::format("node {} ({})", index + 1, name); }

SplitSpec split_spec(const Node& node) {
  const json& j = node.params;
  SplitSpec s;
  auto text = [&](const char* key, std::string& into) {
    if (!j.contains(key)) return;
    if (!j[key].is_string() || j[key].get<std::string>().empty())
      throw Error(ErrorCode::invalid_argument, fmt::format("'{}' must be a facet name", key));
    into = j[key].get<std::string>();
  };
  text("labels", s.labels);
  text("mask", s.mask);
  text("features", s.features);
  if (j.contains("crop")) {
    const json& c = j["crop"];
    if (c.is_string()) {
      s.crop.push_back(c.get<std::string>());
    } else if (c.is_array() && std::all_of(c.begin(), c.end(), [](const json& e) { return e.is_string(); })) {
      for (const json& e : c) s.crop.push_back(e.get<std::string>());
    } else {
      throw Error(ErrorCode::invalid_argument, "'crop' must be a facet name or a list of facet names");
    }
    for (const std::string& name : s.crop) {
      if (name == s.mask) throw Error(ErrorCode::invalid_argument, fmt::format("'crop' lists '{}', the name of the region mask", name));
    }
  }
  if (j.contains("padding")) {
    if (!j["padding"].is_number_integer() || j["padding"].get<long long>() < 0 || j["padding"].get<long long>() > 100000)
      throw Error(ErrorCode::invalid_argument, "'padding' must be an integer in [0, 100000]");
    s.padding = j["padding"].get<int>();
  }
  if (j.contains("nested")) {
    const std::string n = j["nested"].is_string() ? j["nested"].get<std::string>() : "";
    if (n == "count") s.nested = SplitSpec::Nested::count;
    else if (n == "children") s.nested = SplitSpec::Nested::children;
    else if (n == "ignore") s.nested = SplitSpec::Nested::ignore;
    else throw Error(ErrorCode::invalid_argument, "'nested' must be one of count, children, ignore");
  }
  return s;
}

PipelineSpec parse_pipeline(const json& source, const ops::OpRegistry& registry, const std::vector<WriterKind>& writers) {
  PipelineSpec spec;
  spec.source = source;
  Problems problems;
  if (!source.is_object()) throw Error(ErrorCode::invalid_argument, "pipeline: the file must hold a JSON object");
  check_fields(source, {"name", "description", "input", "nodes", "comment"}, "pipeline", problems);
  if (source.contains("name") && !source["name"].is_string()) problems.add("pipeline", "'name' must be text");
  if (source.contains("description") && !source["description"].is_string()) problems.add("pipeline", "'description' must be text");
  spec.name = source.value("name", json("")).is_string() ? source.value("name", std::string()) : "";
  spec.description = source.value("description", json("")).is_string() ? source.value("description", std::string()) : "";
  spec.input = source.value("input", json());
  if (!spec.input.is_null() && !spec.input.is_object()) problems.add("pipeline", "'input' must be an object");
  if (!source.contains("nodes") || !source["nodes"].is_array() || source["nodes"].empty()) {
    problems.add("pipeline", "'nodes' must be a non-empty list");
  } else {
    Facets facets{{"raw", FacetKind::image}};
    Unchecked unchecked;
    int stage = 0;
    bool wrote = false;
    for (size_t i = 0; i < source["nodes"].size(); ++i) {
      const json& j = source["nodes"][i];
      Node node;
      node.index = static_cast<int>(i);
      node.stage = stage;
      if (!j.is_object()) {
        problems.add(fmt::format("node {}", i + 1), "must be an object");
        continue;
      }
      const int kinds = int(j.contains("op")) + int(j.contains("split")) + int(j.contains("write"));
      if (kinds != 1) {
        problems.add(fmt::format("node {}", i + 1), "must have exactly one of 'op', 'split' or 'write'");
        continue;
      }
      const char* key = j.contains("op") ? "op" : j.contains("split") ? "split" : "write";
      if (!j[key].is_string()) {
        problems.add(fmt::format("node {}", i + 1), fmt::format("'{}' must be a name", key));
        continue;
      }
      node.name = j[key].get<std::string>();
      if (j.contains("op")) {
        node.kind = Node::Kind::op;
        if (wrote) problems.add(node.label(), "comes after a writer; writers end the pipeline");
        check_op(j, node, registry, facets, unchecked, problems);
      } else if (j.contains("split")) {
        node.kind = Node::Kind::split;
        if (wrote) problems.add(node.label(), "comes after a writer; writers end the pipeline");
        check_split(j, node, facets, unchecked, problems);
        node.stage = stage;
        ++stage;
      } else {
        node.kind = Node::Kind::write;
        wrote = true;
        node.params = j;
        auto kind = std::find_if(writers.begin(), writers.end(), [&](const WriterKind& w) { return w.name == node.name; });
        if (kind == writers.end()) {
          std::string names;
          for (const auto& w : writers) names += (names.empty() ? "" : ", ") + w.name;
          problems.add(node.label(), fmt::format("unknown writer '{}' (known: {})", node.name, names));
        } else {
          std::set<std::string> allowed(kind->fields.begin(), kind->fields.end());
          allowed.insert("write");
          allowed.insert("comment");
          check_fields(j, allowed, node.label(), problems);
          // Writers see unchecked facets as images: their kind cannot be known.
          Facets visible = facets;
          for (const std::string& name : unchecked) visible.emplace(name, FacetKind::image);
          for (const std::string& p : kind->check(j, visible, stage)) problems.add(node.label(), p);
        }
      }
      spec.nodes.push_back(std::move(node));
    }
    spec.stages = stage + 1;
    if (!wrote) problems.add("pipeline", "has no writer: its results would be lost (add a 'write' node)");
  }
  if (!problems.lines.empty()) {
    std::string message = fmt::format("pipeline{}: {} problem{}:", spec.name.empty() ? "" : " '" + spec.name + "'",
                                      problems.lines.size(), problems.lines.size() == 1 ? "" : "s");
    for (const std::string& line : problems.lines) message += "\n  " + line;
    throw Error(ErrorCode::invalid_argument, message, json(problems.lines));
  }
  return spec;
}

}  // namespace tessera::pipeline
