#include "store/readings_keys.h"

#include <cstdio>

#include "core/ids.h"

namespace medhub::store::readings {
namespace {

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

uint32_t GetU32(std::string_view in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

std::string OrdinalSeqKey(char space, uint32_t ordinal, uint64_t seq) {
  std::string k(1, space);
  PutU32(&k, ordinal);
  PutBigEndian64(&k, seq);
  return k;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string DeviceKey(std::string_view device_id) { return "o" + std::string(device_id); }

std::string OrdinalKey(uint32_t ordinal) {
  std::string k = "n";
  PutU32(&k, ordinal);
  return k;
}

std::string BatchKey(uint32_t ordinal, uint64_t first_seq) {
  return OrdinalSeqKey('b', ordinal, first_seq);
}

std::string DedupeKey(uint32_t ordinal, uint64_t seq) { return OrdinalSeqKey('d', ordinal, seq); }

std::string TimePrefix(std::string_view patient) {
  std::string k = "t";
  k.append(patient);
  k.push_back('\0');
  return k;
}

std::string TimeTagPrefix(std::string_view patient, char tag) {
  std::string k = TimePrefix(patient);
  k.push_back(tag);
  return k;
}

std::string TimeCodePrefix(std::string_view patient, char tag, std::string_view code) {
  std::string k = TimeTagPrefix(patient, tag);
  k.append(code);
  k.push_back('\0');
  return k;
}

std::string TimeKey(std::string_view patient, char tag, std::string_view code, int64_t time,
                    uint32_t ordinal, uint64_t seq) {
  std::string k = TimeCodePrefix(patient, tag, code);
  PutOrderedInt64(&k, time);
  PutU32(&k, ordinal);
  PutBigEndian64(&k, seq);
  return k;
}

std::optional<TimeKeyView> DecodeTimeKey(std::string_view key) {
  if (key.size() < 1 + 2 + 1 + 20 || key[0] != 't') return std::nullopt;
  TimeKeyView v;
  const std::string_view tail = key.substr(key.size() - 20);
  std::string_view head = key.substr(1, key.size() - 21);
  const size_t zero = head.find('\0');
  if (zero == std::string_view::npos || zero + 2 > head.size() || head.back() != '\0')
    return std::nullopt;
  v.patient = head.substr(0, zero);
  v.tag = head[zero + 1];
  v.code = head.substr(zero + 2, head.size() - zero - 3);
  v.time = GetOrderedInt64(tail);
  v.ordinal = GetU32(tail.substr(8));
  v.seq = GetBigEndian64(tail.substr(12));
  return v;
}

std::string ReadingId(uint32_t ordinal, uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "rd%08x%016llx", ordinal, static_cast<unsigned long long>(seq));
  return buf;
}

std::optional<ReadingRef> ParseReadingId(std::string_view id) {
  if (id.size() != 26 || id[0] != 'r' || id[1] != 'd') return std::nullopt;
  uint64_t ordinal = 0, seq = 0;
  for (size_t i = 2; i < 26; ++i) {
    const int d = HexDigit(id[i]);
    if (d < 0) return std::nullopt;
    uint64_t& into = i < 10 ? ordinal : seq;
    into = (into << 4) | static_cast<uint64_t>(d);
  }
  return ReadingRef{static_cast<uint32_t>(ordinal), seq};
}

std::string EncodeDeviceRecord(const DeviceRecord& d) {
  std::string v;
  PutU32(&v, d.ordinal);
  v.push_back(d.legacy ? 1 : 0);
  return v;
}

std::optional<DeviceRecord> DecodeDeviceRecord(std::string_view v) {
  if (v.size() != 5) return std::nullopt;
  return DeviceRecord{GetU32(v), v[4] != 0};
}

std::string EncodeDedupe(uint64_t first_seq, uint32_t index) {
  std::string v;
  PutBigEndian64(&v, first_seq);
  PutU32(&v, index);
  return v;
}

std::optional<std::pair<uint64_t, uint32_t>> DecodeDedupe(std::string_view v) {
  if (v.size() != 12) return std::nullopt;
  return std::make_pair(GetBigEndian64(v), GetU32(v.substr(8)));
}

std::string EncodeBatchHeader(bool plaintext, int64_t committed_at, uint64_t change_seq,
                              std::string_view key_name, std::string_view patient) {
  std::string v;
  v.push_back(static_cast<char>(plaintext ? kBatchPlaintext : 0));
  PutOrderedInt64(&v, committed_at);
  PutBigEndian64(&v, change_seq);
  v.push_back(static_cast<char>(key_name.size()));
  v.append(key_name);
  v.push_back(static_cast<char>(patient.size()));
  v.append(patient);
  return v;
}

std::optional<BatchHeader> DecodeBatchRecord(std::string_view v) {
  if (v.size() < 19) return std::nullopt;
  BatchHeader h;
  h.plaintext = (static_cast<uint8_t>(v[0]) & kBatchPlaintext) != 0;
  h.committed_at = GetOrderedInt64(v.substr(1));
  h.change_seq = GetBigEndian64(v.substr(9));
  size_t pos = 17;
  const size_t key_len = static_cast<uint8_t>(v[pos++]);
  if (pos + key_len + 1 > v.size()) return std::nullopt;
  h.key_name = v.substr(pos, key_len);
  pos += key_len;
  const size_t patient_len = static_cast<uint8_t>(v[pos++]);
  if (pos + patient_len > v.size()) return std::nullopt;
  h.patient = v.substr(pos, patient_len);
  h.payload = v.substr(pos + patient_len);
  return h;
}

std::string EncodeBatchChange(uint32_t ordinal, int64_t last_updated,
                              const std::vector<uint64_t>& seqs) {
  std::string v("\0R", 2);
  PutU32(&v, ordinal);
  PutOrderedInt64(&v, last_updated);
  PutU32(&v, static_cast<uint32_t>(seqs.size()));
  for (uint64_t s : seqs) PutBigEndian64(&v, s);
  return v;
}

bool IsBatchChange(std::string_view v) { return v.size() >= 2 && v[0] == '\0' && v[1] == 'R'; }

uint64_t BatchChangeView::seq(uint32_t i) const { return GetBigEndian64(seqs.substr(8 * i)); }

std::optional<BatchChangeView> DecodeBatchChange(std::string_view v) {
  if (!IsBatchChange(v) || v.size() < 18) return std::nullopt;
  BatchChangeView c;
  c.ordinal = GetU32(v.substr(2));
  c.last_updated = GetOrderedInt64(v.substr(6));
  c.count = GetU32(v.substr(14));
  c.seqs = v.substr(18);
  if (c.count == 0 || c.seqs.size() != 8ull * c.count) return std::nullopt;
  return c;
}

}  // namespace medhub::store::readings
