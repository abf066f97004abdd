// Password hashing with argon2id (RFC 9106) through libsodium.
//
// Hashes are libsodium's self-describing strings ("$argon2id$v=19$m=65536,t=2,p=1$salt$hash"),
// which carry their own salt and parameters, so raising the parameters later leaves old
// hashes verifiable; PasswordNeedsRehash() tells when to re-hash after a successful login.
// Verification compares in constant time (libsodium). Passwords are never logged or put
// in error messages; callers should wipe their copies (sodium_memzero) when done.
//
// Parameters: Interactive() is libsodium's INTERACTIVE profile for argon2id, 2 passes
// over 64 MiB (about 55 ms on one core of the 2-core build machine); Minimum() (1 pass, 8 KiB)
// exists only so that tests run fast and must never be used for real accounts. docs/security.md
// records them.
//
// Thread-safe: libsodium is initialized once (InitSodium) on first use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace medhub::security {

struct PasswordParams {
  uint64_t ops_limit = 0;      // argon2 passes (t)
  size_t mem_limit_bytes = 0;  // argon2 memory (m), bytes

  static PasswordParams Interactive();
  static PasswordParams Minimum();  // tests only
};

// Longest password accepted, in bytes: longer input is refused rather than hashed, so a
// request cannot make the server hash megabytes.
inline constexpr size_t kMaxPasswordBytes = 1024;

// Initializes libsodium once per process. Internal if it cannot be initialized.
Status InitSodium();

// The argon2id hash string of `password`. Errors: InvalidArgument when the password is
// empty or longer than kMaxPasswordBytes; ResourceExhausted when the memory cannot be
// allocated; Internal when libsodium cannot be initialized.
Result<std::string> HashPassword(std::string_view password, const PasswordParams& params);

// OK iff `password` matches `hash`. Unauthenticated on a mismatch (and for a password over
// kMaxPasswordBytes); DataLoss when `hash` is not an argon2id hash string.
Status VerifyPassword(std::string_view password, std::string_view hash);

// True when `hash` was made with parameters other than `params` (or is not argon2id).
bool PasswordNeedsRehash(std::string_view hash, const PasswordParams& params);

// Compares two byte strings in time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Overwrites `secret` with zeros (in a way the compiler keeps) and clears it.
void Wipe(std::string* secret);

}  // namespace medhub::security
