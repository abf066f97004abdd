// The embedded Store on RocksDB. Layout: keys.h and docs/formats/store.md.
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <unordered_map>

#include "core/hash.h"
#include "core/ids.h"
#include "core/time.h"
#include "fhir/resource.h"
#include "fhir/search_params.h"
#include "store/keys.h"
#include "store/store.h"

namespace medhub::store {
namespace {

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsCorruption()) return Status::DataLoss(msg);
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos)
    return Status::Unavailable(msg + " (is another medhub process using this data directory?)");
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) return Status::Unavailable(msg);
  if (s.IsNotFound()) return Status::NotFound(msg);
  return Status::Internal(msg);
}

std::string_view View(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

// The meta elements the server owns; they never count as content.
json::Value WithoutServerMeta(json::Value resource) {
  if (json::Value* meta = resource.find("meta")) {
    meta->erase("versionId");
    meta->erase("lastUpdated");
    if (meta->members().empty()) resource.erase("meta");
  }
  return resource;
}

// Sets meta.versionId/lastUpdated, placing meta after resourceType and id.
void SetServerMeta(json::Value* resource, uint64_t version, int64_t last_updated) {
  json::Value* meta = resource->find("meta");
  if (meta == nullptr) {
    size_t pos = 0;
    for (const auto& [k, v] : resource->members()) {
      if (k != "resourceType" && k != "id") break;
      ++pos;
    }
    meta = &resource->insert_at(pos, "meta", json::Value::Object());
  }
  meta->insert_at(0, "versionId", json::Value::String(std::to_string(version)));
  meta->insert_at(1, "lastUpdated", json::Value::String(FormatInstant(last_updated)));
}

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

bool IsNegative(const fhir::SearchCriterion& c) {
  return c.modifier == "missing" || c.modifier == "not";
}

// Lower is evaluated first: cheap, selective prefix scans drive the search.
int Selectivity(const fhir::SearchCriterion& c) {
  if (c.param == nullptr) return 0;  // _id
  if (IsNegative(c)) return 9;
  switch (c.param->type) {
    case fhir::ParamType::kReference: return 1;
    case fhir::ParamType::kToken: return 2;
    case fhir::ParamType::kString: return c.modifier == "contains" ? 6 : 3;
    case fhir::ParamType::kQuantity: return 5;
    case fhir::ParamType::kDate: return 4;
  }
  return 8;
}

void SortUnique(std::vector<std::string>* ids) {
  std::sort(ids->begin(), ids->end());
  ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
}

class RocksStore final : public Store {
 public:
  RocksStore(std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> handles,
             const StoreOptions& options)
      : db_(std::move(db)), handles_(std::move(handles)), options_(options) {
    for (auto* h : handles_) by_name_[h->GetName()] = h;
  }

  ~RocksStore() override {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
  }

  Status Init() {
    std::string v;
    auto s = db_->Get(rocksdb::ReadOptions(), keys::kMetaSequence, &v);
    if (s.ok()) {
      last_seq_ = GetBigEndian64(v);
    } else if (!s.IsNotFound()) {
      return FromRocks(s, "reading the last sequence");
    }
    s = db_->Get(rocksdb::ReadOptions(), keys::kMetaFormat, &v);
    if (s.ok() && GetBigEndian64(v) != keys::kFormatVersion)
      return Status::FailedPrecondition("the data directory has store format " +
                                        std::to_string(GetBigEndian64(v)) + ", this medhub reads " +
                                        std::to_string(keys::kFormatVersion));
    if (s.IsNotFound()) {
      std::string f;
      PutBigEndian64(&f, keys::kFormatVersion);
      RETURN_IF_ERROR(FromRocks(db_->Put(SyncWrite(), keys::kMetaFormat, f), "writing format"));
    }
    if (last_seq_ > 0) {
      std::string c;
      RETURN_IF_ERROR(FromRocks(db_->Get(rocksdb::ReadOptions(), cf(keys::kChanges),
                                         keys::SequenceKey(last_seq_), &c),
                                "reading the last change"));
      auto change = keys::DecodeChange(c);
      if (!change) return Status::DataLoss("the last change record is malformed");
      last_time_ = change->last_updated;
    }
    return Status::Ok();
  }

  Result<std::vector<WriteOutcome>> Commit(std::vector<WriteOp> ops) override;
  Result<StoredResource> Read(std::string_view type, std::string_view id) override;
  Result<StoredResource> ReadVersion(std::string_view type, std::string_view id,
                                     uint64_t version) override;
  Result<HistoryPage> History(const HistoryQuery& query) override;
  Result<std::vector<std::string>> Search(const fhir::SearchQuery& query) override;
  Result<std::vector<CompartmentEntry>> Compartment(std::string_view patient_id) override;
  Result<std::vector<Change>> ChangesSince(uint64_t after, size_t limit) override;
  uint64_t LastSequence() const override {
    std::lock_guard lock(write_mu_);
    return last_seq_;
  }

 private:
  struct Pending {  // the state of one resource as this commit leaves it
    std::optional<keys::CurrentRecord> current;
    std::string index_keys;
  };

  rocksdb::WriteOptions SyncWrite() const {
    rocksdb::WriteOptions w;
    w.sync = options_.sync_writes;
    return w;
  }
  rocksdb::ColumnFamilyHandle* cf(const char* name) const { return by_name_.at(name); }

  Status LoadCurrent(const std::string& key, Pending* p) {
    std::string v;
    auto s = db_->Get(rocksdb::ReadOptions(), cf(keys::kCurrent), key, &v);
    if (s.IsNotFound()) return Status::Ok();
    RETURN_IF_ERROR(FromRocks(s, "reading the current version"));
    auto rec = keys::DecodeCurrent(v);
    if (!rec) return Status::DataLoss("malformed current-version record");
    p->current = *rec;
    s = db_->Get(rocksdb::ReadOptions(), cf(keys::kIndexKeys), key, &p->index_keys);
    if (s.IsNotFound()) return Status::Ok();
    return FromRocks(s, "reading index keys");
  }

  Result<StoredResource> ReadRecord(std::string_view type, std::string_view id, uint64_t version,
                                    const rocksdb::Snapshot* snap = nullptr);

  void DeleteKeys(rocksdb::WriteBatch* batch, std::string_view index_keys) {
    keys::ForEachKeyRef(index_keys, [&](char tag, std::string_view k) {
      batch->Delete(cf(tag == 'c' ? keys::kCompartment : keys::kIndex), k);
    });
  }

  // Ids of live resources of `type`.
  Result<std::vector<std::string>> AllIds(std::string_view type, const rocksdb::ReadOptions& ro);
  Result<std::vector<std::string>> Drive(const fhir::SearchQuery& q, const fhir::SearchCriterion& c,
                                         const rocksdb::ReadOptions& ro);
  Status LoadIndexKeys(std::string_view type, const std::vector<std::string>& ids,
                       const rocksdb::ReadOptions& ro,
                       std::unordered_map<std::string, std::string>* out);
  Result<bool> ExactStringMatches(std::string_view type, const std::string& id,
                                  const fhir::SearchCriterion& c, const rocksdb::Snapshot* snap);

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name_;
  StoreOptions options_;
  mutable std::mutex write_mu_;
  uint64_t last_seq_ = 0;   // GUARDED_BY(write_mu_)
  int64_t last_time_ = 0;   // GUARDED_BY(write_mu_)
};

Result<std::vector<WriteOutcome>> RocksStore::Commit(std::vector<WriteOp> ops) {
  std::lock_guard lock(write_mu_);
  const int64_t now = std::max(NowMicros(), last_time_ + 1);
  uint64_t seq = last_seq_;
  rocksdb::WriteBatch batch;
  std::unordered_map<std::string, Pending> pending;
  std::vector<WriteOutcome> outcomes;
  outcomes.reserve(ops.size());

  for (WriteOp& op : ops) {
    if (op.type.empty() || !IsValidFhirId(op.id))
      return Status::InvalidArgument("a write needs a resource type and a valid id");
    const std::string cur_key = keys::CurrentKey(op.type, op.id);
    auto [it, inserted] = pending.try_emplace(cur_key);
    Pending& p = it->second;
    if (inserted) RETURN_IF_ERROR(LoadCurrent(cur_key, &p));
    const bool live = p.current && !p.current->deleted;
    const std::string ref = op.type + "/" + op.id;
    if (op.if_match && (!live || p.current->version != *op.if_match))
      return Status::FailedPrecondition(
          ref + " is at version " + (live ? std::to_string(p.current->version) : "none") +
          ", not " + std::to_string(*op.if_match));
    if (op.create_only && live) return Status::AlreadyExists(ref + " already exists");

    WriteOutcome out;
    out.created = !live;
    if (op.kind == WriteOp::Kind::kDelete) {
      out.existed = live;
      if (!live) {
        outcomes.push_back(std::move(out));
        continue;
      }
      out.version = p.current->version + 1;
      out.seq = ++seq;
      out.last_updated = now;
      batch.Put(cf(keys::kResources), keys::ResourceKey(op.type, op.id, out.version),
                keys::EncodeResourceRecord(true, now, out.seq, ""));
      DeleteKeys(&batch, p.index_keys);
      batch.Delete(cf(keys::kIndexKeys), cur_key);
      p.index_keys.clear();
      p.current = keys::CurrentRecord{out.version, true, now, out.seq, std::string(32, '\0')};
    } else {
      if (fhir::ResourceType(op.resource) != op.type || fhir::ResourceId(op.resource) != op.id)
        return Status::InvalidArgument(ref + ": resourceType and id must match the write");
      json::Value content = WithoutServerMeta(std::move(op.resource));
      const Sha256Digest digest = Sha256(json::Serialize(content));
      const std::string hash(reinterpret_cast<const char*>(digest.data()), digest.size());
      if (live && p.current->content_hash == hash) {
        out.unchanged = true;
        out.version = p.current->version;
        out.last_updated = p.current->last_updated;
        ASSIGN_OR_RETURN(StoredResource cur, ReadRecord(op.type, op.id, out.version));
        out.json = std::move(cur.json);
        outcomes.push_back(std::move(out));
        continue;
      }
      out.version = p.current ? p.current->version + 1 : 1;
      out.seq = ++seq;
      out.last_updated = now;
      // Index values and compartments come from the content the client sent.
      std::string index_keys;
      for (const fhir::IndexValue& v : fhir::ExtractIndexValues(content)) {
        std::string k = keys::IndexKey(op.type, v, op.id);
        batch.Put(cf(keys::kIndex), k, "");
        keys::AppendKeyRef(&index_keys, 'i', k);
      }
      const int64_t time = fhir::ClinicalTime(content, now);
      for (const std::string& patient : fhir::PatientCompartmentsOf(content)) {
        if (op.type == "Patient") continue;  // the Patient heads its compartment
        std::string k = keys::CompartmentKey(patient, time, op.type, op.id);
        batch.Put(cf(keys::kCompartment), k, "");
        keys::AppendKeyRef(&index_keys, 'c', k);
      }
      // Delete the previous version's keys unless this version writes them again.
      keys::ForEachKeyRef(p.index_keys, [&](char tag, std::string_view k) {
        if (index_keys.find(k) == std::string::npos)
          batch.Delete(cf(tag == 'c' ? keys::kCompartment : keys::kIndex), k);
      });
      SetServerMeta(&content, out.version, now);
      out.json = json::Serialize(content);
      batch.Put(cf(keys::kResources), keys::ResourceKey(op.type, op.id, out.version),
                keys::EncodeResourceRecord(false, now, out.seq, out.json));
      batch.Put(cf(keys::kIndexKeys), cur_key, index_keys);
      p.index_keys = std::move(index_keys);
      p.current = keys::CurrentRecord{out.version, false, now, out.seq, hash};
    }
    batch.Put(cf(keys::kCurrent), cur_key, keys::EncodeCurrent(*p.current));
    const std::string change =
        keys::EncodeChange(op.type, op.id, out.version, p.current->deleted, now);
    batch.Put(cf(keys::kChanges), keys::SequenceKey(out.seq), change);
    batch.Put(cf(keys::kTypeHistory), keys::TypeHistoryKey(op.type, out.seq), change);
    outcomes.push_back(std::move(out));
  }
  if (seq == last_seq_) return outcomes;  // nothing changed
  std::string seq_bytes;
  PutBigEndian64(&seq_bytes, seq);
  batch.Put(keys::kMetaSequence, seq_bytes);
  RETURN_IF_ERROR(FromRocks(db_->Write(SyncWrite(), &batch), "committing"));
  last_seq_ = seq;
  last_time_ = now;
  return outcomes;
}

Result<StoredResource> RocksStore::ReadRecord(std::string_view type, std::string_view id,
                                              uint64_t version, const rocksdb::Snapshot* snap) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  rocksdb::PinnableSlice v;
  auto s = db_->Get(ro, cf(keys::kResources), keys::ResourceKey(type, id, version), &v);
  if (s.IsNotFound())
    return Status::NotFound(std::string(type) + "/" + std::string(id) + " has no version " +
                            std::to_string(version));
  RETURN_IF_ERROR(FromRocks(s, "reading a resource"));
  auto rec = keys::DecodeResourceRecord(View(v));
  if (!rec) return Status::DataLoss("malformed resource record");
  StoredResource r;
  r.type = std::string(type);
  r.id = std::string(id);
  r.version = version;
  r.last_updated = rec->last_updated;
  r.seq = rec->seq;
  r.deleted = rec->deleted;
  r.json = std::string(rec->json);
  return r;
}

Result<StoredResource> RocksStore::Read(std::string_view type, std::string_view id) {
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), cf(keys::kCurrent), keys::CurrentKey(type, id), &v);
  if (s.IsNotFound())
    return Status::NotFound(std::string(type) + "/" + std::string(id) + " is not known");
  RETURN_IF_ERROR(FromRocks(s, "reading the current version"));
  auto cur = keys::DecodeCurrent(v);
  if (!cur) return Status::DataLoss("malformed current-version record");
  return ReadRecord(type, id, cur->version);
}

Result<StoredResource> RocksStore::ReadVersion(std::string_view type, std::string_view id,
                                               uint64_t version) {
  return ReadRecord(type, id, version);
}

Result<HistoryPage> RocksStore::History(const HistoryQuery& q) {
  HistoryPage page;
  const rocksdb::Snapshot* snap = db_->GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  struct Hit {
    std::string type, id;
    uint64_t version;
  };
  std::vector<Hit> hits;
  auto want = [&](int64_t t) { return t >= q.since; };
  auto take = [&](std::string_view type, std::string_view id, uint64_t version) {
    if (page.total >= q.offset && hits.size() < q.limit)
      hits.push_back({std::string(type), std::string(id), version});
    ++page.total;
  };
  Status status;
  if (!q.id.empty()) {
    const std::string prefix = keys::ResourcePrefix(q.type, q.id);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(keys::kResources)));
    for (it->SeekForPrev(prefix + std::string(9, '\xff')); it->Valid() &&
                                                           it->key().starts_with(prefix);
         it->Prev()) {
      auto rec = keys::DecodeResourceRecord(View(it->value()));
      if (!rec) {
        status = Status::DataLoss("malformed resource record");
        break;
      }
      if (!want(rec->last_updated)) break;
      take(q.type, q.id, GetBigEndian64(View(it->key()).substr(prefix.size())));
    }
  } else {
    const bool by_type = !q.type.empty();
    const std::string prefix = by_type ? q.type + std::string(1, '\0') : "";
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(ro, cf(by_type ? keys::kTypeHistory : keys::kChanges)));
    if (by_type) {
      it->SeekForPrev(prefix + std::string(8, '\xff'));
    } else {
      it->SeekToLast();
    }
    for (; it->Valid() && it->key().starts_with(prefix); it->Prev()) {
      auto c = keys::DecodeChange(View(it->value()));
      if (!c) {
        status = Status::DataLoss("malformed change record");
        break;
      }
      if (!want(c->last_updated)) break;  // the feed is in time order
      take(c->type, c->id, c->version);
    }
  }
  if (status.ok()) {
    for (const Hit& h : hits) {
      auto r = ReadRecord(h.type, h.id, h.version, snap);
      if (!r.ok()) {
        status = r.status();
        break;
      }
      page.versions.push_back(std::move(r).value());
    }
  }
  db_->ReleaseSnapshot(snap);
  if (!status.ok()) return status;
  return page;
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
  const std::string param_prefix = keys::IndexParamPrefix(q.type, c.param->name);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(keys::kIndex)));
  for (const auto& v : c.any_of) {
    std::string prefix = param_prefix;
    switch (c.param->type) {
      case fhir::ParamType::kToken:
        if (!v.value.empty()) {
          keys::AppendEscaped(&prefix, v.value);
          if (v.has_system) keys::AppendEscaped(&prefix, v.system);
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
        keys::AppendEscaped(&prefix, v.value);
        break;
      default:
        break;
    }
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      auto k = keys::DecodeIndexKey(View(it->key()), *c.param);
      if (!k) return Status::DataLoss("malformed search index key");
      if (MatchesValue(c, v, *k)) ids.push_back(std::move(k->id));
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scanning the search index"));
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
  std::vector<rocksdb::ColumnFamilyHandle*> cfs(key_slices.size(), cf(keys::kIndexKeys));
  auto statuses = db_->MultiGet(ro, cfs, key_slices, &values);
  for (size_t i = 0; i < statuses.size(); ++i) {
    if (!statuses[i].ok() && !statuses[i].IsNotFound())
      return FromRocks(statuses[i], "reading index keys");
    std::string id = key_strings[i].substr(type.size() + 1);
    (*out)[std::move(id)] = statuses[i].ok() ? std::move(values[i]) : std::string();
  }
  return Status::Ok();
}

Result<bool> RocksStore::ExactStringMatches(std::string_view type, const std::string& id,
                                            const fhir::SearchCriterion& c,
                                            const rocksdb::Snapshot* snap) {
  std::string cur;
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  RETURN_IF_ERROR(FromRocks(db_->Get(ro, cf(keys::kCurrent), keys::CurrentKey(type, id), &cur),
                            "reading the current version"));
  auto rec = keys::DecodeCurrent(cur);
  if (!rec) return Status::DataLoss("malformed current-version record");
  ASSIGN_OR_RETURN(StoredResource r, ReadRecord(type, id, rec->version, snap));
  ASSIGN_OR_RETURN(json::Value doc, json::Parse(r.json));
  for (const auto& raw : fhir::RawStringValues(doc, *c.param))
    for (const auto& v : c.any_of)
      if (raw == v.value) return true;
  return false;
}

Result<std::vector<std::string>> RocksStore::Search(const fhir::SearchQuery& q) {
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
  std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) {
    return Selectivity(*a) < Selectivity(*b);
  });
  std::vector<std::string> ids;
  size_t first_filter = 0;
  if (order.empty() || IsNegative(*order[0])) {
    ASSIGN_OR_RETURN(ids, AllIds(q.type, ro));
  } else {
    ASSIGN_OR_RETURN(ids, Drive(q, *order[0], ro));
    first_filter = order[0]->modifier == "exact" ? 0 : 1;
  }
  std::unordered_map<std::string, std::string> index_keys;
  for (size_t i = first_filter; i < order.size() && !ids.empty(); ++i) {
    const fhir::SearchCriterion& c = *order[i];
    std::vector<std::string> kept;
    if (c.param == nullptr) {  // _id as a filter
      for (auto& id : ids)
        for (const auto& v : c.any_of)
          if (v.value == id) kept.push_back(std::move(id));
      ids = std::move(kept);
      continue;
    }
    RETURN_IF_ERROR(LoadIndexKeys(q.type, ids, ro, &index_keys));
    for (auto& id : ids) {
      bool any_key = false, any_match = false;
      keys::ForEachKeyRef(index_keys[id], [&](char tag, std::string_view k) {
        if (tag != 'i' || keys::IndexKeyParam(k) != c.param->name) return;
        any_key = true;
        auto d = keys::DecodeIndexKey(k, *c.param);
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
      if (keep && c.modifier == "exact") {
        ASSIGN_OR_RETURN(keep, ExactStringMatches(q.type, id, c, snap));
      }
      if (keep) kept.push_back(std::move(id));
    }
    ids = std::move(kept);
  }
  if (q.sort != nullptr && ids.size() > 1) {
    RETURN_IF_ERROR(LoadIndexKeys(q.type, ids, ro, &index_keys));
    std::vector<std::pair<int64_t, std::string>> keyed;
    for (auto& id : ids) {
      // Ascending sorts by the earliest start, descending by the latest end; resources
      // without a value go last either way.
      int64_t key = q.sort_descending ? INT64_MIN : INT64_MAX;
      keys::ForEachKeyRef(index_keys[id], [&](char tag, std::string_view k) {
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

Result<std::vector<CompartmentEntry>> RocksStore::Compartment(std::string_view patient_id) {
  std::vector<CompartmentEntry> out;
  const std::string prefix = keys::CompartmentPrefix(patient_id);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf(keys::kCompartment)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string_view k = View(it->key()).substr(prefix.size());
    if (k.size() < 9) return Status::DataLoss("malformed compartment key");
    CompartmentEntry e;
    e.time = GetOrderedInt64(k);
    std::string_view rest = k.substr(8);
    const size_t zero = rest.find('\0');
    if (zero == std::string_view::npos) return Status::DataLoss("malformed compartment key");
    e.type = std::string(rest.substr(0, zero));
    e.id = std::string(rest.substr(zero + 1));
    out.push_back(std::move(e));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "scanning a compartment"));
  return out;
}

Result<std::vector<Change>> RocksStore::ChangesSince(uint64_t after, size_t limit) {
  std::vector<Change> out;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf(keys::kChanges)));
  for (it->Seek(keys::SequenceKey(after + 1)); it->Valid() && out.size() < limit; it->Next()) {
    auto c = keys::DecodeChange(View(it->value()));
    if (!c) return Status::DataLoss("malformed change record");
    out.push_back({GetBigEndian64(View(it->key())), std::string(c->type), std::string(c->id),
                   c->version, c->last_updated, c->deleted});
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "reading the change feed"));
  return out;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenRocksStore(const StoreOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) return Status::Unavailable("cannot create " + options.path + ": " + ec.message());

  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  db_options.max_total_wal_size = 256u << 20;
  db_options.keep_log_file_num = 4;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_options.compression = rocksdb::kLZ4Compression;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const char* name : {rocksdb::kDefaultColumnFamilyName.c_str(), keys::kResources,
                           keys::kCurrent, keys::kIndex, keys::kCompartment, keys::kIndexKeys,
                           keys::kChanges, keys::kTypeHistory}) {
    descriptors.emplace_back(name, cf_options);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &raw);
  RETURN_IF_ERROR(FromRocks(s, "opening the store at " + options.path));
  auto store = std::make_unique<RocksStore>(std::unique_ptr<rocksdb::DB>(raw), std::move(handles),
                                            options);
  RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace medhub::store
