// Offline verification of a ledger and the store it commits (`medhub ledger verify`).
//
// VerifyLedger opens the ledger read-only, which rechecks every record checksum, block
// hash, chain link, signature and endorsement, entries root and log root (LedgerState),
// and the member files against the ledger; it recomputes the signed tree head; then it
// checks the store against the ledger in both directions:
//   - every record entry of this member names a version the store holds, with the same
//     sequence number and delete flag, whose SHA-256(salt || canonical bytes) equals the
//     entry's commitment;
//   - every change in the store's feed up to the ledger's last_seq has its entry, and the
//     feed holds nothing after it (a change not yet on the ledger is reported, unless a
//     server holds the ledger open and is still committing).
//
// Returns the report when all is intact; otherwise the first fault: DataLoss naming
// "block H at byte offset X" for the ledger, or "record Type/id/_history/v" for the store;
// FailedPrecondition for changes not yet on the ledger; other codes for I/O.
//
// Thread-safety: a function; the store may be used concurrently by others.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "ledger/ledger.h"
#include "store/store.h"

namespace medhub::ledger {

struct VerifyReport {
  uint64_t blocks = 0;
  uint64_t entries = 0;
  uint64_t records = 0;        // record entries checked against the store
  uint64_t erased = 0;         // of those, versions of erased patients (Store::ErasePatient):
                               // their content is gone, only the commitment remains
  uint64_t changes = 0;        // store changes matched to entries
  uint64_t pending = 0;        // changes after the ledger's last_seq (server running)
  bool writer_active = false;  // a server held the ledger open
  SignedTreeHead head;
  std::string public_key_hex;
};

// `options.dir` is the ledger directory; read_only is forced. `store` should have been
// opened before the ledger is (so that the ledger is never behind the store's view).
Result<VerifyReport> VerifyLedger(LedgerOptions options, store::Store* store);

}  // namespace medhub::ledger
