#include "lake/partition.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "core/time.h"

namespace medhub::lake {
namespace {

bool StartsWithYear(std::string_view s) {
  if (s.size() < 4 || (s.size() > 4 && s[4] != '-')) return false;
  for (size_t i = 0; i < 4; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::string_view PatientIdInReference(std::string_view ref) {
  constexpr std::string_view kPatient = "Patient/";
  size_t pos = ref.rfind(kPatient);
  if (pos == std::string_view::npos || (pos > 0 && ref[pos - 1] != '/')) return {};
  std::string_view rest = ref.substr(pos + kPatient.size());
  rest = rest.substr(0, rest.find('/'));
  return rest;
}

}  // namespace

uint64_t Fnv1a64(std::string_view data) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

namespace {

// Node: json::Value (find gives a pointer) or json::LazyNode (find gives an optional).
template <typename Node>
std::string YearOf(const Node& resource, int64_t last_updated_micros) {
  if (last_updated_micros != 0) return FormatInstant(last_updated_micros).substr(0, 4);
  if (const auto meta = resource.find("meta"); meta && meta->is_object()) {
    const std::string_view written = meta->get_string("lastUpdated");
    if (StartsWithYear(written.substr(0, std::min<size_t>(written.size(), 5)))) {
      return std::string(written.substr(0, 4));
    }
  }
  return "1970";
}

template <typename Node>
std::string PatientIn(const Node& resource, std::string_view type, std::string_view id) {
  if (type == "Patient") return std::string(id);
  for (std::string_view field : {"subject", "patient"}) {
    const auto ref = resource.find(field);
    if (!ref || !ref->is_object()) continue;
    const std::string_view pid = PatientIdInReference(ref->get_string("reference"));
    if (!pid.empty()) return std::string(pid);
  }
  return "";
}

}  // namespace

std::string PartitionYear(const json::Value& resource, int64_t last_updated_micros) {
  return YearOf(resource, last_updated_micros);
}

std::string PartitionYear(const json::LazyNode& resource, int64_t last_updated_micros) {
  return YearOf(resource, last_updated_micros);
}

std::string PatientOf(const json::Value& resource, std::string_view type, std::string_view id) {
  return PatientIn(resource, type, id);
}

std::string PatientOf(const json::LazyNode& resource, std::string_view type,
                      std::string_view id) {
  return PatientIn(resource, type, id);
}

int BucketOf(std::string_view patient_id, std::string_view type, std::string_view id,
             int buckets) {
  const uint64_t h =
      patient_id.empty() ? Fnv1a64(std::string(type) + "/" + std::string(id)) : Fnv1a64(patient_id);
  return static_cast<int>(h % static_cast<uint64_t>(std::clamp(buckets, 1, kBuckets)));
}

std::string PartitionDir(std::string_view type, std::string_view year, int bucket) {
  char b[8];
  std::snprintf(b, sizeof b, "%02d", bucket);
  return std::string(type) + "/date=" + std::string(year) + "/bucket=" + b;
}

std::string TombstoneLine(std::string_view type, std::string_view id, uint64_t version,
                          int64_t last_updated_micros) {
  std::string out = "{\"resourceType\":";
  json::AppendQuoted(type, &out);
  out += ",\"id\":";
  json::AppendQuoted(id, &out);
  out += ",\"meta\":{\"versionId\":\"" + std::to_string(version) + "\",\"lastUpdated\":\"" +
         FormatInstant(last_updated_micros) +
         "\",\"tag\":[{\"system\":\"urn:medhub:lake\",\"code\":\"deleted\"}]}}";
  return out;
}

}  // namespace medhub::lake
