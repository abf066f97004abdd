// LedgerWriter: puts every version the store commits on the ledger.
//
// A background thread follows the store's change feed from the ledger's last_seq (the
// last change-feed sequence number its latest block covers): for each change it reads the
// version (Store::ReadVersion), makes its entry (MakeRecordEntry) and appends blocks of up
// to max_block_entries entries, or whatever is available, each durable before the next.
// When the feed is drained it polls again every `follow.idle_poll`.
//
// Because every block records the sequence number it covers and the feed is published
// strictly in order (store.h), the ledger never skips a change and never records one
// twice: after a crash between a store commit and its block, the writer starts again
// from the last durable block and commits what is missing.
//
// Errors (a version that cannot be read, a failed append) stop progress, not the thread:
// the writer logs the error, remembers it (status()), and retries after `follow.retry_delay`.
//
// The thread, polling, retries and waiting are store::FeedFollower's (shared with the lake
// writer); this class supplies the step.
//
// Thread-safety: all methods may be called from any thread. Start/Stop are not reentrant
// with each other.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ledger/ledger.h"
#include "store/feed_follower.h"
#include "store/store.h"

namespace medhub::ledger {

struct LedgerWriterOptions {
  size_t max_block_entries = 4096;  // 1 to kMaxBlockEntries
  // Polling when the feed is drained, retries after an error, and where errors are
  // reported (default stderr).
  store::FeedFollowerOptions follow{.name = "ledger writer",
                                    .idle_poll = std::chrono::milliseconds(10),
                                    .retry_delay = std::chrono::milliseconds(500)};
  // Appends a block of entries covering the change feed through the given seq; defaults
  // to Ledger::Append. A consortium member orders its blocks through Consortium::Append.
  std::function<Result<uint64_t>(std::vector<Entry>, uint64_t)> append;
};

class LedgerWriter {
 public:
  // Neither pointer is owned; both must outlive the writer.
  LedgerWriter(store::Store* store, Ledger* ledger, LedgerWriterOptions options = {});
  ~LedgerWriter();  // Stop()
  LedgerWriter(const LedgerWriter&) = delete;
  LedgerWriter& operator=(const LedgerWriter&) = delete;

  // Starts the background thread (a second Start is a no-op).
  void Start();
  // Commits every change published before the call, then stops and joins the thread.
  // Returns the error that kept it from draining, if any. Idempotent.
  Status Stop();

  // Commits everything the change feed holds now, on the calling thread (the thread must
  // not be running). Errors: the first failure; what was appended before it stays.
  Status CatchUp();

  // Waits until the ledger covers change `seq`. OK once it does; Unavailable on timeout
  // (with the writer's last error, if any).
  Status WaitForSequence(uint64_t seq, std::chrono::milliseconds timeout);

  // The last error, or OK when the latest attempt succeeded.
  Status status() const;

 private:
  // Appends at most one block of pending changes. Sets *appended to whether it did.
  Status Step(bool* appended);

  store::Store* const store_;
  Ledger* const ledger_;
  const LedgerWriterOptions options_;
  store::FeedFollower follower_;  // last member: its thread stops before the others go
};

}  // namespace medhub::ledger
