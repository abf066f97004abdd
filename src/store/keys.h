// Byte layout of the store's RocksDB keys and values. docs/formats/store.md is the
// reference; change both together. All integers are big-endian; signed integers and
// doubles use order-preserving encodings so byte order equals numeric order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/search_params.h"

namespace medhub::store::keys {

// Column families.
inline constexpr char kResources[] = "resources";       // type\0id\0version -> ResourceRecord
inline constexpr char kCurrent[] = "current";           // type\0id -> CurrentRecord + key refs
inline constexpr char kIndex[] = "search_index";        // see IndexKey
inline constexpr char kCompartment[] = "compartment";   // patient\0time type\0id -> ""
inline constexpr char kChanges[] = "changes";           // seq -> Change
inline constexpr char kTypeHistory[] = "type_history";  // type\0seq -> id\0version
inline constexpr char kRecords[] = "records";           // key -> value (Store::PutRecords)
// Keys in the default column family.
inline constexpr char kMetaFormat[] = "meta/format_version";
// Present (value "1") in a format-5 store that was opened as format 2, 3 or 4: it may hold
// index keys with references as text, which search then seeks as well.
inline constexpr char kMetaTextIndexKeys[] = "meta/text_index_keys";
// 2: encryption at rest; 3: device readings; 4: compact key refs ('I', 'C'); 5: shorter
// search-index keys (tagged code systems, UUIDs as 16 bytes, no `_lastUpdated` keys).
inline constexpr uint64_t kFormatVersion = 5;
// A format-2 directory is migrated when opened for writing (the `readings` column family is
// created); a format-3 or 4 directory is read as it is (this version reads its long key
// refs and its index keys too) and marked format 5 when opened for writing.
inline constexpr uint64_t kFormatVersionNeedsMigration = 2;
inline constexpr uint64_t kFormatVersionReadable = 3;
inline constexpr uint64_t kFormatVersionReadable4 = 4;

std::string ResourceKey(std::string_view type, std::string_view id, uint64_t version);
std::string ResourcePrefix(std::string_view type, std::string_view id);  // all versions
std::string CurrentKey(std::string_view type, std::string_view id);
std::string SequenceKey(uint64_t seq);
std::string TypeHistoryKey(std::string_view type, uint64_t seq);
// The same keys appended to *out (the write path builds a commit's bytes in one buffer).
void AppendResourceKey(std::string* out, std::string_view type, std::string_view id,
                       uint64_t version);
void AppendTypeHistoryKey(std::string* out, std::string_view type, uint64_t seq);
std::string CompartmentKey(std::string_view patient, int64_t time, std::string_view type,
                           std::string_view id);
std::string CompartmentPrefix(std::string_view patient);
void AppendCompartmentKey(std::string* out, std::string_view patient, int64_t time,
                          std::string_view type, std::string_view id);

// Appends `s` with 0x00 -> 0x01 0x01 and 0x01 -> 0x01 0x02, then a 0x00 terminator,
// so that components can hold any bytes and keys still sort by component.
void AppendEscaped(std::string* out, std::string_view s, bool terminate = true);
void AppendOrderedDouble(std::string* out, double v);

// A token's or quantity's system: the tag of the longest entry of the built-in table of
// well-known systems it starts with (0x01, 3 + entry) followed by the rest escaped, or the
// whole system escaped (docs/formats/store.md). IsTabledSystem: whether a tag is written,
// i.e. whether the encoding differs from what format 4 wrote.
void AppendSystem(std::string* out, std::string_view system);
bool IsTabledSystem(std::string_view system);
// A reference value: "Type/<lower-case UUID>" as "Type/" 0x01 0xff and the UUID's 16
// bytes, then 0x00 (format 5); any other value escaped. IsPackedReference: whether the
// encoding differs from the text that format 4 wrote.
void AppendReference(std::string* out, std::string_view value);
bool IsPackedReference(std::string_view value);
// The id at the end of an index key: a canonical lower-case UUID as kPackedIdTag and its
// 16 bytes, any other id as text (a FHIR id never starts with 0x01). DecodeIndexId reads
// both forms (and the text every id had before format 5).
inline constexpr char kPackedIdTag = '\1';
inline constexpr size_t kPackedIdSize = 17;
void AppendIndexId(std::string* out, std::string_view id);
std::string DecodeIndexId(std::string_view tail);
// An id with its AppendIndexId bytes, encoded once for the many keys of one resource
// (without an allocation: the packed form is held inline, any other id is its text).
class IndexId {
 public:
  explicit IndexId(std::string_view text);
  IndexId(const IndexId&) = delete;  // tail() may point into this object
  IndexId& operator=(const IndexId&) = delete;
  std::string_view id() const { return id_; }
  std::string_view tail() const { return packed_ ? std::string_view(buf_, kPackedIdSize) : id_; }

 private:
  std::string_view id_;  // not owned
  bool packed_ = false;
  char buf_[kPackedIdSize];
};

// The search-index key of one value: type\0param\0<value encoding><id>.
std::string IndexKey(std::string_view type, const fhir::IndexValue& v, std::string_view id);
std::string IndexKey(std::string_view type, const fhir::IndexValue& v, const IndexId& id);
// The same key appended to *out (the write path builds many keys into one buffer).
void AppendIndexKey(std::string* out, std::string_view type, const fhir::IndexValueRef& v,
                    const IndexId& id);

// Keys built back to back in one buffer: one allocation for the many keys of a commit.
// A key is appended to the string Begin() returns; views stay valid until the next Begin()
// or clear(). Not thread-safe.
class KeyList {
 public:
  std::string* Begin() {
    starts_.push_back(static_cast<uint32_t>(buf_.size()));
    return &buf_;
  }
  size_t size() const { return starts_.size(); }
  size_t bytes() const { return buf_.size(); }
  std::string_view operator[](size_t i) const {
    const size_t end = i + 1 < starts_.size() ? starts_[i + 1] : buf_.size();
    return std::string_view(buf_).substr(starts_[i], end - starts_[i]);
  }
  void Reserve(size_t bytes, size_t keys) {
    buf_.reserve(bytes);
    starts_.reserve(keys);
  }

 private:
  std::string buf_;
  std::vector<uint32_t> starts_;
};
// type\0param\0 : every key of one parameter.
std::string IndexParamPrefix(std::string_view type, std::string_view param);

// An index key read back.
struct DecodedIndexKey {
  std::string value;
  std::string system;
  DateRange range;
  double number = 0;
  std::string id;
};
// Decodes a key of parameter `param` (whose prefix the caller has checked).
std::optional<DecodedIndexKey> DecodeIndexKey(std::string_view key,
                                              const fhir::SearchParamDef& param);
// The parameter name of an index key of `type`, or "" when malformed.
std::string_view IndexKeyParam(std::string_view key);

// Value of kCurrent: version(8) flags(1) last_updated(8) seq(8) content_hash(32), then the
// key refs (see AppendKeyRef) of the index and compartment keys the version wrote, so
// that the next version or a delete can remove them and search can filter by them.
// flags: 1 deleted, 2 erased (the patient's data key was destroyed; counts as deleted).
struct CurrentRecord {
  uint64_t version = 0;
  bool deleted = false;
  int64_t last_updated = 0;
  uint64_t seq = 0;
  std::string content_hash;  // keyed hash (KeyRing::ContentHash) of the content without server meta
  std::string key_refs;
  bool erased = false;  // flags 2 (deleted is then true as well)
};
inline constexpr size_t kCurrentFixedSize = 57;
std::string EncodeCurrent(const CurrentRecord& r);
void AppendCurrent(std::string* out, const CurrentRecord& r);
std::optional<CurrentRecord> DecodeCurrent(std::string_view v);
// The key refs of an encoded current record without decoding the rest ("" if malformed).
inline std::string_view CurrentKeyRefs(std::string_view v) {
  return v.size() >= kCurrentFixedSize ? v.substr(kCurrentFixedSize) : std::string_view();
}

// Value of kResources: flags(1) last_updated(8) seq(8) key_name_len(1) key_name payload.
// flags: bit 0 delete marker, bit 1 plaintext (benchmark-only stores). The payload is the
// AEAD envelope (core/aead.h) of salt(32) || json under the data key `key_name`, with the
// resource key (type\0id\0version) as associated data; in a plaintext store it is
// salt || json itself; a delete marker has no key name and no payload. The salt is random
// per version; the ledger commits to SHA-256(salt || json) (docs/formats/ledger.md).
inline constexpr size_t kSaltSize = 32;
inline constexpr uint8_t kFlagDeleted = 1;
inline constexpr uint8_t kFlagPlaintext = 2;
std::string EncodeResourceHeader(uint8_t flags, int64_t last_updated, uint64_t seq,
                                 std::string_view key_name);
void AppendResourceHeader(std::string* out, uint8_t flags, int64_t last_updated, uint64_t seq,
                          std::string_view key_name);
struct ResourceRecordView {
  bool deleted = false;
  bool plaintext = false;
  int64_t last_updated = 0;
  uint64_t seq = 0;
  std::string_view key_name;
  std::string_view payload;
};
std::optional<ResourceRecordView> DecodeResourceRecord(std::string_view v);

// Value of kChanges: type\0id\0 version(8) flags(1) last_updated(8).
std::string EncodeChange(std::string_view type, std::string_view id, uint64_t version, bool deleted,
                         int64_t last_updated);
void AppendChange(std::string* out, std::string_view type, std::string_view id, uint64_t version,
                  bool deleted, int64_t last_updated);
struct ChangeView {
  std::string_view type, id;
  uint64_t version = 0;
  bool deleted = false;
  int64_t last_updated = 0;
};
std::optional<ChangeView> DecodeChange(std::string_view v);

// Key refs: the search-index ('i') and compartment ('c') keys a version of the resource
// `type`/`id` wrote. Each is stored as tag(1) length key-part:
//  - 'I' + varint length + an index key without its leading `type \0` and trailing id;
//  - 'J' the same for an index key that ends with the packed form of a UUID id (format 5);
//  - 'C' + varint length + a compartment key without its trailing `type \0 id`;
//  - 'i' or 'c' + u32 length + the whole key (format 3, and keys of another shape).
// AppendKeyRef writes the short form when the key has the expected shape; ForEachKeyRef
// reads every form and hands each whole key to `f` with tag 'i' or 'c'.
void AppendKeyRef(std::string* out, char tag, std::string_view key, std::string_view type,
                  std::string_view id);
void AppendKeyRef(std::string* out, char tag, std::string_view key, std::string_view type,
                  const IndexId& id);
// The whole key of one ref (into `*key`, which may point into `v` or be rebuilt in `buf`);
// advances `*pos`; false when the refs are malformed. `*packed_id` caches the id's packed
// form between calls (empty at first).
bool NextKeyRef(std::string_view v, std::string_view type, std::string_view id, size_t* pos,
                char* tag, std::string_view* key, std::string* buf, std::string* packed_id);
template <typename F>  // F(char tag, std::string_view key)
bool ForEachKeyRef(std::string_view v, std::string_view type, std::string_view id, F&& f) {
  std::string buf, packed_id;
  size_t pos = 0;
  char tag;
  std::string_view key;
  while (pos < v.size()) {
    if (!NextKeyRef(v, type, id, &pos, &tag, &key, &buf, &packed_id)) return false;
    f(tag, key);
  }
  return true;
}

}  // namespace medhub::store::keys
