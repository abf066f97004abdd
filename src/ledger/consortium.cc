#include "ledger/consortium.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "core/hash.h"
#include "core/time.h"
#include "ledger/entry.h"
#include "ledger/zk_client.h"

namespace medhub::ledger {
namespace {

constexpr std::string_view kProposalPrefix = "h-";

// "h-<20-digit height>-<10-digit sequence>" -> (height, sequence).
bool ParseProposalName(const std::string& name, uint64_t* height, uint64_t* seq) {
  if (name.size() != 2 + 20 + 1 + 10 || !name.starts_with(kProposalPrefix) || name[22] != '-') {
    return false;
  }
  auto parse = [](std::string_view text, uint64_t* v) {
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *v);
    return ec == std::errc() && p == text.data() + text.size();
  };
  return parse(std::string_view(name).substr(2, 20), height) &&
         parse(std::string_view(name).substr(23), seq);
}

std::string ProposalPrefix(uint64_t height) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%020llu-", static_cast<unsigned long long>(height));
  return std::string(kProposalPrefix) + digits;
}

}  // namespace

std::string SignedHeaderHex(const Block& block) {
  Result<std::string> header = EncodeBlockHeader(block.header);
  return ToHex(header.ok() ? *header : std::string()) +
         ToHex(SignatureBytes(block.proposer_signature));
}

Consortium::Consortium(Ledger* ledger, ConsortiumOptions options,
                       std::unique_ptr<EvidenceLog> evidence)
    : ledger_(ledger), options_(std::move(options)), evidence_(std::move(evidence)) {}

Result<std::unique_ptr<Consortium>> Consortium::Start(Ledger* ledger, ConsortiumOptions options) {
  if (options.zk_hosts.empty()) return Status::InvalidArgument("no ZooKeeper address given");
  const bool listed = std::any_of(options.members.begin(), options.members.end(),
                                  [&](const MemberInfo& m) { return m.name == ledger->member(); });
  if (!listed) {
    return Status::InvalidArgument("member '" + ledger->member() + "' is not in the members list");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<EvidenceLog> evidence, EvidenceLog::Open(options.evidence_file));
  std::unique_ptr<Consortium> c(new Consortium(ledger, std::move(options), std::move(evidence)));
  c->thread_ = std::thread([raw = c.get()] { raw->Run(); });
  return c;
}

Consortium::~Consortium() { Stop(); }

void Consortium::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::shared_ptr<ZkClient> closing;
  {
    std::lock_guard lock(mu_);
    closing = std::move(zk_);
  }
  // Closed outside mu_: closing delivers session events, whose callback takes mu_.
  closing.reset();
}

void Consortium::SetDeadline(std::chrono::steady_clock::time_point deadline) {
  {
    std::lock_guard lock(mu_);
    deadline_ = deadline;
  }
  changed_.notify_all();
}

bool Consortium::Waiting() const {
  return stopping_ || std::chrono::steady_clock::now() >= deadline_;
}

void Consortium::Log(std::string_view message) const {
  if (options_.log) {
    options_.log(message);
  } else {
    std::cerr << "medhub: consortium: " << message << std::endl;
  }
}

std::shared_ptr<ZkClient> Consortium::Session() const {
  std::lock_guard lock(mu_);
  return zk_;
}

Status Consortium::EnsureSession() {
  std::shared_ptr<ZkClient> zk = Session();
  if (zk != nullptr && !zk->expired()) return zk->WaitConnected(options_.retry_delay);
  if (zk != nullptr) Log("ZooKeeper session expired; starting a new one");
  ZkClientOptions zk_options;
  zk_options.hosts = options_.zk_hosts;
  zk_options.session_timeout_ms = options_.session_timeout_ms;
  zk_options.on_event = [this] {
    {
      std::lock_guard lock(mu_);
      event_ = true;
    }
    changed_.notify_all();
  };
  ASSIGN_OR_RETURN(std::unique_ptr<ZkClient> fresh, ZkClient::Connect(std::move(zk_options)));
  zk = std::move(fresh);
  std::shared_ptr<ZkClient> expired;
  {
    std::lock_guard lock(mu_);
    expired = std::exchange(zk_, zk);
  }
  expired.reset();  // outside mu_, as in Stop()
  RETURN_IF_ERROR(zk->WaitConnected(std::chrono::milliseconds(options_.session_timeout_ms)));
  RETURN_IF_ERROR(zk->EnsurePath(ProposalsPath()));
  return zk->EnsurePath(options_.root + "/heads");
}

void Consortium::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    event_ = false;
    lock.unlock();
    Status s = EnsureSession();
    if (s.ok()) s = FollowOnce();
    if (s.ok()) s = ExchangeHeads();
    if (!s.ok() && s.ToString() != last_error_) Log(s.ToString() + " (retrying)");
    last_error_ = s.ok() ? "" : s.ToString();
    lock.lock();
    changed_.wait_for(lock, s.ok() ? options_.poll : options_.retry_delay,
                      [this] { return stopping_ || event_; });
  }
}

Status Consortium::FollowOnce() {
  std::shared_ptr<ZkClient> zk = Session();
  ASSIGN_OR_RETURN(std::vector<std::string> names, zk->Children(ProposalsPath(), true));
  std::vector<Proposal> proposals;
  for (std::string& name : names) {
    Proposal p;
    if (ParseProposalName(name, &p.height, &p.seq)) {
      p.name = std::move(name);
      proposals.push_back(std::move(p));
    }
  }
  std::sort(proposals.begin(), proposals.end(),
            [](const Proposal& a, const Proposal& b) { return a.seq < b.seq; });
  const uint64_t start_height = ledger_->height();
  for (const Proposal& p : proposals) {
    if (static_cast<int64_t>(p.seq) <= cursor_) continue;
    // On the first listing, what lies below our height was decided before we started.
    if (!listed_once_ && p.height < start_height) {
      cursor_ = static_cast<int64_t>(p.seq);
      continue;
    }
    bool decided = false;
    RETURN_IF_ERROR(Process(p, &decided));
    if (!decided) {
      listed_once_ = true;
      std::lock_guard lock(mu_);
      caught_up_ = false;
      return Status::Ok();
    }
    cursor_ = static_cast<int64_t>(p.seq);
  }
  listed_once_ = true;
  {
    std::lock_guard lock(mu_);
    caught_up_ = true;
  }
  changed_.notify_all();
  if (ledger_->height() == 0 && !genesis_proposed_) return ProposeGenesis();
  return Status::Ok();
}

Status Consortium::ProposeGenesis() {
  ASSIGN_OR_RETURN(Block block, ledger_->ProposeGenesis(options_.members));
  ASSIGN_OR_RETURN(const std::string bytes, EncodeBlock(block));
  ASSIGN_OR_RETURN(const std::string path,
                   Session()->Create(ProposalsPath() + "/" + ProposalPrefix(0), bytes, true));
  genesis_proposed_ = true;
  Log("proposed block 0 as " + path);
  return Status::Ok();
}

Status Consortium::Process(const Proposal& p, bool* decided) {
  *decided = true;
  const std::string path = ProposalsPath() + "/" + p.name;
  ASSIGN_OR_RETURN(const std::string bytes, Session()->Get(path, false));
  Result<Block> block = DecodeBlock(bytes);
  Result<Hash> hash = block.ok() ? BlockHash(block->header) : Result<Hash>(block.status());
  if (!hash.ok()) {
    Log("skipping " + p.name + ": " + hash.status().ToString());
    return Status::Ok();
  }
  NoteSigned(*block, *hash);
  const uint64_t height = ledger_->height();
  if (block->header.height != p.height || p.height != height ||
      (height == 0 && !IsConsortiumGenesis(*block))) {
    if (p.height >= height) Reject(*hash);
    return Status::Ok();
  }
  Result<CheckedBlock> checked = ledger_->CheckProposal(std::move(block).value());
  if (!checked.ok()) {
    Log("skipping " + p.name + ": " + checked.status().ToString());
    Reject(*hash);
    return Status::Ok();
  }
  return Decide(path, std::move(checked).value(), *hash, decided);
}

// Endorses the valid proposal at `path` and appends it once a majority endorsed it.
Status Consortium::Decide(const std::string& path, CheckedBlock checked, const Hash& hash,
                          bool* decided) {
  Block& block = checked.block;
  std::shared_ptr<ZkClient> zk = Session();
  const std::string& me = ledger_->member();
  ASSIGN_OR_RETURN(const Signature mine, ledger_->Endorse(hash));
  Result<std::string> made = zk->Create(path + "/" + me, SignatureBytes(mine), false);
  if (!made.ok() && made.status().code() != StatusCode::kAlreadyExists) return made.status();
  ASSIGN_OR_RETURN(const std::vector<std::string> endorsers, zk->Children(path, true));
  std::set<std::string> have;
  for (const Endorsement& e : block.endorsements) have.insert(e.member);
  const std::string message = EndorsementMessage(hash);
  for (const std::string& name : endorsers) {
    // Block 0's members are those it adds: only its proposer's endorsement can count (rule 5).
    if (block.header.height == 0) break;
    if (have.count(name) != 0) continue;
    Result<PublicKey> key = KeyFor(name);
    if (!key.ok()) continue;
    Signature sig{};
    if (name == me) {
      sig = mine;
    } else {
      ASSIGN_OR_RETURN(const std::string raw, zk->Get(path + "/" + name, false));
      if (raw.size() != sig.size()) continue;
      std::memcpy(sig.data(), raw.data(), sig.size());
    }
    if (!key->Verify(message, sig).ok()) continue;
    block.endorsements.push_back({name, sig});
    have.insert(name);
  }
  if (block.endorsements.size() < ledger_->EndorsementsNeeded()) {
    *decided = false;
    return Status::Ok();
  }
  std::sort(block.endorsements.begin(), block.endorsements.end(),
            [](const Endorsement& a, const Endorsement& b) { return a.member < b.member; });
  RETURN_IF_ERROR(ledger_->AppendChecked(std::move(checked)).status());
  changed_.notify_all();
  return Status::Ok();
}

Result<PublicKey> Consortium::KeyFor(std::string_view member) const {
  Result<PublicKey> on_ledger = ledger_->MemberKey(member);
  if (on_ledger.ok()) return on_ledger;
  for (const MemberInfo& m : options_.members) {
    if (m.name == member) return m.public_key;
  }
  return Status::NotFound("'" + std::string(member) + "' is not a member");
}

bool Consortium::IsConsortiumGenesis(const Block& block) const {
  if (block.entries.size() != options_.members.size()) return false;
  std::set<std::string> seen;
  for (const std::string& bytes : block.entries) {
    Result<Entry> entry = DecodeEntry(bytes);
    const auto* added = entry.ok() ? std::get_if<MemberAdded>(&*entry) : nullptr;
    if (added == nullptr) return false;
    const auto it = std::find_if(options_.members.begin(), options_.members.end(),
                                 [&](const MemberInfo& m) { return m.name == added->name; });
    if (it == options_.members.end() || it->public_key.Raw() != added->public_key) return false;
    if (!seen.insert(added->name).second) return false;
  }
  return true;
}

void Consortium::Reject(const Hash& hash) {
  {
    std::lock_guard lock(mu_);
    rejected_.insert(hash);
  }
  changed_.notify_all();
}

Result<uint64_t> Consortium::Append(std::vector<Entry> entries, uint64_t last_seq) {
  for (;;) {
    if (ledger_->last_seq() >= last_seq) return ledger_->height() - 1;
    {
      std::unique_lock lock(mu_);
      // Block 0 first, and nothing undecided: only then is the head ours to build on.
      auto ready = [this] { return caught_up_ && ledger_->height() > 0; };
      changed_.wait_for(lock, options_.poll, [&] { return ready() || Waiting(); });
      if (Waiting()) return Status::Unavailable("the consortium is stopping");
      if (!ready()) continue;
    }
    ASSIGN_OR_RETURN(Block block, ledger_->Propose(entries, last_seq));
    ASSIGN_OR_RETURN(const Hash hash, BlockHash(block.header));
    ASSIGN_OR_RETURN(const std::string bytes, EncodeBlock(block));
    const std::string prefix = ProposalsPath() + "/" + ProposalPrefix(block.header.height);
    // Retried with the same bytes: a copy written twice is one block, skipped the second time.
    for (;;) {
      std::shared_ptr<ZkClient> zk = Session();
      Status s = zk == nullptr ? Status::Unavailable("not connected to ZooKeeper")
                               : zk->Create(prefix, bytes, true).status();
      if (s.ok()) break;
      std::unique_lock lock(mu_);
      if (Waiting()) return Status::Unavailable("the consortium is stopping: " + s.message());
      changed_.wait_for(lock, options_.retry_delay, [this] { return Waiting(); });
    }
    std::unique_lock lock(mu_);
    while (ledger_->height() <= block.header.height && rejected_.count(hash) == 0) {
      if (Waiting()) return Status::Unavailable("the consortium is stopping");
      changed_.wait_for(lock, options_.poll);
    }
    rejected_.erase(hash);
  }
}

}  // namespace medhub::ledger
