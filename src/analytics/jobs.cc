// The built-in jobs (docs/analytics.md): bp-control, stroke-risk-factors,
// af-anticoagulation-gap and device-readings.
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "analytics/codes.h"
#include "analytics/facts.h"
#include "analytics/job.h"
#include "analytics/records.h"
#include "analytics/stages.h"
#include "core/time.h"

namespace medhub::analytics {
namespace {

using Records = std::vector<std::vector<std::string_view>>;
constexpr size_t kF = 5;  // first job field of a record (after type|id|ver|del|group)

// ---------------------------------------------------------------------------------------
// Per-patient facts from the latest versions.

struct Patient {
  bool present = false;
  std::string_view gender, birth_date;
  std::map<std::string_view, std::vector<std::vector<std::string_view>>> by_kind;
};

Patient CollectPatient(const Records& records) {
  Patient p;
  for (const auto& r : records) {
    if (r[0] == "Patient" && r.size() >= kF + 2) {
      p.present = true;
      p.gender = r[kF];
      p.birth_date = r[kF + 1];
    } else if (r.size() > kF) {
      p.by_kind[r[kF]].push_back(r);
    }
  }
  return p;
}

bool Has(const Patient& p, std::string_view kind) { return p.by_kind.contains(kind); }

// The record of `kind` with the greatest date (field kF+1); ties broken by the record's id.
const std::vector<std::string_view>* Latest(const Patient& p, std::string_view kind) {
  const auto it = p.by_kind.find(kind);
  if (it == p.by_kind.end()) return nullptr;
  const std::vector<std::string_view>* best = nullptr;
  for (const auto& r : it->second) {
    if (r.size() <= kF + 1) continue;
    if (best == nullptr || std::tie(r[kF + 1], r[1]) > std::tie((*best)[kF + 1], (*best)[1])) {
      best = &r;
    }
  }
  return best;
}

int AgeAt(std::string_view birth, std::string_view date) {
  if (birth.size() < 10 || date.size() < 10) return -1;
  const int by = ParseInt(birth.substr(0, 4)).value_or(0);
  const int dy = ParseInt(date.substr(0, 4)).value_or(0);
  int age = dy - by;
  if (date.substr(5, 5) < birth.substr(5, 5)) --age;
  return age;
}

std::string AgeBand(int age) {
  if (age < 0) return "unknown";
  if (age < 18) return "0-17";
  if (age < 45) return "18-44";
  if (age < 65) return "45-64";
  if (age < 75) return "65-74";
  return "75+";
}

std::string Rate(int64_t num, int64_t den) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", den == 0 ? 0.0 : static_cast<double>(num) / den);
  return buf;
}

std::string Sex(std::string_view gender) {
  return gender.empty() ? "unknown" : std::string(gender);
}

// (a) Blood-pressure control: per hypertensive patient and month, the month's last reading
// is controlled when systolic < 140 and diastolic < 90.
void BpControlPatient(std::string_view, const Records& records, const Emit& emit) {
  const Patient p = CollectPatient(records);
  if (!p.present || !Has(p, "htn") || !Has(p, "bp")) return;
  std::map<std::string_view, const std::vector<std::string_view>*> last_of_month;
  for (const auto& r : p.by_kind.at("bp")) {
    if (r.size() < kF + 4) continue;
    const std::string_view month = r[kF + 1].substr(0, 7);
    auto& slot = last_of_month[month];
    if (slot == nullptr || std::tie(r[kF + 1], r[1]) > std::tie((*slot)[kF + 1], (*slot)[1])) {
      slot = &r;
    }
  }
  for (const auto& [month, r] : last_of_month) {
    const double sys = ParseDouble((*r)[kF + 2]).value_or(1e9);
    const double dia = ParseDouble((*r)[kF + 3]).value_or(1e9);
    const bool controlled = sys < 140 && dia < 90;
    const std::string key =
        AgeBand(AgeAt(p.birth_date, (*r)[kF + 1])) + "|" + Sex(p.gender) + "|" + std::string(month);
    emit(key, controlled ? "1,1" : "1,0");
  }
}

void RateRow(std::string_view key, const std::vector<int64_t>& t, const Emit& emit) {
  const int64_t total = t.size() > 0 ? t[0] : 0;
  const int64_t hits = t.size() > 1 ? t[1] : 0;
  emit(key, std::to_string(total) + "\t" + std::to_string(hits) + "\t" + Rate(hits, total));
}

// (b) Stroke risk factors among patients with and without stroke.
void RiskFactorsPatient(std::string_view, const Records& records, const Emit& emit) {
  const Patient p = CollectPatient(records);
  if (!p.present) return;
  const std::string group = Has(p, "stroke") ? "stroke" : "no_stroke";
  bool smoking = Has(p, "smoker");
  if (const auto* s = Latest(p, "smk"); s && s->size() > kF + 2) {
    smoking = smoking || std::find(codes::kCurrentSmoker.begin(), codes::kCurrentSmoker.end(),
                                   (*s)[kF + 2]) != codes::kCurrentSmoker.end();
  }
  bool obesity = Has(p, "obesity");
  if (const auto* b = Latest(p, "bmi"); b && b->size() > kF + 2) {
    obesity = obesity || ParseDouble((*b)[kF + 2]).value_or(0) >= 30.0;
  }
  const std::pair<const char*, bool> factors[] = {{"hypertension", Has(p, "htn")},
                                                  {"atrial_fibrillation", Has(p, "af")},
                                                  {"diabetes", Has(p, "diabetes")},
                                                  {"smoking", smoking},
                                                  {"obesity", obesity}};
  for (const auto& [name, has] : factors) {
    emit(group + "|" + name, has ? "1,1" : "1,0");
  }
}

// (c) Atrial fibrillation (active) without an active anticoagulant order.
void CareGapPatient(std::string_view patient, const Records& records, const Emit& emit) {
  const Patient p = CollectPatient(records);
  if (!p.present || !Has(p, "af")) return;
  std::string_view onset;
  bool active_af = false;
  for (const auto& r : p.by_kind.at("af")) {
    if (r.size() < kF + 3 || r[kF + 1] != "1") continue;
    active_af = true;
    if (onset.empty() || r[kF + 2] < onset) onset = r[kF + 2];
  }
  if (!active_af) return;
  std::string history = "never";
  if (const auto it = p.by_kind.find("ac"); it != p.by_kind.end()) {
    for (const auto& r : it->second) {
      if (r.size() > kF + 1 && r[kF + 1] == "active") return;  // covered: no gap
    }
    history = "stopped";
  }
  emit(patient, std::string(onset) + "\t" + history);
}

// (d) Device readings per device per day, every day from the first to the last reading;
// a day without readings is a row with 0.
void DeviceDays(std::string_view device, const Records& records, const Emit& emit) {
  std::map<std::string_view, int64_t> per_day;
  for (const auto& r : records) {
    if (r.size() > kF && r[kF].size() >= 10) ++per_day[r[kF].substr(0, 10)];
  }
  if (per_day.empty()) return;
  auto days_of = [](std::string_view d) {
    return DaysFromCivil(ParseInt(d.substr(0, 4)).value_or(1970),
                         static_cast<unsigned>(ParseInt(d.substr(5, 2)).value_or(1)),
                         static_cast<unsigned>(ParseInt(d.substr(8, 2)).value_or(1)));
  };
  const int64_t first = days_of(per_day.begin()->first);
  const int64_t last = days_of(per_day.rbegin()->first);
  std::map<int64_t, int64_t> by_index;
  for (const auto& [day, n] : per_day) by_index[days_of(day)] += n;
  for (int64_t d = first; d <= last && d - first < 3660; ++d) {
    const auto it = by_index.find(d);
    emit(std::string(device) + "|" + FormatCivilDay(d),
         std::to_string(it == by_index.end() ? 0 : it->second));
  }
}

// ---------------------------------------------------------------------------------------

class BuiltinJob : public Job {
 public:
  BuiltinJob(std::string name, std::string description, std::vector<std::string> columns)
      : name_(std::move(name)),
        description_(std::move(description)),
        columns_(std::move(columns)) {}
  std::string_view name() const override { return name_; }
  std::string_view description() const override { return description_; }
  std::vector<std::string> columns() const override { return columns_; }
  const std::vector<std::unique_ptr<Stage>>& stages() const override { return stages_; }
  std::vector<std::string> input_types() const override { return types_; }
  BuiltinJob* Types(std::vector<std::string> types) {
    types_ = std::move(types);
    return this;
  }
  BuiltinJob* Add(std::unique_ptr<Stage> s) {
    stages_.push_back(std::move(s));
    return this;
  }

 private:
  std::string name_, description_;
  std::vector<std::string> columns_;
  std::vector<std::unique_ptr<Stage>> stages_;
  std::vector<std::string> types_;
};

const std::vector<std::string> kClinicalTypes = {"Patient", "Condition", "Observation",
                                                 "MedicationRequest"};

std::unique_ptr<Stage> ClinicalStage() {
  return std::make_unique<LatestVersionStage>(kClinicalTypes,
                                              facts::ClinicalFacts<json::LazyNode>);
}

std::vector<std::unique_ptr<BuiltinJob>> MakeJobs() {
  std::vector<std::unique_ptr<BuiltinJob>> jobs;
  auto add = [&](std::string n, std::string d, std::vector<std::string> c) {
    jobs.push_back(std::make_unique<BuiltinJob>(std::move(n), std::move(d), std::move(c)));
    return jobs.back().get();
  };
  add("bp-control",
      "Blood-pressure control (< 140/90, last reading of the month) among hypertensive "
      "patients, by age band, sex and month",
      {"age_band", "sex", "month", "patients", "controlled", "control_rate"})
      ->Types(kClinicalTypes)
      ->Add(ClinicalStage())
      ->Add(std::make_unique<GroupStage>(BpControlPatient))
      ->Add(std::make_unique<SumStage>(RateRow));
  add("stroke-risk-factors",
      "Prevalence of hypertension, atrial fibrillation, diabetes, smoking and obesity among "
      "patients with and without stroke",
      {"group", "risk_factor", "patients", "with_factor", "prevalence"})
      ->Types(kClinicalTypes)
      ->Add(ClinicalStage())
      ->Add(std::make_unique<GroupStage>(RiskFactorsPatient))
      ->Add(std::make_unique<SumStage>(RateRow));
  add("af-anticoagulation-gap",
      "Patients with active atrial fibrillation and no active oral anticoagulant order",
      {"patient_id", "af_onset", "anticoagulant_history"})
      ->Types(kClinicalTypes)
      ->Add(ClinicalStage())
      ->Add(std::make_unique<GroupStage>(CareGapPatient));
  add("device-readings",
      "Readings per device per day from each device's first to last reading (0 = a day "
      "missing)",
      {"device_id", "day", "readings"})
      ->Types({"Observation"})
      ->Add(std::make_unique<LatestVersionStage>(std::vector<std::string>{"Observation"},
                                                 facts::DeviceReading<json::LazyNode>))
      ->Add(std::make_unique<GroupStage>(DeviceDays));
  return jobs;
}

}  // namespace

const std::vector<const Job*>& BuiltinJobs() {
  static const auto* owned = new std::vector<std::unique_ptr<BuiltinJob>>(MakeJobs());
  static const auto* jobs = [] {
    auto* v = new std::vector<const Job*>;
    for (const auto& j : *owned) v->push_back(j.get());
    return v;
  }();
  return *jobs;
}

Result<const Job*> FindJob(std::string_view name) {
  std::string known;
  for (const Job* j : BuiltinJobs()) {
    if (j->name() == name) return j;
    known += known.empty() ? "" : ", ";
    known += j->name();
  }
  return Status::NotFound("unknown job '" + std::string(name) + "'; known jobs: " + known);
}

}  // namespace medhub::analytics
