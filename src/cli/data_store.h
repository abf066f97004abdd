// Opening the store named by a command's --data flag, shared by every subcommand, and the
// master key that opens it (docs/security.md, "Encryption at rest").
//
// The master key comes from `--master-key-file F` (any subcommand; the file holds 64 hex
// digits or base64 of 32 bytes) or else the MEDHUB_MASTER_KEY environment variable (same
// forms). It is never stored in the data directory.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/flags.h"
#include "store/store.h"

namespace medhub::cli {

// Removes `--master-key-file F` (or `--master-key-file=F`) from `args` and remembers F for
// OpenStore. InvalidArgument when the flag has no value. Not thread-safe: call once, first.
Result<std::vector<std::string>> TakeMasterKeyFlag(std::vector<std::string> args);

// The master key: from the remembered --master-key-file, else MEDHUB_MASTER_KEY.
// InvalidArgument when neither is given or the text is not a key.
Result<std::string> MasterKey();

// The store in --data DIR. Read-only opens work beside a running server (offline checks).
// Errors: InvalidArgument when --data is missing, or the master key is missing or does not
// open DIR (so the command exits with 2); the store's errors.
Result<std::unique_ptr<store::Store>> OpenStore(const Flags& f, bool read_only = false);

// `medhub demo`: opens DIR with the master key given (flag or environment), or else with the
// key in DIR.masterkey beside (never inside) DIR, generating that file (mode 0600) for a
// new directory. `*where` says where the key came from, for the demo's output.
Result<std::unique_ptr<store::Store>> OpenDemoStore(const std::string& dir, std::string* where);

}  // namespace medhub::cli
