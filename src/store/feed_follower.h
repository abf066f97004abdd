// FeedFollower: the loop every change-feed consumer runs (the ledger writer, the lake
// writer): a background thread that calls the consumer's `step` until the feed is drained,
// then polls every `idle_poll`; after an error it logs it, remembers it (status()) and
// retries after `retry_delay`. Stop() joins the thread and then drains the feed on the
// calling thread (CatchUp), so everything published before Stop() is consumed.
//
// The consumer owns its position in the feed and its durability; the follower only drives
// it. `step(force, &progressed)` does one unit of work (read a batch, write it) and sets
// `progressed` when it consumed or published something; `force` is true when called from
// CatchUp/Stop (the consumer should publish what it holds once the feed is drained).
// `reached()` returns the last change-feed sequence the consumer has made durable; the
// consumer calls NotifyProgress() after advancing it so WaitForSequence wakes up.
//
// Thread-safety: all methods may be called from any thread; CatchUp() must not run while
// the thread does (Stop() first). `step` runs on one thread at a time. `reached` may be
// called from any thread and must not call back into the follower.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/status.h"

namespace medhub::store {

struct FeedFollowerOptions {
  std::string name = "feed follower";  // in log lines: "medhub: <name>: <error>"
  std::chrono::milliseconds idle_poll{20};
  std::chrono::milliseconds retry_delay{1000};
  std::function<void(std::string_view)> log;  // error reports; default stderr
};

class FeedFollower {
 public:
  using StepFn = std::function<Status(bool force, bool* progressed)>;
  using ReachedFn = std::function<uint64_t()>;

  FeedFollower(StepFn step, ReachedFn reached, FeedFollowerOptions options);
  ~FeedFollower();  // joins the thread (no catch-up: the owner calls Stop() for that)
  FeedFollower(const FeedFollower&) = delete;
  FeedFollower& operator=(const FeedFollower&) = delete;

  // Starts the background thread (a second Start is a no-op).
  void Start();
  // Stops and joins the thread, then CatchUp(). Without a running thread: the last status.
  Status Stop();
  // Calls step(force=true) on the calling thread until it makes no progress or fails.
  Status CatchUp();
  // Waits until reached() >= seq; Unavailable on timeout: "change N is not <where> yet"
  // with the last error.
  Status WaitForSequence(uint64_t seq, std::chrono::milliseconds timeout,
                         std::string_view where = "consumed");
  // The last step's error, or OK.
  Status status() const;
  // Records a status as the latest (Open-like calls made outside a step) and wakes waiters.
  void SetStatus(const Status& s);
  // Wakes WaitForSequence callers (the consumer advanced reached()).
  void NotifyProgress();

 private:
  void Run();
  void Log(std::string_view message) const;

  const StepFn step_;
  const ReachedFn reached_;
  const FeedFollowerOptions options_;

  mutable std::mutex mu_;
  std::condition_variable wake_;      // Stop() wakes the thread
  std::condition_variable progress_;  // progress made or an error recorded
  bool stopping_ = false;             // GUARDED_BY(mu_)
  Status status_;                     // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace medhub::store
