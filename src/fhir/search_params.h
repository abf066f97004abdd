// The search parameters medhub supports and the index values they take from a resource.
//
// The store indexes what ExtractIndexValues() returns and answers queries over it; this
// file is the single list of what is searchable (docs/formats/store.md describes how the
// values become RocksDB keys). Thread-safe: the table is immutable.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/time.h"

namespace medhub::fhir {

enum class ParamType { kToken, kString, kDate, kReference, kQuantity };

struct SearchParamDef {
  std::string_view resource;  // "" for parameters of every resource (_lastUpdated)
  std::string_view name;      // "patient", "code", ...
  ParamType type;
  // Element names to read, dotted, each step flattening arrays: "name.given",
  // "effectiveDateTime". For reference parameters `target` restricts the referenced type.
  std::vector<std::string_view> paths;
  std::string_view target = "";
  // Set when another parameter of the same resource indexes the same elements (e.g.
  // Observation "patient" is "subject" restricted to Patient targets): this parameter has
  // no index entries of its own and is searched in that parameter's index.
  std::string_view indexed_as = "";
};

// The definition of `name` for `resource_type`, or nullptr if medhub does not support it.
const SearchParamDef* FindSearchParam(std::string_view resource_type, std::string_view name);
// The parameter whose index holds `p`'s values: `p` itself unless p.indexed_as is set.
const SearchParamDef& IndexedParam(const SearchParamDef& p);
// Every supported parameter of a type (including the common ones).
std::vector<const SearchParamDef*> SearchParamsOf(std::string_view resource_type);
// Every supported parameter, for the CapabilityStatement.
const std::vector<SearchParamDef>& AllSearchParams();

// One value of one parameter in one resource.
struct IndexValue {
  const SearchParamDef* param = nullptr;
  // token: code; string: normalized text (NormalizeString); reference: "Type/id";
  // quantity: code (or unit when there is no code).
  std::string value;
  // token and quantity: the system ("" when none).
  std::string system;
  DateRange range;    // date
  double number = 0;  // quantity
};

// One index value as views: of the resource's JSON (codes, systems, references) or of
// IndexValueRefs::owned (normalized strings). Same meaning as IndexValue.
struct IndexValueRef {
  const SearchParamDef* param = nullptr;
  std::string_view value;
  std::string_view system;
  DateRange range;
  double number = 0;
};
inline IndexValueRef AsRef(const IndexValue& v) {
  return {v.param, v.value, v.system, v.range, v.number};
}
// The index values of one resource, valid while the resource and this object are unchanged.
// Reuse one object (e.g. a thread's) so that extracting allocates nothing in the common case.
struct IndexValueRefs {
  std::vector<IndexValueRef> values;
  std::deque<std::string> owned;  // the strings that are not in the JSON as they are indexed
};

// All index values of a resource (already validated). References that are not "Type/id"
// (absolute foreign URLs, urn:, #contained) are not indexed.
std::vector<IndexValue> ExtractIndexValues(const json::Value& resource);
// The same values as views (the store's write path); clears *out first.
void ExtractIndexValueRefs(const json::Value& resource, IndexValueRefs* out);

// The strings of a string parameter as written (for the :exact modifier).
std::vector<std::string> RawStringValues(const json::Value& resource, const SearchParamDef& param);

// Lower-cases ASCII letters and folds common Latin-1 accented letters to their base, so
// "Jörg" and "jorg" match, as FHIR string search requires (case and accent insensitive).
std::string NormalizeString(std::string_view s);

// The ids of the patients whose compartment holds this resource: the Patient itself, or
// the Patient references in the compartment elements of its type.
std::vector<std::string> PatientCompartmentsOf(const json::Value& resource);
// The same ids as views of the resource (which must outlive them); clears *out first.
void PatientCompartmentIds(const json::Value& resource, std::vector<std::string_view>* out);

// The time the resource is about (effective, onset, performed, period start, authored,
// issued, ...), in microseconds; `fallback` when it has none.
int64_t ClinicalTime(const json::Value& resource, int64_t fallback);

}  // namespace medhub::fhir
