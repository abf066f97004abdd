#include "ledger/verify.h"

#include <string>
#include <vector>

namespace medhub::ledger {
namespace {

constexpr size_t kChangesPage = 4096;

std::string BlockWhere(const Ledger& ledger, uint64_t height) {
  Result<BlockLocation> location = ledger.Location(height);
  return "block " + std::to_string(height) +
         (location.ok() ? " at byte offset " + std::to_string(location->offset) : "");
}

// The stored version named by record entry `r` (leaf `leaf`) matches the entry.
// A version whose patient was erased (its data key destroyed) counts as erased, not as
// tampering: the ledger keeps only its commitment.
Status CheckRecordVersion(const RecordFields& r, uint64_t leaf, store::Store* store,
                          VerifyReport* report) {
  const std::string name = "record " + RecordName(r.type, r.id, r.version);
  const std::string where = " (leaf " + std::to_string(leaf) + ")";
  Result<store::StoredResource> version = store->ReadVersion(r.type, r.id, r.version);
  if (version.status().code() == StatusCode::kGone) {
    ++report->erased;
    return Status::Ok();
  }
  if (version.status().code() == StatusCode::kNotFound) {
    return Status::DataLoss(name + where + " is on the ledger but missing from the store");
  }
  if (!version.ok()) return version.status().WithPrefix(name);
  if (version->seq != r.seq || version->deleted != r.deleted) {
    return Status::DataLoss(name + where +
                            ": the store's sequence number or delete flag differs from the "
                            "ledger's");
  }
  Result<Hash> commitment = RecordCommitment(version->salt, version->json, version->deleted);
  if (!commitment.ok())
    return Status::DataLoss(name + where + ": " + commitment.status().message());
  if (*commitment != r.commitment) {
    return Status::DataLoss(name + where +
                            ": the stored version does not match its commitment on the ledger");
  }
  return Status::Ok();
}

// Every record entry of this member against the store. Entries past `store_last` are
// skipped when a writer is active (the store was opened before them).
Status CheckRecords(const Ledger& ledger, store::Store* store, uint64_t store_last,
                    VerifyReport* report) {
  for (uint64_t height = 0; height < report->blocks; ++height) {
    Result<Block> block = ledger.ReadBlock(height);
    if (!block.ok()) return block.status().WithPrefix(BlockWhere(ledger, height));
    for (size_t i = 0; i < block->entries.size(); ++i) {
      Result<Entry> entry = DecodeEntry(block->entries[i]);
      if (!entry.ok()) return entry.status().WithPrefix(BlockWhere(ledger, height));
      const RecordFields* r = AsRecord(*entry);
      if (r == nullptr || r->institution != ledger.member()) continue;
      if (report->writer_active && r->seq > store_last) continue;
      RETURN_IF_ERROR(CheckRecordVersion(*r, block->header.first_leaf + i, store, report));
      ++report->records;
    }
  }
  return Status::Ok();
}

// Every change of the store's feed has its entry.
Status CheckChanges(const Ledger& ledger, store::Store* store, VerifyReport* report) {
  const uint64_t covered = ledger.last_seq();
  for (uint64_t after = 0;;) {
    ASSIGN_OR_RETURN(const std::vector<store::Change> changes,
                     store->ChangesSince(after, kChangesPage));
    if (changes.empty()) break;
    for (const store::Change& c : changes) {
      if (c.seq > covered) {
        ++report->pending;
        continue;
      }
      if (!ledger.LookupLeaf(c.type, c.id, c.version).ok()) {
        return Status::DataLoss("record " + RecordName(c.type, c.id, c.version) + " (change " +
                                std::to_string(c.seq) + ") is in the store but not on the ledger");
      }
      ++report->changes;
    }
    after = changes.back().seq;
  }
  if (report->pending > 0 && !report->writer_active) {
    return Status::FailedPrecondition(
        std::to_string(report->pending) + " store changes after sequence number " +
        std::to_string(covered) + " are not on the ledger yet (`medhub serve` commits them)");
  }
  if (!report->writer_active && report->changes != report->records) {
    return Status::DataLoss("the ledger holds " + std::to_string(report->records) +
                            " record entries but the store's change feed " +
                            std::to_string(report->changes) + " changes");
  }
  return Status::Ok();
}

}  // namespace

Result<VerifyReport> VerifyLedger(LedgerOptions options, store::Store* store) {
  options.read_only = true;
  options.torn_tail = TornTail::kFail;
  const uint64_t store_last = store->LastSequence();
  ASSIGN_OR_RETURN(const std::unique_ptr<Ledger> ledger, Ledger::Open(options));
  VerifyReport report;
  report.writer_active = ledger->writer_active();
  report.blocks = ledger->height();
  report.entries = ledger->tree_size();
  report.head = ledger->Head();
  report.public_key_hex = ledger->public_key().Hex();
  RETURN_IF_ERROR(VerifyTreeHead(report.head, ledger->public_key()).WithPrefix("tree head"));
  RETURN_IF_ERROR(CheckRecords(*ledger, store, store_last, &report));
  RETURN_IF_ERROR(CheckChanges(*ledger, store, &report));
  return report;
}

}  // namespace medhub::ledger
