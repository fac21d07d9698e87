#pragma once

#include <string>
#include <vector>

#include "tessera/ops/op.hpp"

namespace tessera::ops {

// Holds the operations. Parameters are validated here, once, for every front end (CLI, HTTP, pipelines):
// unknown names, wrong types, out-of-range values and bad choices are Error{invalid_argument} naming the op
// and the parameter: "threshold_otsu: parameter 'bins' must be in [2, 65536], got 1".
class OpRegistry {
 public:
  void add(OpDescriptor op);  // Error{internal} on a duplicate name or a default outside its own range
  const OpDescriptor* find(const std::string& name) const;
  const OpDescriptor& get(const std::string& name) const;  // Error{not_found} listing close names
  std::vector<const OpDescriptor*> list() const;            // sorted by name

  // Returns params with defaults filled in and numbers converted to the declared type.
  nlohmann::json validate(const std::string& op, const nlohmann::json& params) const;
  // Validates, checks the required input facets and their kinds, runs.
  FacetMap run(const std::string& op, const FacetMap& inputs, const nlohmann::json& params = nlohmann::json::object()) const;

  nlohmann::json describe() const;  // every descriptor as JSON (for `tessera ops --json` and the HTTP API)

 private:
  std::vector<OpDescriptor> ops_;
};

// The registry with every built-in operation, built once (thread-safe).
const OpRegistry& builtin_ops();

}  // namespace tessera::ops
