#include "store/keys.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <iterator>

#include "core/ids.h"

namespace medhub::store::keys {
namespace {

std::string Join(std::string_view a, std::string_view b) {
  std::string k;
  k.reserve(a.size() + b.size() + 2);
  k.append(a);
  k.push_back('\0');
  k.append(b);
  return k;
}

// `type \0 param \0`, the prefix of an index key, with room for `more` bytes after it.
std::string ParamPrefix(std::string_view type, std::string_view param, size_t more) {
  std::string k;
  k.reserve(type.size() + param.size() + 2 + more);
  k.append(type).push_back('\0');
  k.append(param).push_back('\0');
  return k;
}

// The code systems (and system prefixes) that format 5 writes as a two-byte tag
// (`0x01`, kFirstSystemTag + index): part of the format, so entries are only ever appended
// (docs/formats/store.md). The longest matching entry is used; the rest of the system
// follows it, escaped.
constexpr std::string_view kSystemTable[] = {
    "http://loinc.org",
    "http://snomed.info/sct",
    "http://www.nlm.nih.gov/research/umls/rxnorm",
    "http://unitsofmeasure.org",
    "http://terminology.hl7.org/CodeSystem/",
    "http://hl7.org/fhir/sid/",
    "http://hl7.org/fhir/",
    "urn:ietf:bcp:47",
    "urn:oid:",
    "http://hl7.org/fhir/us/core/",
    "urn:iso:std:iso:3166",
    "http://dicom.nema.org/resources/ontology/DCM",
    "http://www.ama-assn.org/go/cpt",
};
constexpr uint8_t kFirstSystemTag = 3;
constexpr size_t kSystemTableSize = std::size(kSystemTable);
// 0x01 0xff in an escaped component: the 16 bytes of a lower-case UUID follow.
constexpr uint8_t kPackedUuidCode = 0xff;
static_assert(kFirstSystemTag + kSystemTableSize <= kPackedUuidCode);

// The index of the longest table entry `system` starts with, or kSystemTableSize.
size_t SystemEntry(std::string_view system) {
  if (system.size() < 8 || (system[0] != 'h' && system[0] != 'u')) return kSystemTableSize;
  size_t best = kSystemTableSize;
  for (size_t i = 0; i < kSystemTableSize; ++i) {
    if (system.starts_with(kSystemTable[i]) &&
        (best == kSystemTableSize || kSystemTable[i].size() > kSystemTable[best].size()))
      best = i;
  }
  return best;
}

// Lower-case hex digit values; 0xff for every other byte.
constexpr std::array<uint8_t, 256> kHexValue = [] {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = 0xff;
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<uint8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<uint8_t>(c - 'a' + 10);
  return t;
}();
constexpr size_t kUuidSize = 36;
// Where each byte's two hex digits stand in the text form 8-4-4-4-12.
constexpr uint8_t kUuidDigits[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};

// The 16 bytes of a canonical lower-case UUID, or false when `id` is not one.
bool PackUuid(std::string_view id, char out[16]) {
  if (id.size() != kUuidSize || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-')
    return false;
  uint8_t bad = 0;
  for (size_t b = 0; b < 16; ++b) {
    const uint8_t hi = kHexValue[static_cast<uint8_t>(id[kUuidDigits[b]])];
    const uint8_t lo = kHexValue[static_cast<uint8_t>(id[kUuidDigits[b] + 1])];
    bad |= hi | lo;
    out[b] = static_cast<char>(hi << 4 | lo);
  }
  return bad < 16;
}

void UnpackUuid(std::string_view packed, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  char text[kUuidSize];
  text[8] = text[13] = text[18] = text[23] = '-';
  for (size_t b = 0; b < 16; ++b) {
    const auto v = static_cast<uint8_t>(packed[b]);
    text[kUuidDigits[b]] = kHex[v >> 4];
    text[kUuidDigits[b] + 1] = kHex[v & 15];
  }
  out->append(text, kUuidSize);
}

double ReadOrderedDouble(std::string_view in) {
  uint64_t bits = GetBigEndian64(in);
  bits = (bits & (uint64_t{1} << 63)) ? bits ^ (uint64_t{1} << 63) : ~bits;
  return std::bit_cast<double>(bits);
}

// Reads one escaped, terminated component at *pos (a system tag stands for its text).
std::optional<std::string> ReadEscaped(std::string_view key, size_t* pos) {
  std::string out;
  while (*pos < key.size()) {
    char c = key[(*pos)++];
    if (c == '\0') return out;
    if (c == '\1') {
      if (*pos >= key.size()) return std::nullopt;
      const auto e = static_cast<uint8_t>(key[(*pos)++]);
      if (e == 1 || e == 2) {
        out.push_back(e == 1 ? '\0' : '\1');
      } else if (e == kPackedUuidCode) {
        if (key.size() - *pos < 16) return std::nullopt;
        UnpackUuid(key.substr(*pos, 16), &out);
        *pos += 16;
      } else if (e >= kFirstSystemTag && size_t{e} - kFirstSystemTag < kSystemTableSize) {
        out.append(kSystemTable[e - kFirstSystemTag]);
      } else {
        return std::nullopt;
      }
    } else {
      out.push_back(c);
    }
  }
  return std::nullopt;
}

}  // namespace

std::string ResourceKey(std::string_view type, std::string_view id, uint64_t version) {
  std::string k;
  k.reserve(type.size() + id.size() + 10);
  AppendResourceKey(&k, type, id, version);
  return k;
}

void AppendResourceKey(std::string* out, std::string_view type, std::string_view id,
                       uint64_t version) {
  out->append(type).push_back('\0');
  out->append(id).push_back('\0');
  PutBigEndian64(out, version);
}

std::string ResourcePrefix(std::string_view type, std::string_view id) {
  std::string k = Join(type, id);
  k.push_back('\0');
  return k;
}

std::string CurrentKey(std::string_view type, std::string_view id) { return Join(type, id); }

std::string SequenceKey(uint64_t seq) {
  std::string k;
  PutBigEndian64(&k, seq);
  return k;
}

std::string TypeHistoryKey(std::string_view type, uint64_t seq) {
  std::string k;
  k.reserve(type.size() + 9);
  AppendTypeHistoryKey(&k, type, seq);
  return k;
}

void AppendTypeHistoryKey(std::string* out, std::string_view type, uint64_t seq) {
  out->append(type).push_back('\0');
  PutBigEndian64(out, seq);
}

std::string CompartmentPrefix(std::string_view patient) {
  std::string k(patient);
  k.push_back('\0');
  return k;
}

std::string CompartmentKey(std::string_view patient, int64_t time, std::string_view type,
                           std::string_view id) {
  std::string k;
  AppendCompartmentKey(&k, patient, time, type, id);
  return k;
}

void AppendCompartmentKey(std::string* out, std::string_view patient, int64_t time,
                          std::string_view type, std::string_view id) {
  out->reserve(out->size() + patient.size() + type.size() + id.size() + 10);
  out->append(patient).push_back('\0');
  PutOrderedInt64(out, time);
  out->append(type).push_back('\0');
  out->append(id);
}

void AppendEscaped(std::string* out, std::string_view s, bool terminate) {
  size_t plain_from = 0;  // the bytes since the last escape are appended in one go
  for (size_t i = 0; i < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) > 1) continue;
    out->append(s.data() + plain_from, i - plain_from);
    out->append(s[i] == '\0' ? "\1\1" : "\1\2", 2);
    plain_from = i + 1;
  }
  out->append(s.data() + plain_from, s.size() - plain_from);
  if (terminate) out->push_back('\0');
}

void AppendSystem(std::string* out, std::string_view system) {
  const size_t entry = SystemEntry(system);
  if (entry == kSystemTableSize) return AppendEscaped(out, system);
  out->push_back('\1');
  out->push_back(static_cast<char>(kFirstSystemTag + entry));
  AppendEscaped(out, system.substr(kSystemTable[entry].size()));
}

bool IsTabledSystem(std::string_view system) { return SystemEntry(system) != kSystemTableSize; }

namespace {

// "Type/<lower-case UUID>": the length of "Type/" and the UUID's bytes; 0 for another value.
size_t PackReference(std::string_view value, char packed[16]) {
  const size_t slash = value.find('/');
  if (slash == 0 || slash == std::string_view::npos) return 0;
  for (size_t i = 0; i < slash; ++i) {
    const char c = value[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return 0;
  }
  return PackUuid(value.substr(slash + 1), packed) ? slash + 1 : 0;
}

}  // namespace

void AppendReference(std::string* out, std::string_view value) {
  char packed[16];
  const size_t head = PackReference(value, packed);
  if (head == 0) return AppendEscaped(out, value);
  out->append(value.substr(0, head));  // letters and '/': nothing to escape
  out->push_back('\1');
  out->push_back(static_cast<char>(kPackedUuidCode));
  out->append(packed, sizeof(packed));
  out->push_back('\0');
}

bool IsPackedReference(std::string_view value) {
  char packed[16];
  return PackReference(value, packed) != 0;
}

void AppendIndexId(std::string* out, std::string_view id) {
  char packed[16];
  if (!PackUuid(id, packed)) {
    out->append(id);
    return;
  }
  out->push_back(kPackedIdTag);
  out->append(packed, sizeof(packed));
}

IndexId::IndexId(std::string_view text) : id_(text) {
  packed_ = PackUuid(text, buf_ + 1);
  buf_[0] = kPackedIdTag;
}

std::string DecodeIndexId(std::string_view tail) {
  std::string id;
  if (tail.size() == kPackedIdSize && tail[0] == kPackedIdTag) {
    id.reserve(kUuidSize);
    UnpackUuid(tail.substr(1), &id);
  } else {
    id.assign(tail);
  }
  return id;
}

void AppendOrderedDouble(std::string* out, double v) {
  if (v == 0) v = 0;  // -0.0 and 0.0 encode alike
  uint64_t bits = std::bit_cast<uint64_t>(v);
  bits = (bits & (uint64_t{1} << 63)) ? ~bits : bits ^ (uint64_t{1} << 63);
  PutBigEndian64(out, bits);
}

std::string IndexParamPrefix(std::string_view type, std::string_view param) {
  return ParamPrefix(type, param, 0);
}

std::string IndexKey(std::string_view type, const fhir::IndexValue& v, std::string_view id) {
  return IndexKey(type, v, IndexId(id));
}

std::string IndexKey(std::string_view type, const fhir::IndexValue& v, const IndexId& id) {
  std::string k;
  AppendIndexKey(&k, type, fhir::AsRef(v), id);
  return k;
}

void AppendIndexKey(std::string* k, std::string_view type, const fhir::IndexValueRef& v,
                    const IndexId& id) {
  // Room for the escapes of a few bytes; more only when the values hold many \0 or \1.
  k->reserve(k->size() + type.size() + v.param->name.size() + 2 + v.value.size() + v.system.size() +
             id.tail().size() + 26);
  k->append(type).push_back('\0');
  k->append(v.param->name).push_back('\0');
  switch (v.param->type) {
    case fhir::ParamType::kToken:
      AppendEscaped(k, v.value);
      AppendSystem(k, v.system);
      break;
    case fhir::ParamType::kString:
      AppendEscaped(k, v.value);
      break;
    case fhir::ParamType::kReference:
      AppendReference(k, v.value);
      break;
    case fhir::ParamType::kDate:
      PutOrderedInt64(k, v.range.low);
      PutOrderedInt64(k, v.range.high);
      break;
    case fhir::ParamType::kQuantity:
      AppendOrderedDouble(k, v.number);
      AppendEscaped(k, v.value);
      AppendSystem(k, v.system);
      break;
  }
  k->append(id.tail());
}

std::string_view IndexKeyParam(std::string_view key) {
  const size_t a = key.find('\0');
  if (a == std::string_view::npos) return "";
  const size_t b = key.find('\0', a + 1);
  if (b == std::string_view::npos) return "";
  return key.substr(a + 1, b - a - 1);
}

std::optional<DecodedIndexKey> DecodeIndexKey(std::string_view key,
                                              const fhir::SearchParamDef& param) {
  const size_t a = key.find('\0');
  if (a == std::string_view::npos) return std::nullopt;
  const size_t b = key.find('\0', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  size_t pos = b + 1;
  DecodedIndexKey d;
  switch (param.type) {
    case fhir::ParamType::kToken: {
      auto v = ReadEscaped(key, &pos);
      auto s = v ? ReadEscaped(key, &pos) : std::nullopt;
      if (!s) return std::nullopt;
      d.value = std::move(*v);
      d.system = std::move(*s);
      break;
    }
    case fhir::ParamType::kString:
    case fhir::ParamType::kReference: {
      auto v = ReadEscaped(key, &pos);
      if (!v) return std::nullopt;
      d.value = std::move(*v);
      break;
    }
    case fhir::ParamType::kDate:
      if (pos + 16 > key.size()) return std::nullopt;
      d.range.low = GetOrderedInt64(key.substr(pos));
      d.range.high = GetOrderedInt64(key.substr(pos + 8));
      pos += 16;
      break;
    case fhir::ParamType::kQuantity: {
      if (pos + 8 > key.size()) return std::nullopt;
      d.number = ReadOrderedDouble(key.substr(pos));
      pos += 8;
      auto v = ReadEscaped(key, &pos);
      auto s = v ? ReadEscaped(key, &pos) : std::nullopt;
      if (!s) return std::nullopt;
      d.value = std::move(*v);
      d.system = std::move(*s);
      break;
    }
  }
  d.id = DecodeIndexId(key.substr(pos));
  return d;
}

std::string EncodeCurrent(const CurrentRecord& r) {
  std::string v;
  v.reserve(25 + r.content_hash.size() + r.key_refs.size());
  AppendCurrent(&v, r);
  return v;
}

void AppendCurrent(std::string* out, const CurrentRecord& r) {
  PutBigEndian64(out, r.version);
  out->push_back(r.erased ? 2 : (r.deleted ? 1 : 0));
  PutOrderedInt64(out, r.last_updated);
  PutBigEndian64(out, r.seq);
  out->append(r.content_hash);
  out->append(r.key_refs);
}

std::optional<CurrentRecord> DecodeCurrent(std::string_view v) {
  if (v.size() < kCurrentFixedSize) return std::nullopt;
  CurrentRecord r;
  r.version = GetBigEndian64(v);
  r.deleted = v[8] != 0;
  r.erased = v[8] == 2;
  r.last_updated = GetOrderedInt64(v.substr(9));
  r.seq = GetBigEndian64(v.substr(17));
  r.content_hash = std::string(v.substr(25, 32));
  r.key_refs = std::string(v.substr(kCurrentFixedSize));
  return r;
}

std::string EncodeResourceHeader(uint8_t flags, int64_t last_updated, uint64_t seq,
                                 std::string_view key_name) {
  std::string v;
  v.reserve(18 + key_name.size());
  AppendResourceHeader(&v, flags, last_updated, seq, key_name);
  return v;
}

void AppendResourceHeader(std::string* out, uint8_t flags, int64_t last_updated, uint64_t seq,
                          std::string_view key_name) {
  out->push_back(static_cast<char>(flags));
  PutOrderedInt64(out, last_updated);
  PutBigEndian64(out, seq);
  out->push_back(static_cast<char>(std::min<size_t>(key_name.size(), 255)));
  out->append(key_name.substr(0, 255));
}

std::optional<ResourceRecordView> DecodeResourceRecord(std::string_view v) {
  if (v.size() < 18) return std::nullopt;
  ResourceRecordView r;
  const auto flags = static_cast<uint8_t>(v[0]);
  r.deleted = (flags & kFlagDeleted) != 0;
  r.plaintext = (flags & kFlagPlaintext) != 0;
  r.last_updated = GetOrderedInt64(v.substr(1));
  r.seq = GetBigEndian64(v.substr(9));
  const size_t name_len = static_cast<uint8_t>(v[17]);
  if (v.size() < 18 + name_len) return std::nullopt;
  r.key_name = v.substr(18, name_len);
  r.payload = v.substr(18 + name_len);
  return r;
}

std::string EncodeChange(std::string_view type, std::string_view id, uint64_t version, bool deleted,
                         int64_t last_updated) {
  std::string v;
  v.reserve(type.size() + id.size() + 19);
  AppendChange(&v, type, id, version, deleted, last_updated);
  return v;
}

void AppendChange(std::string* out, std::string_view type, std::string_view id, uint64_t version,
                  bool deleted, int64_t last_updated) {
  AppendResourceKey(out, type, id, version);
  out->push_back(deleted ? 1 : 0);
  PutOrderedInt64(out, last_updated);
}

std::optional<ChangeView> DecodeChange(std::string_view v) {
  ChangeView c;
  const size_t a = v.find('\0');
  if (a == std::string_view::npos) return std::nullopt;
  const size_t b = v.find('\0', a + 1);
  if (b == std::string_view::npos || v.size() != b + 1 + 17) return std::nullopt;
  c.type = v.substr(0, a);
  c.id = v.substr(a + 1, b - a - 1);
  c.version = GetBigEndian64(v.substr(b + 1));
  c.deleted = v[b + 9] != 0;
  c.last_updated = GetOrderedInt64(v.substr(b + 10));
  return c;
}

void AppendKeyRef(std::string* out, char tag, std::string_view key, std::string_view type,
                  std::string_view id) {
  AppendKeyRef(out, tag, key, type, IndexId(id));
}

void AppendKeyRef(std::string* out, char tag, std::string_view key, std::string_view type,
                  const IndexId& index_id) {
  const std::string_view id = index_id.id();
  std::string_view part;
  bool compact = false;
  char short_tag = tag == 'i' ? 'I' : 'C';
  if (tag == 'i') {  // type \0 param \0 value id
    const bool typed =
        key.size() > type.size() + 1 && key.starts_with(type) && key[type.size()] == '\0';
    // Format 5 ends the key with the packed UUID (short tag 'J'); any other id is text.
    const std::string_view tail = index_id.tail();
    if (typed && key.size() > type.size() + 1 + tail.size() && key.ends_with(tail)) {
      compact = true;
      if (tail.size() != id.size()) short_tag = 'J';
      part = key.substr(type.size() + 1, key.size() - type.size() - 1 - tail.size());
    } else if (typed && tail.size() != id.size() && key.size() > type.size() + 1 + id.size() &&
               key.ends_with(id)) {
      compact = true;  // a UUID as text, as format 4 wrote it
      part = key.substr(type.size() + 1, key.size() - type.size() - 1 - id.size());
    }
  } else if (tag == 'c') {  // patient \0 time type \0 id
    const size_t tail = type.size() + 1 + id.size();
    compact = key.size() > tail && key.ends_with(id) &&
              key.substr(key.size() - tail, type.size()) == type &&
              key[key.size() - id.size() - 1] == '\0';
    if (compact) part = key.substr(0, key.size() - tail);
  }
  if (compact) {
    out->push_back(short_tag);
    for (size_t n = part.size();; n >>= 7) {  // varint: 7 bits a byte, low first
      out->push_back(static_cast<char>((n & 0x7f) | (n >= 0x80 ? 0x80 : 0)));
      if (n < 0x80) break;
    }
    out->append(part);
    return;
  }
  const uint32_t len = static_cast<uint32_t>(key.size());
  const char head[5] = {tag, static_cast<char>(len >> 24), static_cast<char>(len >> 16),
                        static_cast<char>(len >> 8), static_cast<char>(len)};
  out->append(head, sizeof(head)).append(key);
}

bool NextKeyRef(std::string_view v, std::string_view type, std::string_view id, size_t* pos,
                char* tag, std::string_view* key, std::string* buf, std::string* packed_id) {
  size_t p = *pos;
  if (p >= v.size()) return false;
  const char t = v[p++];
  uint64_t len = 0;
  if (t == 'i' || t == 'c') {
    if (p + 4 > v.size()) return false;
    for (int i = 0; i < 4; ++i) len = (len << 8) | static_cast<uint8_t>(v[p++]);
  } else if (t == 'I' || t == 'J' || t == 'C') {
    for (int shift = 0;; shift += 7) {
      if (p >= v.size() || shift > 28) return false;
      const uint8_t b = static_cast<uint8_t>(v[p++]);
      len |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) break;
    }
  } else {
    return false;
  }
  if (len > v.size() - p) return false;
  const std::string_view part = v.substr(p, len);
  *pos = p + len;
  if (t == 'i' || t == 'c') {
    *tag = t;
    *key = part;
    return true;
  }
  buf->clear();
  if (t == 'I' || t == 'J') {
    *tag = 'i';
    buf->append(type).push_back('\0');
    buf->append(part);
    if (t == 'I') {
      buf->append(id);
    } else {
      if (packed_id->empty()) AppendIndexId(packed_id, id);
      if (packed_id->size() != kPackedIdSize) return false;  // not a UUID
      buf->append(*packed_id);
    }
  } else {
    *tag = 'c';
    buf->append(part).append(type).push_back('\0');
    buf->append(id);
  }
  *key = *buf;
  return true;
}

}  // namespace medhub::store::keys
