#include "ingest/hl7_mapper.h"

#include <cctype>
#include <cstdlib>

#include "core/hash.h"
#include "core/time.h"
#include "fhir/resource.h"

namespace medhub::ingest::hl7 {
namespace {

using json::Value;

Value Str(std::string s) { return Value::String(std::move(s)); }

bool AllDigits(std::string_view s) {
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return !s.empty();
}

// A valid JSON/FHIR decimal as written, or "".
std::string Decimal(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  std::string out(s);
  if (!out.empty() && out[0] == '+') out.erase(0, 1);
  if (!out.empty() && out[0] == '.') out.insert(0, "0");
  if (out.size() > 1 && out[0] == '-' && out[1] == '.') out.insert(1, "0");
  const auto parsed = json::Parse(out);
  if (!parsed.ok() || !parsed->is_number()) return "";
  return out;
}

std::string IdFor(std::initializer_list<std::string_view> parts) {
  std::string joined;
  for (std::string_view p : parts) {
    joined.append(p);
    joined.push_back('\0');
  }
  return "h" + ToHex(Sha256(joined)).substr(0, 40);
}

std::string SystemFor(std::string_view hl7_system) {
  if (hl7_system == "LN" || hl7_system == "LOINC") return "http://loinc.org";
  if (hl7_system == "SCT" || hl7_system == "SNOMED-CT" || hl7_system == "SNM")
    return "http://snomed.info/sct";
  if (hl7_system == "UCUM") return "http://unitsofmeasure.org";
  if (hl7_system == "MDC") return "urn:iso:std:iso:11073:10101";
  if (hl7_system == "I10" || hl7_system == "ICD10") return "http://hl7.org/fhir/sid/icd-10";
  if (hl7_system.empty()) return "";
  for (char c : hl7_system)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') return "";
  return "urn:medhub:hl7:cs:" + std::string(hl7_system);
}

// A CodeableConcept from a CE/CWE field (code^text^system[^alt code^alt text^alt system]).
Value Concept(const Message& m, const Segment& seg, size_t field) {
  Value cc = Value::Object();
  Value codings = Value::Array();
  for (size_t base : {size_t{1}, size_t{4}}) {
    const std::string code = m.Get(seg, field, 0, base);
    if (code.empty()) continue;
    Value c = Value::Object();
    if (std::string sys = SystemFor(m.Get(seg, field, 0, base + 2)); !sys.empty())
      c.set("system", Str(sys));
    c.set("code", Str(code));
    if (std::string text = m.Get(seg, field, 0, base + 1); !text.empty())
      c.set("display", Str(text));
    codings.push_back(std::move(c));
  }
  if (!codings.items().empty()) cc.set("coding", std::move(codings));
  const std::string text = m.Get(seg, field, 0, 2);
  if (!text.empty()) cc.set("text", Str(text));
  return cc;
}

// What identifies the message when a record has no business key of its own: MSH-10, or
// MSH-7 when the sender left MSH-10 empty.
std::string MessageKey(const Message& m) {
  const std::string id = m.control_id();
  return id.empty() ? "MSH-7:" + m.Get(m.msh(), 7) : id;
}

Value Reference(std::string_view type, std::string_view id) {
  Value r = Value::Object();
  r.set("reference", Str(std::string(type) + "/" + std::string(id)));
  return r;
}

Status Unsupported(const Message& m) {
  const std::string type = m.type(), trigger = m.trigger();
  if (type != "ADT" && type != "ORU")
    return Error(200, "message type " + type + "^" + trigger + " is not supported");
  return Error(201, "event " + type + "^" + trigger + " is not supported");
}

Status CheckVersion(const std::string& v) {
  // 2.1 to 2.8 (with a patch level such as 2.5.1); 2.999 and 1.0 are not HL7 versions.
  if (v.size() >= 3 && v[0] == '2' && v[1] == '.' && v[2] >= '1' && v[2] <= '8' &&
      (v.size() == 3 || v[3] == '.'))
    return Status::Ok();
  return Error(203, "HL7 version '" + v + "' is not supported (2.1 to 2.8)");
}

// ---- Patient ---------------------------------------------------------------------------

Value Identifiers(const Message& m, const Segment& pid, std::string_view facility) {
  Value ids = Value::Array();
  for (size_t r = 0; r < m.Repetitions(pid, 3); ++r) {
    const std::string value = m.Get(pid, 3, r, 1);
    if (value.empty()) continue;
    std::string authority = m.Get(pid, 3, r, 4);
    if (authority.empty()) authority = std::string(facility);
    Value id = Value::Object();
    if (const std::string type = m.Get(pid, 3, r, 5); !type.empty()) {
      Value t = Value::Object();
      Value codings = Value::Array();
      Value c = Value::Object();
      c.set("system", Str("http://terminology.hl7.org/CodeSystem/v2-0203"));
      c.set("code", Str(type));
      codings.push_back(std::move(c));
      t.set("coding", std::move(codings));
      id.set("type", std::move(t));
    }
    if (std::string sys = SystemFor(authority); !sys.empty()) id.set("system", Str(sys));
    id.set("value", Str(value));
    ids.push_back(std::move(id));
  }
  return ids;
}

Value Names(const Message& m, const Segment& pid) {
  Value names = Value::Array();
  for (size_t r = 0; r < m.Repetitions(pid, 5); ++r) {
    Value n = Value::Object();
    if (std::string family = m.Get(pid, 5, r, 1); !family.empty()) n.set("family", Str(family));
    Value given = Value::Array();
    for (size_t comp : {2, 3})
      if (std::string g = m.Get(pid, 5, r, comp); !g.empty()) given.push_back(Str(g));
    if (!given.items().empty()) n.set("given", std::move(given));
    if (std::string s = m.Get(pid, 5, r, 4); !s.empty())
      n.set("suffix", Value::Array()).push_back(Str(s));
    if (std::string p = m.Get(pid, 5, r, 5); !p.empty())
      n.set("prefix", Value::Array()).push_back(Str(p));
    if (!n.members().empty()) names.push_back(std::move(n));
  }
  return names;
}

Value Addresses(const Message& m, const Segment& pid) {
  Value out = Value::Array();
  for (size_t r = 0; r < m.Repetitions(pid, 11); ++r) {
    Value a = Value::Object();
    Value lines = Value::Array();
    for (size_t comp : {1, 2})
      if (std::string l = m.Get(pid, 11, r, comp); !l.empty() && l != "\"\"")
        lines.push_back(Str(l));
    if (!lines.items().empty()) a.set("line", std::move(lines));
    const char* keys[] = {"city", "state", "postalCode", "country"};
    for (size_t i = 0; i < 4; ++i)
      if (std::string v = m.Get(pid, 11, r, 3 + i); !v.empty() && v != "\"\"")
        a.set(keys[i], Str(v));
    if (!a.members().empty()) out.push_back(std::move(a));
  }
  return out;
}

Value Telecoms(const Message& m, const Segment& pid) {
  Value out = Value::Array();
  for (auto [field, use] : {std::pair<size_t, const char*>{13, "home"}, {14, "work"}}) {
    for (size_t r = 0; r < m.Repetitions(pid, field); ++r) {
      std::string number = m.Get(pid, field, r, 1);
      if (number.empty()) number = m.Get(pid, field, r, 12);  // XTN.12 unformatted number
      if (number.empty()) continue;
      Value t = Value::Object();
      t.set("system", Str(m.Get(pid, field, r, 3) == "Internet" ? "email" : "phone"));
      t.set("value", Str(number));
      t.set("use", Str(use));
      out.push_back(std::move(t));
    }
  }
  return out;
}

Result<Value> MapPatient(const Message& m, const Segment& pid, const std::string& patient_id) {
  Value p = Value::Object();
  p.set("resourceType", Str("Patient"));
  p.set("id", Str(patient_id));
  if (Value ids = Identifiers(m, pid, m.sending_facility()); !ids.items().empty())
    p.set("identifier", std::move(ids));
  if (Value names = Names(m, pid); !names.items().empty()) p.set("name", std::move(names));
  if (Value t = Telecoms(m, pid); !t.items().empty()) p.set("telecom", std::move(t));
  const std::string sex = m.Get(pid, 8);
  const char* gender = sex == "M"                   ? "male"
                       : sex == "F"                 ? "female"
                       : (sex == "O" || sex == "A") ? "other"
                       : (sex == "U" || sex == "N") ? "unknown"
                                                    : nullptr;
  if (gender) p.set("gender", Str(gender));
  if (const std::string dob = m.Get(pid, 7); !dob.empty()) {
    auto date = FhirDateTime(dob, true);
    if (!date.ok()) return Error(102, "PID-7 birth date: " + ErrorText(date.status()));
    p.set("birthDate", Str(*date));
  }
  if (Value a = Addresses(m, pid); !a.items().empty()) p.set("address", std::move(a));
  return p;
}

// The patient's id: from the facility and the first PID-3 identifier.
Result<std::string> PatientId(const Message& m, const Segment& pid) {
  for (size_t r = 0; r < m.Repetitions(pid, 3); ++r) {
    const std::string value = m.Get(pid, 3, r, 1);
    if (!value.empty()) return IdFor({"Patient", m.sending_facility(), value, m.Get(pid, 3, r, 4)});
  }
  // Some senders put the id in PID-2 (external id) or PID-4 only.
  for (size_t field : {2, 4})
    if (std::string v = m.Get(pid, field); !v.empty())
      return IdFor({"Patient", m.sending_facility(), v, std::to_string(field)});
  return Error(101, "PID-3: the patient identifier is required");
}

// ---- Encounter -------------------------------------------------------------------------

Result<Value> MapEncounter(const Message& m, const Segment& pv1, const std::string& patient_id) {
  Value e = Value::Object();
  e.set("resourceType", Str("Encounter"));
  const std::string visit = m.Get(pv1, 19);
  e.set("id", Str(IdFor({"Encounter", m.sending_facility(), patient_id,
                         visit.empty() ? MessageKey(m) : visit})));
  if (!visit.empty()) {
    Value id = Value::Object();
    id.set("value", Str(visit));
    e.set("identifier", Value::Array()).push_back(std::move(id));
  }
  const std::string trigger = m.trigger();
  e.set("status", Str(trigger == "A04" ? "arrived" : "in-progress"));
  const std::string cls = m.Get(pv1, 2);
  const char* code = cls == "I" ? "IMP" : cls == "E" ? "EMER" : cls == "P" ? "PRENC" : "AMB";
  Value c = Value::Object();
  c.set("system", Str("http://terminology.hl7.org/CodeSystem/v3-ActCode"));
  c.set("code", Str(code));
  e.set("class", std::move(c));
  e.set("subject", Reference("Patient", patient_id));
  Value period = Value::Object();
  for (auto [field, key] : {std::pair<size_t, const char*>{44, "start"}, {45, "end"}}) {
    if (std::string ts = m.Get(pv1, field); !ts.empty()) {
      auto t = FhirDateTime(ts);
      if (!t.ok()) return Error(102, "PV1-" + std::to_string(field) + ": " + ErrorText(t.status()));
      period.set(key, Str(*t));
    }
  }
  if (!period.members().empty()) e.set("period", std::move(period));
  const std::string where = m.Get(pv1, 3, 0, 1), room = m.Get(pv1, 3, 0, 2),
                    bed = m.Get(pv1, 3, 0, 3);
  if (!where.empty() || !room.empty()) {
    Value loc = Value::Object();
    Value ref = Value::Object();
    ref.set("display",
            Str(where + (room.empty() ? "" : " " + room) + (bed.empty() ? "" : " " + bed)));
    loc.set("location", std::move(ref));
    e.set("location", Value::Array()).push_back(std::move(loc));
  }
  return e;
}

// ---- Observations and reports ----------------------------------------------------------

Result<Value> ObservationValue(const Message& m, const Segment& obx, std::string* key) {
  const std::string type = m.Get(obx, 2);
  const std::string raw = m.Get(obx, 5);
  if (raw.empty()) return Value();
  if (type == "NM" || type == "SN") {
    Value q = Value::Object();
    std::string number = raw;
    if (type == "SN") {
      const std::string comparator = m.Get(obx, 5, 0, 1);
      number = m.Get(obx, 5, 0, 2);
      if (!comparator.empty() && comparator != "=") q.set("comparator", Str(comparator));
    }
    const std::string dec = Decimal(number);
    if (dec.empty())
      return Error(102, "OBX-5: '" + number + "' is not a number (OBX-2 " + type + ")");
    q.insert_at(0, "value", Value::Number(dec));
    const std::string unit = m.Get(obx, 6, 0, 1);
    if (!unit.empty()) {
      const std::string text = m.Get(obx, 6, 0, 2);
      q.set("unit", Str(text.empty() ? unit : text));
      if (m.Get(obx, 6, 0, 3) == "UCUM" || m.Get(obx, 6, 0, 3).empty()) {
        q.set("system", Str("http://unitsofmeasure.org"));
        q.set("code", Str(unit));
      }
    }
    *key = "valueQuantity";
    return q;
  }
  if (type == "CE" || type == "CWE" || type == "CNE") {
    *key = "valueCodeableConcept";
    return Concept(m, obx, 5);
  }
  if (type == "DT" || type == "TS" || type == "DTM") {
    auto t = FhirDateTime(raw);
    if (!t.ok()) return Error(102, "OBX-5: " + ErrorText(t.status()));
    *key = "valueDateTime";
    return Str(*t);
  }
  // ST, TX, FT and anything else: the whole value as text (repetitions joined).
  std::string text;
  for (size_t r = 0; r < m.Repetitions(obx, 5); ++r) {
    if (r) text += "\n";
    text += m.Unescape(m.Raw(obx, 5, r));
  }
  *key = "valueString";
  return Str(text);
}

std::string StatusOf(const std::string& code, bool report) {
  if (code == "P") return "preliminary";
  if (code == "C") return report ? "corrected" : "amended";
  if (code == "X") return "cancelled";
  if (code == "R" || code == "I" || code == "S") return report ? "registered" : "registered";
  if (code == "D" || code == "W") return "entered-in-error";
  return "final";
}

Result<Value> MapObservation(const Message& m, const Segment& obx, const std::string& patient_id,
                             const std::string& report_key, const std::string& effective) {
  const std::string code = m.Get(obx, 3, 0, 1), text = m.Get(obx, 3, 0, 2);
  if (code.empty() && text.empty())
    return Error(101, "OBX-3: the observation identifier is required");
  Value o = Value::Object();
  o.set("resourceType", Str("Observation"));
  o.set("id", Str(IdFor({"Observation", m.sending_facility(), patient_id, report_key, m.Get(obx, 1),
                         code, m.Get(obx, 4)})));
  o.set("status", Str(StatusOf(m.Get(obx, 11), false)));
  o.set("code", Concept(m, obx, 3));
  o.set("subject", Reference("Patient", patient_id));
  std::string when = effective;
  if (std::string ts = m.Get(obx, 14); !ts.empty()) {
    auto t = FhirDateTime(ts);
    if (!t.ok()) return Error(102, "OBX-14: " + ErrorText(t.status()));
    when = *t;
  }
  if (!when.empty()) o.set("effectiveDateTime", Str(when));
  std::string key;
  ASSIGN_OR_RETURN(Value value, ObservationValue(m, obx, &key));
  if (!key.empty()) o.set(key, std::move(value));
  if (std::string flag = m.Get(obx, 8); !flag.empty()) {
    Value interp = Value::Object();
    Value c = Value::Object();
    c.set("system", Str("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"));
    c.set("code", Str(flag));
    interp.set("coding", Value::Array()).push_back(std::move(c));
    o.set("interpretation", Value::Array()).push_back(std::move(interp));
  }
  if (std::string range = m.Get(obx, 7); !range.empty()) {
    Value rr = Value::Object();
    rr.set("text", Str(range));
    o.set("referenceRange", Value::Array()).push_back(std::move(rr));
  }
  return o;
}

Status MapResults(const Message& m, const std::string& patient_id, Mapped* out) {
  const Segment* obr = nullptr;
  Value report;
  auto finish = [&]() {
    if (obr) out->resources.push_back(std::move(report));
  };
  std::string report_key = MessageKey(m), effective;
  size_t observations = 0;
  for (const Segment& seg : m.segments()) {
    if (seg.name == "OBR") {
      finish();
      obr = &seg;
      std::string filler = m.Get(seg, 3), placer = m.Get(seg, 2);
      report_key = !filler.empty()   ? filler
                   : !placer.empty() ? placer
                                     : MessageKey(m) + "/" + m.Get(seg, 1);
      effective.clear();
      if (std::string ts = m.Get(seg, 7); !ts.empty()) {
        auto t = FhirDateTime(ts);
        if (!t.ok()) return Error(102, "OBR-7: " + ErrorText(t.status()));
        effective = *t;
      }
      report = Value::Object();
      report.set("resourceType", Str("DiagnosticReport"));
      report.set("id",
                 Str(IdFor({"DiagnosticReport", m.sending_facility(), patient_id, report_key})));
      report.set("status", Str(StatusOf(m.Get(seg, 25), true)));
      Value code = Concept(m, seg, 4);
      if (code.members().empty()) code.set("text", Str("Laboratory report"));
      report.set("code", std::move(code));
      report.set("subject", Reference("Patient", patient_id));
      if (!effective.empty()) report.set("effectiveDateTime", Str(effective));
    } else if (seg.name == "OBX") {
      ASSIGN_OR_RETURN(Value obs, MapObservation(m, seg, patient_id, report_key, effective));
      if (obr) {
        if (!report.find("result")) report.set("result", Value::Array());
        report.find("result")->push_back(Reference("Observation", obs.get_string("id")));
      }
      out->resources.push_back(std::move(obs));
      ++observations;
    }
  }
  finish();
  (void)observations;  // an ORU without results still carries the Patient
  return Status::Ok();
}

Status ValidateAll(const Mapped& mapped) {
  for (const Value& r : mapped.resources) {
    if (Status s = fhir::ValidateResource(r); !s.ok())
      return Error(207, "the mapped " + std::string(r.get_string("resourceType")) +
                            " is not valid FHIR: " + s.message());
  }
  return Status::Ok();
}

std::string Hl7Timestamp(int64_t micros) {
  const std::string iso = FormatInstant(micros);  // 2026-11-25T10:55:58.123456Z
  return iso.substr(0, 4) + iso.substr(5, 2) + iso.substr(8, 2) + iso.substr(11, 2) +
         iso.substr(14, 2) + iso.substr(17, 2) + "+0000";
}

}  // namespace

Result<std::string> FhirDateTime(std::string_view ts, bool date_only) {
  std::string_view zone;
  const size_t z = ts.find_first_of("+-");
  if (z != std::string_view::npos) {
    zone = ts.substr(z);
    ts = ts.substr(0, z);
  }
  std::string_view fraction;
  if (const size_t dot = ts.find('.'); dot != std::string_view::npos) {
    fraction = ts.substr(dot + 1);
    ts = ts.substr(0, dot);
  }
  const size_t n = ts.size();
  if (!AllDigits(ts) || (n != 4 && n != 6 && n != 8 && n != 10 && n != 12 && n != 14) ||
      (!fraction.empty() && (!AllDigits(fraction) || n != 14)) ||
      (!zone.empty() && (zone.size() != 5 || !AllDigits(zone.substr(1)))))
    return Error(102, "'" + std::string(ts) + "' is not an HL7 timestamp (YYYYMMDDHHMMSS)");
  std::string out(ts.substr(0, 4));
  if (n >= 6) out += "-" + std::string(ts.substr(4, 2));
  if (n >= 8) out += "-" + std::string(ts.substr(6, 2));
  if (date_only || n < 10) {
    if (!ParseFhirDate(out).ok())
      return Error(102, "'" + std::string(ts) + "' is not a valid date");
    return out;
  }
  out += "T" + std::string(ts.substr(8, 2)) + ":" +
         (n >= 12 ? std::string(ts.substr(10, 2)) : "00") + ":" +
         (n >= 14 ? std::string(ts.substr(12, 2)) : "00");
  if (!fraction.empty()) out += "." + std::string(fraction);
  out += zone.empty() ? "Z" : std::string(zone.substr(0, 3)) + ":" + std::string(zone.substr(3, 2));
  if (!ParseFhirDate(out).ok()) return Error(102, "'" + std::string(ts) + "' is not a valid time");
  return out;
}

Result<Mapped> MapMessage(const Message& m) {
  RETURN_IF_ERROR(CheckVersion(m.version()));
  const std::string type = m.type(), trigger = m.trigger();
  const bool adt = type == "ADT" && (trigger == "A01" || trigger == "A04" || trigger == "A08");
  const bool oru = type == "ORU" && trigger == "R01";
  if (!adt && !oru) return Unsupported(m);
  const Segment* pid = m.Find("PID");
  if (!pid) return Error(100, type + "^" + trigger + " needs a PID segment");
  ASSIGN_OR_RETURN(std::string patient_id, PatientId(m, *pid));
  Mapped out;
  ASSIGN_OR_RETURN(Value patient, MapPatient(m, *pid, patient_id));
  out.resources.push_back(std::move(patient));
  if (adt) {
    const Segment* pv1 = m.Find("PV1");
    if (pv1) {
      ASSIGN_OR_RETURN(Value enc, MapEncounter(m, *pv1, patient_id));
      out.resources.push_back(std::move(enc));
    }  // without PV1 only the Patient is known
  } else {
    RETURN_IF_ERROR(MapResults(m, patient_id, &out));
  }
  RETURN_IF_ERROR(ValidateAll(out));
  return out;
}

std::string AckCodeFor(const Status& status) {
  const int code = ErrorCode(status);
  return code == 200 || code == 201 || code == 203 ? "AR" : "AE";
}

std::string BuildAck(const Message* m, const Status& status, const std::string& control_id,
                     int64_t now) {
  const Delimiters d = m ? m->delimiters() : Delimiters{};
  const std::string f(1, d.field), c(1, d.component);
  const std::string enc = m ? std::string(m->Raw(m->msh(), 2)) : "^~\\&";
  auto field = [&](std::string s) { return Escape(s, d); };
  std::string ack = "MSH" + f + enc + f + "MEDHUB" + f + "MEDHUB" + f +
                    (m ? field(m->sending_application()) : "") + f +
                    (m ? field(m->sending_facility()) : "") + f + Hl7Timestamp(now) + f + f +
                    "ACK" + c + (m ? field(m->trigger()) : "") + c + "ACK" + f + field(control_id) +
                    f + "P" + f + (m && !m->version().empty() ? field(m->version()) : "2.5") + "\r";
  const std::string original = m ? field(m->control_id()) : "";
  if (status.ok()) return ack + "MSA" + f + "AA" + f + original + "\r";
  const std::string reason = field(ErrorText(status));
  const int code = ErrorCode(status);
  // An unparsable message is rejected as a whole (AR), like an unsupported one.
  ack += "MSA" + f + (m ? AckCodeFor(status) : "AR") + f + original + f + reason + "\r";
  ack += "ERR" + f + f + f + std::to_string(code) + c + "Error" + c + "HL70357" + f + "E" + f + f +
         f + f + reason + "\r";
  return ack;
}

}  // namespace medhub::ingest::hl7
