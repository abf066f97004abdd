// Internal to core's JSON code (json.cc, json_value.cc, json_serialize.cc): the
// word-at-a-time byte scanning and the number grammar they share. Not part of the API.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace medhub::json::internal {

// ---------------------------------------------------------------------------------
// Byte scanning helpers.

constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighs = 0x8080808080808080ULL;

inline uint64_t Load64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// For each byte of `w`, the high bit of the result is set if the byte is '"', '\\' or a
// control character (< 0x20). Borrows can also flag bytes that follow a flagged byte (in
// memory order, on little-endian), but the lowest flagged byte is always exact.
inline uint64_t QuoteBackslashOrControl(uint64_t w) {
  const uint64_t q = w ^ (kOnes * '"');
  const uint64_t b = w ^ (kOnes * '\\');
  return (((q - kOnes) & ~q) | ((b - kOnes) & ~b) | ((w - kOnes * 0x20) & ~w)) & kHighs;
}

// As above, and also flags non-ASCII bytes (>= 0x80).
inline uint64_t QuoteBackslashControlOrNonAscii(uint64_t w) {
  const uint64_t q = w ^ (kOnes * '"');
  const uint64_t b = w ^ (kOnes * '\\');
  return (((q - kOnes) & ~q) | ((b - kOnes) & ~b) | (w - kOnes * 0x20) | w) & kHighs;
}

// Advances `p` over whole 8-byte words none of whose bytes is flagged by `Mask`; on
// little-endian machines it then also skips the unflagged bytes of the stopping word.
template <uint64_t (*Mask)(uint64_t)>
inline const char* SkipUnflaggedWords(const char* p, const char* end) {
  while (end - p >= 8) {
    const uint64_t m = Mask(Load64(p));
    if (m != 0) {
      if constexpr (std::endian::native == std::endian::little) {
        p += std::countr_zero(m) >> 3;
      }
      return p;
    }
    p += 8;
  }
  return p;
}

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Scans the longest prefix of [p, end) that the JSON number grammar accepts
//   -? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?
// and returns its end, or nullptr if there is none or it is malformed (e.g. "01", "1.",
// "1e").
inline const char* ScanNumber(const char* p, const char* end) {
  if (p < end && *p == '-') ++p;
  if (p == end) return nullptr;
  if (*p == '0') {
    ++p;
    if (p < end && IsDigit(*p)) return nullptr;  // leading zero
  } else if (*p >= '1' && *p <= '9') {
    do ++p;
    while (p < end && IsDigit(*p));
  } else {
    return nullptr;
  }
  if (p < end && *p == '.') {
    ++p;
    if (p == end || !IsDigit(*p)) return nullptr;
    do ++p;
    while (p < end && IsDigit(*p));
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-')) ++p;
    if (p == end || !IsDigit(*p)) return nullptr;
    do ++p;
    while (p < end && IsDigit(*p));
  }
  return p;
}

inline bool IsValidNumber(std::string_view raw) {
  return !raw.empty() && ScanNumber(raw.data(), raw.data() + raw.size()) == raw.data() + raw.size();
}

}  // namespace medhub::json::internal
