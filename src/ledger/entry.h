// Ledger entries: what the ledger records, and their canonical bytes.
//
// An entry never carries clinical content or a person's name or identifier: a record
// version is represented by its type, its logical id (a server-assigned or source id, not
// a person identifier), its version, its change-feed sequence number and a commitment,
// SHA-256(salt || canonical bytes), whose salt stays in the store. The canonical encoding
// of an entry is the Merkle leaf data of the RFC 6962 log; docs/formats/ledger.md
// ("Entries") gives the byte layout.
//
// Kinds:
//   RecordCommitted  a version of a resource was committed to an institution's store
//   ConsentChanged   the same for a Consent resource (granting or revoking access)
//   AccessLogged     an access was audited: the hash of the AuditEvent (security issue)
//   MemberAdded      a member joined, with its Ed25519 public key
//   KeyRotated       a member's key was replaced by a new public key
//
// Encoding and decoding check the same rules (valid names, ids and lengths; a Consent is
// always a ConsentChanged and nothing else is; a delete marker always commits to
// DeletedCommitment()), so every valid entry has exactly one byte form:
// EncodeEntry returns InvalidArgument for an entry that breaks a rule, DecodeEntry returns
// DataLoss for bytes that are not exactly one valid encoding.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "core/status.h"
#include "ledger/merkle.h"
#include "store/store.h"

namespace medhub::ledger {

// The first byte of every entry.
inline constexpr uint8_t kEntryFormatVersion = 1;

// The second byte of every entry. Values are persisted: never renumber.
enum class EntryKind : uint8_t {
  kRecordCommitted = 1,
  kConsentChanged = 2,
  kAccessLogged = 3,
  kMemberAdded = 4,
  kKeyRotated = 5,
};
std::string_view EntryKindName(EntryKind kind);

// The resource type whose versions are ConsentChanged entries.
inline constexpr std::string_view kConsentType = "Consent";

// The fields of RecordCommitted and ConsentChanged.
struct RecordFields {
  uint64_t seq = 0;         // the version's change-feed sequence number in its store, >= 1
  std::string type;         // resource type: 1-64 ASCII letters, the first upper case
  std::string id;           // FHIR id: [A-Za-z0-9-.]{1,64}
  uint64_t version = 0;     // >= 1
  bool deleted = false;     // a delete marker
  std::string institution;  // the member whose store holds the version (a member name)
  Hash commitment{};        // RecordCommitment(salt, canonical bytes, deleted)

  friend bool operator==(const RecordFields&, const RecordFields&) = default;
};
struct RecordCommitted : RecordFields {};
struct ConsentChanged : RecordFields {};

struct AccessLogged {
  std::string institution;  // the member that audited the access
  Hash audit_event_hash{};  // SHA-256 of the AuditEvent's canonical bytes
  friend bool operator==(const AccessLogged&, const AccessLogged&) = default;
};

struct MemberAdded {
  std::string name;        // member name: 1-255 bytes of printable ASCII (IsValidSignerName)
  std::string public_key;  // the raw 32-byte Ed25519 public key
  friend bool operator==(const MemberAdded&, const MemberAdded&) = default;
};

struct KeyRotated {
  std::string name;            // an existing member
  std::string new_public_key;  // raw 32 bytes; signs the blocks after the one holding this
  friend bool operator==(const KeyRotated&, const KeyRotated&) = default;
};

// The variant's index order matches nothing on disk; EntryKindOf gives the persisted kind.
using Entry = std::variant<RecordCommitted, ConsentChanged, AccessLogged, MemberAdded, KeyRotated>;

EntryKind EntryKindOf(const Entry& entry);
// The record fields of a RecordCommitted or ConsentChanged; nullptr for other kinds.
const RecordFields* AsRecord(const Entry& entry);
// "Type/id/_history/version": how messages and the API name a record version.
std::string RecordName(std::string_view type, std::string_view id, uint64_t version);

// SHA-256 of 32 zero bytes: what every delete marker commits to.
const Hash& DeletedCommitment();
// SHA-256(salt || canonical) for a version, DeletedCommitment() for a delete marker.
// InvalidArgument unless the salt is 32 bytes (any salt for a delete marker).
Result<Hash> RecordCommitment(std::string_view salt, std::string_view canonical, bool deleted);
// The entry for a stored version: ConsentChanged for a Consent, RecordCommitted otherwise.
// InvalidArgument if the version breaks an entry rule or has no 32-byte salt.
Result<Entry> MakeRecordEntry(const store::StoredResource& version, std::string_view institution);

// The canonical bytes (the Merkle leaf data). InvalidArgument if the entry breaks a rule.
Result<std::string> EncodeEntry(const Entry& entry);
// The inverse of EncodeEntry. DataLoss unless `bytes` is exactly one valid encoding.
Result<Entry> DecodeEntry(std::string_view bytes);

}  // namespace medhub::ledger
