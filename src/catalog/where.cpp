#include "catalog/where.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include <fmt/format.h>

#include "catalog/annotation_state_sql.hpp"
#include "tessera/catalog/annotation_state.hpp"
#include "tessera/core/error.hpp"

namespace tessera::catalog {
namespace {

enum class Tok { end, ident, number, string, op, lparen, rparen, comma };

struct Token {
  Tok kind = Tok::end;
  std::string text;
  size_t pos = 0;
  bool is_integer = false;
};

enum class ColumnType { integer, real, text };
struct Column {
  const char* sql;
  ColumnType type;
};

const std::map<std::string, Column>& columns() {
  static const std::map<std::string, Column> table = {
      {"id", {"i.id", ColumnType::integer}},
      {"width", {"i.width", ColumnType::integer}},
      {"height", {"i.height", ColumnType::integer}},
      {"channels", {"i.channels", ColumnType::integer}},
      {"frames", {"i.frames", ColumnType::integer}},
      {"pixel_type", {"i.pixel_type", ColumnType::text}},
      {"format", {"i.format", ColumnType::text}},
      {"focus", {"i.focus", ColumnType::real}},
      {"path", {"i.source_path", ColumnType::text}},
      {"hash", {"i.blob_hash", ColumnType::text}},
      {"size", {"i.byte_size", ColumnType::integer}},
      {"acquired_at", {"i.acquired_at", ColumnType::text}},
      {"imported_at", {"i.imported_at", ColumnType::text}},
      {"series", {"(SELECT s.name FROM series s WHERE s.id = i.series_id)", ColumnType::text}},
      {"frame", {"i.frame_index", ColumnType::integer}},
  };
  return table;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

class Parser {
 public:
  Parser(std::string_view text, Dialect dialect) : text_(text), dialect_(dialect) { tokenize(); }

  SqlFilter parse() {
    SqlFilter filter;
    if (tokens_.size() == 1) {
      filter.sql = "1=1";
      return filter;
    }
    filter.sql = parse_or();
    if (peek().kind != Tok::end) fail(peek().pos, fmt::format("unexpected '{}'", peek().text));
    filter.params = std::move(params_);
    return filter;
  }

 private:
  [[noreturn]] void fail(size_t pos, const std::string& what) const {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("--where: {} at position {}\n  {}\n  {}^", what, pos + 1, text_, std::string(pos, ' ')),
                {{"position", pos + 1}});
  }

  void tokenize() {
    size_t i = 0;
    while (i < text_.size()) {
      const char c = text_[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
        continue;
      }
      Token t;
      t.pos = i;
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t j = i;
        while (j < text_.size() &&
               (std::isalnum(static_cast<unsigned char>(text_[j])) || text_[j] == '_' || text_[j] == '.')) {
          ++j;
        }
        t.kind = Tok::ident;
        t.text = std::string(text_.substr(i, j - i));
        i = j;
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 ((c == '-' || c == '+' || c == '.') && i + 1 < text_.size() &&
                  (std::isdigit(static_cast<unsigned char>(text_[i + 1])) || text_[i + 1] == '.'))) {
        size_t j = i + 1;
        bool integer = c != '.';
        while (j < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[j])) || text_[j] == '.' ||
                                    text_[j] == 'e' || text_[j] == 'E' ||
                                    ((text_[j] == '-' || text_[j] == '+') && (text_[j - 1] == 'e' || text_[j - 1] == 'E')))) {
          if (!std::isdigit(static_cast<unsigned char>(text_[j]))) integer = false;
          ++j;
        }
        t.kind = Tok::number;
        t.text = std::string(text_.substr(i, j - i));
        t.is_integer = integer;
        i = j;
      } else if (c == '\'' || c == '"') {
        std::string value;
        size_t j = i + 1;
        bool closed = false;
        while (j < text_.size()) {
          if (text_[j] == c) {
            if (j + 1 < text_.size() && text_[j + 1] == c) {  // doubled quote = literal quote, as in SQL
              value += c;
              j += 2;
              continue;
            }
            closed = true;
            ++j;
            break;
          }
          value += text_[j++];
        }
        if (!closed) fail(i, "unterminated string");
        t.kind = Tok::string;
        t.text = value;
        i = j;
      } else if (c == '(' || c == ')' || c == ',') {
        t.kind = c == '(' ? Tok::lparen : c == ')' ? Tok::rparen : Tok::comma;
        t.text = std::string(1, c);
        ++i;
      } else if (c == '=' || c == '!' || c == '<' || c == '>') {
        std::string op(1, c);
        if (i + 1 < text_.size() && (text_[i + 1] == '=' || (c == '<' && text_[i + 1] == '>'))) op += text_[i + 1];
        if (op == "!") fail(i, "'!' must be followed by '='");
        t.kind = Tok::op;
        t.text = op;
        i += op.size();
      } else {
        fail(i, fmt::format("unexpected character '{}'", c));
      }
      tokens_.push_back(std::move(t));
    }
    Token end;
    end.pos = text_.size();
    end.text = "end of filter";
    tokens_.push_back(end);
  }

  const Token& peek() const { return tokens_[pos_]; }
  Token next() { return tokens_[pos_ == tokens_.size() - 1 ? pos_ : pos_++]; }
  bool peek_keyword(std::string_view word) const {
    return peek().kind == Tok::ident && lower(peek().text) == word;
  }

  std::string parse_or() {
    std::string left = parse_and();
    while (peek_keyword("or")) {
      next();
      left = "(" + left + " OR " + parse_and() + ")";
    }
    return left;
  }

  std::string parse_and() {
    std::string left = parse_unary();
    while (peek_keyword("and")) {
      next();
      left = "(" + left + " AND " + parse_unary() + ")";
    }
    return left;
  }

  std::string parse_unary() {
    if (peek_keyword("not")) {
      next();
      return "(NOT " + parse_unary() + ")";
    }
    if (peek().kind == Tok::lparen) {
      next();
      std::string inner = parse_or();
      if (peek().kind != Tok::rparen) fail(peek().pos, fmt::format("expected ')' but found '{}'", peek().text));
      next();
      return "(" + inner + ")";
    }
    return parse_comparison();
  }

  struct Field {
    std::string name;
    const Column* column = nullptr;  // null for metadata fields
    bool is_annotation_state = false;  // the annotation_state test, neither column nor metadata
    std::vector<std::string> path;   // metadata JSON path parts
    size_t pos = 0;
  };

  Field parse_field() {
    const Token t = next();
    if (t.kind != Tok::ident) fail(t.pos, fmt::format("expected a field name but found '{}'", t.text));
    static const char* kReserved[] = {"and", "or", "not", "in", "like", "is", "null", "true", "false"};
    for (const char* word : kReserved) {
      if (lower(t.text) == word) fail(t.pos, fmt::format("expected a field name but found keyword '{}'", t.text));
    }
    Field field;
    field.name = t.text;
    field.pos = t.pos;
    std::string_view rest = t.text;
    bool forced_meta = false;
    if (rest.starts_with("meta.")) {
      rest.remove_prefix(5);
      forced_meta = true;
    }
    size_t start = 0;
    std::string_view r = rest;
    while (true) {
      const size_t dot = r.find('.', start);
      std::string part(r.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
      if (part.empty() || std::isdigit(static_cast<unsigned char>(part[0]))) {
        fail(t.pos, fmt::format("'{}' is not a valid field name", t.text));
      }
      field.path.push_back(part);
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    if (!forced_meta && field.path.size() == 1) {
      auto it = columns().find(field.path[0]);
      if (it != columns().end()) field.column = &it->second;
      field.is_annotation_state = field.path[0] == "annotation_state";
    }
    return field;
  }

  enum class ValueType { number, text, boolean };

  ValueType checked_value_type(const Token& value) const {
    if (value.kind == Tok::number) return ValueType::number;
    if (value.kind == Tok::string) return ValueType::text;
    if (value.kind == Tok::ident && (lower(value.text) == "true" || lower(value.text) == "false")) {
      return ValueType::boolean;
    }
    fail(value.pos, fmt::format("expected a value (number, 'text', true or false) but found '{}'", value.text));
  }

  // Binds the field's JSON path: "$.a.b" for SQLite, the text[] literal {"a","b"} for PostgreSQL (quoted,
  // so a field named null stays a name).
  void push_path(const Field& field) {
    if (dialect_ == Dialect::sqlite) {
      std::string path = "$";
      for (const auto& part : field.path) path += "." + part;
      params_.emplace_back(path);
      return;
    }
    std::string path = "{";
    for (size_t k = 0; k < field.path.size(); ++k) path += (k ? ",\"" : "\"") + field.path[k] + "\"";
    path += "}";
    params_.emplace_back(path);
  }

  std::string field_sql(const Field& field, bool as_text) {
    if (field.column != nullptr) return field.column->sql;
    push_path(field);
    if (dialect_ == Dialect::sqlite) return "json_extract(i.metadata, ?)";
    return as_text ? "(i.metadata #>> CAST(? AS text[]))" : "(i.metadata #> CAST(? AS text[]))";
  }

  // A metadata value compares only with literals of its own JSON type, on both backends alike: without
  // this, SQLite orders every number before text and reads true as 1, and PostgreSQL orders jsonb strings
  // before numbers.
  std::string type_guard(const Field& field, ValueType type) {
    push_path(field);
    if (dialect_ == Dialect::sqlite) {
      switch (type) {
        case ValueType::number: return "json_type(i.metadata, ?) IN ('integer', 'real')";
        case ValueType::text: return "json_type(i.metadata, ?) = 'text'";
        case ValueType::boolean: return "json_type(i.metadata, ?) IN ('true', 'false')";
      }
    }
    switch (type) {
      case ValueType::number: return "jsonb_typeof(i.metadata #> CAST(? AS text[])) = 'number'";
      case ValueType::text: return "jsonb_typeof(i.metadata #> CAST(? AS text[])) = 'string'";
      case ValueType::boolean: return "jsonb_typeof(i.metadata #> CAST(? AS text[])) = 'boolean'";
    }
    return "1=0";
  }

  // `field op value` as a predicate. op is one of = <> < <= > >=.
  std::string compare_sql(const Field& field, const std::string& op, const Token& value) {
    const ValueType type = checked_value_type(value);
    if (field.column != nullptr) {
      const std::string lhs = field.column->sql;
      return lhs + " " + op + " " + value_sql(field, value, type);
    }
    const std::string guard = type_guard(field, type);
    const std::string lhs = field_sql(field, false);
    const std::string rhs = value_sql(field, value, type);
    const std::string test = "(" + guard + " AND " + lhs + " " + (op == "<>" ? "=" : op) + " " + rhs + ")";
    return op == "<>" ? "(NOT " + test + ")" : test;
  }

  // Binds a literal and returns its placeholder expression, typed for the field it is compared with.
  std::string value_sql(const Field& field, const Token& value, ValueType type) {
    if (field.column != nullptr) {
      if (field.column->type == ColumnType::text) {
        if (type != ValueType::text) fail(value.pos, fmt::format("field '{}' holds text: quote the value", field.name));
        params_.emplace_back(value.text);
        return "?";
      }
      if (type != ValueType::number) fail(value.pos, fmt::format("field '{}' holds numbers, got '{}'", field.name, value.text));
      push_number(value);
      // PostgreSQL would type a bare placeholder after the integer column and reject 511.5.
      return dialect_ == Dialect::postgresql ? "CAST(? AS numeric)" : "?";
    }
    if (dialect_ == Dialect::sqlite) {
      if (type == ValueType::boolean) params_.emplace_back(std::int64_t{lower(value.text) == "true" ? 1 : 0});
      else if (type == ValueType::number) push_number(value);
      else params_.emplace_back(value.text);
      return "?";
    }
    if (type == ValueType::boolean) {
      params_.emplace_back(lower(value.text));
      return "to_jsonb(CAST(? AS boolean))";
    }
    if (type == ValueType::number) {
      push_number(value);
      return "to_jsonb(CAST(? AS numeric))";
    }
    params_.emplace_back(value.text);
    return "to_jsonb(CAST(? AS text))";
  }

  void push_number(const Token& value) {
    if (value.is_integer) {
      std::int64_t n = 0;
      const char* begin = value.text.data() + (value.text[0] == '+' ? 1 : 0);
      auto [end, ec] = std::from_chars(begin, value.text.data() + value.text.size(), n);
      if (ec == std::errc() && end == value.text.data() + value.text.size()) {
        params_.emplace_back(n);
        return;
      }
    }
    char* end = nullptr;
    const double d = std::strtod(value.text.c_str(), &end);
    if (end != value.text.c_str() + value.text.size()) fail(value.pos, fmt::format("'{}' is not a number", value.text));
    params_.emplace_back(d);
  }

  // `annotation_state = 'annotated'`, `!=`, `in (...)`, `not in (...)`: a test over the image's annotations
  // (annotation_state.hpp) rather than a value, so only equality tests mean something.
  std::string parse_annotation_state(const Field& field) {
    const Token t = next();
    if (t.kind == Tok::op && t.text != "<" && t.text != "<=" && t.text != ">" && t.text != ">=") {
      const std::string test = annotation_state_test(next_value(t));
      return t.text == "=" || t.text == "==" ? test : "(NOT " + test + ")";
    }
    bool negate = false;
    if (t.kind == Tok::ident && lower(t.text) == "not" && peek_keyword("in")) {
      next();
      negate = true;
    } else if (!(t.kind == Tok::ident && lower(t.text) == "in")) {
      fail(t.pos, fmt::format("field '{}' takes =, != or in (...) with {}; found '{}'", field.name,
                              annotation_states_text(), t.text));
    }
    const Token open = next();
    if (open.kind != Tok::lparen) fail(open.pos, "expected '(' after 'in'");
    std::string any;
    for (;;) {
      any += (any.empty() ? "" : " OR ") + annotation_state_test(next());
      const Token sep = next();
      if (sep.kind == Tok::rparen) break;
      if (sep.kind != Tok::comma) fail(sep.pos, fmt::format("expected ',' or ')' but found '{}'", sep.text));
    }
    return negate ? "(NOT (" + any + "))" : "(" + any + ")";
  }

  std::string annotation_state_test(const Token& value) const {
    if (value.kind != Tok::string || !is_annotation_state(value.text)) {
      fail(value.pos, fmt::format("annotation_state is one of {} (quoted), got '{}'", annotation_states_text(),
                                  value.text));
    }
    return annotation_state_sql(value.text);
  }

  std::string parse_comparison() {
    const Field field = parse_field();
    if (field.is_annotation_state) return parse_annotation_state(field);
    const Token t = peek();
    if (t.kind == Tok::op) {
      next();
      const std::string op = t.text == "==" ? "=" : t.text == "!=" ? "<>" : t.text;
      return compare_sql(field, op, next_value(t));
    }
    if (t.kind != Tok::ident) {
      fail(t.pos, fmt::format("expected an operator after '{}' but found '{}'", field.name, t.text));
    }
    std::string word = lower(t.text);
    next();
    bool negate = false;
    if (word == "not") {
      negate = true;
      const Token w = next();
      word = lower(w.text);
      if (w.kind != Tok::ident || (word != "in" && word != "like")) {
        fail(w.pos, fmt::format("expected 'in' or 'like' after 'not' but found '{}'", w.text));
      }
    }
    if (word == "is") {
      bool not_null = false;
      if (peek_keyword("not")) {
        next();
        not_null = true;
      }
      const Token n = next();
      if (lower(n.text) != "null") fail(n.pos, fmt::format("expected 'null' but found '{}'", n.text));
      return field_sql(field, true) + (not_null ? " IS NOT NULL" : " IS NULL");
    }
    if (word == "like") {
      const Token pattern = next();
      if (pattern.kind != Tok::string) fail(pattern.pos, "'like' needs a quoted pattern");
      const std::string lhs = field_sql(field, true);
      params_.emplace_back(pattern.text);
      // No escape character on either backend: PostgreSQL's default would be backslash.
      const char* like = dialect_ == Dialect::postgresql ? " ILIKE ? ESCAPE ''" : " LIKE ?";
      const std::string cast_lhs = dialect_ == Dialect::postgresql ? "CAST(" + lhs + " AS text)" : lhs;
      return std::string(negate ? "NOT (" : "(") + cast_lhs + like + ")";
    }
    if (word == "in") {
      const Token open = next();
      if (open.kind != Tok::lparen) fail(open.pos, "expected '(' after 'in'");
      // One typed equality per value, so `in` follows the same type rules as `=`.
      std::string any;
      for (;;) {
        const Token v = next();
        any += (any.empty() ? "" : " OR ") + compare_sql(field, "=", v);
        const Token sep = next();
        if (sep.kind == Tok::rparen) break;
        if (sep.kind != Tok::comma) fail(sep.pos, fmt::format("expected ',' or ')' but found '{}'", sep.text));
      }
      return negate ? "(NOT (" + any + "))" : "(" + any + ")";
    }
    fail(t.pos, fmt::format("expected an operator after '{}' but found '{}'", field.name, t.text));
  }

  Token next_value(const Token& op) {
    const Token v = next();
    if (v.kind == Tok::end) fail(v.pos, fmt::format("expected a value after '{}'", op.text));
    return v;
  }

  std::string_view text_;
  Dialect dialect_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  SqlParams params_;
};

}  // namespace

SqlFilter compile_where(std::string_view text, Dialect dialect) { return Parser(text, dialect).parse(); }

}  // namespace tessera::catalog
