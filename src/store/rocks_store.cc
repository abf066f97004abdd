// The embedded Store on RocksDB: opening, reads, history and the change feed.
// Layout: keys.h and docs/formats/store.md; the write path is in rocks_store_commit.cc.
#include "store/rocks_store.h"

#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iterator>

#include "core/aead.h"
#include "core/ids.h"
#include "store/bulk_load.h"
#include "store/reading_cache.h"
#include "store/readings_keys.h"

namespace medhub::store {

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

RocksStore::RocksStore(std::unique_ptr<rocksdb::DB> db,
                       std::vector<rocksdb::ColumnFamilyHandle*> handles,
                       const StoreOptions& options)
    : db_(std::move(db)), handles_(std::move(handles)), options_(options) {
  for (auto* h : handles_) by_name_[h->GetName()] = h;
  for (const char* name :
       {keys::kResources, keys::kCurrent, keys::kIndex, keys::kCompartment, keys::kChanges,
        keys::kTypeHistory, keys::kRecords, readings::kReadings}) {
    if (auto it = by_name_.find(name); it != by_name_.end())
      by_address_.emplace_back(name, it->second);
  }
}

RocksStore::~RocksStore() {
  StopBulkWriter();  // a bulk load never ended: its staged commits were never acknowledged
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  db_->Close();
}

rocksdb::WriteOptions RocksStore::SyncWrite() const {
  rocksdb::WriteOptions w;
  w.sync = options_.sync_writes;
  // Keys of one batch are sorted (SortedBatch): let the memtable reuse insert positions.
  w.memtable_insert_hint_per_batch = true;
  return w;
}

Status RocksStore::Init(std::string master_key) {
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), keys::kMetaFormat, &v);
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "reading the format version");
  // Format 2 lacks only the `readings` column family, which opening has just created;
  // format 3 differs only in writing no short key refs, format 4 in the longer index keys of
  // format 4 (and its `_lastUpdated` keys): this version reads both as they are.
  const uint64_t found = s.ok() ? GetBigEndian64(v) : 0;
  const bool migrate = found == keys::kFormatVersionNeedsMigration ||
                       found == keys::kFormatVersionReadable ||
                       found == keys::kFormatVersionReadable4;
  if (found == keys::kFormatVersionNeedsMigration && options_.read_only)
    return Status::FailedPrecondition(
        "the data directory has store format 2: open it once for writing (e.g. `medhub serve`) "
        "to migrate it to format " +
        std::to_string(keys::kFormatVersion));
  if (s.ok() && !migrate && GetBigEndian64(v) != keys::kFormatVersion)
    return Status::FailedPrecondition("the data directory has store format " +
                                      std::to_string(GetBigEndian64(v)) + ", this medhub reads " +
                                      std::to_string(keys::kFormatVersion));
  // The key before the format: a wrong or missing key leaves a fresh directory unwritten.
  if (!(s.IsNotFound() && options_.read_only)) {
    ASSIGN_OR_RETURN(key_ring_, KeyRing::Open(db_.get(), std::move(master_key), s.IsNotFound(),
                                              options_.plaintext_for_benchmarks, SyncWrite()));
  }
  if (s.IsNotFound() && options_.read_only) {
    return Status::FailedPrecondition("the store has no format version yet");
  } else if (s.IsNotFound() || (migrate && !options_.read_only)) {
    std::string f;
    PutBigEndian64(&f, keys::kFormatVersion);
    rocksdb::WriteBatch batch;  // an older format's index keys stay until rewritten
    if (migrate) batch.Put(keys::kMetaTextIndexKeys, "1");
    batch.Put(keys::kMetaFormat, f);
    RETURN_IF_ERROR(FromRocks(db_->Write(SyncWrite(), &batch), "writing format"));
  } else {
    RETURN_IF_ERROR(FromRocks(s, "reading the format version"));
  }
  text_index_keys_ = migrate;
  if (!migrate && s.ok()) {
    std::string marker;
    auto m = db_->Get(rocksdb::ReadOptions(), keys::kMetaTextIndexKeys, &marker);
    if (!m.ok() && !m.IsNotFound()) return FromRocks(m, "reading the format version");
    text_index_keys_ = m.ok();
  }
  // The change feed is the source of truth for the sequence and the clock.
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf(keys::kChanges)));
  it->SeekToLast();
  RETURN_IF_ERROR(FromRocks(it->status(), "reading the change feed"));
  if (it->Valid()) {
    if (it->key().size() != 8) return Status::DataLoss("the last change record is malformed");
    assigned_seq_ = GetBigEndian64(View(it->key()));
    if (auto batch = readings::DecodeBatchChange(View(it->value()))) {
      assigned_seq_ += batch->count - 1;  // a batch of readings holds count sequence numbers
      last_time_ = batch->last_updated;
    } else if (auto change = keys::DecodeChange(View(it->value()))) {
      last_time_ = change->last_updated;
    } else {
      return Status::DataLoss("the last change record is malformed");
    }
  }
  RETURN_IF_ERROR(InitReadings());
  published_seq_ = assigned_seq_;
  return Status::Ok();
}

Result<StoredResource> RocksStore::ReadRecord(std::string_view type, std::string_view id,
                                              uint64_t version, const rocksdb::Snapshot* snap) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  rocksdb::PinnableSlice v;
  auto s = db_->Get(ro, cf(keys::kResources), keys::ResourceKey(type, id, version), &v);
  if (s.IsNotFound()) {
    if (auto reading = ReadingFallback(type, id, version, snap)) return std::move(*reading);
  }
  if (s.IsNotFound())
    return Status::NotFound(std::string(type) + "/" + std::string(id) + " has no version " +
                            std::to_string(version));
  RETURN_IF_ERROR(FromRocks(s, "reading a resource"));
  return DecodeStored(type, id, version, View(v));
}

Result<StoredResource> RocksStore::DecodeStored(std::string_view type, std::string_view id,
                                                uint64_t version, std::string_view value) {
  auto rec = keys::DecodeResourceRecord(value);
  if (!rec) return Status::DataLoss("malformed resource record");
  StoredResource r;
  r.type = std::string(type);
  r.id = std::string(id);
  r.version = version;
  r.last_updated = rec->last_updated;
  r.seq = rec->seq;
  r.deleted = rec->deleted;
  if (r.deleted) {
    r.salt.assign(keys::kSaltSize, '\0');
    return r;
  }
  std::string plain;
  if (rec->plaintext) {
    plain = std::string(rec->payload);
  } else {
    if (!key_ring_->enabled()) return Status::FailedPrecondition("the store has no master key");
    auto key = key_ring_->Get(std::string(rec->key_name), /*create=*/false);
    if (!key.ok()) {
      if (key.status().code() == StatusCode::kGone || key.status().code() == StatusCode::kNotFound)
        return Status::Gone(r.type + "/" + r.id + "/_history/" + std::to_string(version) +
                            " was erased (its patient's data key was destroyed)");
      return key.status();
    }
    ASSIGN_OR_RETURN(plain,
                     AeadOpen((*key)->bytes, rec->payload, keys::ResourceKey(type, id, version)));
  }
  if (plain.size() < keys::kSaltSize) return Status::DataLoss("malformed resource payload");
  r.salt = plain.substr(0, keys::kSaltSize);
  r.json = plain.substr(keys::kSaltSize);
  Wipe(&plain);
  return r;
}

Result<StoredResource> RocksStore::Read(std::string_view type, std::string_view id) {
  const std::string cur_key = keys::CurrentKey(type, id);
  if (bulk_active()) {  // a staged commit's state, before its chunk is added
    std::lock_guard lock(write_mu_);
    if (const BulkStaged* staged = StagedCurrent(cur_key)) {
      auto cur = keys::DecodeCurrent(staged->current);
      if (!cur) return Status::DataLoss("malformed staged current-version record");
      return DecodeStored(type, id, cur->version, staged->record);
    }
  }
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), cf(keys::kCurrent), cur_key, &v);
  if (s.IsNotFound()) {
    if (auto reading = ReadingFallback(type, id, 1, nullptr)) return std::move(*reading);
    return Status::NotFound(std::string(type) + "/" + std::string(id) + " is not known");
  }
  RETURN_IF_ERROR(FromRocks(s, "reading the current version"));
  auto cur = keys::DecodeCurrent(v);
  if (!cur) return Status::DataLoss("malformed current-version record");
  if (cur->erased)
    return Status::Gone(std::string(type) + "/" + std::string(id) +
                        " was erased (its patient's data key was destroyed)");
  return ReadRecord(type, id, cur->version);
}

std::vector<Result<StoredResource>> RocksStore::ReadMany(
    const std::vector<std::pair<std::string, std::string>>& type_ids) {
  const size_t n = type_ids.size();
  std::vector<Result<StoredResource>> out(n, Result<StoredResource>(Status::NotFound("")));
  if (n == 0) return out;
  const rocksdb::Snapshot* snap = db_->GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  // Current versions first, then the records of those versions, each as one MultiGet.
  std::vector<std::string> cur_keys(n);
  std::vector<rocksdb::Slice> slices(n);
  for (size_t i = 0; i < n; ++i) {
    cur_keys[i] = keys::CurrentKey(type_ids[i].first, type_ids[i].second);
    slices[i] = cur_keys[i];
  }
  std::vector<rocksdb::PinnableSlice> values(n);
  std::vector<rocksdb::Status> statuses(n);
  db_->MultiGet(ro, cf(keys::kCurrent), n, slices.data(), values.data(), statuses.data());
  std::vector<std::string> rec_keys;
  std::vector<size_t> rec_of;
  std::vector<uint64_t> versions(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const std::string ref = type_ids[i].first + "/" + type_ids[i].second;
    if (statuses[i].IsNotFound()) {
      auto reading = ReadingFallback(type_ids[i].first, type_ids[i].second, 1, snap);
      out[i] = reading ? std::move(*reading) : Status::NotFound(ref + " is not known");
      continue;
    }
    if (!statuses[i].ok()) {
      out[i] = FromRocks(statuses[i], "reading the current version");
      continue;
    }
    auto cur = keys::DecodeCurrent(View(values[i]));
    if (!cur) {
      out[i] = Status::DataLoss("malformed current-version record of " + ref);
      continue;
    }
    if (cur->erased) {
      out[i] = Status::Gone(ref + " was erased (its patient's data key was destroyed)");
      continue;
    }
    versions[i] = cur->version;
    rec_keys.push_back(keys::ResourceKey(type_ids[i].first, type_ids[i].second, cur->version));
    rec_of.push_back(i);
  }
  const size_t m = rec_keys.size();
  std::vector<rocksdb::Slice> rec_slices(rec_keys.begin(), rec_keys.end());
  std::vector<rocksdb::PinnableSlice> recs(m);
  std::vector<rocksdb::Status> rec_statuses(m);
  if (m > 0)
    db_->MultiGet(ro, cf(keys::kResources), m, rec_slices.data(), recs.data(), rec_statuses.data());
  for (size_t j = 0; j < m; ++j) {
    const size_t i = rec_of[j];
    if (!rec_statuses[j].ok()) {
      out[i] = FromRocks(rec_statuses[j], "reading a resource");
      continue;
    }
    out[i] = DecodeStored(type_ids[i].first, type_ids[i].second, versions[i], View(recs[j]));
  }
  db_->ReleaseSnapshot(snap);
  return out;
}

Result<StoredResource> RocksStore::ReadVersion(std::string_view type, std::string_view id,
                                               uint64_t version) {
  return ReadRecord(type, id, version);
}

Result<HistoryPage> RocksStore::History(const HistoryQuery& q) {
  HistoryPage page;
  // Concurrent commits become visible out of order: a version whose sequence is beyond
  // the published one may have an earlier commit still in flight, so history leaves it out
  // until that one lands. Otherwise a client paging with _since could see a later version,
  // move its checkpoint past it, and never see the earlier one (sync relies on this).
  const uint64_t published = published_seq_.load();
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
    for (it->SeekForPrev(prefix + std::string(9, '\xff'));
         it->Valid() && it->key().starts_with(prefix); it->Prev()) {
      auto rec = keys::DecodeResourceRecord(View(it->value()));
      if (!rec) {
        status = Status::DataLoss("malformed resource record");
        break;
      }
      if (!want(rec->last_updated)) break;
      if (rec->seq > published) continue;
      take(q.type, q.id, GetBigEndian64(View(it->key()).substr(prefix.size())));
    }
    // A reading is version 1 of its Observation (later versions, if any, are above).
    if (auto reading = ReadingFallback(q.type, q.id, 1, snap);
        reading && status.ok() && !(it->Valid() && it->key().starts_with(prefix))) {
      if (!reading->ok() && reading->status().code() != StatusCode::kGone) {
        status = reading->status();
      } else if (reading->ok() && want((*reading)->last_updated) && (*reading)->seq <= published) {
        take(q.type, q.id, 1);
      }
    }
  } else {
    const bool by_type = !q.type.empty();
    const std::string prefix = by_type ? q.type + std::string(1, '\0') : "";
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(ro, cf(by_type ? keys::kTypeHistory : keys::kChanges)));
    if (by_type) {
      it->SeekForPrev(q.before_seq ? keys::TypeHistoryKey(q.type, q.before_seq - 1)
                                   : prefix + std::string(8, '\xff'));
    } else if (q.before_seq) {
      it->SeekForPrev(keys::SequenceKey(q.before_seq - 1));
    } else {
      it->SeekToLast();
    }
    for (; it->Valid() && it->key().starts_with(prefix); it->Prev()) {
      if (auto batch = readings::DecodeBatchChange(View(it->value()))) {
        if (!want(batch->last_updated)) break;
        const std::string_view key = View(it->key());
        const uint64_t first = GetBigEndian64(key.substr(key.size() - 8));
        bool full = false;
        for (uint32_t i = batch->count; i-- > 0 && !full;) {  // newest first
          if (first + i > published || (q.before_seq && first + i >= q.before_seq)) continue;
          if (q.before_seq && hits.size() >= q.limit) {
            page.more = full = true;
            break;
          }
          take("Observation", readings::ReadingId(batch->ordinal, batch->seq(i)), 1);
        }
        if (full) break;
        continue;
      }
      auto c = keys::DecodeChange(View(it->value()));
      if (!c) {
        status = Status::DataLoss("malformed change record");
        break;
      }
      if (!want(c->last_updated)) break;  // the feed is in time order
      const std::string_view key = View(it->key());
      if (key.size() >= 8 && GetBigEndian64(key.substr(key.size() - 8)) > published) continue;
      if (q.before_seq && hits.size() >= q.limit) {
        page.more = true;
        break;
      }
      take(c->type, c->id, c->version);
    }
  }
  if (status.ok()) {
    for (const Hit& h : hits) {
      auto r = ReadRecord(h.type, h.id, h.version, snap);
      if (r.status().code() == StatusCode::kGone) {  // erased: not part of history any more
        --page.total;
        continue;
      }
      if (!r.ok()) {
        status = r.status();
        break;
      }
      page.versions.push_back(std::move(r).value());
    }
  }
  db_->ReleaseSnapshot(snap);
  if (!status.ok()) return status;
  if (q.before_seq) {
    page.total = 0;
  } else {
    page.more = q.offset + page.versions.size() < page.total;
  }
  return page;
}

Result<std::vector<CompartmentEntry>> RocksStore::Compartment(std::string_view patient_id) {
  std::vector<CompartmentEntry> out;
  ASSIGN_OR_RETURN(std::vector<CompartmentEntry> readings,
                   ReadingCompartment(patient_id, rocksdb::ReadOptions()));
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
  if (readings.empty()) return out;
  std::vector<CompartmentEntry> merged;
  merged.reserve(out.size() + readings.size());
  std::merge(std::make_move_iterator(out.begin()), std::make_move_iterator(out.end()),
             std::make_move_iterator(readings.begin()), std::make_move_iterator(readings.end()),
             std::back_inserter(merged),
             [](const CompartmentEntry& a, const CompartmentEntry& b) { return a.time < b.time; });
  return merged;
}

Result<std::vector<Change>> RocksStore::ChangesSince(uint64_t after, size_t limit) {
  std::vector<Change> out;
  const uint64_t published = published_seq_.load();
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf(keys::kChanges)));
  // A batch of readings holds a range of sequence numbers: `after + 1` may lie inside one.
  it->SeekForPrev(keys::SequenceKey(after + 1));
  if (!it->Valid() || !readings::IsBatchChange(View(it->value())))
    it->Seek(keys::SequenceKey(after + 1));
  for (; it->Valid() && out.size() < limit; it->Next()) {
    const uint64_t seq = GetBigEndian64(View(it->key()));
    if (seq > published) break;  // an earlier commit may still be in flight
    if (auto batch = readings::DecodeBatchChange(View(it->value()))) {
      for (uint32_t i = 0; i < batch->count && out.size() < limit; ++i) {
        if (seq + i <= after) continue;
        out.push_back({seq + i, "Observation", readings::ReadingId(batch->ordinal, batch->seq(i)),
                       1, batch->last_updated, false});
      }
      continue;
    }
    auto c = keys::DecodeChange(View(it->value()));
    if (!c) return Status::DataLoss("malformed change record");
    out.push_back(
        {seq, std::string(c->type), std::string(c->id), c->version, c->last_updated, c->deleted});
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "reading the change feed"));
  return out;
}

namespace {

// The master key of `options`, or from MEDHUB_MASTER_KEY; "" for a plaintext store.
Result<std::string> ResolveMasterKey(const StoreOptions& options) {
  if (!options.master_key.empty() || options.plaintext_for_benchmarks) return options.master_key;
  const char* env = std::getenv("MEDHUB_MASTER_KEY");
  if (env == nullptr || *env == '\0')
    return Status::Unauthenticated(
        "a master key is required to open the data directory " + options.path +
        " (--master-key-file F, or the MEDHUB_MASTER_KEY environment variable: 64 hex digits "
        "or base64 of 32 bytes)");
  auto key = ParseKeyText(env);
  if (!key.ok()) return Status::InvalidArgument("MEDHUB_MASTER_KEY: " + key.status().message());
  return key;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenRocksStore(const StoreOptions& options) {
  ASSIGN_OR_RETURN(std::string master_key, ResolveMasterKey(options));
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
  // The families that are only ever scanned (iterators, never Get/MultiGet) have no bloom
  // filter: it would be built for every file (bulk-load chunks, flushes, compactions) and
  // never read.
  table.filter_policy.reset();
  rocksdb::ColumnFamilyOptions scanned = cf_options;
  scanned.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const char* name : {rocksdb::kDefaultColumnFamilyName.c_str(), keys::kResources,
                           keys::kCurrent, keys::kIndex, keys::kCompartment, keys::kChanges,
                           keys::kTypeHistory, keys::kRecords, readings::kReadings}) {
    const bool only_scanned = name == std::string_view(keys::kIndex) ||
                              name == std::string_view(keys::kCompartment) ||
                              name == std::string_view(keys::kChanges) ||
                              name == std::string_view(keys::kTypeHistory);
    descriptors.emplace_back(name, only_scanned ? scanned : cf_options);
  }
  // Ciphertext does not compress: spare the compactions the attempt.
  if (!options.plaintext_for_benchmarks)
    descriptors[1].options.compression = rocksdb::kNoCompression;
  // Index keys are prefix-compressed in their blocks already: LZ4 saves only 4% of the
  // store's size but costs the bulk writer (and flushes, compactions) about a sixth of
  // their time on this family (docs/benchmarks.md, "writer").
  descriptors[3].options.compression = rocksdb::kNoCompression;
  // Every write looks up its current-version pointer, and most imports create new
  // resources: a whole-key bloom filter in the memtable answers those misses without a
  // skiplist search (about 1 MiB per 64 MiB memtable).
  descriptors[2].options.memtable_prefix_bloom_size_ratio = 0.02;
  descriptors[2].options.memtable_whole_key_filtering = true;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (options.read_only &&
      !std::filesystem::exists(std::filesystem::path(options.path) / "CURRENT"))
    return Status::NotFound("no medhub store at " + options.path);
  if (options.read_only) {  // a format-2 directory has no `readings` family to open yet
    std::vector<std::string> families;
    if (rocksdb::DB::ListColumnFamilies(db_options, options.path, &families).ok() &&
        std::find(families.begin(), families.end(), readings::kReadings) == families.end())
      return Status::FailedPrecondition("the data directory at " + options.path +
                                        " has store format 2: open it once for " +
                                        "writing (e.g. `medhub serve`) to migrate it to format " +
                                        std::to_string(keys::kFormatVersion));
  }
  auto s = options.read_only
               ? rocksdb::DB::OpenForReadOnly(db_options, options.path, descriptors, &handles, &raw)
               : rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &raw);
  RETURN_IF_ERROR(FromRocks(s, "opening the store at " + options.path));
  StoreOptions kept = options;
  Wipe(&kept.master_key);
  auto store =
      std::make_unique<RocksStore>(std::unique_ptr<rocksdb::DB>(raw), std::move(handles), kept);
  RETURN_IF_ERROR(store->Init(std::move(master_key)));
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::optional<std::string>> RocksStore::GetRecord(std::string_view key) {
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), cf(keys::kRecords), key, &v);
  if (s.IsNotFound()) return std::optional<std::string>();
  RETURN_IF_ERROR(FromRocks(s, "reading a record"));
  return std::optional<std::string>(std::move(v));
}

Status RocksStore::PutRecords(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& writes) {
  if (options_.read_only) return Status::FailedPrecondition("the store is open read-only");
  rocksdb::WriteBatch batch;
  for (const auto& [key, value] : writes) {
    if (key.empty() || key.size() > 1024)
      return Status::InvalidArgument("a record key is 1 to 1024 bytes");
    if (value) {
      batch.Put(cf(keys::kRecords), key, *value);
    } else {
      batch.Delete(cf(keys::kRecords), key);
    }
  }
  return FromRocks(db_->Write(SyncWrite(), &batch), "writing records");
}

Result<std::vector<std::pair<std::string, std::string>>> RocksStore::ScanRecords(
    std::string_view prefix) {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf(keys::kRecords)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next())
    out.emplace_back(std::string(View(it->key())), std::string(View(it->value())));
  RETURN_IF_ERROR(FromRocks(it->status(), "scanning records"));
  return out;
}

}  // namespace medhub::store
