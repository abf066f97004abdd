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

void AppendIndexKeys(const KeyRing& ring, std::string_view type, const fhir::IndexValue& v,
                     const keys::IndexId& id, std::vector<std::string>* out) {
  if (!IsHashedParam(ring, *v.param)) {
    out->push_back(keys::IndexKey(type, v, id));
    return;
  }
  fhir::IndexValue h;  // v with its value hashed (the value is not copied)
  h.param = v.param;
  h.system = v.system;
  h.range = v.range;
  h.number = v.number;
  if (v.param->type == fhir::ParamType::kToken) {
    h.value = ring.IndexHash('t', v.value);
    out->push_back(keys::IndexKey(type, h, id));
    return;
  }
  const size_t n = std::min(v.value.size(), kMaxHashedPrefix);
  for (size_t len = 1; len <= n; ++len) {
    h.value = ring.IndexHash('p', std::string_view(v.value).substr(0, len));
    out->push_back(keys::IndexKey(type, h, id));
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
