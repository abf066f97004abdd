#include "analytics/output.h"

#include "analytics/records.h"
#include "core/json.h"

namespace medhub::analytics {

std::vector<std::string> SplitRow(std::string_view line) {
  std::vector<std::string> row;
  const size_t tab = line.find('\t');
  for (std::string_view f : SplitRecord(line.substr(0, tab), '|')) row.emplace_back(f);
  if (tab != std::string_view::npos) {
    for (std::string_view f : SplitRecord(line.substr(tab + 1), '\t')) row.emplace_back(f);
  }
  return row;
}

namespace {

void AppendCsvField(std::string_view f, std::string* out) {
  if (f.find_first_of(",\"\n\r") == std::string_view::npos) {
    out->append(f);
    return;
  }
  out->push_back('"');
  for (char c : f) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

bool IsJsonNumber(const std::string& f) {
  if (f.empty()) return false;
  auto parsed = json::Parse(f);
  return parsed.ok() && parsed->is_number();
}

}  // namespace

std::string FormatCsv(const std::vector<std::string>& columns,
                      const std::vector<std::string>& lines) {
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) out += ',';
    AppendCsvField(columns[i], &out);
  }
  out += '\n';
  for (const std::string& line : lines) {
    const auto row = SplitRow(line);
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) out += ',';
      AppendCsvField(row[i], &out);
    }
    out += '\n';
  }
  return out;
}

std::string FormatJson(const std::vector<std::string>& columns,
                       const std::vector<std::string>& lines) {
  std::string out = "[";
  for (size_t r = 0; r < lines.size(); ++r) {
    const auto row = SplitRow(lines[r]);
    out += r == 0 ? "\n  {" : ",\n  {";
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) out += ',';
      json::AppendQuoted(i < columns.size() ? columns[i] : "column_" + std::to_string(i + 1),
                         &out);
      out += ':';
      if (IsJsonNumber(row[i])) {
        out += row[i];
      } else {
        json::AppendQuoted(row[i], &out);
      }
    }
    out += '}';
  }
  out += lines.empty() ? "]\n" : "\n]\n";
  return out;
}

}  // namespace medhub::analytics
