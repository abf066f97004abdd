#include "store/index_hashing.h"

#include "store/keys.h"

namespace medhub::store {

bool IsHashedParam(const KeyRing& ring, const fhir::SearchParamDef& param) {
  if (!ring.enabled()) return false;
  if (param.type == fhir::ParamType::kString) return true;
  return param.type == fhir::ParamType::kToken &&
         (param.name == "identifier" || param.name == "telecom" || param.name == "phone" ||
          param.name == "email");
}

void AppendIndexKeys(const KeyRing& ring, std::string_view type, const fhir::IndexValueRef& v,
                     const keys::IndexId& id, keys::KeyList* out) {
  if (!IsHashedParam(ring, *v.param)) return keys::AppendIndexKey(out->Begin(), type, v, id);
  fhir::IndexValueRef h = v;  // v with its value hashed
  if (v.param->type == fhir::ParamType::kToken) {
    const std::string hash = ring.IndexHash('t', v.value);
    h.value = hash;
    return keys::AppendIndexKey(out->Begin(), type, h, id);
  }
  const size_t n = std::min(v.value.size(), kMaxHashedPrefix);
  for (size_t len = 1; len <= n; ++len) {
    const std::string hash = ring.IndexHash('p', v.value.substr(0, len));
    h.value = hash;
    keys::AppendIndexKey(out->Begin(), type, h, id);
  }
}

IndexCriterion ForIndex(const KeyRing& ring, const fhir::SearchCriterion& c) {
  IndexCriterion ic;
  ic.original = &c;
  ic.effective = c;
  if (c.param == nullptr || !IsHashedParam(ring, *c.param)) {
    ic.raw_check = c.modifier == "exact";
    return ic;
  }
  if (c.modifier == "missing") return ic;  // "true"/"false", not a value
  if (c.param->type == fhir::ParamType::kToken) {
    for (auto& v : ic.effective.any_of)
      if (!v.value.empty()) v.value = ring.IndexHash('t', v.value);
    return ic;
  }
  if (c.modifier == "contains") {
    ic.raw_check = true;
    ic.index_only = false;
    return ic;
  }
  ic.raw_check = c.modifier == "exact";
  for (auto& v : ic.effective.any_of) {
    std::string text = c.modifier == "exact" ? fhir::NormalizeString(v.value) : v.value;
    if (text.size() > kMaxHashedPrefix) ic.raw_check = true;
    // An empty value matches every string: no hash stands for it.
    v.value = text.empty() ? std::string() : ring.IndexHash('p', text.substr(0, kMaxHashedPrefix));
  }
  if (c.modifier == "exact") ic.effective.modifier.clear();  // a hashed prefix lookup
  return ic;
}

}  // namespace medhub::store
