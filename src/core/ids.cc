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
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 15]);
  }
  return out;
}

bool IsValidFhirId(std::string_view id) {
  // [A-Za-z0-9\-\.], one table lookup per byte.
  static constexpr auto kIdByte = [] {
    std::array<bool, 256> ok{};
    for (int c = 0; c < 256; ++c)
      ok[c] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    return ok;
  }();
  if (id.empty() || id.size() > 64) return false;
  bool ok = true;
  for (char c : id) ok &= kIdByte[static_cast<unsigned char>(c)];
  return ok;
}

}  // namespace medhub
