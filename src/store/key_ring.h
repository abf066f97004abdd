// Internal to the store module: the data keys of envelope encryption
// (docs/formats/store.md, "Encryption at rest").
//
// Every patient has a data key ("p/<patient id>") that encrypts the Patient and every
// resource of its compartment; resources outside any compartment use the system key ("s").
// Data keys are 32 random bytes, stored only wrapped (AES-256-GCM) under the key-encryption
// key, which is derived from the master key; the master key itself is never stored. The
// index key (HMAC of identifying search values) and the content-hash key are derived from
// the master key too. Erasing a patient replaces its wrapped key by a tombstone.
//
// New data keys are created in memory and written with the first commit that uses them
// (each commit that uses a key not yet known to be durable writes the same wrapped bytes),
// so creating a key costs no extra fsync and a failed commit leaves no orphan.
//
// Thread-safe. Unwrapped keys are cached (at most kCacheSize, least recently used evicted);
// a key's bytes are wiped when its last holder drops it.
#pragma once

#include <rocksdb/db.h>

#include <atomic>
#include <initializer_list>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/status.h"

namespace medhub::store {

struct DataKey {
  std::string name;    // "s" or "p/<patient id>"
  std::string bytes;   // 32 bytes
  std::string record;  // the wrapped record (value of KeyRecordKey(name))
  mutable std::atomic<bool> durable{false};
  // Set by Store::ErasePatient under the store's write lock; a commit that prepared with
  // this key before the erase checks it under that lock and fails.
  mutable std::atomic<bool> erased{false};
  ~DataKey();
};
using DataKeyRef = std::shared_ptr<const DataKey>;

class KeyRing {
 public:
  static constexpr size_t kCacheSize = 4096;
  static constexpr size_t kIndexHashSize = 16;

  // Checks `master_key` against the key-check record, writing that record (and marking
  // the store encrypted) when `fresh`. `master_key` empty means a plaintext store, allowed
  // only when `allow_plaintext` (benchmarks). Unauthenticated when the key is missing or is
  // not the one the store was created with; FailedPrecondition when the store's mode
  // (encrypted or plaintext) differs from the one asked.
  static Result<std::unique_ptr<KeyRing>> Open(rocksdb::DB* db, std::string master_key, bool fresh,
                                               bool allow_plaintext,
                                               const rocksdb::WriteOptions& sync);
  ~KeyRing();

  bool enabled() const { return !kek_.empty(); }

  static std::string PatientKeyName(std::string_view patient_id);
  static constexpr char kSystemKeyName[] = "s";
  // The default-column-family key of a data key's record.
  static std::string KeyRecordKey(std::string_view name);

  // The data key `name`. Gone when the key was erased; NotFound when it does not exist and
  // `create` is false; DataLoss when its record does not unwrap.
  Result<DataKeyRef> Get(const std::string& name, bool create);
  // Forgets a cached key (after erasing it); its bytes are wiped once no commit holds it.
  void Forget(const std::string& name);
  // The record that marks `name` erased.
  static std::string TombstoneRecord(int64_t erased_at);

  // Keyed hash of an identifying index value, `domain` separating its uses.
  std::string IndexHash(char domain, std::string_view value) const;
  // Keyed hash of a resource's content (the current record's content_hash): of the
  // concatenation of `parts`, which is not built.
  std::string ContentHash(std::initializer_list<std::string_view> parts) const;

 private:
  KeyRing(rocksdb::DB* db, std::string kek, std::string index_key);
  Result<DataKeyRef> Unwrap(const std::string& name, const std::string& record) const;

  rocksdb::DB* db_;
  std::string kek_;        // empty: plaintext store
  std::string index_key_;  // HMAC key of index values and content hashes
  std::mutex mu_;
  std::list<DataKeyRef> lru_;  // GUARDED_BY(mu_): most recent first
  std::unordered_map<std::string, std::list<DataKeyRef>::iterator> cache_;  // GUARDED_BY(mu_)
};

}  // namespace medhub::store
