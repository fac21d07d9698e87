// Cross-check against a real EcoTaxa TSV: EcoTaxa's own import fixtures (shared/data, see its README).
// The same objects and values written by EcoTaxaWriter must parse to the same table.

#include <cmath>
#include <limits>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "exchange/python.hpp"
#include "tessera/core/file.hpp"
#include "tessera/exchange/ecotaxa.hpp"
#include "tessera/exchange/zip_reader.hpp"
#include "test_util.hpp"

namespace tessera::exchange {
namespace {

const std::filesystem::path kData = TESSERA_SOURCE_DIR "/../shared/data/ecotaxa_zooscan_vignettes";

// Header, types and rows of an EcoTaxa TSV, parsed by Python's csv module the way EcoTaxa does; `zip`
// empty means `tsv` is a plain file.
nlohmann::json parse_tsv(const std::string& zip, const std::string& tsv) {
  const std::string out = test::run_python(R"(
import csv, io, json, sys, zipfile
raw = zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]) if sys.argv[1] else open(sys.argv[2], 'rb').read()
text = raw.decode('utf-8-sig') if raw.startswith(b'\xef\xbb\xbf') else raw.decode('latin-1')
rows = list(csv.reader(io.StringIO(text, newline=''), delimiter='\t', quotechar='"'))
print(json.dumps({'header': [h.strip(' \t').lower() for h in rows[0]], 'types': rows[1], 'rows': rows[2:]}))
)", {zip, tsv});
  return nlohmann::json::parse(out.substr(out.find('{')));
}

std::optional<double> number(const std::string& cell) {
  if (cell.empty()) return std::nullopt;
  return std::stod(cell);
}

// The sample's row as the object a pipeline would hand to the writer.
EcoTaxaObject object_from_row(const nlohmann::json& table, const nlohmann::json& row,
                              const std::filesystem::path& folder) {
  EcoTaxaObject o;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (size_t i = 0; i < table["header"].size(); ++i) {
    const std::string name = table["header"][i];
    const std::string type = table["types"][i];
    const std::string cell = row[i];
    auto text = [&] { return std::optional<std::string>(cell); };
    auto real = [&] { return std::optional<double>(number(cell).value_or(nan)); };
    if (name == "object_id") o.object_id = cell;
    else if (name == "img_file_name") o.images.push_back({cell, read_file(folder / cell), {}});
    else if (name == "img_rank") continue;  // the writer numbers images itself
    else if (name == "object_lat") o.lat = real();
    else if (name == "object_lon") o.lon = real();
    else if (name == "object_date") o.date = text();
    else if (name == "object_time") o.time = text();
    else if (name == "object_depth_min") o.depth_min = real();
    else if (name == "object_depth_max") o.depth_max = real();
    else if (name == "object_link") o.link = text();
    else if (name == "object_annotation_category") o.annotation_category = text();
    else if (name == "object_annotation_category_id") {
      if (!cell.empty()) o.annotation_category_id = std::stoll(cell);
    } else if (name == "object_annotation_status") o.annotation_status = text();
    else if (name == "object_annotation_person_name") o.annotation_person_name = text();
    else if (name == "object_annotation_person_email") o.annotation_person_email = text();
    else if (name == "object_annotation_date") o.annotation_date = text();
    else if (name == "object_annotation_time") o.annotation_time = text();
    else if (name.starts_with("object_") && type == "[f]") o.numbers.emplace_back(name.substr(7), *real());
    else if (name.starts_with("object_")) o.texts.emplace_back(name.substr(7), cell);
    else if (name.starts_with("sample_")) o.sample.emplace_back(name.substr(7), cell);
    else if (name.starts_with("acq_")) o.acquisition.emplace_back(name.substr(4), cell);
    else if (name.starts_with("process_")) o.process.emplace_back(name.substr(8), cell);
    else ADD_FAILURE() << "unexpected column " << name;
  }
  return o;
}

size_t index_of(const nlohmann::json& header, const std::string& name) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return i;
  }
  return header.size();
}

TEST(EcoTaxaSample, WriterReproducesEcoTaxasOwnImportFixtures) {
  if (!std::filesystem::exists(kData)) GTEST_SKIP() << kData << " is absent";
  int compared = 0;
  for (const char* sample : {"m106_mn01_n1_sml", "m106_mn01_n2_sml"}) {
    SCOPED_TRACE(sample);
    const auto folder = kData / sample;
    const auto reference = parse_tsv("", (folder / fmt::format("ecotaxa_{}.tsv", sample)).string());
    test::TempDir dir;
    const auto zip = dir / fmt::format("{}.zip", sample);
    EcoTaxaWriter writer(zip);
    for (const auto& row : reference["rows"]) writer.add(object_from_row(reference, row, folder));
    writer.finish();
    const auto ours = parse_tsv(zip.string(), fmt::format("ecotaxa_{}.tsv", sample));

    // Same columns (ours in EcoTaxa's canonical order, the sample in its own).
    const auto& ref_header = reference["header"];
    const auto& our_header = ours["header"];
    EXPECT_EQ(std::set<std::string>(our_header.begin(), our_header.end()),
              std::set<std::string>(ref_header.begin(), ref_header.end()));
    ASSERT_EQ(ours["rows"].size(), reference["rows"].size());
    ZipReader reader(zip);
    for (size_t c = 0; c < ref_header.size(); ++c) {
      const std::string name = ref_header[c];
      const size_t k = index_of(our_header, name);
      ASSERT_LT(k, our_header.size()) << name;
      const std::string ref_type = reference["types"][c];
      const std::string our_type = ours["types"][k];
      // The fixture types img_rank and object_annotation_category_id as [t]; EcoTaxa ignores the type row
      // for predefined columns, and we write their real type, [f].
      if (name == "img_rank" || name == "object_annotation_category_id") EXPECT_EQ(our_type, "[f]");
      else EXPECT_EQ(our_type, ref_type) << name;
      for (size_t r = 0; r < reference["rows"].size(); ++r) {
        const std::string want = reference["rows"][r][c];
        const std::string got = ours["rows"][r][k];
        SCOPED_TRACE(fmt::format("row {} column {}", r, name));
        if (name == "img_file_name") {
          EXPECT_EQ(got, "images/" + want);
          EXPECT_EQ(reader.read(got), read_file(folder / want));
        } else if (name == "img_rank") {
          EXPECT_EQ(got, "0");  // an empty rank means 0 to EcoTaxa
        } else if (our_type == "[f]") {
          EXPECT_EQ(number(got), number(want));  // "600.0" and "600" are the same number
        } else {
          EXPECT_EQ(got, want);
        }
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 8 * 90 + 3 * 89);  // every cell of both fixtures
}

}  // namespace
}  // namespace tessera::exchange
