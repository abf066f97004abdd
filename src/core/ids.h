// Identifiers and fixed-width integer encodings.
//
// NewId() makes the server-assigned logical ids of FHIR resources (random UUID v4 text).
// Persisted integers are big-endian so that byte order equals numeric order in RocksDB
// keys (docs/formats/store.md). Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace medhub {

// A random RFC 4122 version 4 UUID in lower-case text form.
std::string NewId();

// FHIR id: [A-Za-z0-9\-\.]{1,64}.
bool IsValidFhirId(std::string_view id);

inline void PutBigEndian64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}
inline uint64_t GetBigEndian64(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < in.size(); ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}
// Signed values are stored with the sign bit flipped so that negative sorts first.
inline void PutOrderedInt64(std::string* out, int64_t v) {
  PutBigEndian64(out, static_cast<uint64_t>(v) ^ (uint64_t{1} << 63));
}
inline int64_t GetOrderedInt64(std::string_view in) {
  return static_cast<int64_t>(GetBigEndian64(in) ^ (uint64_t{1} << 63));
}

}  // namespace medhub
