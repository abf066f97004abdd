#include "analytics/generator.h"

#include <algorithm>
#include <functional>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "analytics/codes.h"
#include "analytics/lake_layout.h"
#include "analytics/records.h"
#include "core/json.h"
#include "core/time.h"
#include "fhir/resource.h"

namespace medhub::analytics {
namespace {

// splitmix64: a small, fully specified generator (std distributions are not portable).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Normal() {  // Box-Muller
    const double u1 = std::max(Uniform(), 1e-12), u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * M_PI * u2);
  }

 private:
  uint64_t s_;
};

std::string Uuid(uint64_t a, uint64_t b) {
  Rng r(a ^ (b * 0x9e3779b97f4a7c15ull));
  const uint64_t x = r.Next(), y = r.Next();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-4%03llx-a%03llx-%012llx",
                static_cast<unsigned long long>(x >> 32),
                static_cast<unsigned long long>((x >> 16) & 0xffff),
                static_cast<unsigned long long>(x & 0xfff),
                static_cast<unsigned long long>((y >> 48) & 0xfff),
                static_cast<unsigned long long>(y & 0xffffffffffffull));
  return buf;
}

uint64_t Hash(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

bool IsDateLike(std::string_view s) {
  if (s.size() < 10 || s.size() > 40) return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return s[4] == '-' && s[7] == '-' && (s.size() == 10 || s[10] == 'T');
}

int64_t DayOf(std::string_view s) {
  return DaysFromCivil(ParseInt(s.substr(0, 4)).value_or(1970),
                       static_cast<unsigned>(ParseInt(s.substr(5, 2)).value_or(1)),
                       static_cast<unsigned>(ParseInt(s.substr(8, 2)).value_or(1)));
}

std::string ShiftDate(std::string_view s, int64_t days) {
  return FormatCivilDay(DayOf(s) + days) + std::string(s.substr(10));
}

struct PatientCopy {
  std::map<std::string, std::string> new_ref;  // "urn:uuid:old" and "Type/old" → "Type/new"
  int64_t shift_days = 0;
  Rng* rng = nullptr;
  std::string max_date;  // latest shifted date seen (YYYY-MM-DD)
};

std::string Decimal(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// Rewrites references and dates, jitters valueQuantity values, in place.
void Rewrite(json::Value* v, PatientCopy* copy, std::string_view key) {
  if (v->is_string()) {
    if (key == "reference") {
      if (auto it = copy->new_ref.find(v->text()); it != copy->new_ref.end()) {
        *v = json::Value::String(it->second);
      }
    } else if (IsDateLike(v->text())) {
      std::string shifted = ShiftDate(v->text(), copy->shift_days);
      copy->max_date = std::max(copy->max_date, shifted.substr(0, 10));
      *v = json::Value::String(std::move(shifted));
    }
    return;
  }
  if (v->is_array()) {
    for (json::Value& item : v->items()) Rewrite(&item, copy, key);
    return;
  }
  if (!v->is_object()) return;
  for (auto& [k, member] : v->members()) {
    if (k == "div") continue;  // narrative
    if (key == "valueQuantity" && k == "value" && member.is_number()) {
      const double x = member.as_double().value_or(0);
      member = json::Value::Number(Decimal(x * (1.0 + 0.03 * copy->rng->Normal())));
      continue;
    }
    Rewrite(&member, copy, k);
  }
}

// meta of a generated resource: version 1, recorded at `recorded` (a FHIR instant).
json::Value Meta(std::string_view recorded) {
  json::Value meta = json::Value::Object();
  meta.set("versionId", json::Value::String("1"));
  meta.set("lastUpdated", json::Value::String(std::string(recorded)));
  return meta;
}

// When the generated population counts as recorded: the end of the latest day any date in
// the sample names (its export; copies are shifted back from there), so a generated lake's
// `date=` partition (the year of recording, docs/formats/lake.md) is that year for all.
std::string RecordedInstant(const std::vector<json::Value>& bundles) {
  std::string latest = "1970-01-01";
  std::function<void(const json::Value&)> walk = [&](const json::Value& v) {
    if (v.is_string()) {
      if (IsDateLike(v.text())) latest = std::max(latest, std::string(v.text().substr(0, 10)));
    } else if (v.is_array()) {
      for (const json::Value& item : v.items()) walk(item);
    } else if (v.is_object()) {
      for (const auto& [k, member] : v.members()) {
        if (k != "div") walk(member);
      }
    }
  };
  for (const json::Value& b : bundles) walk(b);
  return latest + "T23:59:59Z";
}

json::Value Ref(std::string ref) {
  json::Value r = json::Value::Object();
  r.set("reference", json::Value::String(std::move(ref)));
  return r;
}

json::Value BpComponent(std::string_view code, std::string_view display, double value) {
  json::Value q = json::Value::Object();
  q.set("value", json::Value::Number(Decimal(value)));
  q.set("unit", json::Value::String("mm[Hg]"));
  q.set("system", json::Value::String("http://unitsofmeasure.org"));
  q.set("code", json::Value::String("mm[Hg]"));
  json::Value c = json::Value::Object();
  c.set("code", fhir::MakeConcept(fhir::MakeCoding("http://loinc.org", code, display), display));
  c.set("valueQuantity", std::move(q));
  return c;
}

// A home blood-pressure monitor and its daily readings ending on `last_day`.
Status AddDeviceReadings(const std::string& patient_id, const std::string& last_day,
                         std::string_view recorded, uint64_t seed, uint64_t index, Rng* rng,
                         bool wanted_device,
                         bool wanted_observation, LakeFolderWriter* writer, GenStats* stats) {
  const std::string device_id = Uuid(seed ^ 0xdeu, index);
  json::Value device = json::Value::Object();
  device.set("resourceType", json::Value::String("Device"));
  device.set("id", json::Value::String(device_id));
  device.set("meta", Meta(recorded));
  device.set("status", json::Value::String("active"));
  device.set("type", fhir::MakeConcept(fhir::MakeCoding("http://snomed.info/sct", "258057004",
                                                         "Non-invasive blood pressure monitor"),
                                       "Home blood pressure monitor"));
  device.set("patient", Ref("Patient/" + patient_id));
  if (wanted_device) RETURN_IF_ERROR(writer->Add(device));
  ++stats->devices;
  if (!wanted_observation) return Status::Ok();
  const int days = 30 + static_cast<int>(rng->Next() % 61);
  const int64_t last = DayOf(last_day);
  const double base_sys = 128 + 12 * rng->Normal(), base_dia = 82 + 7 * rng->Normal();
  for (int d = days - 1; d >= 0; --d) {
    if (rng->Uniform() < 0.12) continue;  // a missing day
    const int readings = rng->Uniform() < 0.2 ? 2 : 1;
    for (int k = 0; k < readings; ++k) {
      json::Value obs = json::Value::Object();
      obs.set("resourceType", json::Value::String("Observation"));
      obs.set("id", json::Value::String(Uuid(seed ^ 0x0b5u, index * 1000 + d * 2 + k)));
      obs.set("meta", Meta(recorded));
      obs.set("status", json::Value::String("final"));
      obs.set("code", fhir::MakeConcept(
                          fhir::MakeCoding("http://loinc.org", "85354-9", "Blood pressure panel"),
                          "Blood pressure panel"));
      obs.set("subject", Ref("Patient/" + patient_id));
      char when[40];
      std::snprintf(when, sizeof when, "%sT%02d:%02d:00+00:00",
                    FormatCivilDay(last - d).c_str(), k == 0 ? 7 : 19,
                    static_cast<int>(rng->Next() % 60));
      obs.set("effectiveDateTime", json::Value::String(when));
      obs.set("device", Ref("Device/" + device_id));
      json::Value comps = json::Value::Array();
      const double sys = base_sys + 8 * rng->Normal();
      const double dia = base_dia + 5 * rng->Normal();
      comps.push_back(BpComponent("8480-6", "Systolic blood pressure", sys));
      comps.push_back(BpComponent("8462-4", "Diastolic blood pressure", dia));
      obs.set("component", std::move(comps));
      RETURN_IF_ERROR(writer->Add(obs));
      ++stats->resources;
    }
  }
  return Status::Ok();
}

Result<std::vector<json::Value>> LoadBundles(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> paths;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".json") paths.push_back(it->path().string());
  }
  if (paths.empty()) return Status::NotFound("no Synthea bundles (*.json) in " + dir);
  std::sort(paths.begin(), paths.end());
  std::vector<json::Value> bundles;
  for (const std::string& p : paths) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    auto parsed = json::Parse(ss.str());
    if (!parsed.ok()) return Status::InvalidArgument(p + ": " + parsed.status().message());
    if (parsed->get_string("resourceType") != "Bundle") {
      return Status::InvalidArgument(p + ": not a Bundle");
    }
    bundles.push_back(std::move(*parsed));
  }
  return bundles;
}

bool Wanted(const GenOptions& o, std::string_view type) {
  return o.types.empty() || std::find(o.types.begin(), o.types.end(), type) != o.types.end();
}

// Writes one copy of `bundle` as patient number `index`.
Status CopyPatient(const json::Value& bundle, uint64_t index, const GenOptions& o,
                   std::string_view recorded, LakeFolderWriter* writer, GenStats* stats) {
  Rng rng(Hash(std::to_string(o.seed)) ^ (index * 0x2545f4914f6cdd1dull));
  PatientCopy copy;
  copy.rng = &rng;
  copy.shift_days = o.as_is ? 0 : -static_cast<int64_t>(rng.Next() % 1096);
  const json::Value* entries = bundle.find("entry");
  if (entries == nullptr || !entries->is_array()) return Status::Ok();
  for (const json::Value& e : entries->items()) {
    const json::Value* r = e.find("resource");
    if (r == nullptr) continue;
    const std::string type(r->get_string("resourceType"));
    const std::string old_id(r->get_string("id"));
    const std::string new_id = o.as_is ? old_id : Uuid(o.seed, Hash(old_id) ^ index);
    copy.new_ref[std::string(e.get_string("fullUrl"))] = type + "/" + new_id;
    copy.new_ref[type + "/" + old_id] = type + "/" + new_id;
  }
  std::string patient_id;
  bool hypertensive = false;
  // About a third of patients with atrial fibrillation go untreated in practice; copies
  // whose draw falls there have their oral anticoagulant orders stopped.
  const bool untreated = !o.as_is && rng.Uniform() < 0.35;
  for (const json::Value& e : entries->items()) {
    const json::Value* src = e.find("resource");
    if (src == nullptr) continue;
    json::Value r = *src;
    const std::string type(r.get_string("resourceType"));
    const std::string new_id = copy.new_ref[type + "/" + std::string(r.get_string("id"))];
    r.set("id", json::Value::String(new_id.substr(type.size() + 1)));
    if (o.as_is) {
      copy.shift_days = 0;
    }
    Rewrite(&r, &copy, "");
    if (!r.find("meta")) r.set("meta", Meta(recorded));
    r.find("meta")->insert_at(0, "versionId", json::Value::String("1"));
    r.find("meta")->set("lastUpdated", json::Value::String(std::string(recorded)));
    if (untreated && type == "MedicationRequest" && r.get_string("status") == "active" &&
        !CodeIn(r.find("medicationCodeableConcept"), codes::kAnticoagulants).empty()) {
      r.set("status", json::Value::String("stopped"));
    }
    if (type == "Patient") patient_id = std::string(r.get_string("id"));
    if (type == "Condition" && !CodeIn(r.find("code"), std::string_view("38341003")).empty())
      hypertensive = true;
    if (!Wanted(o, type)) continue;
    RETURN_IF_ERROR(writer->Add(r));
    ++stats->resources;
  }
  ++stats->patients;
  if (hypertensive && !o.as_is && !patient_id.empty() && copy.max_date.size() == 10 &&
      (Wanted(o, "Device") || Wanted(o, "Observation"))) {
    RETURN_IF_ERROR(
        AddDeviceReadings(patient_id, copy.max_date, recorded, o.seed, index, &rng,
                          Wanted(o, "Device"),
                          Wanted(o, "Observation"), writer, stats));
  }
  return Status::Ok();
}

}  // namespace

Result<GenStats> GeneratePopulation(const GenOptions& o) {
  ASSIGN_OR_RETURN(std::vector<json::Value> bundles, LoadBundles(o.bundles_dir));
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec) return Status::InvalidArgument("cannot create " + o.out_dir + ": " + ec.message());
  LakeFolderWriter writer(o.out_dir, /*commit=*/1);
  GenStats stats;
  const uint64_t n = o.as_is ? bundles.size() : o.patients;
  const std::string recorded = RecordedInstant(bundles);
  for (uint64_t i = 0; i < n; ++i) {
    RETURN_IF_ERROR(CopyPatient(bundles[i % bundles.size()], i, o, recorded, &writer, &stats));
  }
  RETURN_IF_ERROR(writer.Finish());
  stats.bytes = writer.bytes_written();
  return stats;
}

}  // namespace medhub::analytics
