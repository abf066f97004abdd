// Internal to the store module: the RocksDB implementation of Store, split by concern over
// rocks_store.cc (open, reads, history, change feed), rocks_store_commit.cc (the write
// path) and rocks_store_search.cc (search). Key layout: keys.h, docs/formats/store.md.
//
// Write path and group commit: Commit() prepares each write without a lock (validation
// against its own content, serialization, hashing, index keys), then under `write_mu_`
// reads the current versions, checks preconditions, assigns versions and sequence numbers
// and marks the touched resources in flight; it writes the batch with the lock released, so
// concurrent commits share one WAL fsync (RocksDB's write group). A commit touching a
// resource that is in flight waits for it. Sequence numbers are published in order:
// LastSequence() and ChangesSince() never show a sequence while an earlier one may still be
// in flight, so a follower of the change feed can never skip a change. A failed write
// leaves a gap in the sequence (numbers are increasing, not contiguous).
#pragma once

#include <rocksdb/db.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "store/key_ring.h"
#include "store/keys.h"
#include "store/store.h"

namespace medhub::store {

Status FromRocks(const rocksdb::Status& s, std::string_view what);
inline std::string_view View(const rocksdb::Slice& s) { return {s.data(), s.size()}; }
// Whether index value `k` satisfies value `v` of criterion `c` (rocks_store_search.cc).
bool MatchesValue(const fhir::SearchCriterion& c, const fhir::SearchValue& v,
                  const keys::DecodedIndexKey& k);

class SortedBatch;
class ReadingCache;
struct OpenedBatch;
struct PreparedOp;
struct BulkChunk;
struct BulkState;
struct BulkStaged;
struct BulkWritten;

class RocksStore final : public Store {
 public:
  RocksStore(std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> handles,
             const StoreOptions& options);
  ~RocksStore() override;

  // Checks the format version and the master key, and recovers the sequence and clock
  // from the change feed.
  Status Init(std::string master_key);

  Result<std::vector<WriteOutcome>> Commit(std::vector<WriteOp> ops) override;
  Result<StoredResource> Read(std::string_view type, std::string_view id) override;
  Result<StoredResource> ReadVersion(std::string_view type, std::string_view id,
                                     uint64_t version) override;
  std::vector<Result<StoredResource>> ReadMany(
      const std::vector<std::pair<std::string, std::string>>& type_ids) override;
  Result<HistoryPage> History(const HistoryQuery& query) override;
  Result<std::vector<std::string>> Search(const fhir::SearchQuery& query) override;
  Result<std::vector<CompartmentEntry>> Compartment(std::string_view patient_id) override;
  Result<std::vector<Change>> ChangesSince(uint64_t after, size_t limit) override;
  Result<std::optional<std::string>> GetRecord(std::string_view key) override;
  Status PutRecords(
      const std::vector<std::pair<std::string, std::optional<std::string>>>& writes) override;
  Result<std::vector<std::pair<std::string, std::string>>> ScanRecords(
      std::string_view prefix) override;
  uint64_t LastSequence() const override { return published_seq_.load(); }
  Result<EraseReport> ErasePatient(std::string_view patient_id) override;
  Status BeginBulkLoad(size_t chunk_bytes) override;
  Status EndBulkLoad() override;
  Result<ReadingsOutcome> CommitReadings(const ReadingBatch& batch) override;

 private:
  struct Pending {  // the state of one resource as this commit leaves it
    std::optional<keys::CurrentRecord> current;
  };
  struct Planned;  // what the locked phase of Commit decided

  rocksdb::WriteOptions SyncWrite() const;
  // `name` is one of the keys::k* column family names: found by address (hot path), else by
  // content.
  rocksdb::ColumnFamilyHandle* cf(const char* name) const {
    for (const auto& [n, h] : by_address_)
      if (n == name) return h;
    return by_name_.at(name);
  }

  // Commit phases (rocks_store_commit.cc).
  Result<Planned> Plan(std::vector<PreparedOp>& ops);  // REQUIRES(write_mu_)
  Status LoadCurrent(const std::string& key, Pending* p);
  void Finish(const Planned& plan);  // publishes the plan's sequence numbers
  // Renders each put's stored bytes from the prepared ops into its resource record (salt ||
  // json, sealed with its data key in an encrypted store) and, when the op wants it, into
  // its outcome's json; adds the records of data keys not yet durable and returns those
  // keys. No lock held.
  std::vector<const DataKey*> Render(const std::vector<PreparedOp>& ops, Planned* plan);

  Result<StoredResource> ReadRecord(std::string_view type, std::string_view id, uint64_t version,
                                    const rocksdb::Snapshot* snap = nullptr);
  // A resource record's value decrypted: Gone when its data key was erased, DataLoss when
  // it is malformed or fails authentication.
  Result<StoredResource> DecodeStored(std::string_view type, std::string_view id, uint64_t version,
                                      std::string_view value);
  // Erase (rocks_store_erase.cc): what to do with one resource of the compartment.
  Status EraseResource(const std::string& key_name, std::string_view patient, std::string_view type,
                       std::string_view id, rocksdb::WriteBatch* batch, EraseReport* report);

  // Bulk loading (rocks_store_bulk.cc, bulk_load.h).
  // Moves a sealed plan's writes into the open chunk (the commit is then staged) and adds
  // the chunk when it is full.
  Status Stage(Planned* plan, std::vector<DataKeyRef> new_keys);
  // The staged current state of `cur_key`, if a staged commit wrote it. REQUIRES(write_mu_)
  const BulkStaged* StagedCurrent(std::string_view cur_key) const;
  // Writes a chunk's SST files and hands them, with the chunk, to the adder thread. Called
  // by the writer thread only.
  void WriteChunk(std::unique_ptr<BulkChunk> chunk);
  // Adds a written chunk's files and publishes its sequence numbers; a failure is kept in
  // bulk_->failure. The chunk's staged states are removed and its memory goes back to
  // BulkState::spare. Called by the adder thread only, in chunk order.
  void AddChunk(BulkWritten written);
  // The bulk load's writer thread: writes the closed chunks in order until told to stop.
  void BulkWriter();
  // The bulk load's adder thread: adds the written chunks in order until told to stop.
  void BulkAdder();
  // Called by a commit that filled the open chunk: closes it (CloseOpenChunkNow) unless the
  // writer is busy and the chunk is below BulkState::ChunkCap (then the writer takes it when
  // done). REQUIRES(write_mu_)
  void CloseOpenChunk();
  // Hands the open chunk to the writer and opens a new one. REQUIRES(write_mu_)
  void CloseOpenChunkNow();
  // Stops and joins the writer and adder threads (no-op without a bulk load).
  void StopBulkWriter();
  // Adds the open chunk and waits until every chunk staged so far is added.
  Status AddStaged();
  bool bulk_active() const { return bulk_active_.load(std::memory_order_acquire); }

  // Search (rocks_store_search.cc).
  Result<std::vector<std::string>> AllIds(std::string_view type, const rocksdb::ReadOptions& ro);
  Result<std::vector<std::string>> Drive(const fhir::SearchQuery& q, const fhir::SearchCriterion& c,
                                         const rocksdb::ReadOptions& ro);
  // _lastUpdated from the type history and the current records (format 5 has no keys).
  Result<std::vector<std::string>> DriveByLastUpdated(std::string_view type,
                                                      const fhir::SearchCriterion& c,
                                                      const rocksdb::ReadOptions& ro);
  // The current records of `ids` not in *out yet ("" for a missing one), by id.
  Status LoadIndexKeys(std::string_view type, const std::vector<std::string>& ids,
                       const rocksdb::ReadOptions& ro,
                       std::unordered_map<std::string, std::string>* out);
  // Decrypts the resource and checks a string criterion against its raw values (:exact,
  // :contains, and prefixes longer than the hashed ones).
  Result<bool> RawStringMatches(std::string_view type, const std::string& id,
                                const fhir::SearchCriterion& c, const rocksdb::Snapshot* snap);
  // Keeps the ids whose resource passes RawStringMatches.
  Status FilterRaw(std::string_view type, const fhir::SearchCriterion& c,
                   const rocksdb::Snapshot* snap, std::vector<std::string>* ids);

  // Device readings (rocks_store_readings*.cc, readings_keys.h).
  struct ReadingDevice {
    uint32_t ordinal = 0;
    bool legacy = false;
  };
  Status InitReadings();  // the next device ordinal
  struct ReadingsPlan {   // what the locked phase of CommitReadings decided
    uint32_t ordinal = 0;
    bool new_device = false;
    bool legacy = false;
    int64_t committed_at = 0;
    uint64_t first_seq = 0;  // 0 until sequence numbers are assigned
  };
  // Encodes, seals and durably writes the batch of the `fresh` readings as planned.
  Status WriteReadings(const ReadingBatch& batch, const std::vector<fhir::Reading>& fresh,
                       const ReadingsPlan& plan, const DataKey* key);
  // The device's record: from the cache, else the `o` key; nullopt for a new device.
  Result<std::optional<ReadingDevice>> FindReadingDevice(const std::string& device_id);
  Result<bool> HasLegacyReadings(std::string_view device_id);
  // Splits `batch` into the readings not stored yet and the seqs already stored (d keys;
  // hash ids too for a legacy device). `dev` is null for a device without readings.
  Status SplitStored(const ReadingBatch& batch, const ReadingDevice* dev, bool legacy,
                     std::vector<fhir::Reading>* fresh, std::vector<uint64_t>* duplicates);
  Result<std::string> DeviceName(uint32_t ordinal, const rocksdb::Snapshot* snap);
  // A batch record opened (cached): Gone when its patient's key was erased.
  Result<std::shared_ptr<const OpenedBatch>> OpenBatch(uint32_t ordinal, uint64_t first_seq,
                                                       const rocksdb::Snapshot* snap);
  // Reading `id` as version 1 of an Observation. NotFound when there is no such reading.
  Result<StoredResource> ReadReading(std::string_view id, const rocksdb::Snapshot* snap);
  // For the main read paths: the reading when (type, id, version) names one, else nullopt.
  std::optional<Result<StoredResource>> ReadingFallback(std::string_view type, std::string_view id,
                                                        uint64_t version,
                                                        const rocksdb::Snapshot* snap);
  // Copy on write: the current record a reading stands for, when cur_key names one.
  Status LoadReadingCurrent(const std::string& cur_key, Pending* p);
  // The ids of readings whose id has a record in the main key space (updated or deleted
  // through Commit): the time keys no longer speak for them.
  Status DropOverridden(const rocksdb::ReadOptions& ro, std::vector<std::string>* ids);
  // The readings of a patient's compartment, oldest first.
  Result<std::vector<CompartmentEntry>> ReadingCompartment(std::string_view patient_id,
                                                           const rocksdb::ReadOptions& ro);
  // Observation search over the time keys; `sort_keys` gets each id's sort key when q.sort.
  Status SearchReadings(const fhir::SearchQuery& q, const rocksdb::Snapshot* snap,
                        std::vector<std::string>* ids,
                        std::unordered_map<std::string, int64_t>* sort_keys);
  // Keeps the candidates that satisfy the criteria other than `decided` and `by_code`
  // (which picked them), in the order given.
  Status FilterReadings(const fhir::SearchQuery& q, const rocksdb::Snapshot* snap,
                        const fhir::SearchCriterion* decided, const fhir::SearchCriterion* by_code,
                        std::vector<std::string> candidates, std::vector<std::string>* ids,
                        std::unordered_map<std::string, int64_t>* sort_keys);
  // Erase: deletes the patient's time keys into `batch`.
  Status EraseReadings(std::string_view patient_id, rocksdb::WriteBatch* batch,
                       EraseReport* report);
  bool has_readings() const { return has_readings_.load(std::memory_order_acquire); }

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name_;
  std::vector<std::pair<const char*, rocksdb::ColumnFamilyHandle*>> by_address_;
  StoreOptions options_;
  std::unique_ptr<KeyRing> key_ring_;

  std::mutex write_mu_;
  std::condition_variable write_cv_;           // signalled when a commit finishes
  uint64_t assigned_seq_ = 0;                  // GUARDED_BY(write_mu_): the last number handed out
  int64_t last_time_ = 0;                      // GUARDED_BY(write_mu_)
  // GUARDED_BY(write_mu_): the current keys being written, views of the writer's own copy
  // (which it keeps until it erases the entry).
  std::unordered_set<std::string_view> in_flight_;
  std::map<uint64_t, uint64_t> pending_;       // GUARDED_BY(write_mu_): first -> last seq in flight
  std::atomic<uint64_t> published_seq_{0};     // every seq <= this is durable (or a gap)
  // Bulk loading: set by BeginBulkLoad, reset by EndBulkLoad (no commit running then).
  std::unique_ptr<BulkState> bulk_;  // contents GUARDED_BY(write_mu_)
  std::atomic<bool> bulk_active_{false};
  // Device readings.
  uint32_t next_ordinal_ = 0;  // GUARDED_BY(write_mu_)
  std::atomic<bool> has_readings_{false};
  // The store may hold index keys of format 4 or older (keys::kMetaTextIndexKeys): search
  // seeks a reference's text form beside its packed form. Set by Init.
  bool text_index_keys_ = false;
  std::mutex devices_mu_;
  std::unordered_map<std::string, ReadingDevice> devices_;  // GUARDED_BY(devices_mu_)
  std::unordered_map<uint32_t, std::string> device_names_;  // GUARDED_BY(devices_mu_)
  std::unique_ptr<ReadingCache> reading_cache_;
};

}  // namespace medhub::store
