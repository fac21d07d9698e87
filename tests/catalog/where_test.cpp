#include "catalog/where.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tessera/core/error.hpp"

namespace tessera::catalog {
namespace {

using ::testing::HasSubstr;

SqlValue i(std::int64_t v) { return SqlValue(v); }
SqlValue d(double v) { return SqlValue(v); }
SqlValue t(const char* v) { return SqlValue(std::string(v)); }

constexpr const char* kMetaSqlite = "json_extract(i.metadata, ?)";
constexpr const char* kMetaPg = "(i.metadata #> CAST(? AS text[]))";
constexpr const char* kMetaPgText = "(i.metadata #>> CAST(? AS text[]))";
constexpr const char* kPgNumber = "to_jsonb(CAST(? AS numeric))";
constexpr const char* kPgText = "to_jsonb(CAST(? AS text))";
constexpr const char* kPgBool = "to_jsonb(CAST(? AS boolean))";

// One filter and what it compiles to on each backend.
struct ShapeCase {
  std::string filter;
  std::string sqlite_sql;
  SqlParams sqlite_params;
  std::string pg_sql;
  SqlParams pg_params;
};

// A filter whose SQL is the same on both backends (column fields, no LIKE).
ShapeCase same(std::string filter, std::string sql, SqlParams params) {
  return {filter, sql, params, sql, params};
}

std::vector<ShapeCase> shape_cases() {
  const std::string ms = kMetaSqlite;
  const std::string mp = kMetaPg;
  const std::string mpt = kMetaPgText;
  const std::string pn = kPgNumber;
  const std::string pt = kPgText;
  return {
      same("", "1=1", {}),
      same("   \t ", "1=1", {}),
      // Comparison operators on a column; '==' and '!=' are spelled the SQL way.
      same("width > 100", "i.width > ?", {i(100)}),
      same("width >= 100", "i.width >= ?", {i(100)}),
      same("width < 100", "i.width < ?", {i(100)}),
      same("width <= 100", "i.width <= ?", {i(100)}),
      same("width = 100", "i.width = ?", {i(100)}),
      same("width == 100", "i.width = ?", {i(100)}),
      same("width != 100", "i.width <> ?", {i(100)}),
      same("width <> 100", "i.width <> ?", {i(100)}),
      same("width>100", "i.width > ?", {i(100)}),
      same("focus >= 0.5", "i.focus >= ?", {d(0.5)}),
      same("path = 'plate1/A1/t01.tif'", "i.source_path = ?", {t("plate1/A1/t01.tif")}),
      same("series = 'pos1'", "(SELECT s.name FROM series s WHERE s.id = i.series_id) = ?",
           {t("pos1")}),
      same("width not in (1, 2)", "i.width NOT IN (?, ?)", {i(1), i(2)}),
      same("id in (7)", "i.id IN (?)", {i(7)}),
      same("focus is null", "i.focus IS NULL", {}),
      same("acquired_at is not null", "i.acquired_at IS NOT NULL", {}),
      // Metadata fields: the JSON path is a parameter too; values keep their JSON type.
      {"well = 'A1'", ms + " = ?", {t("$.well"), t("A1")}, mp + " = " + pt, {t("{well}"), t("A1")}},
      {"t >= 3", ms + " >= ?", {t("$.t"), i(3)}, mp + " >= " + pn, {t("{t}"), i(3)}},
      {"exposure < 0.25",
       ms + " < ?",
       {t("$.exposure"), d(0.25)},
       mp + " < " + pn,
       {t("{exposure}"), d(0.25)}},
      {"stage.x > -1.5",
       ms + " > ?",
       {t("$.stage.x"), d(-1.5)},
       mp + " > " + pn,
       {t("{stage,x}"), d(-1.5)}},
      {"ok = true", ms + " = ?", {t("$.ok"), i(1)}, mp + " = " + kPgBool, {t("{ok}"), t("true")}},
      {"ok != FALSE",
       ms + " <> ?",
       {t("$.ok"), i(0)},
       mp + " <> " + kPgBool,
       {t("{ok}"), t("false")}},
      {"well in ('A1', \"B2\")",
       ms + " IN (?, ?)",
       {t("$.well"), t("A1"), t("B2")},
       mp + " IN (" + pt + ", " + pt + ")",
       {t("{well}"), t("A1"), t("B2")}},
      {"t not in (1, 2.5)",
       ms + " NOT IN (?, ?)",
       {t("$.t"), i(1), d(2.5)},
       mp + " NOT IN (" + pn + ", " + pn + ")",
       {t("{t}"), i(1), d(2.5)}},
      {"well is not null", ms + " IS NOT NULL", {t("$.well")}, mpt + " IS NOT NULL", {t("{well}")}},
      {"well is null", ms + " IS NULL", {t("$.well")}, mpt + " IS NULL", {t("{well}")}},
      // LIKE is case-insensitive on both: SQLite's LIKE is, PostgreSQL needs ILIKE on text.
      {"well like 'A%'",
       "(" + ms + " LIKE ?)",
       {t("$.well"), t("A%")},
       "(CAST(" + mpt + " AS text) ILIKE ?)",
       {t("{well}"), t("A%")}},
      {"well not like 'A%'",
       "NOT (" + ms + " LIKE ?)",
       {t("$.well"), t("A%")},
       "NOT (CAST(" + mpt + " AS text) ILIKE ?)",
       {t("{well}"), t("A%")}},
      {"path like '%.tif'",
       "(i.source_path LIKE ?)",
       {t("%.tif")},
       "(CAST(i.source_path AS text) ILIKE ?)",
       {t("%.tif")}},
      {"path NOT LIKE '%.png'",
       "NOT (i.source_path LIKE ?)",
       {t("%.png")},
       "NOT (CAST(i.source_path AS text) ILIKE ?)",
       {t("%.png")}},
      // `meta.` forces the metadata field even when the name is a column.
      {"meta.width = 7", ms + " = ?", {t("$.width"), i(7)}, mp + " = " + pn, {t("{width}"), i(7)}},
      {"meta.path like 'x%'",
       "(" + ms + " LIKE ?)",
       {t("$.path"), t("x%")},
       "(CAST(" + mpt + " AS text) ILIKE ?)",
       {t("{path}"), t("x%")}},
      {"meta.stage.x = 1",
       ms + " = ?",
       {t("$.stage.x"), i(1)},
       mp + " = " + pn,
       {t("{stage,x}"), i(1)}},
      // A dotted name that starts with a column name is a metadata path, not the column.
      {"width.px = 1",
       ms + " = ?",
       {t("$.width.px"), i(1)},
       mp + " = " + pn,
       {t("{width,px}"), i(1)}},
      // Boolean structure: NOT binds tighter than AND, AND tighter than OR; parentheses are kept.
      same("not width = 1", "(NOT i.width = ?)", {i(1)}),
      same("width = 1 and height = 2", "(i.width = ? AND i.height = ?)", {i(1), i(2)}),
      same("width = 1 or height = 2", "(i.width = ? OR i.height = ?)", {i(1), i(2)}),
      same("width = 1 or height = 2 and channels = 3",
           "(i.width = ? OR (i.height = ? AND i.channels = ?))", {i(1), i(2), i(3)}),
      same("width = 1 and height = 2 or channels = 3",
           "((i.width = ? AND i.height = ?) OR i.channels = ?)", {i(1), i(2), i(3)}),
      same("(width = 1 or height = 2) and channels = 3",
           "(((i.width = ? OR i.height = ?)) AND i.channels = ?)", {i(1), i(2), i(3)}),
      same("NOT (width = 1 OR width = 2)", "(NOT ((i.width = ? OR i.width = ?)))", {i(1), i(2)}),
      same("not not frames = 1", "(NOT (NOT i.frames = ?))", {i(1)}),
      same("((size > 10))", "((i.byte_size > ?))", {i(10)}),
      same("width = 1 AnD height = 2 Or channels = 3",
           "((i.width = ? AND i.height = ?) OR i.channels = ?)", {i(1), i(2), i(3)}),
      // Parameters follow the placeholders' order, metadata paths included.
      {"well = 'A1' and t > 2 or focus is null",
       "((" + ms + " = ? AND " + ms + " > ?) OR i.focus IS NULL)",
       {t("$.well"), t("A1"), t("$.t"), i(2)},
       "((" + mp + " = " + pt + " AND " + mp + " > " + pn + ") OR i.focus IS NULL)",
       {t("{well}"), t("A1"), t("{t}"), i(2)}},
  };
}

TEST(CompileWhere, ProducesTheExpectedSqlAndParametersOnBothDialects) {
  for (const ShapeCase& c : shape_cases()) {
    SCOPED_TRACE("filter: " + c.filter);
    const SqlFilter sqlite = compile_where(c.filter, Dialect::sqlite);
    EXPECT_EQ(sqlite.sql, c.sqlite_sql);
    EXPECT_EQ(sqlite.params, c.sqlite_params);
    const SqlFilter pg = compile_where(c.filter, Dialect::postgresql);
    EXPECT_EQ(pg.sql, c.pg_sql);
    EXPECT_EQ(pg.params, c.pg_params);
  }
}

TEST(CompileWhere, MapsEveryColumnFieldToItsColumn) {
  const std::vector<std::pair<std::string, std::string>> columns = {
      {"id", "i.id"},
      {"width", "i.width"},
      {"height", "i.height"},
      {"channels", "i.channels"},
      {"frames", "i.frames"},
      {"pixel_type", "i.pixel_type"},
      {"format", "i.format"},
      {"focus", "i.focus"},
      {"path", "i.source_path"},
      {"hash", "i.blob_hash"},
      {"size", "i.byte_size"},
      {"acquired_at", "i.acquired_at"},
      {"imported_at", "i.imported_at"},
      {"series", "(SELECT s.name FROM series s WHERE s.id = i.series_id)"},
      {"frame", "i.frame_index"},
  };
  for (const auto& [field, sql] : columns) {
    SCOPED_TRACE(field);
    for (Dialect dialect : {Dialect::sqlite, Dialect::postgresql}) {
      const SqlFilter filter = compile_where(field + " is null", dialect);
      EXPECT_EQ(filter.sql, sql + " IS NULL");
      EXPECT_TRUE(filter.params.empty());
    }
  }
}

TEST(CompileWhere, BindsQuotedTextWithDoubledQuotesAsOneQuote) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"note = 'it''s'", "it's"},
      {"note = ''", ""},
      {"note = ''''", "'"},
      {"note = \"say \"\"hi\"\"\"", "say \"hi\""},
      {"note = 'say \"hi\"'", "say \"hi\""},
      {"note = \"it's\"", "it's"},
      {"note = 'a and b or not c'", "a and b or not c"},
      {"note = '  spaced  '", "  spaced  "},
      {"note = '(1, 2); --'", "(1, 2); --"},
  };
  for (const auto& [filter, value] : cases) {
    SCOPED_TRACE(filter);
    EXPECT_EQ(compile_where(filter, Dialect::sqlite).params,
              (SqlParams{t("$.note"), SqlValue(value)}));
    EXPECT_EQ(compile_where(filter, Dialect::postgresql).params,
              (SqlParams{t("{note}"), SqlValue(value)}));
  }
}

TEST(CompileWhere, BindsIntegersAsIntegersAndOtherNumbersAsDoubles) {
  const std::vector<std::pair<std::string, SqlValue>> cases = {
      {"42", i(42)},
      {"0", i(0)},
      {"-7", i(-7)},
      {"+7", i(7)},
      {"9223372036854775807", i(9223372036854775807LL)},
      {"-9223372036854775808", i(INT64_MIN)},
      {"2.5", d(2.5)},
      {"-0.5", d(-0.5)},
      {".5", d(0.5)},
      {"-.25", d(-0.25)},
      {"3.", d(3.0)},
      {"1e3", d(1000.0)},
      {"1.5E-3", d(1.5e-3)},
      {"-2e+2", d(-200.0)},
      {"6.02e23", d(6.02e23)},
      {"99999999999999999999", d(1e20)},  // beyond int64: kept as the nearest double
  };
  for (const auto& [literal, value] : cases) {
    SCOPED_TRACE(literal);
    // A column and a metadata field bind the same number.
    EXPECT_EQ(compile_where("size = " + literal, Dialect::sqlite).params, (SqlParams{value}));
    EXPECT_EQ(compile_where("n=" + literal, Dialect::sqlite).params, (SqlParams{t("$.n"), value}));
    EXPECT_EQ(compile_where("n = " + literal, Dialect::postgresql).params,
              (SqlParams{t("{n}"), value}));
  }
}

// Words of the SQL compile_where may emit: table alias, columns, functions, casts and keywords.
const std::set<std::string>& sql_vocabulary() {
  static const std::set<std::string> words = {
      "i",           "id",          "width",       "height",      "channels",  "frames",
      "pixel_type",  "format",      "focus",       "source_path", "blob_hash", "byte_size",
      "acquired_at", "imported_at", "frame_index", "series_id",   "metadata",  "SELECT",
      "s",           "name",        "FROM",        "series",      "WHERE",     "json_extract",
      "CAST",        "AS",          "text",        "numeric",     "boolean",   "to_jsonb",
      "AND",         "OR",          "NOT",         "IN",          "LIKE",      "ILIKE",
      "IS",          "NULL",
  };
  return words;
}

std::vector<std::string> words_of(const std::string& sql) {
  std::vector<std::string> out;
  std::string word;
  for (char c : sql + " ") {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      word += c;
    } else if (!word.empty()) {
      out.push_back(word);
      word.clear();
    }
  }
  return out;
}

TEST(CompileWhere, PutsNoUserTextIntoTheSql) {
  // Values and field names chosen to stand out; they may appear in params, never in the SQL.
  const std::vector<std::string> filters = {
      "wellname = 'zebra'",
      "wellname = 'x'' OR 1=1 --'",
      "wellname = \"'; DROP TABLE images; --\"",
      "wellname in ('DELETE', 'FROM', 'images')",
      "stage.xpos > 12345 and not meta.width <= -67.5e2",
      "colour like '%UNION SELECT%' or colour is null",
      "(plateid = 98765 or wellname != 'sqlite_master') and width >= 4242",
      "flagged = true and format = 'tiff' and path not like 'evil\\%'",
  };
  for (const std::string& filter : filters) {
    for (Dialect dialect : {Dialect::sqlite, Dialect::postgresql}) {
      SCOPED_TRACE(
          fmt::format("{} ({})", filter, dialect == Dialect::sqlite ? "sqlite" : "postgresql"));
      const SqlFilter compiled = compile_where(filter, dialect);
      for (const std::string& word : words_of(compiled.sql)) {
        EXPECT_TRUE(sql_vocabulary().contains(word)) << "'" << word << "' in: " << compiled.sql;
      }
      // No literals at all: no quotes, digits, statement separators or comments.
      EXPECT_EQ(compiled.sql.find_first_of("'\";0123456789\\"), std::string::npos) << compiled.sql;
      EXPECT_EQ(compiled.sql.find("--"), std::string::npos) << compiled.sql;
      // One parameter per placeholder.
      EXPECT_EQ(static_cast<size_t>(std::count(compiled.sql.begin(), compiled.sql.end(), '?')),
                compiled.params.size())
          << compiled.sql;
    }
  }
}

TEST(CompileWhere, KeepsAnInjectionAttemptInsideAQuotedValueAsOneParameter) {
  const SqlFilter filter = compile_where("well = 'A1'' OR ''1''=''1'", Dialect::sqlite);
  EXPECT_EQ(filter.sql, "json_extract(i.metadata, ?) = ?");
  EXPECT_EQ(filter.params, (SqlParams{t("$.well"), t("A1' OR '1'='1")}));
}

// A filter that must be rejected, the 1-based position reported and part of the message.
struct ErrorCase {
  std::string filter;
  size_t position;
  std::string message;
};

std::vector<ErrorCase> error_cases() {
  return {
      {"time >= ", 9, "expected a value after '>='"},
      {"time >=", 8, "expected a value after '>='"},
      {"width =", 8, "expected a value after '='"},
      {"well = 'A1", 8, "unterminated string"},
      {"well = \"A1", 8, "unterminated string"},
      {"well = 'it''s", 8, "unterminated string"},
      // SQL smuggled after a valid comparison is rejected at its first foreign character.
      {"well = 'A1'; DROP TABLE images", 12, "unexpected character ';'"},
      {"width = 1; DELETE FROM images", 10, "unexpected character ';'"},
      {"well = 'A1' -- comment", 13, "unexpected character '-'"},
      {"width = 5 /* c */", 11, "unexpected character '/'"},
      {"well = 'A1' || 'B'", 13, "unexpected character '|'"},
      {"width = @x", 9, "unexpected character '@'"},
      {"x = 1 or 1=1", 10, "expected a field name but found '1'"},
      {"well = '' OR '1'='1'", 14, "expected a field name but found '1'"},
      {"well = 'A1' or", 15, "expected a field name but found 'end of filter'"},
      {"not", 4, "expected a field name but found 'end of filter'"},
      {"= 1", 1, "expected a field name but found '='"},
      {"and = 1", 1, "expected a field name but found keyword 'and'"},
      {"width = 1 and NULL = 2", 15, "expected a field name but found keyword 'NULL'"},
      {"(width = 1", 11, "expected ')' but found 'end of filter'"},
      {"(width = 1 height = 2)", 12, "expected ')' but found 'height'"},
      {"width = 1)", 10, "unexpected ')'"},
      {"width = 1 height = 2", 11, "unexpected 'height'"},
      {"width ! 1", 7, "'!' must be followed by '='"},
      {"width", 6, "expected an operator after 'width' but found 'end of filter'"},
      {"width 5", 7, "expected an operator after 'width' but found '5'"},
      {"width between 1 and 2", 7, "expected an operator after 'width' but found 'between'"},
      {"width not between (1)", 11, "expected 'in' or 'like' after 'not' but found 'between'"},
      {"well = A1", 8, "expected a value (number, 'text', true or false) but found 'A1'"},
      {"well = (1)", 8, "expected a value (number, 'text', true or false) but found '('"},
      {"width = 'wide'", 9, "field 'width' holds numbers, got 'wide'"},
      {"width = true", 9, "field 'width' holds numbers, got 'true'"},
      {"path = 5", 8, "field 'path' holds text: quote the value"},
      {"width in 1", 10, "expected '(' after 'in'"},
      {"width in (1 2)", 13, "expected ',' or ')' but found '2'"},
      {"width in (1,", 13,
       "expected a value (number, 'text', true or false) but found 'end of filter'"},
      {"width in ()", 11, "expected a value (number, 'text', true or false) but found ')'"},
      {"well like 5", 11, "'like' needs a quoted pattern"},
      {"well is 5", 9, "expected 'null' but found '5'"},
      {"well is not 5", 13, "expected 'null' but found '5'"},
      {"a..b = 1", 1, "'a..b' is not a valid field name"},
      {"meta. = 1", 1, "'meta.' is not a valid field name"},
      {"well. = 1", 1, "'well.' is not a valid field name"},
      {"a.1b = 1", 1, "'a.1b' is not a valid field name"},
      {"n = 1.2.3", 5, "'1.2.3' is not a number"},
      {"n = 1e", 5, "'1e' is not a number"},
  };
}

TEST(CompileWhere, RejectsMalformedFiltersWithPositionAndCaret) {
  for (const ErrorCase& c : error_cases()) {
    for (Dialect dialect : {Dialect::sqlite, Dialect::postgresql}) {
      SCOPED_TRACE(
          fmt::format("{} ({})", c.filter, dialect == Dialect::sqlite ? "sqlite" : "postgresql"));
      try {
        const SqlFilter compiled = compile_where(c.filter, dialect);
        ADD_FAILURE() << "accepted, compiled to: " << compiled.sql;
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
        const std::string message = e.what();
        EXPECT_THAT(message, HasSubstr(c.message));
        EXPECT_THAT(message, HasSubstr(fmt::format("at position {}\n", c.position)));
        // The filter, then a caret under the offending character, each indented by two spaces.
        const std::string caret =
            fmt::format("\n  {}\n  {}^", c.filter, std::string(c.position - 1, ' '));
        EXPECT_TRUE(message.ends_with(caret)) << message;
        EXPECT_EQ(e.details().value("position", 0), static_cast<int>(c.position));
      }
    }
  }
}

TEST(CompileWhere, ReportsAMissingValueWithTheWholeMessage) {
  try {
    compile_where("time >= ", Dialect::sqlite);
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "--where: expected a value after '>=' at position 9\n  time >= \n          ^");
  }
}

}  // namespace
}  // namespace tessera::catalog
