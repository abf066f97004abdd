// BlockFile: the append-only file that holds the ledger's blocks (DATA/ledger/blocks.log).
//
// The file is a sequence of records, one per block, in height order:
//   [length: u32 big-endian][SHA-256 of the payload: 32 bytes][payload: `length` bytes]
// where the payload is an encoded block (block.h). docs/formats/ledger.md ("The blocks
// file") describes it.
//
// Contract:
// - Append() returns only once the record is durable (written and fdatasync'ed); a failed
//   append truncates the file back, and if even that fails the file refuses further
//   appends (Internal) rather than write after garbage.
// - Open() reads every record from the start and hands each payload to a visitor. A final
//   record cut short (its header incomplete, or its length running past the end of the
//   file), which is what a crash during an append leaves, is handled by the TornTail
//   policy; a read-only open beside an active writer ignores it (an append in progress
//   looks the same). Every other fault is DataLoss naming the block height (the record's index)
//   and byte offset, and is never repaired: a checksum mismatch, an impossible length, or
//   an error the visitor returns.
// - One writer per file: a writable open takes an exclusive flock() and fails with
//   Unavailable when another process holds it. A read-only open takes no lock; it notes
//   whether a writer is active (writer_active()).
//
// Thread-safety: Read() may run concurrently with everything; Append() calls must be
// serialized by the caller.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/status.h"

namespace medhub::ledger {

inline constexpr size_t kRecordHeaderSize = 4 + 32;
// No block encodes to more than this (kMaxBlockEntries entries of the largest kind).
inline constexpr uint32_t kMaxRecordBytes = 64u << 20;

enum class TornTail {
  kTruncate,  // cut it off, fsync and log (a writable open after a crash)
  kFail,      // DataLoss naming the block (`medhub ledger verify`)
  kIgnore,    // read up to it and leave the file alone (a reader beside an active writer)
};

struct BlockFileOptions {
  bool read_only = false;
  TornTail torn_tail = TornTail::kTruncate;  // kTruncate needs a writable open
  // Receives notes about recovery (a truncated tail); defaults to stderr.
  std::function<void(std::string_view)> log;
};

class BlockFile {
 public:
  // Called for each record in order: its index (the block height), byte offset and
  // payload. A non-OK status stops the scan and fails Open (as DataLoss, prefixed with
  // the block and offset).
  using Visitor = std::function<Status(uint64_t index, uint64_t offset, std::string_view payload)>;

  // Opens (a writable open creates it, mode 0600) and scans the file. Errors: DataLoss as
  // above; Unavailable when locked by another writer or on I/O errors; NotFound when a
  // read-only open finds no file.
  static Result<std::unique_ptr<BlockFile>> Open(const std::string& path,
                                                 const BlockFileOptions& options,
                                                 const Visitor& visit);
  ~BlockFile();
  BlockFile(const BlockFile&) = delete;
  BlockFile& operator=(const BlockFile&) = delete;

  // Appends one record and makes it durable; returns its byte offset.
  // FailedPrecondition when read-only; Unavailable on I/O errors (the file is unchanged).
  Result<uint64_t> Append(std::string_view payload);
  // The payload of the record at `offset` (one Open or Append reported), checksum checked:
  // DataLoss when it does not match.
  Result<std::string> Read(uint64_t offset) const;

  // Bytes of complete records.
  uint64_t size() const { return end_; }
  // Read-only opens: another process held the writer's lock when the file was opened.
  bool writer_active() const { return writer_active_; }

 private:
  BlockFile(int fd, std::string path, bool read_only)
      : fd_(fd), path_(std::move(path)), read_only_(read_only) {}
  Status Scan(const BlockFileOptions& options, uint64_t file_size, const Visitor& visit);
  Status HandleTornTail(const BlockFileOptions& options, uint64_t index, uint64_t offset,
                        const std::string& what);

  int fd_;
  std::string path_;
  bool read_only_;
  bool writer_active_ = false;
  bool broken_ = false;  // a failed append could not be undone
  uint64_t end_ = 0;     // end of the last complete record
};

}  // namespace medhub::ledger
