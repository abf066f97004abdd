// The ledger in the `medhub` binary: the running node's ledger (serve, import, demo) and
// the `medhub ledger` subcommands (verify, status, proof).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/flags.h"
#include "core/status.h"
#include "ledger/consortium.h"
#include "ledger/ledger.h"
#include "ledger/ledger_writer.h"
#include "store/store.h"

namespace medhub::cli {

// Where a data directory keeps its ledger: DATA/ledger.
std::string LedgerDir(const std::string& data_dir);

// A node's ledger and the writer that commits the store's changes to it.
struct LedgerNode {
  std::unique_ptr<ledger::Ledger> ledger;
  std::unique_ptr<ledger::LedgerWriter> writer;
  std::unique_ptr<ledger::Consortium> consortium;  // null for the embedded ledger

  // Commits every change the store has published, then stops the writer.
  Status Stop();
};

// Opens (creating on first use) the ledger of `data_dir` for `member` and starts its writer
// on `store`, which must outlive the node.
Result<LedgerNode> StartLedgerNode(store::Store* store, const std::string& data_dir,
                                   const std::string& member);

// The node `medhub serve` runs: the embedded ledger, or, with --ledger-zk HOST:PORT
// --member NAME --member-key FILE --members FILE, a consortium member (consortium.h).
Result<LedgerNode> StartServeLedgerNode(store::Store* store, const Flags& flags);
// The flags StartServeLedgerNode reads besides --data and --member.
inline constexpr const char* kConsortiumFlags[] = {"ledger-zk", "member-key", "members"};

// `medhub ledger verify|status|proof ...`; returns the exit code.
int RunLedger(const std::vector<std::string>& args);

}  // namespace medhub::cli
