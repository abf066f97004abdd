#include "ledger/ledger_writer.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "core/hash.h"

namespace medhub::ledger {

LedgerWriter::LedgerWriter(store::Store* store, Ledger* ledger, LedgerWriterOptions options)
    : store_(store),
      ledger_(ledger),
      options_(std::move(options)),
      follower_([this](bool, bool* progressed) { return Step(progressed); },
                [this] { return ledger_->last_seq(); }, options_.follow) {}

LedgerWriter::~LedgerWriter() { (void)Stop(); }

void LedgerWriter::Start() { follower_.Start(); }

Status LedgerWriter::Stop() { return follower_.Stop(); }

Status LedgerWriter::CatchUp() { return follower_.CatchUp(); }

Status LedgerWriter::WaitForSequence(uint64_t seq, std::chrono::milliseconds timeout) {
  return follower_.WaitForSequence(seq, timeout, "on the ledger");
}

Status LedgerWriter::status() const { return follower_.status(); }

Status LedgerWriter::Step(bool* appended) {
  *appended = false;
  const size_t limit = std::clamp<size_t>(options_.max_block_entries, 1, kMaxBlockEntries);
  ASSIGN_OR_RETURN(std::vector<store::Change> changes,
                   store_->ChangesSince(ledger_->last_seq(), limit));
  if (changes.empty()) return Status::Ok();
  std::vector<Entry> entries;
  entries.reserve(changes.size());
  uint64_t last_seq = 0;
  for (const store::Change& c : changes) {
    // An AuditEvent also gets an AccessLogged entry (the hash of its stored bytes).
    const bool audit = c.type == "AuditEvent" && !c.deleted;
    if (!entries.empty() && entries.size() + (audit ? 2 : 1) > limit) break;
    Result<store::StoredResource> version = store_->ReadVersion(c.type, c.id, c.version);
    if (!version.ok()) {
      return version.status().WithPrefix("reading change " + std::to_string(c.seq) + " (" +
                                         RecordName(c.type, c.id, c.version) + ")");
    }
    ASSIGN_OR_RETURN(Entry entry, MakeRecordEntry(*version, ledger_->member()));
    entries.push_back(std::move(entry));
    if (audit)
      entries.push_back(AccessLogged{std::string(ledger_->member()), Sha256(version->json)});
    last_seq = c.seq;
  }
  RETURN_IF_ERROR((options_.append ? options_.append(std::move(entries), last_seq)
                                   : ledger_->Append(std::move(entries), last_seq))
                      .status());
  *appended = true;
  return Status::Ok();
}

}  // namespace medhub::ledger
