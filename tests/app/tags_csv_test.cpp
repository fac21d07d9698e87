#include "tessera/app/tags_csv.hpp"

#include <gtest/gtest.h>

#include "tessera/core/error.hpp"

namespace tessera::app {
namespace {

TEST(TagsCsv, ReadsColumnsInAnyOrderWithQuotedFields) {
  const auto tags = parse_tags_csv(
      "parent,name,colour\n"
      ",nucleus,#00FF00\n"
      "nucleus,\"dividing, early\",ff00ff\n",
      "tags.csv");
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_EQ(tags[0].name, "nucleus");
  EXPECT_EQ(tags[0].color, "#00ff00");
  EXPECT_FALSE(tags[0].parent);
  EXPECT_EQ(tags[1].name, "dividing, early");
  EXPECT_EQ(tags[1].color, "#ff00ff");
  EXPECT_EQ(tags[1].parent, "nucleus");
  EXPECT_EQ(tags[1].kind, "label");
}

TEST(TagsCsv, HandlesCrLfBomAndEmbeddedQuotes) {
  const auto tags = parse_tags_csv("\xEF\xBB\xBFname,kind\r\n\"say \"\"hi\"\"\",object\r\n", "t.csv");
  ASSERT_EQ(tags.size(), 1u);
  EXPECT_EQ(tags[0].name, "say \"hi\"");
  EXPECT_EQ(tags[0].kind, "object");
}

TEST(TagsCsv, ErrorsNameFileRecordAndField) {
  struct Case {
    const char* text;
    const char* expected;
  } cases[] = {
      {"name,color\nnucleus,#12345\n", "record 2: field 'color'"},
      {"name,shape\nx,round\n", "unknown column 'shape'"},
      {"color\n#ffffff\n", "no 'name' column"},
      {"name,color\n,#ffffff\n", "field 'name' is empty"},
      {"name,color\nx\n", "record 2: 1 fields"},
      {"name\n\"open\n", "never closed"},
      {"", "empty file"},
  };
  for (const auto& c : cases) {
    try {
      parse_tags_csv(c.text, "tags.csv");
      FAIL() << "accepted: " << c.text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.expected), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("tags.csv"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace tessera::app
