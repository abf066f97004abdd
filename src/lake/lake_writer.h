// LakeWriter: follows the store's change feed and writes the lake (docs/formats/lake.md).
//
// Every change (a version or a delete marker) becomes one NDJSON line in the partition
// folder of its resource. Lines are staged under _staging/<commit>/, files roll at
// `max_file_bytes`, and a commit publishes them: pending manifest, renames, manifest,
// staging removed — each step durable before the next. Staged lines are buffered in memory
// up to `buffer_bytes`; then the big buffers are written (create, later append), and if the
// small ones alone still fill half of it the commit happens early: on HDFS every create or
// append costs round trips and a DataNode close, so a small file is written once. A commit
// also happens when `commit_bytes` are staged, when the feed is drained and the oldest
// staged line is `commit_interval` old (`max_commit_delay` old if the feed never drains),
// and when CatchUp()/Stop() drain the feed.
//
// Open() recovers: the latest manifest gives the sequence reached, a complete pending
// manifest is rolled forward, staging is discarded; the writer then resumes with the change
// after the manifest's seq. So a crash (even SIGKILL) between any two steps neither loses
// nor duplicates a line. Any error (file system down, a version unreadable) discards the
// uncommitted staging and retries from the last manifest after `follow.retry_delay`; the last
// error is kept in status() and logged. The thread, polling, retries and waiting are
// store::FeedFollower's (shared with the ledger writer); this class supplies the step.
//
// Thread-safety: all methods may be called from any thread; Open() must come first and
// CatchUp() must not run while the thread does.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_lazy.h"
#include "core/status.h"
#include "lake/filesystem.h"
#include "lake/manifest.h"
#include "store/feed_follower.h"
#include "store/store.h"

namespace medhub::lake {

struct LakeWriterOptions {
  uint64_t max_file_bytes = 64ull << 20;  // a data file rolls once it reaches this
  uint64_t commit_bytes = 256ull << 20;   // commit once this much is staged
  uint64_t buffer_bytes = 64ull << 20;    // staged bytes in memory (see above; HDFS: few writes)
  std::chrono::milliseconds commit_interval{5000};    // once drained
  std::chrono::milliseconds max_commit_delay{60000};  // even while the feed keeps coming
  size_t batch = 4096;                                // changes read from the feed at a time
  size_t io_threads = 8;  // files written and renamed in parallel (WebHDFS: round-trip bound)
  // Bucket folders per partition (docs/formats/lake.md, "bucket="): a commit gives the
  // resources it publishes first the largest power of two <= max_buckets with at least
  // changes_per_bucket expected changes per bucket (expected: the feed's backlog when the
  // commit starts, or the previous commit's size, whichever is larger), never fewer than the
  // lake already uses. A new lake starts with 1: few files per commit while it is small.
  uint64_t changes_per_bucket = 50000;
  int max_buckets = 16;
  // Polling when the feed is drained, retries after an error, and where errors are
  // reported (default stderr).
  store::FeedFollowerOptions follow{.name = "lake writer"};
};

// What the latest manifest says.
struct LakeState {
  uint64_t commit = 0;  // 0: nothing committed yet
  uint64_t seq = 0;     // change-feed sequence reached
};

class LakeWriter {
 public:
  // Neither pointer is owned; both must outlive the writer.
  LakeWriter(store::Store* store, FileSystem* fs, LakeWriterOptions options = {});
  ~LakeWriter();  // Stop()
  LakeWriter(const LakeWriter&) = delete;
  LakeWriter& operator=(const LakeWriter&) = delete;

  // Recovers the lake (see above). Errors: the file system's (e.g. Unavailable when HDFS is
  // down), DataLoss when a manifest is corrupt.
  Status Open();
  // Starts the background thread (a second Start is a no-op).
  void Start();
  // Stops the thread, then commits every change published before the call. Returns the
  // error that kept it from doing so, if any. Idempotent.
  Status Stop();
  // Writes and commits everything the feed holds now, on the calling thread.
  Status CatchUp();
  // Waits until a commit covers change `seq`; Unavailable on timeout (with the last error).
  Status WaitForSequence(uint64_t seq, std::chrono::milliseconds timeout);

  LakeState state() const;
  Status status() const;

 private:
  struct OpenFile;
  Status Recover();
  // Stages at most one batch; commits when due (or when `force` and something is staged).
  Status Step(bool force, bool* progressed);
  Status StageChange(const store::Change& change);
  // Writes out every buffer of at least `min_bytes` (create or append).
  Status FlushBuffers(uint64_t min_bytes);
  Status Commit();
  void DiscardStaging();
  // The bucket count of the commit being staged (decided at its first new resource).
  int CommitBuckets();

  store::Store* const store_;
  FileSystem* const fs_;
  const LakeWriterOptions options_;

  // Writer state: touched only by the thread running Step (the background thread, or the
  // caller of CatchUp/Stop after the thread is joined).
  bool needs_recovery_ = true;
  uint64_t staged_seq_ = 0;  // last change staged (>= committed seq)
  uint64_t staged_bytes_ = 0;
  uint64_t buffered_bytes_ = 0;
  bool small_buffers_full_ = false;  // after writing the big buffers, half the memory is left
  uint64_t staged_changes_ = 0;
  uint64_t superseding_ = 0;
  std::vector<Bucketing> bucketing_;  // the latest manifest's
  uint64_t last_commit_changes_ = 0;  // the latest manifest's `changes`
  int commit_buckets_ = 0;            // of the commit being staged; 0: not decided yet
  json::LazyDoc first_doc_;           // version 1 of the change being staged
  std::chrono::steady_clock::time_point first_staged_;
  std::map<std::string, std::unique_ptr<OpenFile>> open_;  // by partition folder
  std::vector<std::unique_ptr<OpenFile>> closed_;          // rolled files of this commit
  std::set<std::string> made_dirs_;  // partition folders known to exist (no MKDIRS again)

  mutable std::mutex mu_;
  LakeState state_;               // GUARDED_BY(mu_)
  store::FeedFollower follower_;  // last member: its thread stops before the others go
};

}  // namespace medhub::lake
