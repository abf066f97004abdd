#include "store/key_ring.h"

#include "core/aead.h"
#include "core/hash.h"
#include "core/ids.h"
#include "store/rocks_store.h"

namespace medhub::store {
namespace {

constexpr char kKeyCheck[] = "meta/key_check";   // envelope of kCheckText under the KEK
constexpr char kPlaintext[] = "meta/plaintext";  // present in benchmark-only plaintext stores
constexpr char kCheckText[] = "medhub key check v1";
constexpr char kWrapped = 'W';
constexpr char kErased = 'E';

}  // namespace

DataKey::~DataKey() { Wipe(&bytes); }

KeyRing::KeyRing(rocksdb::DB* db, std::string kek, std::string index_key)
    : db_(db), kek_(std::move(kek)), index_key_(std::move(index_key)) {}

KeyRing::~KeyRing() {
  Wipe(&kek_);
  Wipe(&index_key_);
}

Result<std::unique_ptr<KeyRing>> KeyRing::Open(rocksdb::DB* db, std::string master_key, bool fresh,
                                               bool allow_plaintext,
                                               const rocksdb::WriteOptions& sync) {
  std::string check, plain;
  auto s = db->Get(rocksdb::ReadOptions(), kKeyCheck, &check);
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "reading the key check");
  const bool has_check = s.ok();
  auto p = db->Get(rocksdb::ReadOptions(), kPlaintext, &plain);
  const bool is_plain = p.ok();
  if (master_key.empty()) {
    if (!allow_plaintext)
      return Status::Unauthenticated(
          "a master key is required to open the data directory (--master-key-file F or the "
          "MEDHUB_MASTER_KEY environment variable)");
    if (has_check) return Status::FailedPrecondition("the store is encrypted; give its master key");
    if (fresh) RETURN_IF_ERROR(FromRocks(db->Put(sync, kPlaintext, "1"), "marking plaintext"));
    return std::unique_ptr<KeyRing>(new KeyRing(db, "", ""));
  }
  if (master_key.size() != kAeadKeySize)
    return Status::InvalidArgument("the master key must be 32 bytes");
  if (is_plain) return Status::FailedPrecondition("the store was created without encryption");
  std::string kek = HmacSha256(master_key, "medhub/kek/v1");
  std::string index_key = HmacSha256(master_key, "medhub/index/v1");
  Wipe(&master_key);
  std::unique_ptr<KeyRing> ring(new KeyRing(db, std::move(kek), std::move(index_key)));
  if (has_check) {
    auto text = AeadOpen(ring->kek_, check, kKeyCheck);
    if (!text.ok() || *text != kCheckText)
      return Status::Unauthenticated("the master key does not open this data directory");
  } else if (!fresh) {
    return Status::FailedPrecondition("the store has data but no key check record");
  } else {
    RETURN_IF_ERROR(FromRocks(db->Put(sync, kKeyCheck, AeadSeal(ring->kek_, kCheckText, kKeyCheck)),
                              "writing the key check"));
  }
  return ring;
}

std::string KeyRing::PatientKeyName(std::string_view patient_id) {
  std::string name;
  name.reserve(2 + patient_id.size());
  name.append("p/").append(patient_id);
  return name;
}

std::string KeyRing::KeyRecordKey(std::string_view name) { return "key/" + std::string(name); }

std::string KeyRing::TombstoneRecord(int64_t erased_at) {
  std::string v(1, kErased);
  PutOrderedInt64(&v, erased_at);
  return v;
}

Result<DataKeyRef> KeyRing::Unwrap(const std::string& name, const std::string& record) const {
  if (!record.empty() && record[0] == kErased)
    return Status::Gone("the data key " + name + " was erased");
  if (record.empty() || record[0] != kWrapped)
    return Status::DataLoss("malformed data key record " + name);
  auto bytes = AeadOpen(kek_, std::string_view(record).substr(1), KeyRecordKey(name));
  if (!bytes.ok()) return Status::DataLoss("the data key " + name + " does not unwrap");
  auto key = std::make_shared<DataKey>();
  key->name = name;
  key->bytes = std::move(bytes).value();
  key->record = record;
  key->durable = true;
  return DataKeyRef(std::move(key));
}

Result<DataKeyRef> KeyRing::Get(const std::string& name, bool create) {
  std::lock_guard lock(mu_);
  if (auto it = cache_.find(name); it != cache_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return *it->second;
  }
  std::string record;
  auto s = db_->Get(rocksdb::ReadOptions(), KeyRecordKey(name), &record);
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "reading a data key");
  DataKeyRef key;
  if (s.ok()) {
    ASSIGN_OR_RETURN(key, Unwrap(name, record));
  } else if (!create) {
    return Status::NotFound("no data key " + name);
  } else {
    auto fresh = std::make_shared<DataKey>();
    fresh->name = name;
    fresh->bytes = RandomBytes(32);
    fresh->record = std::string(1, kWrapped) + AeadSeal(kek_, fresh->bytes, KeyRecordKey(name));
    key = std::move(fresh);
  }
  lru_.push_front(key);
  cache_[name] = lru_.begin();
  if (lru_.size() > kCacheSize) {
    // Evict the least recently used durable key. A key not yet durable stays cached: its
    // record is not in the database yet (a commit in flight, or a staged bulk-load chunk),
    // so forgetting it would make the next Get create a different key under its name.
    for (auto it = std::prev(lru_.end());; --it) {
      if ((*it)->durable) {
        cache_.erase((*it)->name);
        lru_.erase(it);
        break;
      }
      if (it == lru_.begin()) break;
    }
  }
  return key;
}

void KeyRing::Forget(const std::string& name) {
  std::lock_guard lock(mu_);
  if (auto it = cache_.find(name); it != cache_.end()) {
    lru_.erase(it->second);
    cache_.erase(it);
  }
}

std::string KeyRing::IndexHash(char domain, std::string_view value) const {
  std::string h = HmacSha256Of(index_key_, {std::string_view(&domain, 1), value});
  h.resize(kIndexHashSize);
  return h;
}

std::string KeyRing::ContentHash(std::initializer_list<std::string_view> parts) const {
  if (!enabled()) {
    const Sha256Digest d = Sha256Of(parts);
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
  }
  return HmacSha256Of(index_key_, parts);
}

}  // namespace medhub::store
