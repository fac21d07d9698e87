#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tessera/exchange/ecotaxa.hpp"

namespace tessera::exchange::ecotaxa {

// Column families of an EcoTaxa TSV, in the order they appear in the file.
enum class Family { object = 0, sample = 1, acq = 2, process = 3 };

// The columns of one bundle, growing as objects stream in. Columns created while an object is checked
// are provisional until commit(); rollback() forgets them, so a rejected object leaves no trace.
class Columns {
 public:
  // A predefined object column by exact name ("object_lat", "img_rank", ...).
  size_t fixed(std::string_view name);

  // The column of a caller-named field (custom object measurement or parent field), created on first
  // use as described in ecotaxa.hpp. Throws Error{invalid_argument} naming object_id and the field for
  // a name with no letter or digit, a numeric/text clash, or a family's column limit.
  size_t field(Family family, std::string_view key, bool numeric, std::string_view object_id);

  void commit();
  void rollback();

  size_t size() const { return columns_.size(); }
  size_t committed_size() const { return committed_; }
  const EcoTaxaColumn& at(size_t index) const { return columns_[index].column; }
  // Indices of the first `count` columns in TSV order.
  std::vector<size_t> order(size_t count) const;

 private:
  struct Entry {
    EcoTaxaColumn column;
    int group = 0;        // position of its block in the file
    size_t rank = 0;      // position within the block
    Family family = Family::object;
    bool custom = false;  // counts against the family's limit
  };
  size_t add(EcoTaxaColumn column, int group, size_t rank, Family family, bool custom);

  std::vector<Entry> columns_;
  std::unordered_map<std::string, size_t> by_name_;
  std::array<std::unordered_map<std::string, size_t>, 4> by_key_;  // per family: caller's key -> column
  std::vector<std::pair<Family, std::string>> provisional_keys_;
  size_t committed_ = 0;
};

}  // namespace tessera::exchange::ecotaxa
