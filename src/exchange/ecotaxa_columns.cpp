#include "exchange/ecotaxa_columns.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "exchange/ecotaxa_values.hpp"
#include "tessera/core/error.hpp"

namespace tessera::exchange::ecotaxa {
namespace {

struct Fixed {
  std::string_view name;
  bool numeric;
};

// EcoTaxa's predefined object columns with their fixed types, in the order the TSV lists them.
// object_annotation_hierarchy is export-only: it is reserved so no custom name can produce it.
constexpr Fixed kFixed[] = {
    {"object_id", false},
    {"img_file_name", false},
    {"img_rank", true},
    {"object_lat", true},
    {"object_lon", true},
    {"object_date", false},
    {"object_time", false},
    {"object_depth_min", true},
    {"object_depth_max", true},
    {"object_link", false},
    {"complement_info", false},
    {"object_annotation_category", false},
    {"object_annotation_category_id", true},
    {"object_annotation_status", false},
    {"object_annotation_person_name", false},
    {"object_annotation_person_email", false},
    {"object_annotation_date", false},
    {"object_annotation_time", false},
    {"object_annotation_hierarchy", false},
};

bool is_fixed_name(std::string_view name) {
  return std::any_of(std::begin(kFixed), std::end(kFixed), [&](const Fixed& f) { return f.name == name; });
}

constexpr std::string_view kPrefix[] = {"object", "sample", "acq", "process"};
constexpr std::string_view kFamilyName[] = {"object", "sample", "acquisition", "process"};

// Parent fields EcoTaxa predefines (not counted against the limits); the id leads its block.
bool is_predefined_parent(Family family, std::string_view field) {
  return field == "id" || (family == Family::sample && field == "dataportal_descriptor") ||
         (family == Family::acq && field == "instrument");
}

size_t limit(Family family, bool numeric) {
  switch (family) {
    case Family::object: return numeric ? 500 : 20;
    case Family::sample: return 60;
    case Family::acq: return 30;
    case Family::process: return 30;
  }
  return 0;
}

}  // namespace

size_t Columns::add(EcoTaxaColumn column, int group, size_t rank, Family family, bool custom) {
  const size_t index = columns_.size();
  by_name_.emplace(column.name, index);
  columns_.push_back({std::move(column), group, rank, family, custom});
  return index;
}

size_t Columns::fixed(std::string_view name) {
  if (const auto it = by_name_.find(std::string(name)); it != by_name_.end()) return it->second;
  for (size_t i = 0; i < std::size(kFixed); ++i) {
    if (kFixed[i].name == name) return add({std::string(name), kFixed[i].numeric, {}}, 0, i, Family::object, false);
  }
  throw Error(ErrorCode::internal, fmt::format("'{}' is not a predefined EcoTaxa column", name));
}

size_t Columns::field(Family family, std::string_view key, bool numeric, std::string_view object_id) {
  auto& keys = by_key_[static_cast<size_t>(family)];
  const std::string key_text(key);
  size_t index;
  if (const auto it = keys.find(key_text); it != keys.end()) {
    index = it->second;
  } else {
    const std::string field = sanitize_field(key);
    if (field.empty()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("EcoTaxa object '{}': {} field name '{}' has no letter or digit", object_id,
                              kFamilyName[static_cast<size_t>(family)], key));
    }
    const std::string base = fmt::format("{}_{}", kPrefix[static_cast<size_t>(family)], field);
    const bool predefined = family != Family::object && is_predefined_parent(family, field);
    if (predefined && by_name_.count(base) > 0) {
      index = by_name_.at(base);
    } else {
      std::string name = base;
      auto taken = [&](const std::string& n) { return by_name_.count(n) > 0 || is_fixed_name(n); };
      for (int suffix = 2; taken(name); ++suffix) name = fmt::format("{}_{}", base, suffix);
      if (!predefined) {
        const size_t used = static_cast<size_t>(std::count_if(columns_.begin(), columns_.end(), [&](const Entry& e) {
          return e.family == family && e.custom && (family != Family::object || e.column.numeric == numeric);
        }));
        if (used >= limit(family, numeric)) {
          throw Error(ErrorCode::invalid_argument,
                      fmt::format("EcoTaxa object '{}': field '{}' would be column '{}', past EcoTaxa's limit of {} "
                                  "{}{} columns",
                                  object_id, key, name, limit(family, numeric),
                                  family == Family::object ? (numeric ? "numeric " : "text ") : "",
                                  kFamilyName[static_cast<size_t>(family)]));
        }
      }
      // Parent fields are always text in EcoTaxa; the id sorts first in its block.
      const bool is_numeric = family == Family::object && numeric;
      const int group = 1 + static_cast<int>(family);
      const size_t rank = predefined && field == "id" ? 0 : 1 + columns_.size();
      index = add({name, is_numeric, key_text}, group, rank, family, !predefined);
    }
    keys.emplace(key_text, index);
    provisional_keys_.emplace_back(family, key_text);
  }
  const EcoTaxaColumn& column = columns_[index].column;
  if (family == Family::object && column.numeric != numeric) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("EcoTaxa object '{}': field '{}' is {} here but column '{}' is {}", object_id, key,
                            numeric ? "a number" : "text", column.name, column.numeric ? "numeric" : "text"));
  }
  return index;
}

void Columns::commit() {
  committed_ = columns_.size();
  provisional_keys_.clear();
}

void Columns::rollback() {
  for (const auto& [family, key] : provisional_keys_) by_key_[static_cast<size_t>(family)].erase(key);
  provisional_keys_.clear();
  while (columns_.size() > committed_) {
    by_name_.erase(columns_.back().column.name);
    columns_.pop_back();
  }
}

std::vector<size_t> Columns::order(size_t count) const {
  std::vector<size_t> out(count);
  for (size_t i = 0; i < count; ++i) out[i] = i;
  std::sort(out.begin(), out.end(), [&](size_t a, size_t b) {
    const Entry& x = columns_[a];
    const Entry& y = columns_[b];
    return x.group != y.group ? x.group < y.group : x.rank < y.rank;
  });
  return out;
}

}  // namespace tessera::exchange::ecotaxa
