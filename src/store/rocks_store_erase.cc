// Crypto-shredding a patient: the data key is replaced by a tombstone, the index and
// compartment entries of the patient's resources are removed, and the database is
// compacted so that no SST or WAL file keeps the wrapped key or the removed entries.
#include <rocksdb/write_batch.h>

#include "core/time.h"
#include "store/rocks_store.h"

namespace medhub::store {

Status RocksStore::EraseResource(const std::string& key_name, std::string_view patient,
                                 std::string_view type, std::string_view id,
                                 rocksdb::WriteBatch* batch, EraseReport* report) {
  const std::string cur_key = keys::CurrentKey(type, id);
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), cf(keys::kCurrent), cur_key, &v);
  if (s.IsNotFound()) return Status::Ok();
  RETURN_IF_ERROR(FromRocks(s, "reading the current version"));
  auto cur = keys::DecodeCurrent(v);
  if (!cur) return Status::DataLoss("malformed current-version record");
  std::string rec;
  RETURN_IF_ERROR(FromRocks(db_->Get(rocksdb::ReadOptions(), cf(keys::kResources),
                                     keys::ResourceKey(type, id, cur->version), &rec),
                            "reading a resource"));
  auto view = keys::DecodeResourceRecord(rec);
  if (!view) return Status::DataLoss("malformed resource record");
  const bool own = view->key_name == key_name;
  // Another patient's resource that is also in this compartment keeps everything but
  // this patient's compartment entry.
  const std::string mine = keys::CompartmentPrefix(patient);
  std::string kept_refs;
  keys::ForEachKeyRef(cur->key_refs, type, id, [&](char tag, std::string_view k) {
    if (own || (tag == 'c' && k.starts_with(mine))) {
      batch->Delete(cf(tag == 'c' ? keys::kCompartment : keys::kIndex), k);
      ++report->index_keys;
    } else {
      keys::AppendKeyRef(&kept_refs, tag, k, type, id);
    }
  });
  cur->key_refs = std::move(kept_refs);
  if (own) {
    cur->deleted = cur->erased = true;
    cur->content_hash.assign(32, '\0');
    ++report->resources;
  }
  batch->Put(cf(keys::kCurrent), cur_key, keys::EncodeCurrent(*cur));
  return Status::Ok();
}

Result<Store::EraseReport> RocksStore::ErasePatient(std::string_view patient_id) {
  if (options_.read_only) return Status::FailedPrecondition("the store is open read-only");
  if (!key_ring_->enabled())
    return Status::FailedPrecondition("a plaintext store cannot be crypto-shredded");
  if (bulk_active()) RETURN_IF_ERROR(AddStaged());
  const std::string key_name = KeyRing::PatientKeyName(patient_id);
  const std::string record_key = KeyRing::KeyRecordKey(key_name);
  EraseReport report;
  {
    std::unique_lock lock(write_mu_);  // no commit runs while the key goes
    write_cv_.wait(lock, [&] { return in_flight_.empty(); });
    auto key = key_ring_->Get(key_name, /*create=*/false);
    if (key.status().code() == StatusCode::kGone)
      return Status::Gone("Patient/" + std::string(patient_id) + " was already erased");
    if (key.status().code() == StatusCode::kNotFound)
      return Status::NotFound("the store holds no data of Patient/" + std::string(patient_id));
    RETURN_IF_ERROR(key.status());
    rocksdb::WriteBatch batch;
    ASSIGN_OR_RETURN(std::vector<CompartmentEntry> entries, Compartment(patient_id));
    for (const CompartmentEntry& e : entries)
      RETURN_IF_ERROR(EraseResource(key_name, patient_id, e.type, e.id, &batch, &report));
    RETURN_IF_ERROR(EraseResource(key_name, patient_id, "Patient", patient_id, &batch, &report));
    RETURN_IF_ERROR(EraseReadings(patient_id, &batch, &report));
    batch.Put(record_key, KeyRing::TombstoneRecord(NowMicros()));
    RETURN_IF_ERROR(FromRocks(db_->Write(SyncWrite(), &batch), "erasing"));
    (*key)->erased = true;
    key_ring_->Forget(key_name);
  }
  // Rewrite every file: the wrapped key and the removed entries must not survive in an
  // older SST or WAL file.
  RETURN_IF_ERROR(FromRocks(db_->FlushWAL(/*sync=*/true), "flushing the WAL"));
  RETURN_IF_ERROR(FromRocks(db_->Flush(rocksdb::FlushOptions(), handles_), "flushing"));
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (auto* h : handles_)
    RETURN_IF_ERROR(FromRocks(db_->CompactRange(compact, h, nullptr, nullptr), "compacting"));
  return report;
}

}  // namespace medhub::store
