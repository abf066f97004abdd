#include "store/keys.h"

#include <algorithm>
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

// Lower-case hex digit values, -1 for other bytes.
constexpr int HexValue(char c) {
  return c >= '0' && c <= '9' ? c - '0' : (c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1);
}
constexpr size_t kUuidSize = 36;
constexpr bool IsDash(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

// The 16 bytes of a canonical lower-case UUID, or false when `id` is not one.
bool PackUuid(std::string_view id, char out[16]) {
  if (id.size() != kUuidSize) return false;
  size_t n = 0;
  for (size_t i = 0; i < kUuidSize; ++i) {
    if (IsDash(i)) {
      if (id[i] != '-') return false;
      continue;
    }
    const int hi = HexValue(id[i]), lo = i + 1 < kUuidSize ? HexValue(id[i + 1]) : -1;
    if (hi < 0 || lo < 0) return false;
    out[n++] = static_cast<char>(hi << 4 | lo);
    ++i;
  }
  return true;
}

void UnpackUuid(std::string_view packed, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t b = 0;
  for (size_t i = 0; i < kUuidSize; ++i) {
    if (IsDash(i)) {
      out->push_back('-');
      continue;
    }
    const auto v = static_cast<uint8_t>(packed[b++]);
    out->push_back(kHex[v >> 4]);
    out->push_back(kHex[v & 15]);
    ++i;
  }
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
  std::string k = ResourcePrefix(type, id);
  PutBigEndian64(&k, version);
  return k;
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
  std::string k(type);
  k.push_back('\0');
  PutBigEndian64(&k, seq);
  return k;
}

std::string CompartmentPrefix(std::string_view patient) {
  std::string k(patient);
  k.push_back('\0');
  return k;
}

std::string CompartmentKey(std::string_view patient, int64_t time, std::string_view type,
                           std::string_view id) {
  std::string k = CompartmentPrefix(patient);
  PutOrderedInt64(&k, time);
  k.append(type);
  k.push_back('\0');
  k.append(id);
  return k;
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
  // Room for the escapes of a few bytes; more only when the values hold many \0 or \1.
  std::string k =
      ParamPrefix(type, v.param->name, v.value.size() + v.system.size() + id.size() + 26);
  switch (v.param->type) {
    case fhir::ParamType::kToken:
      AppendEscaped(&k, v.value);
      AppendSystem(&k, v.system);
      break;
    case fhir::ParamType::kString:
      AppendEscaped(&k, v.value);
      break;
    case fhir::ParamType::kReference:
      AppendReference(&k, v.value);
      break;
    case fhir::ParamType::kDate:
      PutOrderedInt64(&k, v.range.low);
      PutOrderedInt64(&k, v.range.high);
      break;
    case fhir::ParamType::kQuantity:
      AppendOrderedDouble(&k, v.number);
      AppendEscaped(&k, v.value);
      AppendSystem(&k, v.system);
      break;
  }
  AppendIndexId(&k, id);
  return k;
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
  PutBigEndian64(&v, r.version);
  v.push_back(r.erased ? 2 : (r.deleted ? 1 : 0));
  PutOrderedInt64(&v, r.last_updated);
  PutBigEndian64(&v, r.seq);
  v.append(r.content_hash);
  v.append(r.key_refs);
  return v;
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
  v.push_back(static_cast<char>(flags));
  PutOrderedInt64(&v, last_updated);
  PutBigEndian64(&v, seq);
  v.push_back(static_cast<char>(std::min<size_t>(key_name.size(), 255)));
  v.append(key_name.substr(0, 255));
  return v;
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
  std::string v = ResourcePrefix(type, id);
  PutBigEndian64(&v, version);
  v.push_back(deleted ? 1 : 0);
  PutOrderedInt64(&v, last_updated);
  return v;
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
  std::string_view part;
  bool compact = false;
  char short_tag = tag == 'i' ? 'I' : 'C';
  if (tag == 'i') {  // type \0 param \0 value id
    const bool typed = key.size() > type.size() + 1 && key.starts_with(type) &&
                       key[type.size()] == '\0';
    size_t id_size = 0;
    char packed[16];
    if (typed && key.size() > type.size() + 1 + id.size() && key.ends_with(id)) {
      id_size = id.size();  // the id as text (any id before format 5)
    } else if (typed && key.size() > type.size() + 1 + kPackedIdSize && PackUuid(id, packed) &&
               key[key.size() - kPackedIdSize] == kPackedIdTag &&
               key.substr(key.size() - sizeof(packed)) == std::string_view(packed, 16)) {
      id_size = kPackedIdSize;  // format 5: the UUID's 16 bytes
      short_tag = 'J';
    }
    compact = id_size != 0;
    if (compact) part = key.substr(type.size() + 1, key.size() - type.size() - 1 - id_size);
  } else if (tag == 'c') {  // patient \0 time type \0 id
    const size_t tail = type.size() + 1 + id.size();
    compact = key.size() > tail && key.ends_with(id) &&
              key.substr(key.size() - tail, type.size()) == type &&
              key[key.size() - id.size() - 1] == '\0';
    if (compact) part = key.substr(0, key.size() - tail);
  }
  if (compact) {
    out->push_back(short_tag);
    for (size_t n = part.size(); ; n >>= 7) {  // varint: 7 bits a byte, low first
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
                char* tag, std::string_view* key, std::string* buf) {
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
      char packed[16];
      if (!PackUuid(id, packed)) return false;
      buf->push_back(kPackedIdTag);
      buf->append(packed, sizeof(packed));
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
