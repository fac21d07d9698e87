#include "tessera/ops/registry.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "ops/builtin.hpp"
#include "tessera/core/error.hpp"

namespace tessera::ops {
namespace {

std::string format_number(double v) {
  if (std::floor(v) == v && std::abs(v) < 1e15) return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{}", v);
}

[[noreturn]] void bad_param(const std::string& op, const ParamSpec& p, const std::string& what) {
  throw Error(ErrorCode::invalid_argument, fmt::format("{}: parameter '{}' {}", op, p.name, what),
              {{"op", op}, {"parameter", p.name}});
}

nlohmann::json coerce(const std::string& op, const ParamSpec& p, const nlohmann::json& value) {
  switch (p.type) {
    case ParamType::integer:
    case ParamType::number: {
      double v = 0;
      if (value.is_number()) {
        v = value.get<double>();
      } else if (value.is_string()) {  // from the command line
        const std::string text = value.get<std::string>();
        char* end = nullptr;
        v = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0') bad_param(op, p, fmt::format("must be a number, got '{}'", text));
      } else {
        bad_param(op, p, fmt::format("must be a number, got {}", value.dump()));
      }
      if (!std::isfinite(v)) bad_param(op, p, fmt::format("must be finite, got {}", value.dump()));
      if (p.type == ParamType::integer && std::floor(v) != v) {
        bad_param(op, p, fmt::format("must be an integer, got {}", format_number(v)));
      }
      if ((p.min && v < *p.min) || (p.max && v > *p.max)) {
        bad_param(op, p, fmt::format("must be in [{}, {}], got {}", format_number(p.min.value_or(-INFINITY)),
                                     format_number(p.max.value_or(INFINITY)), format_number(v)));
      }
      if (p.type == ParamType::integer) return static_cast<long long>(v);
      return v;
    }
    case ParamType::boolean:
      if (value.is_boolean()) return value;
      if (value.is_string()) {
        std::string t = value.get<std::string>();
        std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
        if (t == "true" || t == "1" || t == "yes") return true;
        if (t == "false" || t == "0" || t == "no") return false;
      }
      bad_param(op, p, fmt::format("must be true or false, got {}", value.dump()));
    case ParamType::text:
      if (value.is_string()) return value;
      bad_param(op, p, fmt::format("must be text, got {}", value.dump()));
    case ParamType::choice: {
      if (value.is_string()) {
        const std::string v = value.get<std::string>();
        if (std::find(p.choices.begin(), p.choices.end(), v) != p.choices.end()) return value;
      }
      std::string list;
      for (const auto& c : p.choices) list += (list.empty() ? "" : ", ") + c;
      bad_param(op, p, fmt::format("must be one of {}, got {}", list, value.dump()));
    }
  }
  return value;
}

}  // namespace

void OpRegistry::add(OpDescriptor op) {
  if (find(op.name) != nullptr) throw Error(ErrorCode::internal, fmt::format("operation '{}' registered twice", op.name));
  for (const ParamSpec& p : op.params) {
    if (!p.is_required()) coerce(op.name, p, p.default_value);  // a default outside its range is a bug
  }
  ops_.push_back(std::move(op));
  std::sort(ops_.begin(), ops_.end(), [](const OpDescriptor& a, const OpDescriptor& b) { return a.name < b.name; });
}

const OpDescriptor* OpRegistry::find(const std::string& name) const {
  for (const auto& op : ops_) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

namespace {

// Levenshtein distance, for "did you mean" hints on misspelt op names.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

const OpDescriptor& OpRegistry::get(const std::string& name) const {
  if (const OpDescriptor* op = find(name)) return *op;
  std::string similar;
  for (const auto& op : ops_) {
    // Typos (a swapped, missing or extra letter or two) and names that contain or start like the other.
    const bool typo = edit_distance(op.name, name) <= std::max<size_t>(2, op.name.size() / 4);
    if (typo || op.name.find(name) != std::string::npos || name.find(op.name.substr(0, 4)) != std::string::npos) {
      similar += (similar.empty() ? "" : ", ") + op.name;
    }
  }
  throw Error(ErrorCode::not_found,
              fmt::format("no operation named '{}'{}; `tessera ops` lists them", name,
                          similar.empty() ? "" : " (did you mean " + similar + "?)"));
}

std::vector<const OpDescriptor*> OpRegistry::list() const {
  std::vector<const OpDescriptor*> out;
  for (const auto& op : ops_) out.push_back(&op);
  return out;
}

nlohmann::json OpRegistry::validate(const std::string& name, const nlohmann::json& params) const {
  const OpDescriptor& op = get(name);
  if (!params.is_null() && !params.is_object()) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: parameters must be a JSON object", name));
  }
  // Every bad parameter is reported, not only the first: a pipeline file is fixed in one go.
  std::vector<Error> problems;
  auto checked = [&](auto&& fn) {
    try {
      fn();
    } catch (const Error& e) {
      problems.push_back(e);
    }
  };
  nlohmann::json out = nlohmann::json::object();
  if (params.is_object()) {
    for (const auto& [key, value] : params.items()) {
      const bool known = std::any_of(op.params.begin(), op.params.end(), [&](const ParamSpec& p) { return p.name == key; });
      if (!known) {
        std::string names;
        for (const auto& p : op.params) names += (names.empty() ? "" : ", ") + p.name;
        problems.emplace_back(ErrorCode::invalid_argument,
                              fmt::format("{}: unknown parameter '{}' (parameters: {})", name, key, names.empty() ? "none" : names),
                              nlohmann::json{{"op", name}, {"parameter", key}});
      }
    }
  }
  for (const ParamSpec& p : op.params) {
    if (params.is_object() && params.contains(p.name)) {
      checked([&] { out[p.name] = coerce(name, p, params[p.name]); });
    } else if (p.is_required()) {
      checked([&] { bad_param(name, p, "is required"); });
    } else {
      out[p.name] = p.default_value;
    }
  }
  if (problems.size() == 1) throw problems.front();
  if (!problems.empty()) {
    std::string message;
    nlohmann::json each = nlohmann::json::array();
    for (const Error& e : problems) {
      message += (message.empty() ? "" : "; ") + std::string(e.what());
      each.push_back(e.what());
    }
    throw Error(ErrorCode::invalid_argument, message, {{"op", name}, {"problems", each}});
  }
  return out;
}

FacetMap OpRegistry::run(const std::string& name, const FacetMap& inputs, const nlohmann::json& params) const {
  const OpDescriptor& op = get(name);
  const nlohmann::json valid = validate(name, params);
  for (const FacetSpec& f : op.inputs) {
    auto it = inputs.find(f.name);
    if (it == inputs.end()) {
      if (f.optional) continue;
      throw Error(ErrorCode::invalid_argument, fmt::format("{}: input '{}' ({}) is missing", name, f.name, to_string(f.kind)));
    }
    const Facet& facet = it->second;
    const bool matrix = f.kind == FacetKind::image || f.kind == FacetKind::mask || f.kind == FacetKind::labels;
    if (matrix && facet.mat.empty()) {
      throw Error(ErrorCode::invalid_argument, fmt::format("{}: input '{}' is an empty image", name, f.name));
    }
    if (f.kind == FacetKind::mask && (facet.mat.type() != CV_8UC1)) {
      throw Error(ErrorCode::invalid_argument, fmt::format("{}: input '{}' must be a one-channel 8-bit mask", name, f.name));
    }
    if (f.kind == FacetKind::labels && facet.mat.channels() != 1) {
      throw Error(ErrorCode::invalid_argument, fmt::format("{}: input '{}' must be a one-channel label image", name, f.name));
    }
  }
  try {
    return op.run(OpCall(op.name, inputs, valid));
  } catch (const Error&) {
    throw;
  } catch (const cv::Exception& e) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", name, e.what()));
  }
}

nlohmann::json OpRegistry::describe() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& op : ops_) {
    nlohmann::json j = {{"name", op.name}, {"summary", op.summary}};
    auto facets = [](const std::vector<FacetSpec>& specs) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& f : specs) {
        a.push_back({{"name", f.name}, {"kind", to_string(f.kind)}, {"help", f.help}, {"optional", f.optional}});
      }
      return a;
    };
    j["inputs"] = facets(op.inputs);
    j["outputs"] = facets(op.outputs);
    j["params"] = nlohmann::json::array();
    for (const auto& p : op.params) {
      nlohmann::json pj = {{"name", p.name}, {"type", to_string(p.type)}, {"default", p.default_value}, {"help", p.help}};
      if (p.min) pj["min"] = *p.min;
      if (p.max) pj["max"] = *p.max;
      if (!p.choices.empty()) pj["choices"] = p.choices;
      j["params"].push_back(pj);
    }
    out.push_back(j);
  }
  return out;
}

const OpRegistry& builtin_ops() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    register_builtin_ops(r);
    return r;
  }();
  return registry;
}

}  // namespace tessera::ops
