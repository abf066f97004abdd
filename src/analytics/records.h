// What the jobs read from a FHIR resource, and the compact '|'-separated records that
// stage-1 maps emit so that a per-patient (or per-device) reduce can take the latest
// version of every resource (docs/formats/analytics.md).
//
// A record is "Type|id|version|deleted|group|field...": version is the resource's
// meta.versionId as a decimal integer (0 when absent); deleted is "1" for a lake tombstone
// or for a version the job does not use (so that it still supersedes older versions);
// group is the patient (or device) id the job groups by. Fields never contain '|', '\t'
// or '\n' (Clean() replaces them with ' ').
//
// Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/time.h"

namespace medhub::analytics {

// The resourceType of a compact JSON resource line without parsing it, or "" when it is
// not found in the line's first bytes.
std::string_view SniffResourceType(std::string_view line);

// Cheap framing check for lines a job does not parse: an object, not cut short.
bool LooksLikeWholeObject(std::string_view line);

// Accessors over a resource node: `R` is json::Value (a parsed tree) or json::LazyNode (a
// validated line read in place); a "maybe node" `P` is what R::find returns (a pointer or
// a std::optional). Returned views point into the node's document.

// The id a reference text points to when it names a `type` ("Patient/123",
// "http://x/fhir/Patient/123", "urn:uuid:123" are all "123"); "" otherwise.
std::string_view IdInReference(std::string_view text, std::string_view type);

// The id the reference `element` of a resource points to (IdInReference); "" when absent.
template <class R>
std::string_view ReferencedId(const R& resource, std::string_view element, std::string_view type) {
  const auto ref = resource.find(element);
  if (!ref) return {};
  if (ref->is_array()) {  // e.g. Observation.device is single, but be lenient
    const auto& items = ref->items();
    if (items.begin() == items.end()) return {};
    return IdInReference((*items.begin()).get_string("reference"), type);
  }
  return IdInReference(ref->get_string("reference"), type);
}

// True when the line is a lake tombstone: meta.tag holds urn:medhub:lake|deleted
// (docs/formats/lake.md).
template <class R>
bool IsDeletionMarker(const R& resource) {
  const auto meta = resource.find("meta");
  if (!meta) return false;
  const auto tags = meta->find("tag");
  if (!tags || !tags->is_array()) return false;
  for (const auto& t : tags->items()) {
    if (t.get_string("system") == "urn:medhub:lake" && t.get_string("code") == "deleted") {
      return true;
    }
  }
  return false;
}

// Parses a decimal integer or number; nullopt when malformed.
std::optional<int64_t> ParseInt(std::string_view s);
std::optional<double> ParseDouble(std::string_view s);

// meta.versionId as an integer; 0 when absent or not numeric.
template <class R>
int64_t VersionOf(const R& resource) {
  const auto meta = resource.find("meta");
  if (!meta) return 0;
  return ParseInt(meta->get_string("versionId")).value_or(0);
}

// The first coding code of a CodeableConcept member equal to `code` / in `codes`; "" if
// none.
template <class P, class Match>
std::string_view FirstCodeWhere(const P& concept_value, const Match& match) {
  if (!concept_value) return {};
  const auto codings = concept_value->find("coding");
  if (!codings || !codings->is_array()) return {};
  for (const auto& c : codings->items()) {
    const std::string_view code = c.get_string("code");
    if (match(code)) return code;
  }
  return {};
}
template <class P>
std::string_view CodeIn(const P& concept_value, const std::vector<std::string_view>& codes) {
  return FirstCodeWhere(concept_value, [&](std::string_view code) {
    return std::find(codes.begin(), codes.end(), code) != codes.end();
  });
}
template <class P>
std::string_view CodeIn(const P& concept_value, std::string_view wanted) {
  return FirstCodeWhere(concept_value, [&](std::string_view code) { return code == wanted; });
}

// The first coding code of a CodeableConcept member; "" if none.
template <class P>
std::string_view FirstCode(const P& concept_value) {
  if (!concept_value) return {};
  const auto codings = concept_value->find("coding");
  if (!codings || !codings->is_array()) return {};
  for (const auto& c : codings->items()) return c.get_string("code");
  return {};
}

// The coding text/display of a CodeableConcept, lower-cased, for name matching.
template <class P>
std::string ConceptText(const P& concept_value) {
  if (!concept_value) return {};
  std::string text(concept_value->get_string("text"));
  if (const auto codings = concept_value->find("coding"); codings && codings->is_array()) {
    for (const auto& c : codings->items()) {
      text += ' ';
      text += c.get_string("display");
    }
  }
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// Replaces '|', '\t', '\n' and '\r' with ' '.
std::string Clean(std::string_view s);

// A record as fields; fields[0] = type, [1] = id, [2] = version, [3] = deleted.
std::vector<std::string_view> SplitRecord(std::string_view record, char sep = '|');
std::string JoinRecord(const std::vector<std::string>& fields);
// Appends `field` to *out with '|', '\t', '\n' and '\r' replaced by ' ' (as Clean()).
void AppendCleaned(std::string_view field, std::string* out);

// Of records with the same type and id, keeps the one with the highest version (ties: the
// greater record bytes, so the choice does not depend on order). With drop_deleted the
// survivors that are deletion markers are removed too. Returns views into `values`.
std::vector<std::string_view> LatestVersions(const std::vector<std::string_view>& values,
                                             bool drop_deleted);

// "YYYY-MM-DD" of a day number since 1970-01-01 (proleptic Gregorian).
std::string FormatCivilDay(int64_t days);

}  // namespace medhub::analytics
