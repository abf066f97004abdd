// Device readings in the time-series key space (docs/formats/store.md, "Device readings"):
// the write path, and the reads that render a stored reading as a version-1 Observation.
#include <rocksdb/write_batch.h>

#include <algorithm>

#include "core/aead.h"
#include "core/hash.h"
#include "core/ids.h"
#include "core/time.h"
#include "fhir/reading_codec.h"
#include "store/reading_cache.h"
#include "store/readings_keys.h"
#include "store/rocks_store.h"

namespace medhub::store {

namespace rd = readings;

Status RocksStore::InitReadings() {
  reading_cache_ = std::make_unique<ReadingCache>();
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf(rd::kReadings)));
  it->SeekForPrev(std::string("n\xff\xff\xff\xff\xff", 6));
  RETURN_IF_ERROR(FromRocks(it->status(), "reading the device ordinals"));
  if (it->Valid() && it->key().size() == 5 && it->key()[0] == 'n') {
    const std::string_view k = View(it->key());
    uint32_t last = 0;
    for (int i = 1; i <= 4; ++i) last = (last << 8) | static_cast<uint8_t>(k[i]);
    next_ordinal_ = last + 1;
    has_readings_ = true;
  }
  return Status::Ok();
}

Result<std::optional<RocksStore::ReadingDevice>> RocksStore::FindReadingDevice(
    const std::string& device_id) {
  {
    std::lock_guard lock(devices_mu_);
    if (auto it = devices_.find(device_id); it != devices_.end()) return {it->second};
  }
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), cf(rd::kReadings), rd::DeviceKey(device_id), &v);
  if (s.IsNotFound()) return std::optional<ReadingDevice>();
  RETURN_IF_ERROR(FromRocks(s, "reading a device record"));
  auto rec = rd::DecodeDeviceRecord(v);
  if (!rec) return Status::DataLoss("malformed device record of " + device_id);
  ReadingDevice dev{rec->ordinal, rec->legacy};
  std::lock_guard lock(devices_mu_);
  devices_[device_id] = dev;
  device_names_[dev.ordinal] = device_id;
  return {dev};
}

Result<bool> RocksStore::HasLegacyReadings(std::string_view device_id) {
  const std::string param = keys::IndexParamPrefix("Observation", "device");
  const std::string ref = "Device/" + std::string(device_id);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(keys::kIndex)));
  for (bool text : {false, true}) {  // the text form: index keys of format 4 or older
    if (text && !(text_index_keys_ && keys::IsPackedReference(ref))) break;
    std::string prefix = param;
    if (text) {
      keys::AppendEscaped(&prefix, ref);
    } else {
      keys::AppendReference(&prefix, ref);
    }
    it->Seek(prefix);
    RETURN_IF_ERROR(FromRocks(it->status(), "scanning the search index"));
    if (it->Valid() && it->key().starts_with(prefix)) return true;
  }
  return false;
}

Status RocksStore::SplitStored(const ReadingBatch& batch, const ReadingDevice* dev, bool legacy,
                               std::vector<fhir::Reading>* fresh,
                               std::vector<uint64_t>* duplicates) {
  const size_t n = batch.readings.size();
  std::vector<bool> stored(n, false);
  std::vector<bool>* seen = &stored;
  auto multi_get = [&](rocksdb::ColumnFamilyHandle* family, const std::vector<std::string>& keys,
                       auto&& on_found) -> Status {
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<rocksdb::PinnableSlice> values(n);
    std::vector<rocksdb::Status> statuses(n);
    db_->MultiGet(rocksdb::ReadOptions(), family, n, slices.data(), values.data(), statuses.data());
    for (size_t i = 0; i < n; ++i) {
      if (statuses[i].IsNotFound()) continue;
      RETURN_IF_ERROR(FromRocks(statuses[i], "reading dedupe keys"));
      on_found(i, View(values[i]));
    }
    return Status::Ok();
  };
  std::vector<std::string> keys(n);
  if (dev != nullptr) {
    for (size_t i = 0; i < n; ++i) keys[i] = rd::DedupeKey(dev->ordinal, batch.readings[i].seq);
    RETURN_IF_ERROR(
        multi_get(cf(rd::kReadings), keys, [&](size_t i, std::string_view) { (*seen)[i] = true; }));
  }
  if (legacy) {  // readings stored as full Observations before: their hash ids count too
    for (size_t i = 0; i < n; ++i)
      keys[i] = keys::CurrentKey("Observation",
                                 fhir::ObservationIdFor(batch.device_id, batch.readings[i].seq));
    RETURN_IF_ERROR(multi_get(cf(keys::kCurrent), keys, [&](size_t i, std::string_view v) {
      auto cur = keys::DecodeCurrent(v);
      if (cur && !cur->deleted) (*seen)[i] = true;
    }));
  }
  for (size_t i = 0; i < n; ++i) {
    if (stored[i]) {
      duplicates->push_back(batch.readings[i].seq);
    } else {
      fresh->push_back(batch.readings[i]);
    }
  }
  return Status::Ok();
}

namespace {

// The time keys of one reading: under its code and under each component's code.
void AddTimeKeys(std::string_view patient, const fhir::Reading& r, int64_t time, uint32_t ordinal,
                 std::vector<std::string>* out) {
  out->push_back(
      rd::TimeKey(patient, rd::kCodeTag, fhir::ReadingCode(r.kind), time, ordinal, r.seq));
  for (std::string_view code : fhir::ReadingComponentCodes(r.kind))
    out->push_back(rd::TimeKey(patient, rd::kComponentTag, code, time, ordinal, r.seq));
}

}  // namespace

Result<ReadingsOutcome> RocksStore::CommitReadings(const ReadingBatch& batch) {
  if (options_.read_only) return Status::FailedPrecondition("the store is open read-only");
  if (bulk_active())
    return Status::FailedPrecondition("device readings cannot be stored during a bulk load");
  if (!IsValidFhirId(batch.device_id) || !IsValidFhirId(batch.patient_id))
    return Status::InvalidArgument("a reading batch needs a valid device and patient id");
  ReadingsOutcome out;
  if (batch.readings.empty()) return out;
  DataKeyRef key;
  if (key_ring_->enabled()) {
    auto k = key_ring_->Get(KeyRing::PatientKeyName(batch.patient_id), /*create=*/true);
    if (k.status().code() == StatusCode::kGone)
      return Status::FailedPrecondition("Patient/" + batch.patient_id +
                                        " was erased: readings for it cannot be stored");
    RETURN_IF_ERROR(k.status());
    key = std::move(k).value();
  }
  // One batch of a device at a time: its dedupe lookups and its write are then atomic.
  const std::string mark = std::string("\0readings\0", 10) + batch.device_id;
  ReadingsPlan plan;
  {
    std::unique_lock lock(write_mu_);
    write_cv_.wait(lock, [&] { return !in_flight_.contains(mark); });
    in_flight_.insert(mark);
  }
  struct Release {  // ends the device's turn and publishes the plan's sequence numbers
    RocksStore* s;
    const std::string& mark;
    const ReadingsPlan& plan;
    ~Release() {
      std::lock_guard lock(s->write_mu_);
      s->in_flight_.erase(mark);
      if (plan.first_seq != 0) {
        s->pending_.erase(plan.first_seq);
        s->published_seq_ = s->pending_.empty() ? s->assigned_seq_ : s->pending_.begin()->first - 1;
      }
      s->write_cv_.notify_all();
    }
  } release{this, mark, plan};

  ASSIGN_OR_RETURN(std::optional<ReadingDevice> dev, FindReadingDevice(batch.device_id));
  plan.new_device = !dev;
  plan.legacy = dev && dev->legacy;
  if (!dev) {
    ASSIGN_OR_RETURN(plan.legacy, HasLegacyReadings(batch.device_id));
  }
  std::vector<fhir::Reading> fresh;
  RETURN_IF_ERROR(SplitStored(batch, dev ? &*dev : nullptr, plan.legacy, &fresh, &out.duplicates));
  if (fresh.empty()) return out;
  {
    std::lock_guard lock(write_mu_);
    if (key && key->erased)
      return Status::FailedPrecondition("Patient/" + batch.patient_id +
                                        " was erased: readings for it cannot be stored");
    plan.ordinal = dev ? dev->ordinal : next_ordinal_++;
    plan.committed_at = std::max(NowMicros(), last_time_ + 1);
    plan.first_seq = assigned_seq_ + 1;
    assigned_seq_ += fresh.size();
    last_time_ = plan.committed_at;
    pending_[plan.first_seq] = assigned_seq_;
  }
  RETURN_IF_ERROR(WriteReadings(batch, fresh, plan, key.get()));
  if (key) key->durable = true;
  if (plan.new_device) {
    std::lock_guard lock(devices_mu_);
    devices_[batch.device_id] = ReadingDevice{plan.ordinal, plan.legacy};
    device_names_[plan.ordinal] = batch.device_id;
  }
  has_readings_ = true;
  for (const fhir::Reading& r : fresh) out.stored.push_back(r.seq);
  return out;
}

Status RocksStore::WriteReadings(const ReadingBatch& batch, const std::vector<fhir::Reading>& fresh,
                                 const ReadingsPlan& plan, const DataKey* key) {
  ASSIGN_OR_RETURN(std::string record, fhir::EncodeReadings(fresh));
  std::string plain = RandomBytes(keys::kSaltSize);  // the batch salt
  plain += record;
  Wipe(&record);
  rocksdb::WriteBatch wb;
  rocksdb::ColumnFamilyHandle* family = cf(rd::kReadings);
  const std::string batch_key = rd::BatchKey(plan.ordinal, fresh.front().seq);
  std::string value =
      rd::EncodeBatchHeader(key == nullptr, plan.committed_at, plan.first_seq,
                            KeyRing::PatientKeyName(batch.patient_id), batch.patient_id);
  if (key) {
    AeadSealTo(key->bytes, plain, batch_key, &value);
  } else {
    value += plain;
  }
  Wipe(&plain);
  wb.Put(family, batch_key, value);
  std::vector<uint64_t> seqs;
  std::vector<std::string> time_keys;
  for (size_t i = 0; i < fresh.size(); ++i) {
    ASSIGN_OR_RETURN(DateRange t, ParseFhirDate(fresh[i].time, DateKind::kInstant));
    seqs.push_back(fresh[i].seq);
    wb.Put(family, rd::DedupeKey(plan.ordinal, fresh[i].seq),
           rd::EncodeDedupe(fresh.front().seq, static_cast<uint32_t>(i)));
    AddTimeKeys(batch.patient_id, fresh[i], t.low, plan.ordinal, &time_keys);
  }
  if (plan.new_device) {
    wb.Put(family, rd::DeviceKey(batch.device_id),
           rd::EncodeDeviceRecord({plan.ordinal, plan.legacy}));
    wb.Put(family, rd::OrdinalKey(plan.ordinal), batch.device_id);
  }
  std::sort(time_keys.begin(), time_keys.end());  // memtable inserts in key order
  for (const std::string& k : time_keys) wb.Put(family, k, rocksdb::Slice());
  const std::string change = rd::EncodeBatchChange(plan.ordinal, plan.committed_at, seqs);
  wb.Put(cf(keys::kChanges), keys::SequenceKey(plan.first_seq), change);
  wb.Put(cf(keys::kTypeHistory), keys::TypeHistoryKey("Observation", plan.first_seq), change);
  if (key && !key->durable) wb.Put(KeyRing::KeyRecordKey(key->name), key->record);
  return FromRocks(db_->Write(SyncWrite(), &wb), "committing readings");
}

Result<std::string> RocksStore::DeviceName(uint32_t ordinal, const rocksdb::Snapshot* snap) {
  {
    std::lock_guard lock(devices_mu_);
    if (auto it = device_names_.find(ordinal); it != device_names_.end()) return it->second;
  }
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  std::string name;
  auto s = db_->Get(ro, cf(rd::kReadings), rd::OrdinalKey(ordinal), &name);
  if (s.IsNotFound()) return Status::DataLoss("a reading names an unknown device ordinal");
  RETURN_IF_ERROR(FromRocks(s, "reading a device ordinal"));
  std::lock_guard lock(devices_mu_);
  device_names_[ordinal] = name;
  return name;
}

Result<std::shared_ptr<const OpenedBatch>> RocksStore::OpenBatch(uint32_t ordinal,
                                                                 uint64_t first_seq,
                                                                 const rocksdb::Snapshot* snap) {
  const std::string batch_key = rd::BatchKey(ordinal, first_seq);
  if (auto hit = reading_cache_->Get(batch_key)) {
    if (hit->key && hit->key->erased) return Status::Gone("its patient's data key was destroyed");
    return hit;
  }
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  rocksdb::PinnableSlice v;
  auto s = db_->Get(ro, cf(rd::kReadings), batch_key, &v);
  if (s.IsNotFound()) return Status::DataLoss("a dedupe key names a missing batch record");
  RETURN_IF_ERROR(FromRocks(s, "reading a batch of readings"));
  auto header = rd::DecodeBatchRecord(View(v));
  if (!header) return Status::DataLoss("malformed batch record");
  std::string plain;
  DataKeyRef data_key;
  if (header->plaintext) {
    plain = std::string(header->payload);
  } else {
    if (!key_ring_->enabled()) return Status::FailedPrecondition("the store has no master key");
    auto key = key_ring_->Get(std::string(header->key_name), /*create=*/false);
    if (key.status().code() == StatusCode::kGone || key.status().code() == StatusCode::kNotFound)
      return Status::Gone("its patient's data key was destroyed");
    RETURN_IF_ERROR(key.status());
    ASSIGN_OR_RETURN(plain, AeadOpen((*key)->bytes, header->payload, batch_key));
    data_key = std::move(key).value();
  }
  if (plain.size() < keys::kSaltSize) return Status::DataLoss("malformed batch payload");
  auto batch = std::make_shared<OpenedBatch>();
  batch->key = std::move(data_key);
  ASSIGN_OR_RETURN(batch->readings,
                   fhir::DecodeReadings(std::string_view(plain).substr(keys::kSaltSize)));
  batch->salt = plain.substr(0, keys::kSaltSize);
  Wipe(&plain);
  ASSIGN_OR_RETURN(batch->device, DeviceName(ordinal, snap));
  batch->patient = std::string(header->patient);
  batch->committed_at = header->committed_at;
  batch->change_seq = header->change_seq;
  reading_cache_->Put(batch_key, batch);
  return std::shared_ptr<const OpenedBatch>(std::move(batch));
}

Result<StoredResource> RocksStore::ReadReading(std::string_view id, const rocksdb::Snapshot* snap) {
  const std::string ref = "Observation/" + std::string(id);
  const std::optional<rd::ReadingRef> rid = rd::ParseReadingId(id);
  if (!rid) return Status::NotFound(ref + " is not known");
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  std::string v;
  auto s = db_->Get(ro, cf(rd::kReadings), rd::DedupeKey(rid->ordinal, rid->seq), &v);
  if (s.IsNotFound()) return Status::NotFound(ref + " is not known");
  RETURN_IF_ERROR(FromRocks(s, "reading a dedupe key"));
  auto pos = rd::DecodeDedupe(v);
  if (!pos) return Status::DataLoss("malformed dedupe key of " + ref);
  auto batch = OpenBatch(rid->ordinal, pos->first, snap);
  if (batch.status().code() == StatusCode::kGone)
    return Status::Gone(ref + " was erased (its patient's data key was destroyed)");
  RETURN_IF_ERROR(batch.status());
  const OpenedBatch& b = **batch;
  if (pos->second >= b.readings.size() || b.readings[pos->second].seq != rid->seq)
    return Status::DataLoss("the batch of " + ref + " does not hold it");
  const fhir::Reading& reading = b.readings[pos->second];
  StoredResource r;
  r.type = "Observation";
  r.id = std::string(id);
  r.version = 1;
  r.last_updated = b.committed_at;
  r.seq = b.change_seq + pos->second;
  r.json = fhir::RenderReadingObservation(reading, b.device, b.patient, id, b.committed_at);
  r.salt = fhir::ReadingSalt(b.salt, reading.seq);
  return r;
}

std::optional<Result<StoredResource>> RocksStore::ReadingFallback(std::string_view type,
                                                                  std::string_view id,
                                                                  uint64_t version,
                                                                  const rocksdb::Snapshot* snap) {
  if (!has_readings() || version != 1 || type != "Observation" || !rd::ParseReadingId(id))
    return std::nullopt;
  Result<StoredResource> r = ReadReading(id, snap);
  if (r.status().code() == StatusCode::kNotFound) return std::nullopt;
  return r;
}

Status RocksStore::LoadReadingCurrent(const std::string& cur_key, Pending* p) {
  constexpr std::string_view kPrefix("Observation\0", 12);
  if (!has_readings() || !std::string_view(cur_key).starts_with(kPrefix)) return Status::Ok();
  const std::string_view id = std::string_view(cur_key).substr(kPrefix.size());
  if (!rd::ParseReadingId(id)) return Status::Ok();
  Result<StoredResource> r = ReadReading(id, nullptr);
  if (r.status().code() == StatusCode::kNotFound) return Status::Ok();
  keys::CurrentRecord cur;
  cur.version = 1;
  if (r.status().code() == StatusCode::kGone) {
    cur.deleted = cur.erased = true;
  } else {
    RETURN_IF_ERROR(r.status());
    cur.last_updated = r->last_updated;
    cur.seq = r->seq;
  }
  // No content hash: a put of the same content writes version 2 (docs/formats/store.md).
  p->current = std::move(cur);
  return Status::Ok();
}

Status RocksStore::DropOverridden(const rocksdb::ReadOptions& ro, std::vector<std::string>* ids) {
  if (ids->empty()) return Status::Ok();
  const size_t n = ids->size();
  std::vector<std::string> cur_keys(n);
  for (size_t i = 0; i < n; ++i) cur_keys[i] = keys::CurrentKey("Observation", (*ids)[i]);
  std::vector<rocksdb::Slice> slices(cur_keys.begin(), cur_keys.end());
  std::vector<rocksdb::PinnableSlice> values(n);
  std::vector<rocksdb::Status> statuses(n);
  db_->MultiGet(ro, cf(keys::kCurrent), n, slices.data(), values.data(), statuses.data());
  std::vector<std::string> kept;
  kept.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (statuses[i].ok()) continue;  // the main key space speaks for it now
    if (!statuses[i].IsNotFound()) return FromRocks(statuses[i], "reading current versions");
    kept.push_back(std::move((*ids)[i]));
  }
  *ids = std::move(kept);
  return Status::Ok();
}

Result<std::vector<CompartmentEntry>> RocksStore::ReadingCompartment(
    std::string_view patient_id, const rocksdb::ReadOptions& ro) {
  std::vector<CompartmentEntry> out;
  if (!has_readings()) return out;
  const std::string prefix = rd::TimeTagPrefix(patient_id, rd::kCodeTag);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(rd::kReadings)));
  std::vector<std::string> ids;
  std::vector<int64_t> times;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto k = rd::DecodeTimeKey(View(it->key()));
    if (!k) return Status::DataLoss("malformed reading time key");
    ids.push_back(rd::ReadingId(k->ordinal, k->seq));
    times.push_back(k->time);
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "scanning readings"));
  std::vector<std::string> kept = ids;
  RETURN_IF_ERROR(DropOverridden(ro, &kept));
  size_t j = 0;
  for (size_t i = 0; i < ids.size() && j < kept.size(); ++i) {
    if (ids[i] != kept[j]) continue;
    out.push_back({times[i], "Observation", std::move(kept[j++])});
  }
  std::stable_sort(
      out.begin(), out.end(),
      [](const CompartmentEntry& a, const CompartmentEntry& b) { return a.time < b.time; });
  return out;
}

Status RocksStore::EraseReadings(std::string_view patient_id, rocksdb::WriteBatch* batch,
                                 EraseReport* report) {
  reading_cache_->Clear();
  if (!has_readings()) return Status::Ok();
  const std::string prefix = rd::TimePrefix(patient_id);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf(rd::kReadings)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto k = rd::DecodeTimeKey(View(it->key()));
    if (!k) return Status::DataLoss("malformed reading time key");
    if (k->tag == rd::kCodeTag) ++report->resources;
    ++report->index_keys;
    batch->Delete(cf(rd::kReadings), it->key());
  }
  return FromRocks(it->status(), "scanning readings");
}

}  // namespace medhub::store
