#include "fhir/search_params.h"

#include <unordered_map>
#include <utility>

#include "fhir/resource.h"

namespace medhub::fhir {
namespace {

using PT = ParamType;

// Paths follow the FHIR R4 SearchParameter definitions, restricted to the elements that
// exist in R4 JSON for each type.
const std::vector<SearchParamDef>& Table() {
  static const std::vector<SearchParamDef> kTable = {
      {"", "_lastUpdated", PT::kDate, {"meta.lastUpdated"}},
      {"", "_tag", PT::kToken, {"meta.tag"}},
      {"", "_profile", PT::kReference, {"meta.profile"}},

      {"Patient", "identifier", PT::kToken, {"identifier"}},
      {"Patient", "name", PT::kString, {"name"}},
      {"Patient", "family", PT::kString, {"name.family"}},
      {"Patient", "given", PT::kString, {"name.given"}},
      {"Patient", "birthdate", PT::kDate, {"birthDate"}},
      {"Patient", "gender", PT::kToken, {"gender"}},
      {"Patient", "address", PT::kString, {"address"}},
      {"Patient", "address-city", PT::kString, {"address.city"}},
      {"Patient", "telecom", PT::kToken, {"telecom"}},
      {"Patient", "organization", PT::kReference, {"managingOrganization"}, "Organization"},

      {"Observation", "patient", PT::kReference, {"subject"}, "Patient", "subject"},
      {"Observation", "subject", PT::kReference, {"subject"}},
      {"Observation", "encounter", PT::kReference, {"encounter"}, "Encounter"},
      {"Observation", "code", PT::kToken, {"code"}},
      {"Observation", "category", PT::kToken, {"category"}},
      {"Observation", "status", PT::kToken, {"status"}},
      {"Observation",
       "date",
       PT::kDate,
       {"effectiveDateTime", "effectivePeriod", "effectiveInstant"}},
      {"Observation", "value-quantity", PT::kQuantity, {"valueQuantity"}},
      {"Observation", "component-code", PT::kToken, {"component.code"}},
      {"Observation", "component-value-quantity", PT::kQuantity, {"component.valueQuantity"}},
      {"Observation", "device", PT::kReference, {"device"}},
      {"Observation", "identifier", PT::kToken, {"identifier"}},

      {"Condition", "patient", PT::kReference, {"subject"}, "Patient", "subject"},
      {"Condition", "subject", PT::kReference, {"subject"}},
      {"Condition", "encounter", PT::kReference, {"encounter"}, "Encounter"},
      {"Condition", "code", PT::kToken, {"code"}},
      {"Condition", "clinical-status", PT::kToken, {"clinicalStatus"}},
      {"Condition", "verification-status", PT::kToken, {"verificationStatus"}},
      {"Condition", "category", PT::kToken, {"category"}},
      {"Condition", "onset-date", PT::kDate, {"onsetDateTime", "onsetPeriod"}},

      {"Encounter", "patient", PT::kReference, {"subject"}, "Patient", "subject"},
      {"Encounter", "subject", PT::kReference, {"subject"}},
      {"Encounter", "date", PT::kDate, {"period"}},
      {"Encounter", "class", PT::kToken, {"class"}},
      {"Encounter", "type", PT::kToken, {"type"}},
      {"Encounter", "status", PT::kToken, {"status"}},
      {"Encounter", "service-provider", PT::kReference, {"serviceProvider"}, "Organization"},
      {"Encounter", "practitioner", PT::kReference, {"participant.individual"}, "Practitioner"},

      {"MedicationRequest", "patient", PT::kReference, {"subject"}, "Patient", "subject"},
      {"MedicationRequest", "subject", PT::kReference, {"subject"}},
      {"MedicationRequest", "encounter", PT::kReference, {"encounter"}, "Encounter"},
      {"MedicationRequest", "status", PT::kToken, {"status"}},
      {"MedicationRequest", "intent", PT::kToken, {"intent"}},
      {"MedicationRequest", "code", PT::kToken, {"medicationCodeableConcept"}},
      {"MedicationRequest", "authoredon", PT::kDate, {"authoredOn"}},

      {"Procedure", "patient", PT::kReference, {"subject"}, "Patient", "subject"},
      {"Procedure", "subject", PT::kReference, {"subject"}},
      {"Procedure", "encounter", PT::kReference, {"encounter"}, "Encounter"},
      {"Procedure", "date", PT::kDate, {"performedDateTime", "performedPeriod"}},
      {"Procedure", "code", PT::kToken, {"code"}},
      {"Procedure", "status", PT::kToken, {"status"}},

      {"DiagnosticReport", "patient", PT::kReference, {"subject"}, "Patient", "subject"},
      {"DiagnosticReport", "subject", PT::kReference, {"subject"}},
      {"DiagnosticReport", "encounter", PT::kReference, {"encounter"}, "Encounter"},
      {"DiagnosticReport", "code", PT::kToken, {"code"}},
      {"DiagnosticReport", "date", PT::kDate, {"effectiveDateTime", "effectivePeriod"}},
      {"DiagnosticReport", "result", PT::kReference, {"result"}, "Observation"},

      {"Immunization", "patient", PT::kReference, {"patient"}, "Patient"},
      {"Immunization", "date", PT::kDate, {"occurrenceDateTime"}},
      {"Immunization", "vaccine-code", PT::kToken, {"vaccineCode"}},

      {"CarePlan", "patient", PT::kReference, {"subject"}, "Patient", "subject"},
      {"CarePlan", "subject", PT::kReference, {"subject"}},
      {"CarePlan", "status", PT::kToken, {"status"}},
      {"CarePlan", "category", PT::kToken, {"category"}},
      {"CarePlan", "date", PT::kDate, {"period"}},

      {"CareTeam", "patient", PT::kReference, {"subject"}, "Patient"},
      {"CareTeam", "status", PT::kToken, {"status"}},

      {"Goal", "patient", PT::kReference, {"subject"}, "Patient"},
      {"Goal", "lifecycle-status", PT::kToken, {"lifecycleStatus"}},

      {"AllergyIntolerance", "patient", PT::kReference, {"patient"}, "Patient"},
      {"AllergyIntolerance", "code", PT::kToken, {"code"}},

      {"ImagingStudy", "patient", PT::kReference, {"subject"}, "Patient"},
      {"ImagingStudy", "started", PT::kDate, {"started"}},

      {"Claim", "patient", PT::kReference, {"patient"}, "Patient"},
      {"Claim", "created", PT::kDate, {"created"}},
      {"ExplanationOfBenefit", "patient", PT::kReference, {"patient"}, "Patient"},
      {"ExplanationOfBenefit", "created", PT::kDate, {"created"}},

      {"Consent", "patient", PT::kReference, {"patient"}, "Patient"},
      {"Consent", "status", PT::kToken, {"status"}},
      {"Consent", "actor", PT::kReference, {"provision.actor.reference"}},

      {"AuditEvent", "entity", PT::kReference, {"entity.what"}},
      {"AuditEvent", "patient", PT::kReference, {"entity.what"}, "Patient", "entity"},
      {"AuditEvent", "date", PT::kDate, {"recorded"}},
      {"AuditEvent", "outcome", PT::kToken, {"outcome"}},

      {"Device", "patient", PT::kReference, {"patient"}, "Patient"},
      {"Device", "identifier", PT::kToken, {"identifier"}},

      {"Organization", "identifier", PT::kToken, {"identifier"}},
      {"Organization", "name", PT::kString, {"name"}},
      {"Practitioner", "identifier", PT::kToken, {"identifier"}},
      {"Practitioner", "name", PT::kString, {"name"}},
  };
  return kTable;
}

// Collects the values at a dotted path, flattening arrays at every step.
void Collect(const json::Value& v, std::string_view path, std::vector<const json::Value*>* out) {
  if (v.is_array()) {
    for (const auto& item : v.items()) Collect(item, path, out);
    return;
  }
  if (path.empty()) {
    out->push_back(&v);
    return;
  }
  if (!v.is_object()) return;
  const size_t dot = path.find('.');
  const std::string_view head = path.substr(0, dot);
  const std::string_view tail = dot == std::string_view::npos ? "" : path.substr(dot + 1);
  if (const json::Value* child = v.find(head)) Collect(*child, tail, out);
}

// Appends the values of one parameter found at one JSON value.
class Adder {
 public:
  Adder(const SearchParamDef* p, IndexValueRefs* out) : p_(p), out_(out) {}
  void Token(const json::Value& v) {
    if (v.is_string()) return AddCode("", v.text());
    if (v.is_bool()) return AddCode("", v.as_bool() ? "true" : "false");
    if (!v.is_object()) return;
    if (const json::Value* codings = v.find("coding")) {  // CodeableConcept
      for (const auto& c : codings->items()) AddCode(c.get_string("system"), c.get_string("code"));
      return;
    }
    if (v.find("code")) return AddCode(v.get_string("system"), v.get_string("code"));  // Coding
    if (v.find("value")) return AddCode(v.get_string("system"), v.get_string("value"));
  }
  void String(const json::Value& v, bool normalize) {
    if (v.is_string()) return AddString(v.text(), normalize);
    if (!v.is_object()) return;
    // HumanName and Address: every textual part is searchable.
    for (std::string_view k : {"text", "family", "given", "prefix", "suffix", "line", "city",
                               "district", "state", "postalCode", "country"}) {
      if (const json::Value* part = v.find(k)) {
        if (part->is_string()) AddString(part->text(), normalize);
        for (const auto& item : part->items())
          if (item.is_string()) AddString(item.text(), normalize);
      }
    }
  }
  void Date(const json::Value& v) {
    IndexValueRef iv{p_};
    if (v.is_string()) {
      auto r = ParseFhirDate(v.text());
      if (!r.ok()) return;
      iv.range = *r;
    } else if (v.is_object()) {  // Period: an open end is unbounded
      iv.range = {INT64_MIN, INT64_MAX};
      if (auto s = ParseFhirDate(v.get_string("start")); s.ok()) iv.range.low = s->low;
      if (auto e = ParseFhirDate(v.get_string("end")); e.ok()) iv.range.high = e->high;
      if (iv.range.low == INT64_MIN && iv.range.high == INT64_MAX) return;
    } else {
      return;
    }
    out_->values.push_back(iv);
  }
  void Reference(const json::Value& v) {
    std::string_view text = v.is_string() ? v.text() : v.get_string("reference");
    if (text.empty()) return;
    const auto ref = ParseReferenceView(text);
    if (!ref || ref->type.empty()) {
      // Canonical URLs (meta.profile) are indexed as written.
      if (v.is_string() && p_->type == PT::kReference) out_->values.push_back({p_, text});
      return;
    }
    // "Type/id": the type and the id are views of `text`, one '/' apart.
    if (p_->target.empty() || ref->type == p_->target) {
      const size_t size = static_cast<size_t>(ref->id.data() + ref->id.size() - ref->type.data());
      out_->values.push_back({p_, std::string_view(ref->type.data(), size)});
    }
  }
  void Quantity(const json::Value& v) {
    const json::Value* n = v.find("value");
    if (n == nullptr) return;
    auto d = n->as_double();
    if (!d) return;
    IndexValueRef iv{p_};
    iv.number = *d;
    iv.system = v.get_string("system");
    iv.value = v.find("code") ? v.get_string("code") : v.get_string("unit");
    out_->values.push_back(iv);
  }

 private:
  void AddCode(std::string_view system, std::string_view code) {
    if (!code.empty()) out_->values.push_back({p_, code, system});
  }
  void AddString(std::string_view s, bool normalize) {
    if (s.empty()) return;
    if (normalize) s = out_->owned.emplace_back(NormalizeString(s));
    out_->values.push_back({p_, s});
  }

  const SearchParamDef* p_;
  IndexValueRefs* out_;
};

void AddValues(const SearchParamDef* p, const json::Value& v, IndexValueRefs* out) {
  Adder add(p, out);
  switch (p->type) {
    case PT::kToken:
      return add.Token(v);
    case PT::kString:
      return add.String(v, /*normalize=*/true);
    case PT::kDate:
      return add.Date(v);
    case PT::kReference:
      return add.Reference(v);
    case PT::kQuantity:
      return add.Quantity(v);
  }
}

}  // namespace

const std::vector<SearchParamDef>& AllSearchParams() { return Table(); }

const SearchParamDef* FindSearchParam(std::string_view resource_type, std::string_view name) {
  for (const auto& p : Table())
    if ((p.resource == resource_type || p.resource.empty()) && p.name == name) return &p;
  return nullptr;
}

const SearchParamDef& IndexedParam(const SearchParamDef& p) {
  if (p.indexed_as.empty()) return p;
  const SearchParamDef* base = FindSearchParam(p.resource, p.indexed_as);
  return base != nullptr ? *base : p;
}

std::vector<const SearchParamDef*> SearchParamsOf(std::string_view resource_type) {
  std::vector<const SearchParamDef*> out;
  for (const auto& p : Table())
    if (p.resource == resource_type || p.resource.empty()) out.push_back(&p);
  return out;
}

namespace {

// The parameters of a type that have index entries of their own (not indexed_as another),
// in table order; built once. A type without parameters of its own has the common ones.
const std::vector<const SearchParamDef*>& IndexedParamsOf(std::string_view type) {
  using ByType = std::unordered_map<std::string_view, std::vector<const SearchParamDef*>>;
  static const ByType* const kByType = [] {
    auto* by_type = new ByType;
    for (const SearchParamDef& p : Table()) (*by_type)[p.resource];
    for (auto& [t, params] : *by_type) {
      for (const SearchParamDef& p : Table())
        if (p.indexed_as.empty() && (p.resource == t || p.resource.empty())) params.push_back(&p);
    }
    return by_type;
  }();
  auto it = kByType->find(type);
  return it != kByType->end() ? it->second : kByType->at("");
}

}  // namespace

void ExtractIndexValueRefs(const json::Value& resource, IndexValueRefs* out) {
  out->values.clear();
  out->owned.clear();
  thread_local std::vector<const json::Value*> found;
  for (const SearchParamDef* p : IndexedParamsOf(ResourceType(resource))) {
    for (std::string_view path : p->paths) {
      found.clear();
      Collect(resource, path, &found);
      for (const json::Value* v : found) AddValues(p, *v, out);
    }
  }
}

std::vector<IndexValue> ExtractIndexValues(const json::Value& resource) {
  IndexValueRefs refs;
  ExtractIndexValueRefs(resource, &refs);
  std::vector<IndexValue> out;
  out.reserve(refs.values.size());
  for (const IndexValueRef& r : refs.values) {
    IndexValue& v = out.emplace_back();
    v.param = r.param;
    v.value = std::string(r.value);
    v.system = std::string(r.system);
    v.range = r.range;
    v.number = r.number;
  }
  return out;
}

std::vector<std::string> RawStringValues(const json::Value& resource, const SearchParamDef& param) {
  IndexValueRefs values;
  std::vector<const json::Value*> found;
  for (std::string_view path : param.paths) {
    found.clear();
    Collect(resource, path, &found);
    for (const json::Value* v : found) Adder(&param, &values).String(*v, /*normalize=*/false);
  }
  std::vector<std::string> out;
  for (const auto& v : values.values) out.emplace_back(v.value);
  return out;
}

std::string NormalizeString(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
      continue;
    }
    // Two-byte sequences for U+00C0..U+00FF (Latin-1 letters): fold accents.
    if (c == 0xC3 && i + 1 < s.size()) {
      static constexpr char kFold[64 + 1] =
          "aaaaaaaceeeeiiiidnooooo*ouuuuyts"   // U+00C0..U+00DF
          "aaaaaaaceeeeiiiidnooooo/ouuuuyty";  // U+00E0..U+00FF
      unsigned char d = static_cast<unsigned char>(s[i + 1]);
      if (d >= 0x80 && d <= 0xBF) {
        char f = kFold[d - 0x80];
        if (f != '*' && f != '/') {
          out.push_back(f);
          ++i;
          continue;
        }
      }
    }
    out.push_back(static_cast<char>(c));
  }
  return out;
}

std::vector<std::string> PatientCompartmentsOf(const json::Value& resource) {
  std::vector<std::string_view> ids;
  PatientCompartmentIds(resource, &ids);
  return std::vector<std::string>(ids.begin(), ids.end());
}

namespace {

// Adds the id of the Patient that one compartment element's value refers to, once.
void AddCompartmentPatient(const json::Value& r, std::vector<std::string_view>* out) {
  if (r.is_array()) {
    for (const json::Value& item : r.items()) AddCompartmentPatient(item, out);
    return;
  }
  if (!r.is_object()) return;
  const json::Value* target = r.find("reference");
  if (target == nullptr) {
    const json::Value* actor = r.find("actor");
    target = actor != nullptr ? actor->find("reference") : nullptr;
  }
  if (target == nullptr || !target->is_string()) return;
  const auto ref = ParseReferenceView(target->text());
  if (!ref || ref->type != "Patient") return;
  for (std::string_view known : *out)
    if (known == ref->id) return;
  out->push_back(ref->id);
}

}  // namespace

void PatientCompartmentIds(const json::Value& resource, std::vector<std::string_view>* out) {
  out->clear();
  const std::string_view type = ResourceType(resource);
  if (type == "Patient") {
    out->push_back(ResourceId(resource));
    return;
  }
  // The patient-compartment elements of FHIR R4's CompartmentDefinition that carry a
  // reference to the patient, checked on every type.
  static constexpr std::string_view kElements[] = {
      "subject",   "patient", "beneficiary",       "payee",     "performer", "asserter", "recorder",
      "requester", "author",  "informationSource", "individual"};
  for (std::string_view element : kElements) {
    const json::Value* v = resource.find(element);
    if (v != nullptr) AddCompartmentPatient(*v, out);
  }
}

int64_t ClinicalTime(const json::Value& r, int64_t fallback) {
  static constexpr std::string_view kFields[] = {"effectiveDateTime",
                                                 "effectiveInstant",
                                                 "effectivePeriod",
                                                 "onsetDateTime",
                                                 "onsetPeriod",
                                                 "performedDateTime",
                                                 "performedPeriod",
                                                 "occurrenceDateTime",
                                                 "period",
                                                 "billablePeriod",
                                                 "authoredOn",
                                                 "recordedDate",
                                                 "issued",
                                                 "started",
                                                 "created",
                                                 "birthDate",
                                                 "date"};
  for (std::string_view f : kFields) {
    const json::Value* v = r.find(f);
    if (v == nullptr) continue;
    std::string_view text = v->is_string() ? v->text() : v->get_string("start");
    if (auto d = ParseFhirDate(text); d.ok()) return d->low;
  }
  return fallback;
}

}  // namespace medhub::fhir
