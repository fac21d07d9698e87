#include "catalog/where.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
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
SqlValue t(const std::string& v) { return SqlValue(v); }

constexpr const char* kMetaSqlite = "json_extract(i.metadata, ?)";
constexpr const char* kMetaPg = "(i.metadata #> CAST(? AS text[]))";
constexpr const char* kMetaPgText = "(i.metadata #>> CAST(? AS text[]))";
constexpr const char* kPgNumber = "to_jsonb(CAST(? AS numeric))";
constexpr const char* kPgText = "to_jsonb(CAST(? AS text))";
constexpr const char* kPgBool = "to_jsonb(CAST(? AS boolean))";
// A value compared with an integer or real column on PostgreSQL (SQLite binds a bare `?`).
constexpr const char* kPgColumnNumber = "CAST(? AS numeric)";
// Type guards put before every metadata comparison: the field holds a JSON value of the literal's type.
// Each binds the field's path once more, before the compared value's own path.
constexpr const char* kGuardSqliteNumber = "json_type(i.metadata, ?) IN ('integer', 'real')";
constexpr const char* kGuardSqliteText = "json_type(i.metadata, ?) = 'text'";
constexpr const char* kGuardSqliteBool = "json_type(i.metadata, ?) IN ('true', 'false')";
constexpr const char* kGuardPgNumber = "jsonb_typeof(i.metadata #> CAST(? AS text[])) = 'number'";
constexpr const char* kGuardPgText = "jsonb_typeof(i.metadata #> CAST(? AS text[])) = 'string'";
constexpr const char* kGuardPgBool = "jsonb_typeof(i.metadata #> CAST(? AS text[])) = 'boolean'";

// One filter and what it compiles to on each backend.
struct ShapeCase {
  std::string filter;
  std::string sqlite_sql;
  SqlParams sqlite_params;
  std::string pg_sql;
  SqlParams pg_params;
};

// A filter whose SQL is the same on both backends (text column fields, no LIKE).
ShapeCase same(std::string filter, std::string sql, SqlParams params) {
  return {filter, sql, params, sql, params};
}

// A filter over integer/real columns only: the same parameters on both backends, and PostgreSQL
// compares every one of them as CAST(? AS numeric) where SQLite has a bare `?`.
ShapeCase numeric_columns(std::string filter, std::string sqlite_sql, SqlParams params) {
  std::string pg_sql;
  for (char c : sqlite_sql) pg_sql += c == '?' ? std::string(kPgColumnNumber) : std::string(1, c);
  return {filter, sqlite_sql, params, pg_sql, params};
}

// `(GUARD AND LHS op RHS)`: one guarded metadata comparison.
std::string guarded(const std::string& guard, const std::string& lhs, const std::string& op,
                    const std::string& rhs) {
  return "(" + guard + " AND " + lhs + " " + op + " " + rhs + ")";
}

std::vector<ShapeCase> shape_cases() {
  const std::string ms = kMetaSqlite;
  const std::string mp = kMetaPg;
  const std::string mpt = kMetaPgText;
  const std::string pn = kPgNumber;
  const std::string pt = kPgText;
  const std::string pb = kPgBool;
  const std::string pc = kPgColumnNumber;
  const std::string gsn = kGuardSqliteNumber;
  const std::string gst = kGuardSqliteText;
  const std::string gsb = kGuardSqliteBool;
  const std::string gpn = kGuardPgNumber;
  const std::string gpt = kGuardPgText;
  const std::string gpb = kGuardPgBool;
  const std::string pg_well = "{\"well\"}";
  const std::string pg_t = "{\"t\"}";
  const std::string pg_ok = "{\"ok\"}";
  return {
      same("", "1=1", {}),
      same("   \t ", "1=1", {}),
      // Comparison operators on a column; '==' and '!=' are spelled the SQL way. PostgreSQL binds a
      // number for an integer/real column as numeric, so a fraction compares with an integer column.
      {"width > 100", "i.width > ?", {i(100)}, "i.width > CAST(? AS numeric)", {i(100)}},
      {"width >= 100", "i.width >= ?", {i(100)}, "i.width >= CAST(? AS numeric)", {i(100)}},
      {"width < 100", "i.width < ?", {i(100)}, "i.width < CAST(? AS numeric)", {i(100)}},
      {"width <= 100", "i.width <= ?", {i(100)}, "i.width <= CAST(? AS numeric)", {i(100)}},
      {"width = 100", "i.width = ?", {i(100)}, "i.width = CAST(? AS numeric)", {i(100)}},
      {"width == 100", "i.width = ?", {i(100)}, "i.width = CAST(? AS numeric)", {i(100)}},
      {"width != 100", "i.width <> ?", {i(100)}, "i.width <> CAST(? AS numeric)", {i(100)}},
      {"width <> 100", "i.width <> ?", {i(100)}, "i.width <> CAST(? AS numeric)", {i(100)}},
      {"width>100", "i.width > ?", {i(100)}, "i.width > CAST(? AS numeric)", {i(100)}},
      {"width > 511.5", "i.width > ?", {d(511.5)}, "i.width > CAST(? AS numeric)", {d(511.5)}},
      {"focus >= 0.5", "i.focus >= ?", {d(0.5)}, "i.focus >= CAST(? AS numeric)", {d(0.5)}},
      {"focus < 1", "i.focus < ?", {i(1)}, "i.focus < CAST(? AS numeric)", {i(1)}},
      // Text columns bind the text as it is, on both backends.
      same("path = 'plate1/A1/t01.tif'", "i.source_path = ?", {t("plate1/A1/t01.tif")}),
      same("format != 'tiff'", "i.format <> ?", {t("tiff")}),
      same("series = 'pos1'", "(SELECT s.name FROM series s WHERE s.id = i.series_id) = ?",
           {t("pos1")}),
      // `in` is one `=` per value, ORed; `not in` negates the whole.
      {"width not in (1, 2)",
       "(NOT (i.width = ? OR i.width = ?))",
       {i(1), i(2)},
       "(NOT (i.width = " + pc + " OR i.width = " + pc + "))",
       {i(1), i(2)}},
      {"id in (7)", "(i.id = ?)", {i(7)}, "(i.id = " + pc + ")", {i(7)}},
      same("format in ('tiff', 'png')", "(i.format = ? OR i.format = ?)", {t("tiff"), t("png")}),
      same("hash not in ('abc')", "(NOT (i.blob_hash = ?))", {t("abc")}),
      same("focus is null", "i.focus IS NULL", {}),
      same("acquired_at is not null", "i.acquired_at IS NOT NULL", {}),
      // Metadata fields: the JSON path is a parameter too, bound for the type guard and again for the
      // value; the field matches only a literal of its own JSON type. PostgreSQL paths quote every name.
      {"well = 'A1'",
       "(json_type(i.metadata, ?) = 'text' AND json_extract(i.metadata, ?) = ?)",
       {t("$.well"), t("$.well"), t("A1")},
       "(jsonb_typeof(i.metadata #> CAST(? AS text[])) = 'string'"
       " AND (i.metadata #> CAST(? AS text[])) = to_jsonb(CAST(? AS text)))",
       {t("{\"well\"}"), t("{\"well\"}"), t("A1")}},
      {"t >= 3",
       "(json_type(i.metadata, ?) IN ('integer', 'real') AND json_extract(i.metadata, ?) >= ?)",
       {t("$.t"), t("$.t"), i(3)},
       "(jsonb_typeof(i.metadata #> CAST(? AS text[])) = 'number'"
       " AND (i.metadata #> CAST(? AS text[])) >= to_jsonb(CAST(? AS numeric)))",
       {t("{\"t\"}"), t("{\"t\"}"), i(3)}},
      {"exposure < 0.25",
       guarded(gsn, ms, "<", "?"),
       {t("$.exposure"), t("$.exposure"), d(0.25)},
       guarded(gpn, mp, "<", pn),
       {t("{\"exposure\"}"), t("{\"exposure\"}"), d(0.25)}},
      {"stage.x > -1.5",
       guarded(gsn, ms, ">", "?"),
       {t("$.stage.x"), t("$.stage.x"), d(-1.5)},
       guarded(gpn, mp, ">", pn),
       {t("{\"stage\",\"x\"}"), t("{\"stage\",\"x\"}"), d(-1.5)}},
      {"well > 'B'",
       guarded(gst, ms, ">", "?"),
       {t("$.well"), t("$.well"), t("B")},
       guarded(gpt, mp, ">", pt),
       {t(pg_well), t(pg_well), t("B")}},
      {"ok = true",
       "(json_type(i.metadata, ?) IN ('true', 'false') AND json_extract(i.metadata, ?) = ?)",
       {t("$.ok"), t("$.ok"), i(1)},
       "(jsonb_typeof(i.metadata #> CAST(? AS text[])) = 'boolean'"
       " AND (i.metadata #> CAST(? AS text[])) = to_jsonb(CAST(? AS boolean)))",
       {t(pg_ok), t(pg_ok), t("true")}},
      // `!=` / `<>` is the negated guarded equality: a value of another JSON type is not equal.
      {"ok != FALSE",
       "(NOT (json_type(i.metadata, ?) IN ('true', 'false') AND json_extract(i.metadata, ?) = ?))",
       {t("$.ok"), t("$.ok"), i(0)},
       "(NOT (jsonb_typeof(i.metadata #> CAST(? AS text[])) = 'boolean'"
       " AND (i.metadata #> CAST(? AS text[])) = to_jsonb(CAST(? AS boolean))))",
       {t(pg_ok), t(pg_ok), t("false")}},
      {"well <> 'A1'",
       "(NOT " + guarded(gst, ms, "=", "?") + ")",
       {t("$.well"), t("$.well"), t("A1")},
       "(NOT " + guarded(gpt, mp, "=", pt) + ")",
       {t(pg_well), t(pg_well), t("A1")}},
      {"t != 2.5",
       "(NOT " + guarded(gsn, ms, "=", "?") + ")",
       {t("$.t"), t("$.t"), d(2.5)},
       "(NOT " + guarded(gpn, mp, "=", pn) + ")",
       {t(pg_t), t(pg_t), d(2.5)}},
      // `in` on metadata: one guarded equality per value, each guard by that value's own type.
      {"well in ('A1', \"B2\")",
       "(" + guarded(gst, ms, "=", "?") + " OR " + guarded(gst, ms, "=", "?") + ")",
       {t("$.well"), t("$.well"), t("A1"), t("$.well"), t("$.well"), t("B2")},
       "(" + guarded(gpt, mp, "=", pt) + " OR " + guarded(gpt, mp, "=", pt) + ")",
       {t(pg_well), t(pg_well), t("A1"), t(pg_well), t(pg_well),
        t("B2")}},
      {"t not in (1, 2.5)",
       "(NOT (" + guarded(gsn, ms, "=", "?") + " OR " + guarded(gsn, ms, "=", "?") + "))",
       {t("$.t"), t("$.t"), i(1), t("$.t"), t("$.t"), d(2.5)},
       "(NOT (" + guarded(gpn, mp, "=", pn) + " OR " + guarded(gpn, mp, "=", pn) + "))",
       {t(pg_t), t(pg_t), i(1), t(pg_t), t(pg_t), d(2.5)}},
      {"v in (1, 'one', TRUE)",
       "(" + guarded(gsn, ms, "=", "?") + " OR " + guarded(gst, ms, "=", "?") + " OR " +
           guarded(gsb, ms, "=", "?") + ")",
       {t("$.v"), t("$.v"), i(1), t("$.v"), t("$.v"), t("one"), t("$.v"), t("$.v"), i(1)},
       "(" + guarded(gpn, mp, "=", pn) + " OR " + guarded(gpt, mp, "=", pt) + " OR " +
           guarded(gpb, mp, "=", pb) + ")",
       {t("{\"v\"}"), t("{\"v\"}"), i(1), t("{\"v\"}"), t("{\"v\"}"), t("one"), t("{\"v\"}"),
        t("{\"v\"}"), t("true")}},
      // IS [NOT] NULL needs no guard: one path parameter.
      {"well is not null",
       ms + " IS NOT NULL",
       {t("$.well")},
       mpt + " IS NOT NULL",
       {t(pg_well)}},
      {"well is null", ms + " IS NULL", {t("$.well")}, mpt + " IS NULL", {t(pg_well)}},
      // LIKE is case-insensitive on both: SQLite's LIKE is, PostgreSQL needs ILIKE on text. Neither
      // has an escape character: PostgreSQL's default backslash is switched off with ESCAPE ''.
      {"well like 'A%'",
       "(json_extract(i.metadata, ?) LIKE ?)",
       {t("$.well"), t("A%")},
       "(CAST((i.metadata #>> CAST(? AS text[])) AS text) ILIKE ? ESCAPE '')",
       {t(pg_well), t("A%")}},
      {"well not like 'A%'",
       "NOT (" + ms + " LIKE ?)",
       {t("$.well"), t("A%")},
       "NOT (CAST(" + mpt + " AS text) ILIKE ? ESCAPE '')",
       {t(pg_well), t("A%")}},
      {"path like '%.tif'",
       "(i.source_path LIKE ?)",
       {t("%.tif")},
       "(CAST(i.source_path AS text) ILIKE ? ESCAPE '')",
       {t("%.tif")}},
      {"path NOT LIKE '%.png'",
       "NOT (i.source_path LIKE ?)",
       {t("%.png")},
       "NOT (CAST(i.source_path AS text) ILIKE ? ESCAPE '')",
       {t("%.png")}},
      {"path like 'a\\_%'",
       "(i.source_path LIKE ?)",
       {t("a\\_%")},
       "(CAST(i.source_path AS text) ILIKE ? ESCAPE '')",
       {t("a\\_%")}},
      // `meta.` forces the metadata field even when the name is a column.
      {"meta.width = 7",
       guarded(gsn, ms, "=", "?"),
       {t("$.width"), t("$.width"), i(7)},
       guarded(gpn, mp, "=", pn),
       {t("{\"width\"}"), t("{\"width\"}"), i(7)}},
      {"meta.path like 'x%'",
       "(" + ms + " LIKE ?)",
       {t("$.path"), t("x%")},
       "(CAST(" + mpt + " AS text) ILIKE ? ESCAPE '')",
       {t("{\"path\"}"), t("x%")}},
      {"meta.stage.x = 1",
       guarded(gsn, ms, "=", "?"),
       {t("$.stage.x"), t("$.stage.x"), i(1)},
       guarded(gpn, mp, "=", pn),
       {t("{\"stage\",\"x\"}"), t("{\"stage\",\"x\"}"), i(1)}},
      // A dotted name that starts with a column name is a metadata path, not the column.
      {"width.px = 1",
       guarded(gsn, ms, "=", "?"),
       {t("$.width.px"), t("$.width.px"), i(1)},
       guarded(gpn, mp, "=", pn),
       {t("{\"width\",\"px\"}"), t("{\"width\",\"px\"}"), i(1)}},
      // Quoted path elements keep a field named null a name on PostgreSQL (unquoted, {null} is NULL).
      {"meta.null = 'x'",
       guarded(gst, ms, "=", "?"),
       {t("$.null"), t("$.null"), t("x")},
       guarded(gpt, mp, "=", pt),
       {t("{\"null\"}"), t("{\"null\"}"), t("x")}},
      {"a.null is null",
       ms + " IS NULL",
       {t("$.a.null")},
       mpt + " IS NULL",
       {t("{\"a\",\"null\"}")}},
      // Boolean structure: NOT binds tighter than AND, AND tighter than OR; parentheses are kept.
      numeric_columns("not width = 1", "(NOT i.width = ?)", {i(1)}),
      numeric_columns("width = 1 and height = 2", "(i.width = ? AND i.height = ?)", {i(1), i(2)}),
      numeric_columns("width = 1 or height = 2", "(i.width = ? OR i.height = ?)", {i(1), i(2)}),
      numeric_columns("width = 1 or height = 2 and channels = 3",
                      "(i.width = ? OR (i.height = ? AND i.channels = ?))", {i(1), i(2), i(3)}),
      numeric_columns("width = 1 and height = 2 or channels = 3",
                      "((i.width = ? AND i.height = ?) OR i.channels = ?)", {i(1), i(2), i(3)}),
      numeric_columns("(width = 1 or height = 2) and channels = 3",
                      "(((i.width = ? OR i.height = ?)) AND i.channels = ?)", {i(1), i(2), i(3)}),
      numeric_columns("NOT (width = 1 OR width = 2)", "(NOT ((i.width = ? OR i.width = ?)))",
                      {i(1), i(2)}),
      numeric_columns("not not frames = 1", "(NOT (NOT i.frames = ?))", {i(1)}),
      numeric_columns("((size > 10))", "((i.byte_size > ?))", {i(10)}),
      numeric_columns("width = 1 AnD height = 2 Or channels = 3",
                      "((i.width = ? AND i.height = ?) OR i.channels = ?)", {i(1), i(2), i(3)}),
      same("format = 'a' or format = 'b' and pixel_type = 'c'",
           "(i.format = ? OR (i.format = ? AND i.pixel_type = ?))", {t("a"), t("b"), t("c")}),
      // `not` before a metadata comparison negates the guarded test, like `!=`.
      {"not well = 'A1'",
       "(NOT " + guarded(gst, ms, "=", "?") + ")",
       {t("$.well"), t("$.well"), t("A1")},
       "(NOT " + guarded(gpt, mp, "=", pt) + ")",
       {t(pg_well), t(pg_well), t("A1")}},
      // Parameters follow the placeholders' order: guard path, value path, value, for each comparison.
      {"well = 'A1' and t > 2 or focus is null",
       "((" + guarded(gst, ms, "=", "?") + " AND " + guarded(gsn, ms, ">", "?") +
           ") OR i.focus IS NULL)",
       {t("$.well"), t("$.well"), t("A1"), t("$.t"), t("$.t"), i(2)},
       "((" + guarded(gpt, mp, "=", pt) + " AND " + guarded(gpn, mp, ">", pn) +
           ") OR i.focus IS NULL)",
       {t(pg_well), t(pg_well), t("A1"), t(pg_t), t(pg_t), i(2)}},
      {"width >= 10 and well != 'A1'",
       "(i.width >= ? AND (NOT " + guarded(gst, ms, "=", "?") + "))",
       {i(10), t("$.well"), t("$.well"), t("A1")},
       "(i.width >= " + pc + " AND (NOT " + guarded(gpt, mp, "=", pt) + "))",
       {i(10), t(pg_well), t(pg_well), t("A1")}},
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
    // The guard's path, the value's path, then the text.
    EXPECT_EQ(compile_where(filter, Dialect::sqlite).params,
              (SqlParams{t("$.note"), t("$.note"), SqlValue(value)}));
    EXPECT_EQ(compile_where(filter, Dialect::postgresql).params,
              (SqlParams{t("{\"note\"}"), t("{\"note\"}"), SqlValue(value)}));
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
    EXPECT_EQ(compile_where("size = " + literal, Dialect::postgresql).params, (SqlParams{value}));
    EXPECT_EQ(compile_where("n=" + literal, Dialect::sqlite).params,
              (SqlParams{t("$.n"), t("$.n"), value}));
    EXPECT_EQ(compile_where("n = " + literal, Dialect::postgresql).params,
              (SqlParams{t("{\"n\"}"), t("{\"n\"}"), value}));
  }
}

// Words of the SQL compile_where may emit: table alias, columns, functions, casts and keywords.
const std::set<std::string>& sql_vocabulary() {
  static const std::set<std::string> words = {
      "i",           "id",           "width",       "height",      "channels",  "frames",
      "pixel_type",  "format",       "focus",       "source_path", "blob_hash", "byte_size",
      "acquired_at", "imported_at",  "frame_index", "series_id",   "metadata",  "SELECT",
      "s",           "name",         "FROM",        "series",      "WHERE",     "json_extract",
      "json_type",   "jsonb_typeof", "CAST",        "AS",          "text",      "numeric",
      "boolean",     "to_jsonb",     "AND",         "OR",          "NOT",       "IN",
      "LIKE",        "ILIKE",        "ESCAPE",      "IS",          "NULL",
  };
  return words;
}

// The only quoted literals compile_where may emit: the JSON type names of its type guards, and the
// empty LIKE escape on PostgreSQL.
const std::set<std::string>& sql_literals(Dialect dialect) {
  static const std::set<std::string> sqlite = {"'integer'", "'real'", "'text'", "'true'", "'false'"};
  static const std::set<std::string> postgresql = {"'number'", "'string'", "'boolean'", "''"};
  return dialect == Dialect::sqlite ? sqlite : postgresql;
}

// The SQL's single-quoted literals (no fixed one holds a quote), and the SQL with each replaced by a
// space.
std::pair<std::vector<std::string>, std::string> split_literals(const std::string& sql) {
  std::vector<std::string> literals;
  std::string rest;
  for (size_t k = 0; k < sql.size(); ++k) {
    if (sql[k] != '\'') {
      rest += sql[k];
      continue;
    }
    const size_t close = sql.find('\'', k + 1);
    if (close == std::string::npos) {
      rest += sql.substr(k);  // unbalanced: left in place for the no-quotes check to report
      break;
    }
    literals.push_back(sql.substr(k, close - k + 1));
    rest += ' ';
    k = close;
  }
  return {literals, rest};
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
  // Values and field names chosen to stand out; they may appear in params, never in the SQL. Some
  // values spell the guards' own literals and keywords: they are bound all the same.
  const std::vector<std::string> filters = {
      "wellname = 'zebra'",
      "wellname = 'x'' OR 1=1 --'",
      "wellname = \"'; DROP TABLE images; --\"",
      "wellname in ('DELETE', 'FROM', 'images')",
      "stage.xpos > 12345 and not meta.width <= -67.5e2",
      "colour like '%UNION SELECT%' or colour is null",
      "(plateid = 98765 or wellname != 'sqlite_master') and width >= 4242",
      "flagged = true and format = 'tiff' and path not like 'evil\\%'",
      "kind in ('text', 'number', 'integer', '') or kind not in ('string', 'boolean', 'real')",
      "flagged != false and kind not like '' and kind like ''''",
      "focus in (0.5, 7) and id not in (3) and hash in ('ESCAPE')",
  };
  for (const std::string& filter : filters) {
    for (Dialect dialect : {Dialect::sqlite, Dialect::postgresql}) {
      SCOPED_TRACE(
          fmt::format("{} ({})", filter, dialect == Dialect::sqlite ? "sqlite" : "postgresql"));
      const SqlFilter compiled = compile_where(filter, dialect);
      const auto [literals, rest] = split_literals(compiled.sql);
      for (const std::string& literal : literals) {
        EXPECT_TRUE(sql_literals(dialect).contains(literal)) << literal << " in: " << compiled.sql;
      }
      for (const std::string& word : words_of(rest)) {
        EXPECT_TRUE(sql_vocabulary().contains(word)) << "'" << word << "' in: " << compiled.sql;
      }
      // Beyond those fixed literals, no literals at all: no quotes, digits, statement separators or
      // comments.
      EXPECT_EQ(rest.find_first_of("'\";0123456789\\"), std::string::npos) << compiled.sql;
      EXPECT_EQ(compiled.sql.find("--"), std::string::npos) << compiled.sql;
      // One parameter per placeholder.
      EXPECT_EQ(static_cast<size_t>(std::count(compiled.sql.begin(), compiled.sql.end(), '?')),
                compiled.params.size())
          << compiled.sql;
    }
  }
}

TEST(CompileWhere, KeepsAnInjectionAttemptInsideAQuotedValueAsOneParameter) {
  const std::string filter = "well = 'A1'' OR ''1''=''1'";
  const SqlFilter sqlite = compile_where(filter, Dialect::sqlite);
  EXPECT_EQ(sqlite.sql, "(json_type(i.metadata, ?) = 'text' AND json_extract(i.metadata, ?) = ?)");
  EXPECT_EQ(sqlite.params, (SqlParams{t("$.well"), t("$.well"), t("A1' OR '1'='1")}));
  const SqlFilter pg = compile_where(filter, Dialect::postgresql);
  EXPECT_EQ(pg.sql,
            "(jsonb_typeof(i.metadata #> CAST(? AS text[])) = 'string'"
            " AND (i.metadata #> CAST(? AS text[])) = to_jsonb(CAST(? AS text)))");
  EXPECT_EQ(pg.params, (SqlParams{t("{\"well\"}"), t("{\"well\"}"), t("A1' OR '1'='1")}));
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
