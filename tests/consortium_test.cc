// A ledger consortium of three real `medhub serve` members ordered by a real ZooKeeper on
// loopback (deploy/zookeeper/start.sh): writes to every member end in one log that all
// three hold; a member killed with SIGKILL mid-stream catches up on restart; appends wait
// while ZooKeeper is down and none is lost; a member that signs two blocks at one height is
// reported by the others.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/ids.h"
#include "core/json.h"
#include "ledger/block.h"
#include "ledger/member_files.h"
#include "ledger/tree_head.h"
#include "ledger/zk_client.h"
#include "support/http_client.h"
#include "support/process.h"

namespace medhub {
namespace {

using testing::ChildProcess;
using testing::HttpClient;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kDeploy = std::string(MEDHUB_SOURCE_DIR) + "/deploy/zookeeper/";

// Runs a shell command and returns its stdout (trimmed).
std::string Shell(const std::string& command) {
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return "";
  std::string out;
  char buf[256];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// A standalone ZooKeeper in `dir`, stopped when the object goes.
class ZooKeeper {
 public:
  explicit ZooKeeper(std::string dir) : dir_(std::move(dir)) { Start(""); }
  ~ZooKeeper() { Stop(); }
  void Start(const std::string& port) {
    address_ = Shell(kDeploy + "start.sh " + dir_ + " " + port);
  }
  void Stop() { Shell(kDeploy + "stop.sh " + dir_); }
  void Restart() { Start(address_.substr(address_.find(':') + 1)); }
  const std::string& address() const { return address_; }

 private:
  std::string dir_;
  std::string address_;
};

struct Head {
  uint64_t tree_size = 0;
  std::string root;
};

class Member {
 public:
  Member(std::string name, const fs::path& dir) : name_(std::move(name)), dir_(dir / name_) {
    fs::create_directories(dir_);
  }
  // Writes the member key; returns the members-file line.
  std::string Keygen() {
    ChildProcess p({MEDHUB_BINARY, "ledger", "keygen", "--out", key_file(), "--member", name_});
    std::string line = p.ReadLineContaining("public_key", 30s);
    p.Wait(30s);
    return line;
  }
  // Creates the OAuth client the test writes and counts with: a system-to-system client of
  // the member's organization (the policy lets it create Patients and read the history and
  // the audit trail, which a practitioner may not).
  void AddClient() {
    ChildProcess p({MEDHUB_BINARY, "client", "add", "--data", (dir_ / "data").string(),
                    "--client-id", "writer", "--role", "service", "--org", "org-" + name_,
                    "--scope", "system/*.*"});
    const std::string line = p.ReadLineContaining("client_secret:", 30s);
    secret_ = line.substr(line.find(':') + 1);
    while (!secret_.empty() && (secret_.front() == ' ')) secret_.erase(0, 1);
    while (!secret_.empty() && (secret_.back() == '\n' || secret_.back() == '\r'))
      secret_.pop_back();
    p.Wait(30s);
  }
  void Start(const std::string& zk, const std::string& members_file) {
    if (secret_.empty()) AddClient();
    process_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        MEDHUB_BINARY, "serve", "--data", (dir_ / "data").string(), "--port", "0", "--ledger-zk",
        zk, "--member", name_, "--member-key", key_file(), "--members", members_file});
    const std::string line = process_->ReadLineContaining("listening on", 60s);
    port_ = static_cast<uint16_t>(testing::PortFromListeningLine(line));
    HttpClient c("127.0.0.1", port_);
    const auto r = c.Send("POST", "/auth/token",
                          "grant_type=client_credentials&client_id=writer&client_secret=" + secret_,
                          {{"Content-Type", "application/x-www-form-urlencoded"}});
    const auto doc = json::Parse(r.body);
    token_ = doc.ok() ? std::string(doc->get_string("access_token")) : "";
  }
  void Kill() {
    process_->Signal(SIGKILL);
    process_->Wait(30s);
    process_.reset();
  }
  void Terminate() {
    if (!process_) return;
    process_->Signal(SIGTERM);
    EXPECT_EQ(process_->Wait(60s), 0) << name_ << " did not stop cleanly";
    process_.reset();
  }
  // POSTs `n` Patients; returns how many were acknowledged (201).
  int Write(int n) {
    HttpClient c("127.0.0.1", port_);
    int ok = 0;
    for (int i = 0; i < n; ++i) {
      const auto r =
          c.Send("POST", "/fhir/Patient", R"({"resourceType":"Patient","gender":"other"})",
                 {{"Content-Type", "application/fhir+json"}, Bearer()});
      if (r.status == 201) ++ok;
      if (r.status == 0) break;
    }
    return ok;
  }
  // The number of Patients the member's store holds (each one version).
  uint64_t StoredPatients() { return Total("/fhir/Patient?_summary=count"); }
  // The number of ledger entries this member's store accounts for, once the requests made
  // so far are ordered: one RecordCommitted per stored version (its change feed) plus one
  // AccessLogged per AuditEvent version. Every /fhir request, these two included, stores
  // one AuditEvent; a request that reads the audit trail or the system history first sees
  // every AuditEvent recorded before it. So with A AuditEvents before the first request
  // and H versions before the second (the first one's AuditEvent among them), the store
  // ends with H + 1 versions of which A + 2 are AuditEvents: H + A + 3 entries. The caller
  // sends no further /fhir request to this member before the log is compared.
  uint64_t LedgerEntriesOfStore() {
    const uint64_t audit_events = Total("/fhir/AuditEvent/_history?_count=0");
    const uint64_t versions = Total("/fhir/_history?_count=0");
    EXPECT_GT(audit_events, 0u) << name_ << ": no AuditEvent for the requests sent";
    EXPECT_GT(versions, audit_events) << name_;
    return versions + audit_events + 3;
  }
  // Bundle.total of a GET on /fhir (0 if the request failed).
  uint64_t Total(const std::string& target) {
    HttpClient c("127.0.0.1", port_);
    const auto r = c.Send("GET", target, "", {Bearer()});
    const auto doc = json::Parse(r.body);
    EXPECT_EQ(r.status, 200) << name_ << " " << target << ": " << r.body;
    if (r.status != 200 || !doc.ok() || !doc->find("total")) return 0;
    return static_cast<uint64_t>(doc->find("total")->as_int().value_or(0));
  }
  Head LedgerHead() {
    HttpClient c("127.0.0.1", port_);
    const auto r = c.Get("/ledger/head");
    const auto doc = json::Parse(r.body);
    if (r.status != 200 || !doc.ok()) return {};
    return {static_cast<uint64_t>(doc->find("tree_size")->as_int().value_or(0)),
            std::string(doc->get_string("root"))};
  }
  std::string Get(const std::string& target) {
    HttpClient c("127.0.0.1", port_);
    return c.Get(target).body;
  }
  std::pair<std::string, std::string> Bearer() const {
    return {"Authorization", "Bearer " + token_};
  }
  const std::string& token() const { return token_; }
  std::string key_file() const { return (dir_ / "member.pem").string(); }
  const fs::path& dir() const { return dir_; }
  uint16_t port() const { return port_; }

 private:
  std::string name_;
  fs::path dir_;
  std::unique_ptr<ChildProcess> process_;
  uint16_t port_ = 0;
  std::string secret_;
  std::string token_;
};

class ConsortiumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("medhub-consortium-" + NewId());
    fs::create_directories(dir_);
    zk_ = std::make_unique<ZooKeeper>((dir_ / "zk").string());
    ASSERT_NE(zk_->address().find("127.0.0.1:"), std::string::npos) << "ZooKeeper did not start";
    std::string lines;
    for (const char* name : {"hospital-a", "hospital-b", "clinic-c"}) {
      members_.push_back(std::make_unique<Member>(name, dir_));
      lines += (lines.empty() ? "" : ",") + members_.back()->Keygen();
    }
    members_file_ = (dir_ / "members.json").string();
    std::ofstream(members_file_) << R"({"members":[)" << lines << "]}\n";
    for (auto& m : members_) {
      m->Start(zk_->address(), members_file_);
      ASSERT_NE(m->port(), 0);
      ASSERT_FALSE(m->token().empty()) << "no access token";
    }
  }
  void TearDown() override {
    for (auto& m : members_) m->Terminate();
    zk_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // Waits until every member's head has `size` entries and all roots agree.
  bool WaitForAgreement(uint64_t size) {
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    while (std::chrono::steady_clock::now() < deadline) {
      const Head first = members_[0]->LedgerHead();
      bool agree = first.tree_size == size;
      for (auto& m : members_) {
        const Head h = m->LedgerHead();
        agree = agree && h.tree_size == first.tree_size && h.root == first.root;
      }
      if (agree) return true;
      std::this_thread::sleep_for(100ms);
    }
    for (auto& m : members_) {
      const Head h = m->LedgerHead();
      ADD_FAILURE() << "head " << h.tree_size << " " << h.root << " (want " << size << ")";
    }
    return false;
  }
  // The Patients the three stores hold.
  uint64_t StoredPatients() {
    uint64_t n = 0;
    for (auto& m : members_) n += m->StoredPatients();
    return n;
  }
  // The size the log must reach once every write is ordered: 3 MemberAdded entries at
  // genesis plus the entries each member's store accounts for. Sends the last /fhir
  // requests: call it after the writes, right before WaitForAgreement.
  uint64_t ExpectedSize() {
    uint64_t size = 3;
    for (auto& m : members_) size += m->LedgerEntriesOfStore();
    return size;
  }

  fs::path dir_;
  std::unique_ptr<ZooKeeper> zk_;
  std::vector<std::unique_ptr<Member>> members_;
  std::string members_file_;
};

TEST_F(ConsortiumTest, WritesToAllThreeMembersEndInOneLogThatEveryMemberHolds) {
  std::vector<std::thread> writers;
  std::atomic<int> acked{0};
  for (auto& m : members_) writers.emplace_back([&, p = m.get()] { acked += p->Write(40); });
  for (auto& t : writers) t.join();
  EXPECT_EQ(acked.load(), 120);
  EXPECT_EQ(StoredPatients(), 120u);
  // 3 + 120 Patients + 120 writes' and 3 counts' AuditEvents (2 entries each) at least.
  const uint64_t expected = ExpectedSize();
  EXPECT_GE(expected, 3u + 120 + 2 * 123);
  EXPECT_TRUE(WaitForAgreement(expected));
}

TEST_F(ConsortiumTest, AMemberKilledMidStreamCatchesUpOnRestartAndAllHeadsAgree) {
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  std::vector<std::thread> writers;
  for (auto& m : members_) {
    writers.emplace_back([&, p = m.get()] {
      while (!stop) {
        const int n = p->Write(5);
        acked += n;
        if (n == 0) return;  // the member is gone
      }
    });
  }
  std::this_thread::sleep_for(1s);
  members_[1]->Kill();
  std::this_thread::sleep_for(1s);
  stop = true;
  for (auto& t : writers) t.join();
  members_[1]->Start(zk_->address(), members_file_);
  EXPECT_EQ(members_[1]->Write(10), 10);
  EXPECT_GE(StoredPatients(), acked.load() + 10u);  // every acknowledged write is stored
  const uint64_t expected = ExpectedSize();
  EXPECT_GE(expected, 3u + 3 * (acked.load() + 10u));  // a version and an AuditEvent each
  EXPECT_TRUE(WaitForAgreement(expected));
  // The restarted member's ledger and store check out offline.
  members_[1]->Terminate();
  ChildProcess verify({MEDHUB_BINARY, "ledger", "verify", "--data",
                       (members_[1]->dir() / "data").string(), "--member", "hospital-b"});
  EXPECT_NE(verify.ReadLineContaining("ledger intact", 60s), "") << verify.output();
  EXPECT_EQ(verify.Wait(60s), 0);
}

TEST_F(ConsortiumTest, WhileZooKeeperIsDownAppendsWaitAndNoneIsLostWhenItReturns) {
  for (auto& m : members_) EXPECT_EQ(m->Write(5), 5);
  const uint64_t before = ExpectedSize();
  ASSERT_TRUE(WaitForAgreement(before));
  zk_->Stop();
  for (auto& m : members_) EXPECT_EQ(m->Write(10), 10);  // the stores acknowledge
  std::this_thread::sleep_for(3s);
  for (auto& m : members_) EXPECT_EQ(m->LedgerHead().tree_size, before);  // nothing ordered
  zk_->Restart();
  ASSERT_NE(zk_->address().find("127.0.0.1:"), std::string::npos);
  for (auto& m : members_) EXPECT_EQ(m->Write(5), 5);
  EXPECT_EQ(StoredPatients(), 60u);
  const uint64_t expected = ExpectedSize();
  // The 45 writes made while ZooKeeper was down or after: a version and an AuditEvent each.
  EXPECT_GE(expected, before + 3 * 45);
  EXPECT_TRUE(WaitForAgreement(expected));
}

// Finds a block proposed by `proposer` at a height >= 1 in ZooKeeper; fills *height.
ledger::Block FindProposal(ledger::ZkClient* zk, const std::string& proposer) {
  const std::string dir = "/medhub/ledger/proposals";
  auto names = zk->Children(dir, false);
  if (!names.ok()) return {};
  for (const std::string& name : *names) {
    auto bytes = zk->Get(dir + "/" + name, false);
    if (!bytes.ok()) continue;
    auto block = ledger::DecodeBlock(*bytes);
    if (block.ok() && block->header.proposer == proposer && block->header.height >= 1) {
      return *block;
    }
  }
  return {};
}

TEST_F(ConsortiumTest, AMemberSigningTwoBlocksAtOneHeightIsReportedByTheOthers) {
  for (auto& m : members_) EXPECT_EQ(m->Write(5), 5);
  const uint64_t size = ExpectedSize();
  ASSERT_TRUE(WaitForAgreement(size));
  auto zk = ledger::ZkClient::Connect({zk_->address(), 10000, nullptr});
  ASSERT_TRUE(zk.ok());
  ASSERT_TRUE((*zk)->WaitConnected(30s).ok());
  ledger::Block original = FindProposal(zk->get(), "hospital-a");
  ASSERT_GE(original.header.height, 1u);
  // hospital-a's key signs a second, different block at the same height.
  auto key = ledger::ReadMemberKey(members_[0]->key_file());
  ASSERT_TRUE(key.ok());
  ledger::BlockHeader forged_header = original.header;
  forged_header.timestamp_us += 1;
  auto forged = ledger::SealBlock(forged_header, original.entries, *key);
  ASSERT_TRUE(forged.ok());
  auto bytes = ledger::EncodeBlock(*forged);
  ASSERT_TRUE(bytes.ok());
  char prefix[64];
  std::snprintf(prefix, sizeof prefix, "/medhub/ledger/proposals/h-%020llu-",
                static_cast<unsigned long long>(original.header.height));
  ASSERT_TRUE((*zk)->Create(prefix, *bytes, true).ok());

  for (size_t i : {1u, 2u}) {
    bool reported = false;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!reported && std::chrono::steady_clock::now() < deadline) {
      auto doc = json::Parse(members_[i]->Get("/ledger/evidence"));
      ASSERT_TRUE(doc.ok());
      for (const json::Value& e : doc->find("evidence")->items()) {
        reported = reported ||
                   (e.get_string("kind") == "block" && e.get_string("member") == "hospital-a" &&
                    e.find("height")->as_int() == static_cast<int64_t>(original.header.height));
      }
      if (!reported) std::this_thread::sleep_for(100ms);
    }
    EXPECT_TRUE(reported) << "member " << i << " did not report the forged block";
    std::ifstream file(members_[i]->dir() / "data" / "ledger" / "evidence.jsonl");
    std::stringstream kept;
    kept << file.rdbuf();
    EXPECT_NE(kept.str().find("\"member\":\"hospital-a\""), std::string::npos);
  }
  // The forged block changed nothing: the members still agree on the same log.
  EXPECT_TRUE(WaitForAgreement(size));
}

// Polls the member's /ledger/evidence until it holds a record of `kind` about `member` at
// `position` (the "height" or "tree_size" field).
bool WaitForEvidence(Member* m, const std::string& kind, const std::string& member,
                     const char* field, int64_t position) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto doc = json::Parse(m->Get("/ledger/evidence"));
    if (doc.ok() && doc->find("evidence") != nullptr) {
      for (const json::Value& e : doc->find("evidence")->items()) {
        if (e.get_string("kind") == kind && e.get_string("member") == member &&
            e.find(field) != nullptr && e.find(field)->as_int() == position) {
          return true;
        }
      }
    }
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

TEST_F(ConsortiumTest, AMemberPublishingTwoTreeHeadsForOneSizeIsReportedByTheOthers) {
  for (auto& m : members_) EXPECT_EQ(m->Write(5), 5);
  const uint64_t size = ExpectedSize();
  ASSERT_TRUE(WaitForAgreement(size));
  auto zk = ledger::ZkClient::Connect({zk_->address(), 10000, nullptr});
  ASSERT_TRUE(zk.ok());
  ASSERT_TRUE((*zk)->WaitConnected(30s).ok());
  // hospital-a's key signs a head for the current size with another root.
  auto key = ledger::ReadMemberKey(members_[0]->key_file());
  ASSERT_TRUE(key.ok());
  ledger::TreeHead head;
  head.tree_size = size;
  head.root.fill(0x42);
  head.timestamp_us = 1;
  head.signer = "hospital-a";
  auto sth = ledger::SignTreeHead(head, *key);
  ASSERT_TRUE(sth.ok());
  auto bytes = ledger::EncodeSignedTreeHead(*sth);
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE((*zk)->Put("/medhub/ledger/heads/hospital-a", *bytes).ok());
  const auto at = static_cast<int64_t>(size);
  EXPECT_TRUE(WaitForEvidence(members_[1].get(), "tree_head", "hospital-a", "tree_size", at));
  EXPECT_TRUE(WaitForEvidence(members_[2].get(), "tree_head", "hospital-a", "tree_size", at));
  EXPECT_TRUE(WaitForAgreement(size));
}

}  // namespace
}  // namespace medhub
