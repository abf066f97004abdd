// The device simulator's store-and-forward spool: an append-only text file that keeps
// every generated reading until it is acknowledged (docs/formats/ingest.md, "Spool").
//
//   R <device> <seq> <reading JSON>\n   a reading, made durable (Sync) before it is sent
//   A <device> <seq>\n                  acknowledged: stored, duplicate or rejected
//   N <device> <next seq>\n             written by compaction: the device's next seq
//
// Open() replays the file: pending = R lines without a later A line; a last line without
// its '\n' (a torn write) is cut off. Compact() rewrites the file with only the pending
// readings and the N lines (temp file, fsync, rename), so the file does not grow forever.
// Losing an A line (written without fsync) only makes a reading be sent again, which the
// server reports as a duplicate.
//
// Thread-safe: all calls lock one mutex.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace medhub::ingest {

class Spool {
 public:
  // Opens (creating) DIR/spool.log. Errors: Unavailable on I/O errors, DataLoss when a
  // complete line is malformed.
  static Result<std::unique_ptr<Spool>> Open(const std::string& dir);
  ~Spool();

  // The next sequence number of `device` (0 for a new device), and reserves it.
  uint64_t NextSeq(const std::string& device);
  // Appends a reading (not yet durable until Sync()).
  Status Add(const std::string& device, uint64_t seq, std::string_view reading_json);
  // fdatasync: every Add() before it is on disk.
  Status Sync();
  // Marks readings acknowledged (buffered; flushed by the next Sync or Compact); returns
  // how many of them were still pending.
  Result<size_t> Ack(const std::string& device, const std::vector<uint64_t>& seqs);
  // The pending readings of `device`, by seq.
  std::map<uint64_t, std::string> Pending(const std::string& device);
  size_t PendingCount();
  // Rewrites the file with only what is pending. Errors: Unavailable.
  Status Compact();

 private:
  Spool(std::string dir, std::FILE* file);
  Status Replay(std::string_view content);
  Status Write(std::string_view line);

  std::mutex mu_;
  std::string dir_;
  std::FILE* file_;                                                 // GUARDED_BY(mu_)
  std::map<std::string, std::map<uint64_t, std::string>> pending_;  // GUARDED_BY(mu_)
  std::map<std::string, uint64_t> next_seq_;                        // GUARDED_BY(mu_)
};

}  // namespace medhub::ingest
