// Fixed-width big-endian writing and strict reading of the ledger's byte formats
// (docs/formats/ledger.md). Internal to the ledger module.
//
// ByteReader never reads past its input: every Get returns false once the input is
// exhausted, and stays failed, so a decoder can read a whole structure and check ok()
// once. Thread-safety: plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/ids.h"
#include "ledger/merkle.h"

namespace medhub::ledger {

inline void PutU8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }
inline void PutU16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}
inline void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}
inline void PutU64(std::string* out, uint64_t v) { PutBigEndian64(out, v); }
inline void PutHash(std::string* out, const Hash& h) {
  out->append(reinterpret_cast<const char*>(h.data()), h.size());
}
// A u16 length followed by the bytes; the caller has checked s.size() <= 65535.
inline void PutString16(std::string* out, std::string_view s) {
  PutU16(out, static_cast<uint16_t>(s.size()));
  out->append(s);
}
// A u8 length followed by the bytes; the caller has checked s.size() <= 255.
inline void PutString8(std::string* out, std::string_view s) {
  PutU8(out, static_cast<uint8_t>(s.size()));
  out->append(s);
}

inline uint32_t GetBigEndian32(std::string_view in) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4 && i < in.size(); ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}

  bool ok() const { return ok_; }
  bool done() const { return ok_ && pos_ == in_.size(); }
  size_t position() const { return pos_; }
  size_t remaining() const { return in_.size() - pos_; }

  bool Bytes(size_t n, std::string_view* out) {
    if (!ok_ || remaining() < n) return ok_ = false;
    *out = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool U8(uint8_t* v) {
    std::string_view b;
    if (!Bytes(1, &b)) return false;
    *v = static_cast<uint8_t>(b[0]);
    return true;
  }
  bool U16(uint16_t* v) {
    std::string_view b;
    if (!Bytes(2, &b)) return false;
    *v = static_cast<uint16_t>(static_cast<uint8_t>(b[0]) << 8 | static_cast<uint8_t>(b[1]));
    return true;
  }
  bool U32(uint32_t* v) {
    std::string_view b;
    if (!Bytes(4, &b)) return false;
    *v = GetBigEndian32(b);
    return true;
  }
  bool U64(uint64_t* v) {
    std::string_view b;
    if (!Bytes(8, &b)) return false;
    *v = GetBigEndian64(b);
    return true;
  }
  bool HashValue(Hash* h) {
    std::string_view b;
    if (!Bytes(h->size(), &b)) return false;
    std::memcpy(h->data(), b.data(), h->size());
    return true;
  }
  bool String16(std::string* s) {
    uint16_t n = 0;
    std::string_view b;
    if (!U16(&n) || !Bytes(n, &b)) return false;
    s->assign(b);
    return true;
  }
  bool String8(std::string* s) {
    uint8_t n = 0;
    std::string_view b;
    if (!U8(&n) || !Bytes(n, &b)) return false;
    s->assign(b);
    return true;
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace medhub::ledger
