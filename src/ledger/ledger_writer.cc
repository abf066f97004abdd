#include "ledger/ledger_writer.h"

#include <algorithm>
#include <iostream>
#include <utility>
#include <vector>

#include "core/hash.h"

namespace medhub::ledger {

LedgerWriter::LedgerWriter(store::Store* store, Ledger* ledger, LedgerWriterOptions options)
    : store_(store), ledger_(ledger), options_(std::move(options)) {}

LedgerWriter::~LedgerWriter() { (void)Stop(); }

void LedgerWriter::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

Status LedgerWriter::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!thread_.joinable()) return status_;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  // The thread has exited; drain what was published before Stop() here.
  return CatchUp();
}

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

Status LedgerWriter::CatchUp() {
  for (;;) {
    bool appended = false;
    const Status s = Step(&appended);
    SetStatus(s);
    if (!s.ok() || !appended) return s;
  }
}

void LedgerWriter::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    bool appended = false;
    const Status s = Step(&appended);
    if (!s.ok()) Log(s.ToString());
    SetStatus(s);
    lock.lock();
    if (appended) continue;
    wake_.wait_for(lock, s.ok() ? options_.idle_poll : options_.retry_delay,
                   [this] { return stopping_; });
  }
}

void LedgerWriter::Log(std::string_view message) const {
  if (options_.log) {
    options_.log(message);
  } else {
    std::cerr << "medhub: ledger writer: " << message << "\n";
  }
}

void LedgerWriter::SetStatus(const Status& s) {
  {
    std::lock_guard lock(mu_);
    status_ = s;
  }
  progress_.notify_all();
}

Status LedgerWriter::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

Status LedgerWriter::WaitForSequence(uint64_t seq, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  while (ledger_->last_seq() < seq) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      const std::string why = status_.ok() ? "" : " (" + status_.ToString() + ")";
      return Status::Unavailable("change " + std::to_string(seq) + " is not on the ledger yet" +
                                 why);
    }
    // Appends by CatchUp() on another thread also notify; the slice bounds any miss.
    progress_.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(20)));
  }
  return Status::Ok();
}

}  // namespace medhub::ledger
