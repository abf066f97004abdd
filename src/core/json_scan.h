// Internal to core's JSON code (json.cc, json_value.cc, json_serialize.cc, json_lazy.cc):
// the word-at-a-time byte scanning, UTF-8 and \u escape rules and the number grammar they
// share. Not part of the API.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// The first byte in [p, end) that is '"', '\\' or a control character (< 0x20), or `end`:
// 16 bytes at a time with SSE2, then 8 at a time, then byte by byte.
inline const char* FindQuoteBackslashOrControl(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i max_control = _mm_set1_epi8(0x1F);
  while (end - p >= 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i hit =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
                     _mm_cmpeq_epi8(_mm_min_epu8(x, max_control), x));  // x <= 0x1F
    if (const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(hit)); mask != 0)
      return p + std::countr_zero(mask);
    p += 16;
  }
#endif
  p = SkipUnflaggedWords<QuoteBackslashOrControl>(p, end);
  for (; p < end; ++p) {
    const unsigned char c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\' || c < 0x20) return p;
  }
  return p;
}

// Whether any byte of `s` is '"', '\\' or a control character: the common no-escape case
// of the serializer, tested with overlapping loads instead of a byte loop.
inline bool HasQuoteBackslashOrControl(std::string_view s) {
  const char* p = s.data();
  const size_t n = s.size();
  if (n >= 16) {
    const char* stop = FindQuoteBackslashOrControl(p, p + n);
    return stop != p + n;
  }
  if (n >= 8) {
    return (QuoteBackslashOrControl(Load64(p)) | QuoteBackslashOrControl(Load64(p + n - 8))) != 0;
  }
  if (n >= 4) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
    return QuoteBackslashOrControl(lo | (uint64_t{hi} << 32)) != 0;
  }
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(p[i]);
    if (c == '"' || c == '\\' || c < 0x20) return true;
  }
  return false;
}

// As above, and also stops at non-ASCII bytes (>= 0x80).
inline const char* FindQuoteBackslashControlOrNonAscii(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  while (end - p >= 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Signed: bytes >= 0x80 are negative, so `x < 0x20` also catches non-ASCII.
    const __m128i hit =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
                     _mm_cmplt_epi8(x, space));
    if (const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(hit)); mask != 0)
      return p + std::countr_zero(mask);
    p += 16;
  }
#endif
  p = SkipUnflaggedWords<QuoteBackslashControlOrNonAscii>(p, end);
  for (; p < end; ++p) {
    const unsigned char c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) return p;
  }
  return p;
}

// Whether two member names are equal. Compares the length and the first byte inline
// before calling memcmp: most names that differ differ there.
inline bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         (a.empty() || (a[0] == b[0] && std::memcmp(a.data(), b.data(), a.size()) == 0));
}

// ---------------------------------------------------------------------------------
// UTF-8 and \u escapes.

// Length of the well-formed UTF-8 sequence (Unicode Table 3-7) starting at the non-ASCII
// byte `p[0]`, or 0 if it is ill-formed: a stray continuation byte, an overlong form, an
// encoded surrogate, a code point above U+10FFFF or a truncated sequence.
inline size_t Utf8SequenceLength(const unsigned char* p, const unsigned char* end) {
  const unsigned c = p[0];
  const size_t avail = static_cast<size_t>(end - p);
  if (c < 0xC2) return 0;  // continuation byte, or C0/C1 (overlong 2-byte forms)
  if (c < 0xE0) {
    return (avail >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
  }
  if (c < 0xF0) {
    if (avail < 3) return 0;
    const unsigned c1 = p[1];
    const bool ok1 = c == 0xE0   ? (c1 >= 0xA0 && c1 <= 0xBF)  // no overlongs
                     : c == 0xED ? (c1 >= 0x80 && c1 <= 0x9F)  // no surrogates
                                 : (c1 & 0xC0) == 0x80;
    return (ok1 && (p[2] & 0xC0) == 0x80) ? 3 : 0;
  }
  if (c < 0xF5) {
    if (avail < 4) return 0;
    const unsigned c1 = p[1];
    const bool ok1 = c == 0xF0   ? (c1 >= 0x90 && c1 <= 0xBF)  // no overlongs
                     : c == 0xF4 ? (c1 >= 0x80 && c1 <= 0x8F)  // <= U+10FFFF
                                 : (c1 & 0xC0) == 0x80;
    return (ok1 && (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80) ? 4 : 0;
  }
  return 0;
}

inline int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads the 4 hex digits at p (false if fewer than 4 bytes are left before `end`).
inline bool ReadHex4(const char* p, const char* end, uint32_t* out) {
  if (end - p < 4) return false;
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    const int h = HexValue(p[i]);
    if (h < 0) return false;
    v = (v << 4) | static_cast<uint32_t>(h);
  }
  *out = v;
  return true;
}

inline void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    const char b[2] = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
    out.append(b, 2);
  } else if (cp < 0x10000) {
    const char b[3] = {static_cast<char>(0xE0 | (cp >> 12)),
                       static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                       static_cast<char>(0x80 | (cp & 0x3F))};
    out.append(b, 3);
  } else {
    const char b[4] = {
        static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
        static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
    out.append(b, 4);
  }
}

// ---------------------------------------------------------------------------------
// Numbers.

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
