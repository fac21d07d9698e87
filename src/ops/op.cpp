#include "tessera/ops/op.hpp"

#include <fmt/format.h>

#include "tessera/core/error.hpp"

namespace tessera::ops {

std::string_view to_string(FacetKind kind) {
  switch (kind) {
    case FacetKind::image: return "image";
    case FacetKind::mask: return "mask";
    case FacetKind::labels: return "labels";
    case FacetKind::table: return "table";
    case FacetKind::images: return "images";
  }
  return "image";
}

std::string_view to_string(ParamType type) {
  switch (type) {
    case ParamType::integer: return "integer";
    case ParamType::number: return "number";
    case ParamType::boolean: return "boolean";
    case ParamType::text: return "text";
    case ParamType::choice: return "choice";
  }
  return "number";
}

ParamSpec ParamSpec::integer(std::string name, long long def, std::pair<double, double> range, std::string help) {
  return {std::move(name), ParamType::integer, def, range.first, range.second, {}, std::move(help)};
}
ParamSpec ParamSpec::number(std::string name, double def, std::pair<double, double> range, std::string help) {
  return {std::move(name), ParamType::number, def, range.first, range.second, {}, std::move(help)};
}
ParamSpec ParamSpec::boolean(std::string name, bool def, std::string help) {
  return {std::move(name), ParamType::boolean, def, std::nullopt, std::nullopt, {}, std::move(help)};
}
ParamSpec ParamSpec::text(std::string name, std::string def, std::string help) {
  return {std::move(name), ParamType::text, std::move(def), std::nullopt, std::nullopt, {}, std::move(help)};
}
ParamSpec ParamSpec::choice(std::string name, std::string def, std::vector<std::string> choices, std::string help) {
  return {std::move(name), ParamType::choice, std::move(def), std::nullopt, std::nullopt, std::move(choices),
          std::move(help)};
}

const Facet& OpCall::input(const std::string& facet) const {
  auto it = inputs_.find(facet);
  if (it == inputs_.end()) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: input '{}' is missing", op_, facet));
  }
  return it->second;
}

}  // namespace tessera::ops
