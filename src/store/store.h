// The personal health data center's storage interface.
//
// A Store keeps every version of every FHIR resource, a current-version pointer per
// resource, search indexes, a patient-compartment index in clinical-time order, and a
// change feed with a global sequence number that the ledger, the lake and sync follow.
//
// Contract:
// - Commit() applies a list of writes atomically (all or nothing) and returns only after
//   they are durable (the write-ahead log is synced). Nothing is acknowledged earlier.
// - Every successful put of changed content makes a new version (1, 2, 3, ...); a put of
//   content identical to the current version (ignoring meta.versionId/lastUpdated) makes
//   no version and reports `unchanged` — this is what makes re-imports idempotent.
// - Sequence numbers and lastUpdated both increase strictly from commit to commit, so the
//   change feed is in time order.
// - Thread-safe: any number of readers and writers; commits are serialized.
// - Encryption at rest: bodies are encrypted with the data key of the patient whose
//   compartment they belong to (the system key otherwise); identifying search values are
//   kept as keyed hashes (docs/formats/store.md, docs/security.md). ErasePatient destroys a
//   patient's data key: reads of that patient's versions then fail with Gone.
//
// RocksStore (rocks_store.h) is the embedded implementation; the interface hides RocksDB
// so another backend (e.g. HBase) can sit behind it later.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "fhir/device_reading.h"
#include "fhir/search_query.h"

namespace medhub::store {

struct StoredResource {
  std::string type;
  std::string id;
  uint64_t version = 0;
  int64_t last_updated = 0;  // microseconds since the epoch
  uint64_t seq = 0;          // change-feed sequence of this version
  bool deleted = false;      // a delete marker: the resource is gone from this version on
  std::string json;          // canonical bytes, meta included; empty for a delete marker
  std::string salt;          // 32 random bytes of this version (the ledger's commitment salt)
};

struct WriteOp {
  enum class Kind { kPut, kDelete };
  Kind kind = Kind::kPut;
  std::string type;
  std::string id;  // the caller assigns ids for creates (NewId())
  // kPut: a validated resource whose resourceType and id equal type and id. Its meta
  // versionId and lastUpdated are replaced by the store's.
  json::Value resource;
  // Fail with FailedPrecondition unless the current version is exactly this.
  std::optional<uint64_t> if_match;
  // Fail with AlreadyExists when a live (not deleted) resource has this id.
  bool create_only = false;
  // false: WriteOutcome::json is left empty (for callers that do not use the stored bytes,
  // e.g. a transaction's response; the store then neither renders a copy of them nor, for
  // an unchanged resource, reads them back). What is stored is the same.
  bool want_json = true;
};

struct WriteOutcome {
  uint64_t version = 0;  // the new version, or the current one when unchanged
  int64_t last_updated = 0;
  uint64_t seq = 0;        // 0 when nothing was written
  bool created = false;    // there was no live resource before
  bool unchanged = false;  // identical content: no new version
  bool existed = false;    // kDelete: there was a live resource to delete
  std::string json;        // kPut: the stored bytes (empty unless WriteOp::want_json)
};

struct Change {
  uint64_t seq = 0;
  std::string type;
  std::string id;
  uint64_t version = 0;
  int64_t last_updated = 0;
  bool deleted = false;
};

struct HistoryQuery {
  std::string type;                                     // "" for system-wide history
  std::string id;                                       // "" for type-level history
  int64_t since = std::numeric_limits<int64_t>::min();  // only versions updated at/after
  size_t offset = 0;
  size_t limit = 50;
  // A cursor for type and system history: > 0 returns only versions whose change sequence
  // is below it, ignores `offset` and does not count `total`. Pages chained by the last
  // returned seq neither repeat nor skip versions while new ones are written, and each
  // costs its own length rather than the whole history's.
  uint64_t before_seq = 0;
};

struct HistoryPage {
  std::vector<StoredResource> versions;  // newest first
  size_t total = 0;   // versions matching, across all pages (0 with a cursor)
  bool more = false;  // older matching versions remain after this page
};

// A resource of a patient's compartment, in clinical-time order.
struct CompartmentEntry {
  int64_t time = 0;
  std::string type;
  std::string id;
};

// A batch of one device's validated readings for the device time-series key space
// (docs/formats/store.md, "Device readings").
struct ReadingBatch {
  std::string device_id;
  std::string patient_id;               // the patient the device is bound to
  std::vector<fhir::Reading> readings;  // validated (times parse), unique seq
};

struct ReadingsOutcome {
  std::vector<uint64_t> stored;      // written by this call, durable, in batch order
  std::vector<uint64_t> duplicates;  // (device, seq) stored before: not written again
};

class Store {
 public:
  virtual ~Store() = default;

  // Applies `ops` atomically and durably. Errors leave the store unchanged:
  // FailedPrecondition (if_match), AlreadyExists (create_only), InvalidArgument (an op
  // that contradicts itself), Unavailable/Internal (I/O).
  virtual Result<std::vector<WriteOutcome>> Commit(std::vector<WriteOp> ops) = 0;

  // The current version; a deleted resource comes back with deleted = true.
  // NotFound when the resource never existed; Gone when its patient was erased (its data
  // key destroyed). Read, ReadVersion and ReadMany report erased versions alike.
  virtual Result<StoredResource> Read(std::string_view type, std::string_view id) = 0;
  // One version. NotFound when there is no such version.
  virtual Result<StoredResource> ReadVersion(std::string_view type, std::string_view id,
                                             uint64_t version) = 0;
  // The current versions of many resources at once, in the order asked; each entry is what
  // Read() would return for it.
  virtual std::vector<Result<StoredResource>> ReadMany(
      const std::vector<std::pair<std::string, std::string>>& type_ids) = 0;
  // Erased versions are left out of history pages (and of `total`).
  virtual Result<HistoryPage> History(const HistoryQuery& query) = 0;

  // The ids of all live resources of query.type that match every criterion, in id order,
  // or sorted by query.sort when set. Paging, _include and _revinclude are the caller's.
  virtual Result<std::vector<std::string>> Search(const fhir::SearchQuery& query) = 0;

  // The live resources of a patient's compartment (the Patient excluded), oldest first.
  virtual Result<std::vector<CompartmentEntry>> Compartment(std::string_view patient_id) = 0;

  // Small non-FHIR records under string keys (accounts, refresh tokens, sync checkpoints),
  // outside the change feed and the search index. PutRecords applies all writes
  // atomically and durably; a nullopt value deletes the key. Keys are at most 1 KiB.
  virtual Result<std::optional<std::string>> GetRecord(std::string_view key) = 0;
  virtual Status PutRecords(
      const std::vector<std::pair<std::string, std::optional<std::string>>>& writes) = 0;
  // The records whose key starts with `prefix`, in key order.
  virtual Result<std::vector<std::pair<std::string, std::string>>> ScanRecords(
      std::string_view prefix) = 0;

  // Crypto-shredding: destroys the data key of `patient_id` and removes the search-index
  // and compartment entries of the Patient and of every resource of its compartment
  // encrypted with that key, then compacts the database so that no file keeps the key.
  // The versions stay as ciphertext (their metadata keeps the change feed and the ledger
  // consistent); reads of them fail with Gone, and later writes for this patient fail with
  // FailedPrecondition. NotFound when the store holds nothing of this patient.
  struct EraseReport {
    size_t resources = 0;   // resources made unreadable (the Patient included)
    size_t index_keys = 0;  // search-index and compartment entries removed
  };
  virtual Result<EraseReport> ErasePatient(std::string_view patient_id) = 0;

  // Device readings. Stores each reading of `batch` whose (device, seq) is not stored yet,
  // exactly once, in one atomic durable write (grouped with concurrent commits), sealed with
  // the patient's data key. Each stored reading is then the Observation
  // fhir::RenderReadingObservation with the id "rd" + hex(device ordinal) + hex(seq),
  // version 1: Read, ReadVersion, ReadMany, Search, Compartment, History, ChangesSince and
  // ErasePatient treat it like a committed Observation (one change-feed sequence number per
  // reading). An update or delete of it through Commit writes version 2 in the ordinary way.
  // Concurrent calls for one device are serialized. Errors: FailedPrecondition (erased
  // patient, read-only store, bulk load), Unavailable/Internal (I/O; nothing was stored).
  virtual Result<ReadingsOutcome> CommitReadings(const ReadingBatch& batch) {
    (void)batch;
    return Status::FailedPrecondition("this store does not keep device readings");
  }

  // Changes with seq > after, in sequence order, at most `limit`.
  virtual Result<std::vector<Change>> ChangesSince(uint64_t after, size_t limit) = 0;
  virtual uint64_t LastSequence() const = 0;

  // Bulk loading (`medhub import`, no concurrent server). Between BeginBulkLoad and
  // EndBulkLoad, Commit() validates, plans, seals and reports exactly as usual, but stages
  // its writes in memory instead of writing them; the staged commits are written a chunk
  // (about `chunk_bytes` of keys and values) at a time as sorted, fsynced SST files and
  // added to the store in one atomic step, so the store holds exactly the keys and values
  // the normal path would have written. A crash loses whole staged commits, never part of
  // one. A Commit in bulk mode is durable only once its chunk is added: EndBulkLoad
  // returning Ok acknowledges every commit staged before it. Reads: commits and Read() see
  // staged writes; Search and ErasePatient first add the staged commits; ReadVersion,
  // ReadMany, History, Compartment and the change feed see added chunks only (the change
  // feed publishes a chunk's sequence numbers once it is added). A failed chunk fails every
  // later Commit and EndBulkLoad with its error. Callers must not call EndBulkLoad while a
  // Commit of theirs is running. The default implementation keeps the normal path.
  virtual Status BeginBulkLoad(size_t chunk_bytes = 16u << 20) {
    (void)chunk_bytes;
    return Status::Ok();
  }
  virtual Status EndBulkLoad() { return Status::Ok(); }
};

struct StoreOptions {
  std::string path;         // directory of the database
  bool sync_writes = true;  // fsync the WAL before Commit returns
  size_t block_cache_bytes = 64u << 20;
  // Open without the directory lock, for offline checks beside a running server
  // (`medhub ledger verify`). Commit() then fails with FailedPrecondition. The view is
  // the data as of opening (plus the WAL replayed then).
  bool read_only = false;
  // The 32-byte master key that unwraps the data keys (never stored in the directory).
  // Empty: the key is read from the environment variable MEDHUB_MASTER_KEY (64 hex digits
  // or base64), and opening fails with Unauthenticated when it is not set either.
  std::string master_key;
  // Benchmarks only (bench/store_bench --no-encryption): a plaintext store, no master key.
  bool plaintext_for_benchmarks = false;
};

// Opens (creating if needed) the embedded RocksDB store. Errors: Unavailable when the
// directory is locked by another process, DataLoss when the database is corrupt,
// Unauthenticated when the master key is missing or not the directory's (nothing is
// written then), InvalidArgument when MEDHUB_MASTER_KEY is malformed.
Result<std::unique_ptr<Store>> OpenRocksStore(const StoreOptions& options);

}  // namespace medhub::store
