// The member files of a ledger directory (docs/formats/ledger.md, "Member files"):
//
//   member.key    this member's Ed25519 private key, PEM (PKCS#8, unencrypted), mode 0600
//   members.json  the members and their public keys, the trust anchor a verifier
//                 compares the ledger's MemberAdded/KeyRotated entries against:
//                 {"members":[{"name":"local","public_key":"<64 hex digits>"}]}
//
// Files are replaced atomically (written to a temporary file, fsync'ed, renamed, the
// directory fsync'ed). Thread-safety: functions only; callers serialize writers.
#pragma once

#include <string>
#include <vector>

#include "core/ed25519.h"
#include "core/status.h"

namespace medhub::ledger {

inline constexpr char kMemberKeyFile[] = "member.key";
inline constexpr char kMembersFile[] = "members.json";
inline constexpr char kBlocksFile[] = "blocks.log";

struct MemberInfo {
  std::string name;
  PublicKey public_key;
};

// Reads the member key at `path`. NotFound when absent, InvalidArgument when it is not an
// Ed25519 PEM private key, Unavailable on I/O errors.
Result<PrivateKey> ReadMemberKey(const std::string& path);
// Reads the key at `path`, or, when there is none, generates one and writes it with
// mode 0600. Sets *created when it did.
Result<PrivateKey> ReadOrCreateMemberKey(const std::string& path, bool* created);

// Reads members.json. NotFound when absent; DataLoss when malformed (bad JSON, names,
// keys, or a name listed twice).
Result<std::vector<MemberInfo>> ReadMembers(const std::string& path);
// Writes members.json atomically.
Status WriteMembers(const std::string& path, const std::vector<MemberInfo>& members);

// Writes `data` to `path` atomically with the given mode (see the top of this file).
Status WriteFileAtomically(const std::string& path, const std::string& data, int mode);

}  // namespace medhub::ledger
