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

// The id a reference points to when it names a `type` ("Patient/123",
// "http://x/fhir/Patient/123", "urn:uuid:123" are all "123"); "" otherwise.
std::string_view ReferencedId(const json::Value& resource, std::string_view element,
                              std::string_view type);

// True when the line is a lake tombstone: meta.tag holds urn:medhub:lake|deleted
// (docs/formats/lake.md).
bool IsDeletionMarker(const json::Value& resource);

// meta.versionId as an integer; 0 when absent or not numeric.
int64_t VersionOf(const json::Value& resource);

// The first coding code of a CodeableConcept member whose code is in `codes`; "" if none.
std::string_view CodeIn(const json::Value* concept_value,
                        const std::vector<std::string_view>& codes);
// The first coding code of a CodeableConcept member; "" if none.
std::string_view FirstCode(const json::Value* concept_value);
// The coding text/display of a CodeableConcept, lower-cased, for name matching.
std::string ConceptText(const json::Value* concept_value);

// Replaces '|', '\t', '\n' and '\r' with ' '.
std::string Clean(std::string_view s);

// A record as fields; fields[0] = type, [1] = id, [2] = version, [3] = deleted.
std::vector<std::string_view> SplitRecord(std::string_view record, char sep = '|');
std::string JoinRecord(const std::vector<std::string>& fields);

// Of records with the same type and id, keeps the one with the highest version (ties: the
// greater record bytes, so the choice does not depend on order). With drop_deleted the
// survivors that are deletion markers are removed too. Returns views into `values`.
std::vector<std::string_view> LatestVersions(const std::vector<std::string_view>& values,
                                             bool drop_deleted);

// "YYYY-MM-DD" of a day number since 1970-01-01 (proleptic Gregorian).
std::string FormatCivilDay(int64_t days);

// Parses a decimal integer or number; nullopt when malformed.
std::optional<int64_t> ParseInt(std::string_view s);
std::optional<double> ParseDouble(std::string_view s);

}  // namespace medhub::analytics
