#pragma once

#include <optional>
#include <string>
#include <string_view>

// Value rules of EcoTaxa's TSV import (formats.md 3.2-3.3) and the TSV cell syntax it reads.
namespace tessera::exchange::ecotaxa {

bool is_valid_utf8(std::string_view text);

// object_date as EcoTaxa parses it: YYYYMMDD or YYYY-MM-DD naming a real calendar day (years
// 1..9999). Returns the date as YYYYMMDD, or nothing if EcoTaxa would reject it.
std::optional<std::string> parse_date(std::string_view text);

// object_time as EcoTaxa parses it: HH:MM:SS, or 1..6 digits left-padded with zeros to HHMM and then
// right-padded to HHMMSS ("420" is 04:20:00). Returns HHMMSS, or nothing if EcoTaxa would reject it.
std::optional<std::string> parse_time(std::string_view text);

// object_annotation_status: "predicted", "validated", "dubious", "discarded" in any case, returned
// lower-cased; "" stays "" (unclassified). Nothing for anything else.
std::optional<std::string> parse_status(std::string_view text);

// A text value as one TSV cell: as is, or between '"' with '"' doubled when it holds TAB, CR, LF or
// '"' (what Python's csv module, EcoTaxa's reader, expects). EcoTaxa opens the file in universal-newline
// mode, so a CR inside a value reads back as LF.
std::string text_cell(std::string_view text);

// A number as one TSV cell: the shortest text that reads back as the same double, "" for NaN/±inf.
std::string number_cell(double value);

// A caller's field name as the part after the prefix: lower case, every run of '_' and characters
// outside [a-z0-9] -> one '_', none at either end. May return "" (no letter or digit in the name).
std::string sanitize_field(std::string_view name);

}  // namespace tessera::exchange::ecotaxa
