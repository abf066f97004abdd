// A parsed FHIR search: what ParseSearchQuery() makes of the URL parameters.
//
// Parameters are AND-ed; comma-separated values of one parameter are OR-ed. An unknown
// parameter, modifier, prefix or malformed value is an InvalidArgument error (medhub
// searches strictly: a silently ignored filter would return records the caller did not
// ask for). Thread-safe: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "fhir/search_params.h"

namespace medhub::fhir {

enum class Prefix { kEq, kNe, kLt, kLe, kGt, kGe, kSa, kEb, kAp };

struct SearchValue {
  Prefix prefix = Prefix::kEq;
  std::string value;        // token code, normalized string, "Type/id", quantity code, _id
  std::string system;       // token / quantity system
  bool has_system = false;  // "system|code" or "|code" was written
  DateRange range;          // date
  double number = 0;        // quantity
};

struct SearchCriterion {
  const SearchParamDef* param = nullptr;  // nullptr for _id
  std::string name;
  std::string modifier;  // "", "exact", "contains", "missing", "not"
  std::vector<SearchValue> any_of;
};

// _include=Observation:patient  (source_type:param[:target_type])
struct IncludeSpec {
  std::string source_type;
  const SearchParamDef* param = nullptr;
  std::string target_type;  // may be ""
};

struct SearchQuery {
  std::string type;
  std::vector<SearchCriterion> criteria;
  size_t count = 50;                     // page size (_count), at most kMaxCount
  size_t offset = 0;                     // _offset (from our own next links)
  const SearchParamDef* sort = nullptr;  // _sort (date parameters and _lastUpdated)
  bool sort_descending = false;
  std::vector<IncludeSpec> includes;
  std::vector<IncludeSpec> revincludes;
  bool summary_count = false;  // _summary=count
};

inline constexpr size_t kMaxCount = 1000;

// Parses the query parameters of GET [base]/[type]?... Errors: InvalidArgument.
Result<SearchQuery> ParseSearchQuery(
    std::string_view type, const std::vector<std::pair<std::string, std::string>>& params);

// True when a date range `target` satisfies `prefix value` (FHIR R4 date search rules).
bool DateMatches(Prefix prefix, const DateRange& value, const DateRange& target);
// True when `number` satisfies `prefix value` for quantities (eq/ap use value's precision).
bool NumberMatches(Prefix prefix, const SearchValue& value, double number);

}  // namespace medhub::fhir
