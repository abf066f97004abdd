// EvidenceLog: proof that a member signed two conflicting statements, kept durably.
//
// Two kinds (docs/formats/ledger.md, "Evidence"):
//   "block"      two different blocks at one height, both carrying the member's valid
//                proposer signature;
//   "tree_head"  two signed tree heads of one member for one tree size with different
//                roots (or a head whose root differs from the log this member holds).
// Each record keeps both signed statements (hex of their canonical bytes with the
// signature), so anyone with the member's public key can check it. Records are appended as
// JSON lines to DATA/ledger/evidence.jsonl and fsynced before Add returns; the same pair is
// recorded once.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace medhub::ledger {

inline constexpr char kEvidenceFile[] = "evidence.jsonl";

struct EvidenceRecord {
  std::string kind;       // "block" or "tree_head"
  std::string member;     // the member that signed both
  uint64_t position = 0;  // the height ("block") or tree size ("tree_head")
  std::string first;      // hex of the first signed statement
  std::string second;     // hex of the second
  std::string reporter;   // the member that detected it
  int64_t detected_us = 0;
  std::string note;
};

class EvidenceLog {
 public:
  // Opens (creating when absent) the file at `path` and loads its records. DataLoss for a
  // line that is not a record; Unavailable on I/O errors.
  static Result<std::unique_ptr<EvidenceLog>> Open(const std::string& path);

  // Appends `record` unless the same (kind, member, first, second) is known; sets *added.
  Status Add(const EvidenceRecord& record, bool* added);
  std::vector<EvidenceRecord> All() const;

 private:
  explicit EvidenceLog(std::string path) : path_(std::move(path)) {}
  static std::string KeyOf(const EvidenceRecord& r);

  const std::string path_;
  mutable std::mutex mu_;
  std::vector<EvidenceRecord> records_;  // GUARDED_BY(mu_)
  std::set<std::string> keys_;           // GUARDED_BY(mu_)
};

}  // namespace medhub::ledger
