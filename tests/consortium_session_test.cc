// Three in-process consortium members (ledger::Consortium) on a real ZooKeeper whose outage
// outlasts their session timeout: an append made during the outage waits and completes
// afterwards, with every member holding the same log. (A restarted ZooKeeper renews the
// sessions it kept, so the members resume theirs; a session the server declares expired
// is replaced by a new one, consortium.cc EnsureSession.)
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <future>
#include <thread>

#include "core/hash.h"
#include "core/ids.h"
#include "ledger/consortium.h"
#include "ledger/ledger.h"

namespace medhub::ledger {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kDeploy = std::string(MEDHUB_SOURCE_DIR) + "/deploy/zookeeper/";

std::string Shell(const std::string& command) {
  FILE* p = popen(command.c_str(), "r");
  std::string out;
  char buf[256];
  while (p != nullptr && fgets(buf, sizeof buf, p) != nullptr) out += buf;
  if (p != nullptr) pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

Entry Record(const std::string& institution, uint64_t seq) {
  RecordFields r;
  r.seq = seq;
  r.type = "Observation";
  r.id = "obs-" + std::to_string(seq);
  r.version = 1;
  r.institution = institution;
  r.commitment = Sha256(std::to_string(seq));
  return RecordCommitted{r};
}

class ConsortiumSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("medhub-consortium-session-" + NewId());
    fs::create_directories(dir_);
    zk_ = Shell(kDeploy + "start.sh " + (dir_ / "zk").string());
    ASSERT_NE(zk_.find("127.0.0.1:"), std::string::npos);
    std::vector<MemberInfo> infos;
    std::vector<std::string> keys;
    for (const char* name : {"a", "b", "c"}) {
      PrivateKey key = PrivateKey::Generate().value();
      keys.push_back((dir_ / (std::string(name) + ".key")).string());
      ASSERT_TRUE(WriteFileAtomically(keys.back(), key.Pem(), 0600).ok());
      infos.push_back({name, key.public_key()});
    }
    for (size_t i = 0; i < infos.size(); ++i) {
      LedgerOptions options;
      options.dir = (dir_ / ("ledger-" + infos[i].name)).string();
      options.member = infos[i].name;
      options.key_file = keys[i];
      options.consortium = infos;
      auto ledger = Ledger::Open(options);
      ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
      ledgers_.push_back(std::move(ledger).value());
      ConsortiumOptions c;
      c.zk_hosts = zk_;
      c.members = infos;
      c.evidence_file = options.dir + "/evidence.jsonl";
      c.session_timeout_ms = 2000;
      c.log = [](std::string_view) {};
      auto started = Consortium::Start(ledgers_.back().get(), std::move(c));
      ASSERT_TRUE(started.ok());
      consortia_.push_back(std::move(started).value());
    }
  }
  void TearDown() override {
    for (auto& c : consortia_) c->Stop();
    Shell(kDeploy + "stop.sh " + (dir_ / "zk").string());
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  bool WaitForSize(uint64_t size) {
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    while (std::chrono::steady_clock::now() < deadline) {
      bool all = true;
      for (auto& l : ledgers_) all = all && l->tree_size() == size;
      if (all) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  fs::path dir_;
  std::string zk_;
  std::vector<std::unique_ptr<Ledger>> ledgers_;
  std::vector<std::unique_ptr<Consortium>> consortia_;
};

TEST_F(ConsortiumSessionTest, AnAppendMadeDuringAnOutageLongerThanTheSessionTimeoutCompletes) {
  ASSERT_TRUE(consortia_[0]->Append({Record("a", 1)}, 1).ok());
  ASSERT_TRUE(WaitForSize(4));
  Shell(kDeploy + "stop.sh " + (dir_ / "zk").string());
  auto pending = std::async(std::launch::async, [&] {
    return consortia_[1]->Append({Record("b", 1), Record("b", 2)}, 2).status();
  });
  std::this_thread::sleep_for(5s);                               // longer than the 2 s sessions
  EXPECT_EQ(pending.wait_for(0s), std::future_status::timeout);  // it waits
  const std::string again =
      Shell(kDeploy + "start.sh " + (dir_ / "zk").string() + " " + zk_.substr(zk_.find(':') + 1));
  ASSERT_EQ(again, zk_);
  EXPECT_TRUE(pending.get().ok());
  ASSERT_TRUE(consortia_[2]->Append({Record("c", 1)}, 1).ok());
  EXPECT_TRUE(WaitForSize(7));
  for (auto& l : ledgers_) EXPECT_EQ(l->Head().head.root, ledgers_[0]->Head().head.root);
  EXPECT_EQ(ledgers_[1]->last_seq(), 2u);
}

}  // namespace
}  // namespace medhub::ledger
