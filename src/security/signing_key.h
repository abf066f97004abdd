// The token signing key: an Ed25519 private key in DATA/security/token.key.
//
// The file is PEM (PKCS#8 "PRIVATE KEY", core/ed25519.h), mode 0600, in a directory of
// mode 0700. It is created on first use: written to a temporary file, synced, then linked
// into place, so concurrent first uses agree on one key and a crash never leaves half a
// key. An existing file that group or others may read is refused, as ssh refuses such
// private keys. Replacing the file (with the server stopped) rotates the key; every access
// token signed with the old key then fails verification (its "kid" no longer matches).
//
// Thread-safe: no shared state beyond the file system.
#pragma once

#include <string>

#include "core/ed25519.h"
#include "core/status.h"

namespace medhub::security {

// "security/token.key", relative to the data directory.
inline constexpr char kSigningKeyPath[] = "security/token.key";

// Loads DATA/security/token.key, creating it (and DATA/security) if absent.
// Errors: FailedPrecondition when the file is readable by group or others or is not a
// regular file; DataLoss when it does not hold an Ed25519 PEM key; Unavailable on I/O
// errors.
Result<PrivateKey> LoadOrCreateSigningKey(const std::string& data_dir);

}  // namespace medhub::security
