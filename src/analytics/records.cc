#include "analytics/records.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

namespace medhub::analytics {

std::string_view SniffResourceType(std::string_view line) {
  constexpr std::string_view kKey = "\"resourceType\"";
  const size_t at = line.substr(0, 4096).find(kKey);
  if (at == std::string_view::npos) return {};
  size_t p = at + kKey.size();
  while (p < line.size() && (line[p] == ' ' || line[p] == ':')) ++p;
  if (p >= line.size() || line[p] != '"') return {};
  const size_t end = line.find('"', p + 1);
  if (end == std::string_view::npos) return {};
  return line.substr(p + 1, end - p - 1);
}

bool LooksLikeWholeObject(std::string_view line) {
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
  return line.size() >= 2 && line.front() == '{' && line.back() == '}';
}

std::string_view IdInReference(std::string_view text, std::string_view type) {
  if (text.starts_with("urn:uuid:")) return text.substr(9);
  // The last "<type>/" in the text, preceded by nothing or '/'.
  size_t at = std::string_view::npos;
  if (!type.empty() && text.size() > type.size()) {
    for (size_t i = text.size() - type.size(); i-- > 0;) {
      if (text[i + type.size()] == '/' && text.compare(i, type.size(), type) == 0) {
        at = i;
        break;
      }
    }
  }
  if (at == std::string_view::npos) return {};
  if (at != 0 && text[at - 1] != '/') return {};
  std::string_view id = text.substr(at + type.size() + 1);
  const size_t hist = id.find('/');  // "Patient/1/_history/2"
  if (hist != std::string_view::npos) id = id.substr(0, hist);
  return id;
}

std::string Clean(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '|' || c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

void AppendCleaned(std::string_view field, std::string* out) {
  const size_t at = out->size();
  out->append(field);
  for (size_t i = at; i < out->size(); ++i) {
    char& c = (*out)[i];
    if (c == '|' || c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
}

std::vector<std::string_view> SplitRecord(std::string_view record, char sep) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    const size_t at = record.find(sep, start);
    if (at == std::string_view::npos) {
      fields.push_back(record.substr(start));
      return fields;
    }
    fields.push_back(record.substr(start, at - start));
    start = at + 1;
  }
}

std::string JoinRecord(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += '|';
    out += Clean(fields[i]);
  }
  return out;
}

namespace {

// Field n (0-based) of a '|'-separated record; nullopt when the record has fewer fields.
std::optional<std::string_view> NthField(std::string_view record, size_t n) {
  // A byte loop: fields are short, and this runs once per map output pair.
  size_t start = 0, seen = 0;
  for (size_t i = 0; i < record.size(); ++i) {
    if (record[i] != '|') continue;
    if (seen == n) return record.substr(start, i - start);
    ++seen;
    start = i + 1;
  }
  if (seen == n) return record.substr(start);
  return std::nullopt;
}

}  // namespace

std::vector<std::string_view> LatestVersions(const std::vector<std::string_view>& values,
                                             bool drop_deleted) {
  if (values.size() == 1) {  // the common case: one version of one resource
    const std::optional<std::string_view> deleted = NthField(values[0], 3);
    if (!deleted || (drop_deleted && *deleted == "1")) return {};
    return {values[0]};
  }
  struct Best {
    bool set = false;
    int64_t version = 0;
    std::string_view record;
  };
  std::map<std::pair<std::string_view, std::string_view>, Best> best;
  for (std::string_view v : values) {
    const auto f = SplitRecord(v);
    if (f.size() < 4) continue;
    const int64_t version = ParseInt(f[2]).value_or(0);
    Best& b = best[{f[0], f[1]}];
    if (!b.set || version > b.version || (version == b.version && v > b.record)) {
      b = {true, version, v};
    }
  }
  std::vector<std::string_view> out;
  out.reserve(best.size());
  for (const auto& [unused, b] : best) {
    if (drop_deleted && SplitRecord(b.record)[3] == "1") continue;
    out.push_back(b.record);
  }
  return out;
}

std::string FormatCivilDay(int64_t days) {
  // H. Hinnant's civil_from_days.
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d));
  return buf;
}

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<double> ParseDouble(std::string_view s) {
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace medhub::analytics
