// Consortium: the ledger ordered by ZooKeeper among several members
// (docs/formats/ledger.md, "Consortium").
//
// Every member proposes blocks of its own store's entries (rule 7: a record entry belongs
// to its proposer). A proposal is the whole block, built on the member's current head,
// signed and endorsed by its proposer, written as a persistent sequential znode
// ROOT/proposals/h-<height>-<sequence>; ZooKeeper's sequence is the total order. Every
// member follows the proposals in sequence order: the first proposal at its next height
// that passes every chain rule but the endorsement count (LedgerState::CheckProposal) is
// the block at that height, and every member endorses it (ROOT/proposals/<p>/<member>
// holding its Ed25519 endorsement); once more than half of the members have endorsed it,
// each member appends it with the endorsements it has read. A proposal at a height that
// is already taken, or that breaks a rule, is skipped by every member alike (the verdict
// depends only on the blocks before it), and its proposer builds again on the new head.
// Block 0 is proposed by whichever member finds ZooKeeper empty first and must list
// exactly the consortium's members (a MemberAdded each).
//
// Catching up: the proposals stay in ZooKeeper, so a member that was down reads them from
// where its blocks.log ends and appends them as it would have. Connection loss and session
// expiry: the follower reconnects (a new session after expiry) and resumes; Append waits
// and retries with the same bytes, so a proposal that may have been written twice is the
// same block twice (the copy is skipped) and nothing is lost: the writer commits from the
// change feed, which is the source of truth.
//
// Equivocation: every member publishes its latest signed tree head at ROOT/heads/<member>
// and checks the others': two heads of one member for one size with different roots, a
// head whose root differs from this member's log, or two different blocks at one height
// with one member's proposer signature are evidence (evidence.h), kept and logged.
//
// Thread-safety: Append may be called from one thread at a time (the ledger writer);
// evidence() and Stop from any thread. One follower thread runs inside.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/status.h"
#include "ledger/evidence.h"
#include "ledger/ledger.h"

namespace medhub::ledger {

class ZkClient;

// A block's signed statement, as evidence holds it: hex of its header bytes followed by
// the proposer's 64-byte signature (over "MHBP" ‖ SHA-256 of the header).
std::string SignedHeaderHex(const Block& block);

struct ConsortiumOptions {
  std::string zk_hosts;                 // HOST:PORT[,...]
  std::string root = "/medhub/ledger";  // the consortium's znode
  std::vector<MemberInfo> members;      // names and public keys (the members file)
  std::string evidence_file;            // e.g. DATA/ledger/evidence.jsonl
  int session_timeout_ms = 10000;
  std::chrono::milliseconds poll{100};         // re-list even without a watch firing
  std::chrono::milliseconds retry_delay{200};  // after a ZooKeeper error
  std::function<void(std::string_view)> log;   // defaults to stderr
};

class Consortium {
 public:
  // Starts following the consortium for `ledger` (opened with LedgerOptions::consortium;
  // not owned, must outlive this). Does not wait for ZooKeeper. Errors: InvalidArgument
  // (no hosts, this member not in the list), the evidence file's errors.
  static Result<std::unique_ptr<Consortium>> Start(Ledger* ledger, ConsortiumOptions options);
  ~Consortium();  // Stop()
  Consortium(const Consortium&) = delete;
  Consortium& operator=(const Consortium&) = delete;

  // Orders a block of this member's entries covering its change feed through `last_seq`
  // and returns its height once this member has appended it; proposes again when another
  // block took the height. Waits through ZooKeeper outages; Unavailable only once stopping
  // or past the deadline.
  Result<uint64_t> Append(std::vector<Entry> entries, uint64_t last_seq);
  // Append gives up (Unavailable) after `deadline`: set before draining at shutdown.
  void SetDeadline(std::chrono::steady_clock::time_point deadline);
  void Stop();

  const EvidenceLog& evidence() const { return *evidence_; }

 private:
  struct Proposal {
    uint64_t seq = 0;
    uint64_t height = 0;
    std::string name;
  };
  Consortium(Ledger* ledger, ConsortiumOptions options, std::unique_ptr<EvidenceLog> evidence);

  void Run();
  Status EnsureSession();
  std::shared_ptr<ZkClient> Session() const;
  Status FollowOnce();
  // Processes one proposal; *decided is false while it waits for endorsements.
  Status Process(const Proposal& p, bool* decided);
  Status Decide(const std::string& path, CheckedBlock checked, const Hash& hash, bool* decided);
  Status ExchangeHeads();
  Status ProposeGenesis();
  Result<PublicKey> KeyFor(std::string_view member) const;
  bool IsConsortiumGenesis(const Block& block) const;
  void NoteSigned(const Block& block, const Hash& hash);
  void CheckHead(const std::string& member, const std::string& bytes);
  void Report(EvidenceRecord record);
  void Reject(const Hash& hash);
  bool Waiting() const;  // stopping or past the deadline; caller holds mu_
  void Log(std::string_view message) const;
  std::string ProposalsPath() const { return options_.root + "/proposals"; }

  Ledger* const ledger_;
  const ConsortiumOptions options_;
  std::unique_ptr<EvidenceLog> evidence_;

  mutable std::mutex mu_;
  std::condition_variable changed_;  // a watch fired, a block was decided, or stopping
  // GUARDED_BY(mu_). Never destroyed (closed) while holding mu_: the session's event
  // callback takes mu_, and closing waits for that callback.
  std::shared_ptr<ZkClient> zk_;
  bool stopping_ = false;    // GUARDED_BY(mu_)
  bool event_ = false;       // GUARDED_BY(mu_)
  bool caught_up_ = false;   // GUARDED_BY(mu_): no proposal waits to be decided
  std::set<Hash> rejected_;  // GUARDED_BY(mu_)
  std::chrono::steady_clock::time_point deadline_ =
      std::chrono::steady_clock::time_point::max();  // GUARDED_BY(mu_)

  // The follower thread's own state.
  int64_t cursor_ = -1;  // the sequence number of the last decided proposal
  bool listed_once_ = false;
  bool genesis_proposed_ = false;
  uint64_t published_size_ = UINT64_MAX;
  std::map<std::pair<std::string, uint64_t>, std::pair<Hash, std::string>> signed_at_;
  std::map<std::pair<std::string, uint64_t>, std::string> heads_seen_;
  std::string last_error_;
  std::thread thread_;
};

}  // namespace medhub::ledger
