// Cryptographic hashing (OpenSSL). Thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace medhub {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(std::string_view data);
// SHA-256 of the concatenation of `parts`, without building it.
Sha256Digest Sha256Of(std::initializer_list<std::string_view> parts);
// `n` bytes from the operating system's CSPRNG (OpenSSL RAND_bytes). Aborts if the
// generator fails: continuing without randomness would silently weaken every secret.
std::string RandomBytes(size_t n);
// Lower-case hex of `bytes`.
std::string ToHex(std::string_view bytes);
inline std::string ToHex(const Sha256Digest& d) {
  return ToHex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

}  // namespace medhub
