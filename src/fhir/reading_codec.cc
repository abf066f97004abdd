#include "fhir/reading_codec.h"

#include "core/aead.h"
#include "core/ids.h"
#include "core/time.h"

namespace medhub::fhir {
namespace {

constexpr uint8_t kLastKind = static_cast<uint8_t>(ReadingKind::kEcg);

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

void PutText(std::string* out, std::string_view text) {
  PutU32(out, static_cast<uint32_t>(text.size()));
  out->append(text);
}

// Reads fields off the front of a record; any read past the end fails.
class Cursor {
 public:
  explicit Cursor(std::string_view in) : in_(in) {}
  bool U8(uint8_t* v) {
    if (in_.empty()) return false;
    *v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool U32(uint32_t* v) {
    if (in_.size() < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) *v = (*v << 8) | static_cast<uint8_t>(in_[i]);
    in_.remove_prefix(4);
    return true;
  }
  bool U64(uint64_t* v) {
    if (in_.size() < 8) return false;
    *v = GetBigEndian64(in_);
    in_.remove_prefix(8);
    return true;
  }
  bool Text(std::string* out) {
    uint32_t n = 0;
    if (!U32(&n) || in_.size() < n) return false;
    out->assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
  bool done() const { return in_.empty(); }
  size_t left() const { return in_.size(); }

 private:
  std::string_view in_;
};

bool DecodeOne(Cursor* c, Reading* r) {
  uint8_t kind = 0;
  uint64_t time_key = 0;
  uint32_t n = 0;
  if (!c->U64(&r->seq) || !c->U8(&kind) || kind > kLastKind || !c->U64(&time_key) ||
      !c->Text(&r->time) || !c->Text(&r->unit) || !c->U32(&n) || n > c->left() / 4)
    return false;
  r->kind = static_cast<ReadingKind>(kind);
  r->values.resize(n);
  for (std::string& v : r->values)
    if (!c->Text(&v)) return false;
  return c->Text(&r->period_ms) && c->Text(&r->heart_rate) && c->Text(&r->rhythm);
}

}  // namespace

Result<std::string> EncodeReadings(const std::vector<Reading>& readings) {
  std::string out;
  out.push_back(static_cast<char>(kReadingCodecVersion));
  PutU32(&out, static_cast<uint32_t>(readings.size()));
  for (const Reading& r : readings) {
    ASSIGN_OR_RETURN(DateRange t, ParseFhirDate(r.time, DateKind::kInstant));
    PutBigEndian64(&out, r.seq);
    out.push_back(static_cast<char>(r.kind));
    PutOrderedInt64(&out, t.low);
    PutText(&out, r.time);
    PutText(&out, r.unit);
    PutU32(&out, static_cast<uint32_t>(r.values.size()));
    for (const std::string& v : r.values) PutText(&out, v);
    PutText(&out, r.period_ms);
    PutText(&out, r.heart_rate);
    PutText(&out, r.rhythm);
  }
  return out;
}

Result<std::vector<Reading>> DecodeReadings(std::string_view record) {
  Cursor c(record);
  uint8_t version = 0;
  uint32_t count = 0;
  if (!c.U8(&version) || version != kReadingCodecVersion)
    return Status::DataLoss("reading record: unknown version");
  // Every reading takes at least 41 bytes, so a corrupt count cannot reserve much.
  if (!c.U32(&count) || count > c.left() / 41) return Status::DataLoss("reading record: bad count");
  std::vector<Reading> out(count);
  for (uint32_t i = 0; i < count; ++i)
    if (!DecodeOne(&c, &out[i]))
      return Status::DataLoss("reading record: reading " + std::to_string(i) + " is malformed");
  if (!c.done()) return Status::DataLoss("reading record: trailing bytes");
  return out;
}

std::string ReadingSalt(std::string_view batch_salt, uint64_t seq) {
  std::string data("medhub/reading-salt/v1", 22);
  data.push_back('\0');
  PutBigEndian64(&data, seq);
  return HmacSha256(batch_salt, data);
}

}  // namespace medhub::fhir
