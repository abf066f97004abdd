// What the built-in jobs take from one resource version (docs/analytics.md, "Records"),
// written once over any resource node type `R` with the json::Value interface: the engine
// reads lake lines in place (json::LazyNode); the tests compare it with a parsed tree
// (json::Value). Returned views point into the resource's document.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string_view>

#include "analytics/codes.h"
#include "analytics/records.h"
#include "analytics/stages.h"

namespace medhub::analytics::facts {

inline std::string_view DatePart(std::string_view date_time) { return date_time.substr(0, 10); }

template <class R>
std::string_view ClinicalDate(const R& r) {
  for (std::string_view k : {"effectiveDateTime", "onsetDateTime", "authoredOn", "issued"}) {
    if (const std::string_view v = r.get_string(k); !v.empty()) return v;
  }
  if (const auto p = r.find("effectivePeriod")) return p->get_string("start");
  return {};
}

template <class R>
bool ConditionCounts(const R& r) {  // not refuted or entered in error
  const std::string_view v = FirstCode(r.find("verificationStatus"));
  return v != "refuted" && v != "entered-in-error";
}

template <class R>
bool ConditionActive(const R& r) {
  const std::string_view c = FirstCode(r.find("clinicalStatus"));
  if (!c.empty()) return c == "active" || c == "recurrence" || c == "relapse";
  return !r.find("abatementDateTime") && !r.find("abatementPeriod");
}

template <class P>
std::string_view ConditionKind(const P& code) {
  if (!CodeIn(code, codes::kHypertension).empty()) return "htn";
  if (!CodeIn(code, codes::kAtrialFibrillation).empty()) return "af";
  if (!CodeIn(code, codes::kStroke).empty()) return "stroke";
  if (!CodeIn(code, codes::kDiabetes).empty()) return "diabetes";
  if (!CodeIn(code, codes::kSmokerConditions).empty()) return "smoker";
  if (!CodeIn(code, codes::kObesityConditions).empty()) return "obesity";
  return {};
}

// The text of valueQuantity.value of a node; nullopt when there is no such member.
template <class R>
std::optional<std::string_view> QuantityValue(const R& r) {
  const auto q = r.find("valueQuantity");
  if (!q) return std::nullopt;
  const auto v = q->find("value");
  if (!v) return std::nullopt;
  return std::string_view(v->text());
}

template <class R>
std::string_view ComponentValue(const R& r, std::string_view loinc) {
  const auto comps = r.find("component");
  if (!comps || !comps->is_array()) return {};
  for (const auto& c : comps->items()) {
    if (CodeIn(c.find("code"), loinc).empty()) continue;
    if (const auto v = QuantityValue(c)) return *v;
  }
  return {};
}

inline bool Unusable(std::string_view status) {
  return status == "entered-in-error" || status == "cancelled";
}

template <class R>
std::optional<Extracted> ObservationFacts(std::string_view patient, const R& r) {
  if (Unusable(r.get_string("status"))) return std::nullopt;
  const auto code = r.find("code");
  const std::string_view date = DatePart(ClinicalDate(r));
  if (!CodeIn(code, codes::kBpPanels).empty()) {
    const std::string_view sys = ComponentValue(r, codes::kSystolic);
    const std::string_view dia = ComponentValue(r, codes::kDiastolic);
    if (sys.empty() || dia.empty() || date.empty()) return std::nullopt;
    return Extracted(patient, {"bp", date, sys, dia});
  }
  if (!CodeIn(code, codes::kBmi).empty()) {
    const auto value = QuantityValue(r);
    if (!value) return std::nullopt;
    return Extracted(patient, {"bmi", date, *value});
  }
  if (!CodeIn(code, codes::kTobaccoStatus).empty()) {
    return Extracted(patient, {"smk", date, FirstCode(r.find("valueCodeableConcept"))});
  }
  return std::nullopt;
}

template <class R>
bool IsAnticoagulant(const R& r) {
  const auto med = r.find("medicationCodeableConcept");
  if (!CodeIn(med, codes::kAnticoagulants).empty()) return true;
  const std::string text = ConceptText(med);
  for (std::string_view name : codes::kAnticoagulantNames) {
    if (text.find(name) != std::string::npos) return true;
  }
  return false;
}

// Stage-1 facts of the patient jobs (bp-control, stroke-risk-factors, care gap).
template <class R>
std::optional<Extracted> ClinicalFacts(std::string_view type, const R& r) {
  if (type == "Patient") {
    return Extracted(r.get_string("id"), {r.get_string("gender"), r.get_string("birthDate")});
  }
  const std::string_view patient =
      ReferencedId(r, r.find("subject") ? "subject" : "patient", "Patient");
  if (patient.empty()) return std::nullopt;
  if (type == "Condition") {
    const std::string_view kind = ConditionKind(r.find("code"));
    if (kind.empty() || !ConditionCounts(r)) return std::nullopt;
    return Extracted(patient, {kind, ConditionActive(r) ? "1" : "0", DatePart(ClinicalDate(r))});
  }
  if (type == "Observation") return ObservationFacts(patient, r);
  if (type == "MedicationRequest" && IsAnticoagulant(r)) {
    return Extracted(patient, {"ac", r.get_string("status"), DatePart(ClinicalDate(r))});
  }
  return std::nullopt;
}

// Stage-1 facts of device-readings.
template <class R>
std::optional<Extracted> DeviceReading(std::string_view, const R& r) {
  const std::string_view device = ReferencedId(r, "device", "Device");
  const std::string_view date = ClinicalDate(r);
  if (device.empty() || date.size() < 10) return std::nullopt;
  if (Unusable(r.get_string("status"))) return std::nullopt;
  return Extracted(device, {DatePart(date)});
}

}  // namespace medhub::analytics::facts
