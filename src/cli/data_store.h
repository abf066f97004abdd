// Opening the store named by a command's --data flag, shared by every subcommand.
#pragma once

#include <memory>

#include "cli/flags.h"
#include "store/store.h"

namespace medhub::cli {

// The store in --data DIR. Read-only opens work beside a running server (offline checks).
// Errors: InvalidArgument when --data is missing; the store's errors.
Result<std::unique_ptr<store::Store>> OpenStore(const Flags& f, bool read_only = false);

}  // namespace medhub::cli
