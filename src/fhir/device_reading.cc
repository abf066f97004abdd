#include "fhir/device_reading.h"

#include <array>

#include "core/hash.h"
#include "core/ids.h"
#include "core/time.h"
#include "fhir/resource.h"

namespace medhub::fhir {
namespace {

constexpr std::array<std::string_view, 6> kKindNames = {"blood-pressure",   "heart-rate", "glucose",
                                                        "body-temperature", "spo2",       "ecg"};
constexpr std::array<std::string_view, 6> kKindCodes = {"85354-9", "8867-4",  "2339-0",
                                                        "8310-5",  "59408-5", "11524-6"};

constexpr char kLoinc[] = "http://loinc.org";
constexpr char kUcum[] = "http://unitsofmeasure.org";
constexpr char kSnomed[] = "http://snomed.info/sct";
constexpr char kMdc[] = "urn:iso:std:iso:11073:10101";
constexpr char kReadingIdSystem[] = "urn:medhub:device-reading";

json::Value Concept(std::string_view system, std::string_view code, std::string_view display) {
  return MakeConcept(MakeCoding(system, code, display), display);
}

json::Value Quantity(const std::string& value, std::string_view unit) {
  json::Value q = json::Value::Object();
  q.set("value", json::Value::Number(value));
  q.set("unit", json::Value::String(std::string(unit)));
  q.set("system", json::Value::String(kUcum));
  q.set("code", json::Value::String(std::string(unit)));
  return q;
}

json::Value Component(json::Value code, std::string_view value_key, json::Value value) {
  json::Value c = json::Value::Object();
  c.set("code", std::move(code));
  c.set(value_key, std::move(value));
  return c;
}

json::Value Reference(std::string_view type, std::string_view id) {
  json::Value r = json::Value::Object();
  r.set("reference", json::Value::String(std::string(type) + "/" + std::string(id)));
  return r;
}

json::Value RhythmConcept(std::string_view rhythm) {
  if (rhythm == "sinus") return Concept(kSnomed, "426783006", "Sinus rhythm");
  if (rhythm == "atrial-fibrillation") return Concept(kSnomed, "49436004", "Atrial fibrillation");
  json::Value other = json::Value::Object();  // no code is claimed for "other"
  other.set("text", json::Value::String("Other rhythm"));
  return other;
}

json::Value SampledData(const Reading& r) {
  json::Value s = json::Value::Object();
  json::Value origin = json::Value::Object();
  origin.set("value", json::Value::Int(0));
  origin.set("unit", json::Value::String("mV"));
  origin.set("system", json::Value::String(kUcum));
  origin.set("code", json::Value::String("mV"));
  s.set("origin", std::move(origin));
  s.set("period", json::Value::Number(r.period_ms));
  s.set("dimensions", json::Value::Int(1));
  std::string data;
  for (const std::string& v : r.values) {
    if (!data.empty()) data += ' ';
    data += v;
  }
  s.set("data", json::Value::String(std::move(data)));
  return s;
}

// Sets code and value[x]/component of the Observation for the reading's kind.
void SetCodeAndValue(const Reading& r, json::Value* obs) {
  switch (r.kind) {
    case ReadingKind::kBloodPressure: {
      obs->set("code",
               Concept(kLoinc, "85354-9", "Blood pressure panel with all children optional"));
      json::Value comps = json::Value::Array();
      comps.push_back(Component(Concept(kLoinc, "8480-6", "Systolic blood pressure"),
                                "valueQuantity", Quantity(r.values[0], r.unit)));
      comps.push_back(Component(Concept(kLoinc, "8462-4", "Diastolic blood pressure"),
                                "valueQuantity", Quantity(r.values[1], r.unit)));
      obs->set("component", std::move(comps));
      return;
    }
    case ReadingKind::kHeartRate:
      obs->set("code", Concept(kLoinc, "8867-4", "Heart rate"));
      obs->set("valueQuantity", Quantity(r.values[0], r.unit));
      return;
    case ReadingKind::kGlucose:
      obs->set("code", Concept(kLoinc, "2339-0", "Glucose [Mass/volume] in Blood"));
      obs->set("valueQuantity", Quantity(r.values[0], r.unit));
      return;
    case ReadingKind::kBodyTemperature:
      obs->set("code", Concept(kLoinc, "8310-5", "Body temperature"));
      obs->set("valueQuantity", Quantity(r.values[0], r.unit));
      return;
    case ReadingKind::kSpo2:
      obs->set("code",
               Concept(kLoinc, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"));
      obs->set("valueQuantity", Quantity(r.values[0], r.unit));
      return;
    case ReadingKind::kEcg: {
      obs->set("code", Concept(kLoinc, "11524-6", "EKG study"));
      json::Value comps = json::Value::Array();
      comps.push_back(Component(Concept(kMdc, "131329", "MDC_ECG_ELEC_POTL_I"), "valueSampledData",
                                SampledData(r)));
      comps.push_back(Component(Concept(kLoinc, "8867-4", "Heart rate"), "valueQuantity",
                                Quantity(r.heart_rate, "/min")));
      comps.push_back(Component(Concept(kLoinc, "8884-9", "Heart rate rhythm"),
                                "valueCodeableConcept", RhythmConcept(r.rhythm)));
      obs->set("component", std::move(comps));
      return;
    }
  }
}

// Everything after resourceType, id (and meta): the same members in the same order for a
// stored Observation and a rendered one.
void AddBody(const Reading& r, std::string_view device_id, std::string_view patient_id,
             json::Value* obs) {
  json::Value identifier = json::Value::Object();
  identifier.set("system", json::Value::String(kReadingIdSystem));
  identifier.set("value",
                 json::Value::String(std::string(device_id) + "/" + std::to_string(r.seq)));
  json::Value identifiers = json::Value::Array();
  identifiers.push_back(std::move(identifier));
  obs->set("identifier", std::move(identifiers));
  obs->set("status", json::Value::String("final"));
  json::Value category = json::Value::Array();
  category.push_back(Concept("http://terminology.hl7.org/CodeSystem/observation-category",
                             "vital-signs", "Vital Signs"));
  obs->set("category", std::move(category));
  SetCodeAndValue(r, obs);
  obs->set("subject", Reference("Patient", patient_id));
  obs->set("effectiveDateTime", json::Value::String(r.time));
  obs->set("device", Reference("Device", device_id));
}

// The same Observation written straight into JSON text, member for member as AddBody and
// json::Serialize write it (device_reading_test checks every kind byte for byte): reads,
// searches and the change-feed followers render every stored reading, so this path avoids
// building a document tree.
class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}
  Writer& Raw(std::string_view text) {
    out_->append(text);
    return *this;
  }
  Writer& Str(std::string_view text) {
    json::AppendQuoted(text, out_);
    return *this;
  }
  Writer& Concept(std::string_view system, std::string_view code, std::string_view display) {
    return Raw("{\"coding\":[{\"system\":")
        .Str(system)
        .Raw(",\"code\":")
        .Str(code)
        .Raw(",\"display\":")
        .Str(display)
        .Raw("}],\"text\":")
        .Str(display)
        .Raw("}");
  }
  Writer& Quantity(std::string_view value, std::string_view unit) {
    return Raw("{\"value\":")
        .Raw(value)
        .Raw(",\"unit\":")
        .Str(unit)
        .Raw(",\"system\":")
        .Str(kUcum)
        .Raw(",\"code\":")
        .Str(unit)
        .Raw("}");
  }
  Writer& Rhythm(std::string_view rhythm) {
    if (rhythm == "sinus") return Concept(kSnomed, "426783006", "Sinus rhythm");
    if (rhythm == "atrial-fibrillation") return Concept(kSnomed, "49436004", "Atrial fibrillation");
    return Raw("{\"text\":\"Other rhythm\"}");
  }

 private:
  std::string* out_;
};

void WriteCodeAndValue(const Reading& r, Writer& w) {
  auto single = [&](std::string_view code, std::string_view display) {
    w.Raw(",\"code\":").Concept(kLoinc, code, display);
    w.Raw(",\"valueQuantity\":").Quantity(r.values[0], r.unit);
  };
  switch (r.kind) {
    case ReadingKind::kBloodPressure:
      w.Raw(",\"code\":")
          .Concept(kLoinc, "85354-9", "Blood pressure panel with all children optional");
      w.Raw(",\"component\":[{\"code\":").Concept(kLoinc, "8480-6", "Systolic blood pressure");
      w.Raw(",\"valueQuantity\":").Quantity(r.values[0], r.unit).Raw("},{\"code\":");
      w.Concept(kLoinc, "8462-4", "Diastolic blood pressure").Raw(",\"valueQuantity\":");
      w.Quantity(r.values[1], r.unit).Raw("}]");
      return;
    case ReadingKind::kHeartRate:
      return single("8867-4", "Heart rate");
    case ReadingKind::kGlucose:
      return single("2339-0", "Glucose [Mass/volume] in Blood");
    case ReadingKind::kBodyTemperature:
      return single("8310-5", "Body temperature");
    case ReadingKind::kSpo2:
      return single("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry");
    case ReadingKind::kEcg: {
      w.Raw(",\"code\":").Concept(kLoinc, "11524-6", "EKG study");
      w.Raw(",\"component\":[{\"code\":").Concept(kMdc, "131329", "MDC_ECG_ELEC_POTL_I");
      w.Raw(",\"valueSampledData\":{\"origin\":{\"value\":0,\"unit\":\"mV\",\"system\":");
      w.Str(kUcum).Raw(",\"code\":\"mV\"},\"period\":").Raw(r.period_ms);
      std::string data;
      for (const std::string& v : r.values) {
        if (!data.empty()) data += ' ';
        data += v;
      }
      w.Raw(",\"dimensions\":1,\"data\":").Str(data).Raw("}},{\"code\":");
      w.Concept(kLoinc, "8867-4", "Heart rate").Raw(",\"valueQuantity\":");
      w.Quantity(r.heart_rate, "/min").Raw("},{\"code\":");
      w.Concept(kLoinc, "8884-9", "Heart rate rhythm").Raw(",\"valueCodeableConcept\":");
      w.Rhythm(r.rhythm).Raw("}]");
      return;
    }
  }
}

}  // namespace

std::string_view ReadingKindName(ReadingKind kind) { return kKindNames[static_cast<size_t>(kind)]; }

std::optional<ReadingKind> ReadingKindFromName(std::string_view name) {
  for (size_t i = 0; i < kKindNames.size(); ++i)
    if (kKindNames[i] == name) return static_cast<ReadingKind>(i);
  return std::nullopt;
}

std::string_view ReadingCode(ReadingKind kind) { return kKindCodes[static_cast<size_t>(kind)]; }

std::vector<std::string_view> ReadingComponentCodes(ReadingKind kind) {
  if (kind == ReadingKind::kBloodPressure) return {"8480-6", "8462-4"};
  if (kind == ReadingKind::kEcg) return {"131329", "8867-4", "8884-9"};
  return {};
}

std::string ObservationIdFor(std::string_view device_id, uint64_t seq) {
  const std::string s = std::to_string(seq);
  return "r" + ToHex(Sha256Of({device_id, std::string_view("\0", 1), s})).substr(0, 40);
}

json::Value ObservationFor(const Reading& r, std::string_view device_id,
                           std::string_view patient_id) {
  return ObservationFor(r, device_id, patient_id, ObservationIdFor(device_id, r.seq));
}

json::Value ObservationFor(const Reading& r, std::string_view device_id,
                           std::string_view patient_id, std::string_view id) {
  json::Value obs = json::Value::Object();
  obs.set("resourceType", json::Value::String("Observation"));
  obs.set("id", json::Value::String(std::string(id)));
  AddBody(r, device_id, patient_id, &obs);
  return obs;
}

json::Value ReadingObservationValue(const Reading& r, std::string_view device_id,
                                    std::string_view patient_id, std::string_view id,
                                    int64_t last_updated) {
  json::Value obs = json::Value::Object();
  obs.set("resourceType", json::Value::String("Observation"));
  obs.set("id", json::Value::String(std::string(id)));
  json::Value meta = json::Value::Object();
  meta.set("versionId", json::Value::String("1"));
  meta.set("lastUpdated", json::Value::String(FormatInstant(last_updated)));
  obs.set("meta", std::move(meta));
  AddBody(r, device_id, patient_id, &obs);
  return obs;
}

std::string RenderReadingObservation(const Reading& r, std::string_view device_id,
                                     std::string_view patient_id, std::string_view id,
                                     int64_t last_updated) {
  std::string out;
  out.reserve(640 + 12 * r.values.size());
  Writer w(&out);
  w.Raw("{\"resourceType\":\"Observation\",\"id\":").Str(id);
  w.Raw(",\"meta\":{\"versionId\":\"1\",\"lastUpdated\":").Str(FormatInstant(last_updated));
  w.Raw("},\"identifier\":[{\"system\":").Str(kReadingIdSystem).Raw(",\"value\":");
  w.Str(std::string(device_id) + "/" + std::to_string(r.seq)).Raw("}],\"status\":\"final\"");
  w.Raw(",\"category\":[");
  w.Concept("http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs",
            "Vital Signs");
  w.Raw("]");
  WriteCodeAndValue(r, w);
  w.Raw(",\"subject\":{\"reference\":").Str("Patient/" + std::string(patient_id));
  w.Raw("},\"effectiveDateTime\":").Str(r.time);
  w.Raw(",\"device\":{\"reference\":").Str("Device/" + std::string(device_id)).Raw("}}");
  return out;
}

}  // namespace medhub::fhir
