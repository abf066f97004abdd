// Search over the store's index: one selective criterion drives a prefix scan, the others
// filter its candidates through each resource's own list of index keys.
#include <algorithm>
#include <iterator>

#include "core/aead.h"
#include "core/ids.h"
#include "core/json.h"
#include "fhir/search_params.h"
#include "store/index_hashing.h"
#include "store/readings_keys.h"
#include "store/rocks_store.h"

namespace medhub::store {

bool MatchesValue(const fhir::SearchCriterion& c, const fhir::SearchValue& v,
                  const keys::DecodedIndexKey& k) {
  switch (c.param->type) {
    case fhir::ParamType::kToken:
      return (k.value == v.value || (v.value.empty() && v.has_system)) &&
             (!v.has_system || k.system == v.system);
    case fhir::ParamType::kString:
      if (c.modifier == "contains") return k.value.find(v.value) != std::string::npos;
      if (c.modifier == "exact") return k.value == fhir::NormalizeString(v.value);
      return k.value.starts_with(v.value);
    case fhir::ParamType::kReference:
      return k.value == v.value;
    case fhir::ParamType::kDate:
      return fhir::DateMatches(v.prefix, v.range, k.range);
    case fhir::ParamType::kQuantity:
      return fhir::NumberMatches(v.prefix, v, k.number) &&
             (v.value.empty() || k.value == v.value) && (!v.has_system || k.system == v.system);
  }
  return false;
}

namespace {

bool IsNegative(const fhir::SearchCriterion& c) {
  return c.modifier == "missing" || c.modifier == "not";
}

// Lower is evaluated first: cheap, selective prefix scans drive the search.
int Selectivity(const fhir::SearchCriterion& c) {
  if (c.param == nullptr) return 0;  // _id
  if (IsNegative(c)) return 9;
  switch (c.param->type) {
    case fhir::ParamType::kReference:
      return 1;
    case fhir::ParamType::kToken:
      return 2;
    case fhir::ParamType::kString:
      return c.modifier == "contains" ? 6 : 3;
    case fhir::ParamType::kQuantity:
      return 5;
    case fhir::ParamType::kDate:
      return 4;
  }
  return 8;
}

void SortUnique(std::vector<std::string>* ids) {
  std::sort(ids->begin(), ids->end());
  ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
}

// _lastUpdated has no index keys since format 5 (format-4 stores still hold some, unread):
// the current record holds the time, and the type history lists versions in time order.
bool IsLastUpdated(const fhir::SearchParamDef& p) {
  return p.resource.empty() && p.name == "_lastUpdated";
}

// The index value _lastUpdated had: the current version's time as a one-microsecond range;
// nullopt for a missing or deleted current record.
std::optional<keys::DecodedIndexKey> LastUpdatedValue(std::string_view current) {
  if (current.size() < keys::kCurrentFixedSize || current[8] != 0) return std::nullopt;
  keys::DecodedIndexKey d;
  d.range.low = GetOrderedInt64(current.substr(9));
  d.range.high = d.range.low + 1;
  return d;
}

// The times [*lo, *hi) outside of which no resource's _lastUpdated = [t, t + 1) can match
// `c` (fhir::DateMatches, solved for t); false when unbounded (ne).
bool LastUpdatedBounds(const fhir::SearchCriterion& c, int64_t* lo, int64_t* hi) {
  using P = fhir::Prefix;
  *lo = INT64_MAX;
  *hi = INT64_MIN;
  for (const auto& v : c.any_of) {
    int64_t l = INT64_MIN, h = INT64_MAX;
    switch (v.prefix) {
      case P::kEq:
      case P::kAp:
        l = v.range.low, h = v.range.high;
        break;
      case P::kGt:
      case P::kSa:
        l = v.range.high;
        break;
      case P::kGe:
        l = v.range.low;
        break;
      case P::kLt:
      case P::kEb:
        h = v.range.low;
        break;
      case P::kLe:
        h = v.range.high;
        break;
      case P::kNe:
        return false;
    }
    *lo = std::min(*lo, l);
    *hi = std::max(*hi, h);
  }
  return !c.any_of.empty();
}

// The time of a type-history entry (a resource version or a batch of device readings).
std::optional<int64_t> HistoryTime(std::string_view value, std::string_view* id) {
  if (!value.empty() && value[0] == '\0') {
    auto batch = readings::DecodeBatchChange(value);
    if (!batch) return std::nullopt;
    *id = {};
    return batch->last_updated;
  }
  auto change = keys::DecodeChange(value);
  if (!change) return std::nullopt;
  *id = change->id;
  return change->last_updated;
}

// The ids of the versions of `type` written at times in [lo, hi), from the type history:
// times increase with sequence numbers, so the first entry at or after `lo` is found by
// bisecting the sequence numbers (up to the type's last one: about log2(seq) seeks), and
// entries are read from there until `hi`.
Status IdsWrittenBetween(rocksdb::Iterator* it, std::string_view type, int64_t lo, int64_t hi,
                         std::vector<std::string>* ids) {
  const std::string prefix = std::string(type) + std::string(1, '\0');
  std::string_view id;
  using Entry = std::optional<std::pair<uint64_t, int64_t>>;  // seq, time
  auto at = [&](uint64_t seq) -> Result<Entry> {  // the first entry at or after `seq`
    it->Seek(keys::TypeHistoryKey(type, seq));
    RETURN_IF_ERROR(FromRocks(it->status(), "scanning the type history"));
    if (!it->Valid() || !it->key().starts_with(prefix)) return Entry();
    auto time = HistoryTime(View(it->value()), &id);
    if (!time || it->key().size() != prefix.size() + 8)
      return Status::DataLoss("malformed type history record");
    return Entry(std::in_place, GetBigEndian64(View(it->key()).substr(prefix.size())), *time);
  };
  uint64_t a = 0, b = 0;
  it->SeekForPrev(keys::TypeHistoryKey(type, UINT64_MAX));
  RETURN_IF_ERROR(FromRocks(it->status(), "scanning the type history"));
  if (it->Valid() && it->key().starts_with(prefix) && it->key().size() == prefix.size() + 8)
    b = GetBigEndian64(View(it->key()).substr(prefix.size())) + 1;
  while (lo != INT64_MIN && a < b) {
    const uint64_t mid = a + (b - a) / 2;
    ASSIGN_OR_RETURN(Entry entry, at(mid));
    if (!entry || entry->second >= lo) {
      b = mid;
    } else {
      a = entry->first + 1;
    }
  }
  ASSIGN_OR_RETURN(Entry first, at(a));
  std::optional<int64_t> time;
  if (first) time = first->second;
  while (time && *time < hi) {
    if (!id.empty()) ids->emplace_back(id);  // a batch of device readings has no id here
    it->Next();
    RETURN_IF_ERROR(FromRocks(it->status(), "scanning the type history"));
    if (!it->Valid() || !it->key().starts_with(prefix)) break;
    time = HistoryTime(View(it->value()), &id);
    if (!time) return Status::DataLoss("malformed type history record");
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> RocksStore::DriveByLastUpdated(std::string_view type,
                                                                const fhir::SearchCriterion& c,
                                                                const rocksdb::ReadOptions& ro) {
  std::vector<std::string> ids;
  int64_t lo, hi;
  if (!LastUpdatedBounds(c, &lo, &hi)) {
    ASSIGN_OR_RETURN(ids, AllIds(type, ro));
  } else {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(keys::kTypeHistory)));
    RETURN_IF_ERROR(IdsWrittenBetween(it.get(), type, lo, hi, &ids));
    SortUnique(&ids);
  }
  // Each candidate's current version decides (the history also lists older versions).
  std::unordered_map<std::string, std::string> currents;
  RETURN_IF_ERROR(LoadIndexKeys(type, ids, ro, &currents));
  std::vector<std::string> kept;
  for (std::string& id : ids) {
    auto d = LastUpdatedValue(currents[id]);
    bool match = false;
    for (const auto& v : c.any_of) match |= d && MatchesValue(c, v, *d);
    if (match) kept.push_back(std::move(id));
  }
  return kept;
}

Result<std::vector<std::string>> RocksStore::AllIds(std::string_view type,
                                                    const rocksdb::ReadOptions& ro) {
  std::vector<std::string> ids;
  const std::string prefix = std::string(type) + std::string(1, '\0');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(keys::kCurrent)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto cur = keys::DecodeCurrent(View(it->value()));
    if (!cur) return Status::DataLoss("malformed current-version record");
    if (!cur->deleted) ids.emplace_back(View(it->key()).substr(prefix.size()));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "scanning resources"));
  return ids;  // already in id order
}

Result<std::vector<std::string>> RocksStore::Drive(const fhir::SearchQuery& q,
                                                   const fhir::SearchCriterion& c,
                                                   const rocksdb::ReadOptions& ro) {
  std::vector<std::string> ids;
  if (c.param == nullptr) {  // _id
    for (const auto& v : c.any_of) {
      std::string cur;
      auto s = db_->Get(ro, cf(keys::kCurrent), keys::CurrentKey(q.type, v.value), &cur);
      if (s.IsNotFound()) continue;
      RETURN_IF_ERROR(FromRocks(s, "reading the current version"));
      auto rec = keys::DecodeCurrent(cur);
      if (rec && !rec->deleted) ids.push_back(v.value);
    }
    SortUnique(&ids);
    return ids;
  }
  if (IsLastUpdated(*c.param)) return DriveByLastUpdated(q.type, c, ro);
  const fhir::SearchParamDef& indexed = fhir::IndexedParam(*c.param);
  const std::string param_prefix = keys::IndexParamPrefix(q.type, indexed.name);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(keys::kIndex)));
  for (const auto& v : c.any_of) {
    std::string prefix = param_prefix;
    std::string text_prefix;  // a reference as format 4 wrote it, when it differs
    switch (c.param->type) {
      case fhir::ParamType::kToken:
        if (!v.value.empty()) {
          keys::AppendEscaped(&prefix, v.value);
          // A well-known system is a tag since format 5 and text before: seek the code
          // alone then, and compare the decoded system.
          if (v.has_system && !keys::IsTabledSystem(v.system))
            keys::AppendEscaped(&prefix, v.system);
        }
        break;
      case fhir::ParamType::kString:
        if (c.modifier == "exact") {
          keys::AppendEscaped(&prefix, fhir::NormalizeString(v.value));
        } else if (c.modifier != "contains") {
          keys::AppendEscaped(&prefix, v.value, /*terminate=*/false);
        }
        break;
      case fhir::ParamType::kReference:
        if (text_index_keys_ && keys::IsPackedReference(v.value)) {
          text_prefix = param_prefix;
          keys::AppendEscaped(&text_prefix, v.value);
        }
        keys::AppendReference(&prefix, v.value);
        break;
      default:
        break;
    }
    for (const std::string* p : {&prefix, &text_prefix}) {
      if (p->empty()) continue;
      for (it->Seek(*p); it->Valid() && it->key().starts_with(*p); it->Next()) {
        auto k = keys::DecodeIndexKey(View(it->key()), indexed);
        if (!k) return Status::DataLoss("malformed search index key");
        if (MatchesValue(c, v, *k)) ids.push_back(std::move(k->id));
      }
      RETURN_IF_ERROR(FromRocks(it->status(), "scanning the search index"));
    }
  }
  SortUnique(&ids);
  return ids;
}

Status RocksStore::LoadIndexKeys(std::string_view type, const std::vector<std::string>& ids,
                                 const rocksdb::ReadOptions& ro,
                                 std::unordered_map<std::string, std::string>* out) {
  std::vector<std::string> key_strings;
  std::vector<rocksdb::Slice> key_slices;
  for (const auto& id : ids)
    if (!out->contains(id)) key_strings.push_back(keys::CurrentKey(type, id));
  if (key_strings.empty()) return Status::Ok();
  for (const auto& k : key_strings) key_slices.emplace_back(k);
  std::vector<std::string> values;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs(key_slices.size(), cf(keys::kCurrent));
  auto statuses = db_->MultiGet(ro, cfs, key_slices, &values);
  for (size_t i = 0; i < statuses.size(); ++i) {
    if (!statuses[i].ok() && !statuses[i].IsNotFound())
      return FromRocks(statuses[i], "reading index keys");
    std::string id = key_strings[i].substr(type.size() + 1);
    (*out)[std::move(id)] = statuses[i].ok() ? std::move(values[i]) : std::string();
  }
  return Status::Ok();
}

Result<bool> RocksStore::RawStringMatches(std::string_view type, const std::string& id,
                                          const fhir::SearchCriterion& c,
                                          const rocksdb::Snapshot* snap) {
  std::string cur;
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  RETURN_IF_ERROR(FromRocks(db_->Get(ro, cf(keys::kCurrent), keys::CurrentKey(type, id), &cur),
                            "reading the current version"));
  auto rec = keys::DecodeCurrent(cur);
  if (!rec) return Status::DataLoss("malformed current-version record");
  if (rec->deleted) return false;
  ASSIGN_OR_RETURN(StoredResource r, ReadRecord(type, id, rec->version, snap));
  ASSIGN_OR_RETURN(json::Value doc, json::Parse(r.json));
  Wipe(&r.json);
  for (const auto& raw : fhir::RawStringValues(doc, *c.param)) {
    const std::string norm = c.modifier == "exact" ? std::string() : fhir::NormalizeString(raw);
    for (const auto& v : c.any_of) {
      if (c.modifier == "exact"      ? raw == v.value
          : c.modifier == "contains" ? norm.find(v.value) != std::string::npos
                                     : norm.starts_with(v.value))
        return true;
    }
  }
  return false;
}

Status RocksStore::FilterRaw(std::string_view type, const fhir::SearchCriterion& c,
                             const rocksdb::Snapshot* snap, std::vector<std::string>* ids) {
  std::vector<std::string> kept;
  for (auto& id : *ids) {
    ASSIGN_OR_RETURN(bool keep, RawStringMatches(type, id, c, snap));
    if (keep) kept.push_back(std::move(id));
  }
  *ids = std::move(kept);
  return Status::Ok();
}

Result<std::vector<std::string>> RocksStore::Search(const fhir::SearchQuery& q) {
  if (bulk_active()) RETURN_IF_ERROR(AddStaged());  // e.g. If-None-Exist during an import
  const rocksdb::Snapshot* snap = db_->GetSnapshot();
  struct Release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* s;
    ~Release() { db->ReleaseSnapshot(s); }
  } release{db_.get(), snap};
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;

  std::vector<const fhir::SearchCriterion*> order;
  for (const auto& c : q.criteria) order.push_back(&c);
  std::stable_sort(order.begin(), order.end(),
                   [](auto* a, auto* b) { return Selectivity(*a) < Selectivity(*b); });
  std::vector<IndexCriterion> steps;
  for (const auto* c : order) steps.push_back(ForIndex(*key_ring_, *c));
  std::vector<std::string> ids;
  size_t first_filter = 0;
  if (steps.empty() || IsNegative(*order[0]) || !steps[0].index_only) {
    ASSIGN_OR_RETURN(ids, AllIds(q.type, ro));
  } else {
    ASSIGN_OR_RETURN(ids, Drive(q, steps[0].effective, ro));
    if (steps[0].raw_check) RETURN_IF_ERROR(FilterRaw(q.type, *order[0], snap, &ids));
    first_filter = 1;
  }
  std::unordered_map<std::string, std::string> currents;  // id -> current record
  for (size_t i = first_filter; i < steps.size() && !ids.empty(); ++i) {
    const fhir::SearchCriterion& c = steps[i].effective;
    std::vector<std::string> kept;
    if (c.param == nullptr) {  // _id as a filter
      for (auto& id : ids)
        for (const auto& v : c.any_of)
          if (v.value == id) kept.push_back(std::move(id));
      ids = std::move(kept);
      continue;
    }
    if (!steps[i].index_only) {  // hashed :contains: only the decrypted resource can tell
      RETURN_IF_ERROR(FilterRaw(q.type, *order[i], snap, &ids));
      continue;
    }
    RETURN_IF_ERROR(LoadIndexKeys(q.type, ids, ro, &currents));
    const fhir::SearchParamDef& indexed = fhir::IndexedParam(*c.param);
    const bool last_updated = IsLastUpdated(indexed);
    for (auto& id : ids) {
      bool any_key = false, any_match = false;
      const std::string& current = currents[id];
      if (auto d = last_updated ? LastUpdatedValue(current) : std::nullopt) {
        any_key = true;
        for (const auto& v : c.any_of) any_match |= MatchesValue(c, v, *d);
      }
      const std::string_view refs = last_updated ? "" : keys::CurrentKeyRefs(current);
      keys::ForEachKeyRef(refs, q.type, id, [&](char tag, std::string_view k) {
        if (tag != 'i' || keys::IndexKeyParam(k) != indexed.name) return;
        auto d = keys::DecodeIndexKey(k, indexed);
        if (d && !c.param->target.empty() && !d->value.starts_with(c.param->target)) return;
        any_key = true;
        if (!d) return;
        for (const auto& v : c.any_of) any_match |= MatchesValue(c, v, *d);
      });
      bool keep;
      if (c.modifier == "missing") {
        keep = (c.any_of[0].value == "true") != any_key;
      } else if (c.modifier == "not") {
        keep = !any_match;
      } else {
        keep = any_match;
      }
      if (keep && steps[i].raw_check) {
        ASSIGN_OR_RETURN(keep, RawStringMatches(q.type, id, *order[i], snap));
      }
      if (keep) kept.push_back(std::move(id));
    }
    ids = std::move(kept);
  }
  // Device readings (rocks_store_readings_search.cc), merged in id order.
  std::unordered_map<std::string, int64_t> reading_sort_keys;
  if (has_readings() && q.type == "Observation") {
    std::vector<std::string> found;
    RETURN_IF_ERROR(SearchReadings(q, snap, &found, &reading_sort_keys));
    std::vector<std::string> merged;
    merged.reserve(ids.size() + found.size());
    std::merge(std::make_move_iterator(ids.begin()), std::make_move_iterator(ids.end()),
               std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()),
               std::back_inserter(merged));
    ids = std::move(merged);
  }
  if (q.sort != nullptr && ids.size() > 1) {
    RETURN_IF_ERROR(LoadIndexKeys(q.type, ids, ro, &currents));
    const bool last_updated = IsLastUpdated(*q.sort);
    std::vector<std::pair<int64_t, std::string>> keyed;
    for (auto& id : ids) {
      // Ascending sorts by the earliest start, descending by the latest end; resources
      // without a value go last either way.
      int64_t key = q.sort_descending ? INT64_MIN : INT64_MAX;
      if (auto r = reading_sort_keys.find(id); r != reading_sort_keys.end()) key = r->second;
      const std::string& current = currents[id];
      if (auto d = last_updated ? LastUpdatedValue(current) : std::nullopt)
        key = q.sort_descending ? d->range.high : d->range.low;
      const std::string_view refs = last_updated ? "" : keys::CurrentKeyRefs(current);
      keys::ForEachKeyRef(refs, q.type, id, [&](char tag, std::string_view k) {
        if (tag != 'i' || keys::IndexKeyParam(k) != q.sort->name) return;
        auto d = keys::DecodeIndexKey(k, *q.sort);
        if (!d) return;
        key = q.sort_descending ? std::max(key, d->range.high) : std::min(key, d->range.low);
      });
      keyed.emplace_back(key, std::move(id));
    }
    std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
      return q.sort_descending ? a.first > b.first : a.first < b.first;
    });
    ids.clear();
    for (auto& [k, id] : keyed) ids.push_back(std::move(id));
  }
  return ids;
}

}  // namespace medhub::store
