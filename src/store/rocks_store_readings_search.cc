// Observation search over device readings: the patient and code criteria pick ranges of the
// time keys (readings_keys.h); every other criterion is decided on the rendered Observation,
// exactly as the search index would decide it for a stored one.
#include <algorithm>
#include <climits>
#include <map>

#include "core/ids.h"
#include "core/json.h"
#include "fhir/search_params.h"
#include "store/readings_keys.h"
#include "store/rocks_store.h"

namespace medhub::store {
namespace {

namespace rd = readings;

bool IsPatientCriterion(const fhir::SearchCriterion& c) {
  return c.param != nullptr && c.modifier.empty() &&
         (c.param->name == "patient" || c.param->name == "subject");
}

// The criterion that picks time keys by code, and the tag it picks under.
std::pair<const fhir::SearchCriterion*, char> CodeDriver(const fhir::SearchQuery& q) {
  for (const auto& c : q.criteria)
    if (c.param != nullptr && c.modifier.empty() && c.param->name == "code")
      return {&c, rd::kCodeTag};
  for (const auto& c : q.criteria)
    if (c.param != nullptr && c.modifier.empty() && c.param->name == "component-code")
      return {&c, rd::kComponentTag};
  return {nullptr, rd::kCodeTag};
}

// Bounds [lo, hi) that every reading matching the query's `date` criteria has its time in:
// a superset (a reading's time is an instant of at most one second's precision); the
// criteria themselves are still checked on the rendered Observation.
std::pair<int64_t, int64_t> TimeBounds(const fhir::SearchQuery& q) {
  constexpr int64_t kSecond = 1'000'000;
  int64_t lo = INT64_MIN, hi = INT64_MAX;
  for (const auto& c : q.criteria) {
    if (c.param == nullptr || c.param->name != "date" || !c.modifier.empty() ||
        c.any_of.size() != 1)
      continue;
    const fhir::SearchValue& v = c.any_of[0];
    const int64_t low = v.range.low, high = v.range.high;
    auto above = [&](int64_t t) { lo = std::max(lo, t); };
    auto below = [&](int64_t t) { hi = std::min(hi, t); };
    auto minus_second = [&](int64_t t) { return t > INT64_MIN + kSecond ? t - kSecond : t; };
    switch (v.prefix) {
      case fhir::Prefix::kEq:
        above(low);
        below(high);
        break;
      case fhir::Prefix::kGt:
        above(minus_second(high));
        break;
      case fhir::Prefix::kGe:
        above(minus_second(low));
        break;
      case fhir::Prefix::kSa:
        above(high);
        break;
      case fhir::Prefix::kLt:
      case fhir::Prefix::kEb:
        below(low);
        break;
      case fhir::Prefix::kLe:
        below(high);
        break;
      case fhir::Prefix::kAp:
        above(minus_second(low));
        below(high);
        break;
      case fhir::Prefix::kNe:
        break;
    }
  }
  return {lo, hi};
}

// Whether the values of one resource satisfy criterion `c` (the search index's rules:
// missing, not, reference targets).
bool Satisfies(const fhir::SearchCriterion& c, const std::vector<fhir::IndexValue>& values,
               std::string_view id) {
  if (c.param == nullptr) {  // _id
    for (const auto& v : c.any_of)
      if (v.value == id) return true;
    return false;
  }
  const fhir::SearchParamDef& indexed = fhir::IndexedParam(*c.param);
  bool any_key = false, any_match = false;
  for (const fhir::IndexValue& iv : values) {
    if (iv.param == nullptr || iv.param->name != indexed.name) continue;
    if (!c.param->target.empty() && !iv.value.starts_with(c.param->target)) continue;
    any_key = true;
    keys::DecodedIndexKey k{iv.value, iv.system, iv.range, iv.number, std::string(id)};
    for (const auto& v : c.any_of) any_match |= MatchesValue(c, v, k);
  }
  if (c.modifier == "missing") return (c.any_of[0].value == "true") != any_key;
  if (c.modifier == "not") return !any_match;
  return any_match;
}

}  // namespace

Status RocksStore::SearchReadings(const fhir::SearchQuery& q, const rocksdb::Snapshot* snap,
                                  std::vector<std::string>* ids,
                                  std::unordered_map<std::string, int64_t>* sort_keys) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  // identifier=urn:medhub:device-reading|<device>/<seq> names its reading directly.
  const fhir::SearchCriterion* by_identifier = nullptr;
  std::vector<std::string> candidates;
  for (const auto& c : q.criteria)
    if (!by_identifier && c.param != nullptr && c.modifier.empty() && c.param->name == "identifier")
      by_identifier = &c;
  if (by_identifier) {
    for (const auto& v : by_identifier->any_of) {
      const size_t slash = v.value.rfind('/');
      if ((v.has_system && v.system != "urn:medhub:device-reading") || slash == std::string::npos)
        continue;
      const std::string seq_text = v.value.substr(slash + 1);
      if (seq_text.empty() || seq_text.size() > 19 ||
          seq_text.find_first_not_of("0123456789") != std::string::npos)
        continue;
      ASSIGN_OR_RETURN(std::optional<ReadingDevice> dev,
                       FindReadingDevice(v.value.substr(0, slash)));
      if (!dev) continue;
      const uint64_t seq = std::stoull(seq_text);
      std::string pos;
      auto s = db_->Get(ro, cf(rd::kReadings), rd::DedupeKey(dev->ordinal, seq), &pos);
      if (s.IsNotFound()) continue;
      RETURN_IF_ERROR(FromRocks(s, "reading a dedupe key"));
      candidates.push_back(rd::ReadingId(dev->ordinal, seq));
    }
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    RETURN_IF_ERROR(DropOverridden(ro, &candidates));
    return FilterReadings(q, snap, by_identifier, nullptr, std::move(candidates), ids, sort_keys);
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(rd::kReadings)));
  // Patients: those the query names, else every patient with readings.
  const fhir::SearchCriterion* by_patient = nullptr;
  for (const auto& c : q.criteria)
    if (!by_patient && IsPatientCriterion(c)) by_patient = &c;
  std::vector<std::string> patients;
  if (by_patient) {
    for (const auto& v : by_patient->any_of)
      if (v.value.starts_with("Patient/")) patients.push_back(v.value.substr(8));
  } else {
    for (it->Seek(rd::kTimeSpace); it->Valid() && it->key().starts_with(rd::kTimeSpace);) {
      auto k = rd::DecodeTimeKey(View(it->key()));
      if (!k) return Status::DataLoss("malformed reading time key");
      patients.emplace_back(k->patient);
      std::string next = rd::TimePrefix(k->patient);
      next.back() = '\x01';  // past every key of this patient
      it->Seek(next);
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scanning readings"));
  }
  // Time keys of those patients under the codes asked for (else under every code).
  const auto [by_code, tag] = CodeDriver(q);
  const auto [lo, hi] = TimeBounds(q);
  if (lo >= hi) return Status::Ok();
  std::map<std::string, int64_t> found;  // id -> time, in id order
  for (const std::string& patient : patients) {
    std::vector<std::string> prefixes;
    if (by_code) {
      for (const auto& v : by_code->any_of)
        prefixes.push_back(v.value.empty() ? rd::TimeTagPrefix(patient, tag)
                                           : rd::TimeCodePrefix(patient, tag, v.value));
    } else {
      prefixes.push_back(rd::TimeTagPrefix(patient, rd::kCodeTag));
    }
    for (const std::string& prefix : prefixes) {
      // Under one code the keys are in time order: seek to the first time in bounds.
      const bool one_code = prefix.back() == '\0';
      std::string start = prefix;
      if (one_code && lo != INT64_MIN) PutOrderedInt64(&start, lo);
      for (it->Seek(start); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        auto k = rd::DecodeTimeKey(View(it->key()));
        if (!k) return Status::DataLoss("malformed reading time key");
        if (k->time >= hi && one_code) break;
        if (k->time < lo || k->time >= hi) continue;
        found.emplace(rd::ReadingId(k->ordinal, k->seq), k->time);
      }
      RETURN_IF_ERROR(FromRocks(it->status(), "scanning readings"));
    }
  }
  candidates.reserve(found.size());
  for (const auto& [id, time] : found) candidates.push_back(id);
  RETURN_IF_ERROR(DropOverridden(ro, &candidates));
  return FilterReadings(q, snap, by_patient, by_code, std::move(candidates), ids, sort_keys);
}

Status RocksStore::FilterReadings(const fhir::SearchQuery& q, const rocksdb::Snapshot* snap,
                                  const fhir::SearchCriterion* decided,
                                  const fhir::SearchCriterion* by_code,
                                  std::vector<std::string> candidates,
                                  std::vector<std::string>* ids,
                                  std::unordered_map<std::string, int64_t>* sort_keys) {
  // Criteria the key ranges did not decide are checked on the rendered Observation.
  std::vector<const fhir::SearchCriterion*> rest;
  for (const auto& c : q.criteria) {
    if (&c == decided) continue;
    if (&c == by_code && std::none_of(c.any_of.begin(), c.any_of.end(),
                                      [](const fhir::SearchValue& v) { return v.has_system; }))
      continue;
    rest.push_back(&c);
  }
  if (rest.empty() && q.sort == nullptr) {
    *ids = std::move(candidates);
    return Status::Ok();
  }
  const fhir::SearchParamDef* last_updated = fhir::FindSearchParam("", "_lastUpdated");
  for (std::string& id : candidates) {
    Result<StoredResource> r = ReadReading(id, snap);
    if (r.status().code() == StatusCode::kGone || r.status().code() == StatusCode::kNotFound)
      continue;
    RETURN_IF_ERROR(r.status());
    ASSIGN_OR_RETURN(json::Value doc, json::Parse(r->json));
    std::vector<fhir::IndexValue> values = fhir::ExtractIndexValues(doc);
    fhir::IndexValue updated;
    updated.param = last_updated;
    updated.range = {r->last_updated, r->last_updated + 1};
    values.push_back(std::move(updated));
    bool keep = true;
    for (const fhir::SearchCriterion* c : rest) keep = keep && Satisfies(*c, values, id);
    if (!keep) continue;
    if (q.sort != nullptr) {
      int64_t key = q.sort_descending ? INT64_MIN : INT64_MAX;
      for (const fhir::IndexValue& v : values) {
        if (v.param == nullptr || v.param->name != q.sort->name) continue;
        key = q.sort_descending ? std::max(key, v.range.high) : std::min(key, v.range.low);
      }
      (*sort_keys)[id] = key;
    }
    ids->push_back(std::move(id));
  }
  return Status::Ok();
}

}  // namespace medhub::store
