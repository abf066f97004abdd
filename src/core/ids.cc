#include "core/ids.h"

#include <array>
#include <mutex>
#include <random>

namespace medhub {

std::string NewId() {
  // One generator per thread, seeded from the OS.
  thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }());
  std::array<uint8_t, 16> b;
  uint64_t hi = rng(), lo = rng();
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
    b[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
  }
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');  // written in place: one allocation, no per-character checks
  for (int i = 0, o = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++o;  // skip the '-'
    out[o++] = kHex[b[i] >> 4];
    out[o++] = kHex[b[i] & 15];
  }
  return out;
}

namespace {

// The bytes of a FHIR id: A-Z, a-z, 0-9, '-' and '.'.
constexpr std::array<bool, 256> kIdChar = [] {
  std::array<bool, 256> t{};
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  t['-'] = t['.'] = true;
  return t;
}();

}  // namespace

bool IsValidFhirId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  bool ok = true;
  for (char c : id) ok &= kIdChar[static_cast<unsigned char>(c)];  // no early exit: no branch
  return ok;
}

}  // namespace medhub
