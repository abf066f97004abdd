#include "ledger/entry.h"

#include <string>
#include <type_traits>

#include "core/hash.h"
#include "core/ids.h"
#include "ledger/bytes.h"
#include "ledger/tree_head.h"

namespace medhub::ledger {
namespace {

// Layout constants; docs/formats/ledger.md ("Entries") describes them.
constexpr uint8_t kDeletedFlag = 0x01;
constexpr size_t kMaxTypeSize = 64;
constexpr size_t kPublicKeySize = 32;

bool IsValidType(std::string_view type) {
  if (type.empty() || type.size() > kMaxTypeSize || type[0] < 'A' || type[0] > 'Z') return false;
  for (char c : type) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

Status CheckRecord(const RecordFields& r, bool consent) {
  if (r.seq == 0) return Status::InvalidArgument("record entry with sequence number 0");
  if (!IsValidType(r.type)) return Status::InvalidArgument("record entry with a bad type");
  if (!IsValidFhirId(r.id)) return Status::InvalidArgument("record entry with a bad id");
  if (r.version == 0) return Status::InvalidArgument("record entry with version 0");
  if (!IsValidSignerName(r.institution)) {
    return Status::InvalidArgument("record entry with a bad institution name");
  }
  if (consent != (r.type == kConsentType)) {
    return Status::InvalidArgument("a Consent version is a ConsentChanged entry, and only it");
  }
  if (r.deleted && r.commitment != DeletedCommitment()) {
    return Status::InvalidArgument("a delete marker must commit to SHA-256 of 32 zero bytes");
  }
  return Status::Ok();
}

Status CheckMember(std::string_view name, std::string_view key) {
  if (!IsValidSignerName(name)) return Status::InvalidArgument("bad member name");
  if (key.size() != kPublicKeySize) {
    return Status::InvalidArgument("a member's public key is 32 bytes");
  }
  return Status::Ok();
}

Status CheckEntry(const Entry& entry) {
  if (const auto* r = std::get_if<RecordCommitted>(&entry)) return CheckRecord(*r, false);
  if (const auto* c = std::get_if<ConsentChanged>(&entry)) return CheckRecord(*c, true);
  if (const auto* a = std::get_if<AccessLogged>(&entry)) {
    if (!IsValidSignerName(a->institution)) {
      return Status::InvalidArgument("access entry with a bad institution name");
    }
    return Status::Ok();
  }
  if (const auto* m = std::get_if<MemberAdded>(&entry)) return CheckMember(m->name, m->public_key);
  const auto& k = std::get<KeyRotated>(entry);
  return CheckMember(k.name, k.new_public_key);
}

void EncodeRecord(const RecordFields& r, std::string* out) {
  PutU64(out, r.seq);
  PutString16(out, r.type);
  PutString16(out, r.id);
  PutU64(out, r.version);
  PutU8(out, r.deleted ? kDeletedFlag : 0);
  PutString16(out, r.institution);
  PutHash(out, r.commitment);
}

bool DecodeRecord(ByteReader* in, RecordFields* r) {
  uint8_t flags = 0;
  const bool ok = in->U64(&r->seq) && in->String16(&r->type) && in->String16(&r->id) &&
                  in->U64(&r->version) && in->U8(&flags) && in->String16(&r->institution) &&
                  in->HashValue(&r->commitment);
  r->deleted = (flags & kDeletedFlag) != 0;
  return ok && (flags & ~kDeletedFlag) == 0;
}

bool DecodeKey(ByteReader* in, std::string* name, std::string* key) {
  std::string_view raw;
  if (!in->String16(name) || !in->Bytes(kPublicKeySize, &raw)) return false;
  key->assign(raw);
  return true;
}

// Decodes the body of an entry of `kind`; false if the bytes do not fit.
bool DecodeBody(EntryKind kind, ByteReader* in, Entry* entry) {
  switch (kind) {
    case EntryKind::kRecordCommitted:
      return DecodeRecord(in, &entry->emplace<RecordCommitted>());
    case EntryKind::kConsentChanged:
      return DecodeRecord(in, &entry->emplace<ConsentChanged>());
    case EntryKind::kAccessLogged: {
      auto& a = entry->emplace<AccessLogged>();
      return in->String16(&a.institution) && in->HashValue(&a.audit_event_hash);
    }
    case EntryKind::kMemberAdded: {
      auto& m = entry->emplace<MemberAdded>();
      return DecodeKey(in, &m.name, &m.public_key);
    }
    case EntryKind::kKeyRotated: {
      auto& k = entry->emplace<KeyRotated>();
      return DecodeKey(in, &k.name, &k.new_public_key);
    }
  }
  return false;
}

}  // namespace

std::string_view EntryKindName(EntryKind kind) {
  switch (kind) {
    case EntryKind::kRecordCommitted:
      return "RecordCommitted";
    case EntryKind::kConsentChanged:
      return "ConsentChanged";
    case EntryKind::kAccessLogged:
      return "AccessLogged";
    case EntryKind::kMemberAdded:
      return "MemberAdded";
    case EntryKind::kKeyRotated:
      return "KeyRotated";
  }
  return "unknown";
}

EntryKind EntryKindOf(const Entry& entry) {
  static constexpr EntryKind kByIndex[] = {EntryKind::kRecordCommitted, EntryKind::kConsentChanged,
                                           EntryKind::kAccessLogged, EntryKind::kMemberAdded,
                                           EntryKind::kKeyRotated};
  static_assert(std::variant_size_v<Entry> == std::size(kByIndex));
  return kByIndex[entry.index()];
}

const RecordFields* AsRecord(const Entry& entry) {
  if (const auto* r = std::get_if<RecordCommitted>(&entry)) return r;
  if (const auto* c = std::get_if<ConsentChanged>(&entry)) return c;
  return nullptr;
}

std::string RecordName(std::string_view type, std::string_view id, uint64_t version) {
  return std::string(type) + "/" + std::string(id) + "/_history/" + std::to_string(version);
}

const Hash& DeletedCommitment() {
  static const Hash kDeleted = Sha256(std::string(32, '\0'));
  return kDeleted;
}

Result<Hash> RecordCommitment(std::string_view salt, std::string_view canonical, bool deleted) {
  if (deleted) return DeletedCommitment();
  if (salt.size() != 32) return Status::InvalidArgument("a record's salt is 32 bytes");
  return Sha256Of({salt, canonical});
}

Result<Entry> MakeRecordEntry(const store::StoredResource& version, std::string_view institution) {
  RecordFields fields;
  fields.seq = version.seq;
  fields.type = version.type;
  fields.id = version.id;
  fields.version = version.version;
  fields.deleted = version.deleted;
  fields.institution = std::string(institution);
  ASSIGN_OR_RETURN(fields.commitment,
                   RecordCommitment(version.salt, version.json, version.deleted));
  Entry entry =
      version.type == kConsentType ? Entry(ConsentChanged{fields}) : Entry(RecordCommitted{fields});
  RETURN_IF_ERROR(
      CheckEntry(entry).WithPrefix(RecordName(version.type, version.id, version.version)));
  return entry;
}

Result<std::string> EncodeEntry(const Entry& entry) {
  RETURN_IF_ERROR(CheckEntry(entry));
  std::string out;
  out.reserve(128);
  PutU8(&out, kEntryFormatVersion);
  PutU8(&out, static_cast<uint8_t>(EntryKindOf(entry)));
  if (const RecordFields* r = AsRecord(entry)) {
    EncodeRecord(*r, &out);
  } else if (const auto* a = std::get_if<AccessLogged>(&entry)) {
    PutString16(&out, a->institution);
    PutHash(&out, a->audit_event_hash);
  } else if (const auto* m = std::get_if<MemberAdded>(&entry)) {
    PutString16(&out, m->name);
    out.append(m->public_key);
  } else {
    const auto& k = std::get<KeyRotated>(entry);
    PutString16(&out, k.name);
    out.append(k.new_public_key);
  }
  return out;
}

Result<Entry> DecodeEntry(std::string_view bytes) {
  ByteReader in(bytes);
  uint8_t version = 0;
  uint8_t kind = 0;
  if (!in.U8(&version) || !in.U8(&kind)) return Status::DataLoss("entry too short");
  if (version != kEntryFormatVersion) {
    return Status::DataLoss("unknown entry format version " + std::to_string(version));
  }
  if (kind < static_cast<uint8_t>(EntryKind::kRecordCommitted) ||
      kind > static_cast<uint8_t>(EntryKind::kKeyRotated)) {
    return Status::DataLoss("unknown entry kind " + std::to_string(kind));
  }
  Entry entry;
  if (!DecodeBody(static_cast<EntryKind>(kind), &in, &entry) || !in.done()) {
    return Status::DataLoss("malformed " +
                            std::string(EntryKindName(static_cast<EntryKind>(kind))) + " entry");
  }
  if (Status s = CheckEntry(entry); !s.ok()) return Status::DataLoss(s.message());
  return entry;
}

}  // namespace medhub::ledger
