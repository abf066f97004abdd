// Internal to the store module: which search values are kept as keyed hashes, and how
// (docs/security.md, "Encryption at rest"; docs/formats/store.md).
//
// Identifying parameters — every string parameter (names, addresses) and the tokens
// identifier, telecom, phone and email — are indexed as IndexHash values of the key ring:
// a token's code as H('t', code) (its system stays in clear); a string as H('p', prefix)
// for each byte prefix of its normalized form up to kMaxHashedPrefix bytes, so that the
// default prefix search (name=Smi) is an equality lookup. :exact and :contains, and
// prefixes longer than kMaxHashedPrefix, are confirmed against the decrypted resource.
// Dates, quantities, references and codes stay in clear (range search needs order).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fhir/search_params.h"
#include "fhir/search_query.h"
#include "store/key_ring.h"
#include "store/keys.h"

namespace medhub::store {

inline constexpr size_t kMaxHashedPrefix = 32;

// True when `param` is indexed as keyed hashes in an encrypted store.
bool IsHashedParam(const KeyRing& ring, const fhir::SearchParamDef& param);

// Appends the search-index keys of one value (one key, or one per hashed prefix).
void AppendIndexKeys(const KeyRing& ring, std::string_view type, const fhir::IndexValueRef& v,
                     const keys::IndexId& id, keys::KeyList* out);

// How one criterion is evaluated against the index.
struct IndexCriterion {
  const fhir::SearchCriterion* original = nullptr;
  fhir::SearchCriterion effective;  // values hashed like the index (a copy)
  bool raw_check = false;           // confirm each candidate against the decrypted resource
  bool index_only = true;           // false: the index cannot answer (hashed :contains)
};
IndexCriterion ForIndex(const KeyRing& ring, const fhir::SearchCriterion& c);

}  // namespace medhub::store
