#include "ledger_consortium.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "core/hash.h"
#include "core/ids.h"
#include "ledger/consortium.h"
#include "ledger/ledger.h"

namespace medhub::bench {
namespace {

using Clock = std::chrono::steady_clock;
using namespace medhub::ledger;

void Check(const Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

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
  r.id = NewId();
  r.version = 1;
  r.institution = institution;
  r.commitment = Sha256(std::to_string(seq));
  return RecordCommitted{r};
}

struct Member {
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<Consortium> consortium;
  std::vector<double> latencies_ms;
};

// Three members with fresh keys and ledgers under `dir`, following ZooKeeper at `zk`.
std::vector<Member> StartMembers(const std::string& dir, const std::string& zk,
                                 std::vector<MemberInfo>* infos) {
  std::vector<std::string> keys;
  std::filesystem::create_directories(dir);
  for (const char* name : {"a", "b", "c"}) {
    PrivateKey key = PrivateKey::Generate().value();
    keys.push_back(dir + "/" + name + ".key");
    Check(WriteFileAtomically(keys.back(), key.Pem(), 0600), "key");
    infos->push_back({name, key.public_key()});
  }
  std::vector<Member> members(3);
  for (size_t i = 0; i < 3; ++i) {
    LedgerOptions options;
    options.dir = dir + "/ledger-" + (*infos)[i].name;
    options.member = (*infos)[i].name;
    options.key_file = keys[i];
    options.consortium = *infos;
    auto ledger = Ledger::Open(options);
    Check(ledger.status(), "open");
    members[i].ledger = std::move(ledger).value();
    ConsortiumOptions c;
    c.zk_hosts = zk;
    c.members = *infos;
    c.evidence_file = options.dir + "/evidence.jsonl";
    c.log = [](std::string_view) {};
    auto started = Consortium::Start(members[i].ledger.get(), std::move(c));
    Check(started.status(), "consortium");
    members[i].consortium = std::move(started).value();
  }
  return members;
}

// Each member appends `per_member` entries in blocks of `batch` from its own thread.
void Drive(std::vector<Member>* members, const std::vector<MemberInfo>& infos, uint64_t per_member,
           uint64_t batch) {
  std::vector<std::thread> threads;
  for (size_t i = 0; i < members->size(); ++i) {
    threads.emplace_back([&, i] {
      Member& m = (*members)[i];
      uint64_t seq = 0;
      while (seq < per_member) {
        std::vector<Entry> entries;
        const uint64_t n = std::min(batch, per_member - seq);
        for (uint64_t k = 0; k < n; ++k) entries.push_back(Record(infos[i].name, ++seq));
        const auto t0 = Clock::now();
        Check(m.consortium->Append(std::move(entries), seq).status(), "append");
        m.latencies_ms.push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    });
  }
  for (auto& t : threads) t.join();
}

void WaitUntil(const std::vector<Member>& members, uint64_t size, int sleep_ms) {
  while (std::any_of(members.begin(), members.end(),
                     [&](const Member& m) { return m.ledger->tree_size() < size; })) {
    std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
  }
}

}  // namespace

ConsortiumBenchResult RunConsortiumBench(const std::string& dir, uint64_t per_member,
                                         uint64_t batch) {
  const std::string zk_dir = dir + "/zk";
  const std::string deploy = std::string(MEDHUB_SOURCE_DIR) + "/deploy/zookeeper/";
  const std::string zk = Shell(deploy + "start.sh " + zk_dir);
  if (zk.find(':') == std::string::npos) Check(Status::Unavailable("no ZooKeeper"), "start");
  std::vector<MemberInfo> infos;
  std::vector<Member> members = StartMembers(dir, zk, &infos);
  WaitUntil(members, 1, 10);  // block 0
  const uint64_t start_size = members[0].ledger->tree_size();
  const auto start = Clock::now();
  Drive(&members, infos, per_member, batch);
  WaitUntil(members, start_size + 3 * per_member, 1);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ConsortiumBenchResult r;
  std::vector<double> all;
  for (Member& m : members) all.insert(all.end(), m.latencies_ms.begin(), m.latencies_ms.end());
  std::sort(all.begin(), all.end());
  r.entries = 3 * per_member;
  r.entries_per_second = r.entries / seconds;
  r.p50_ms = all[all.size() / 2];
  r.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  r.blocks = members[0].ledger->height();
  if (members[0].ledger->Head().head.root != members[2].ledger->Head().head.root) {
    Check(Status::DataLoss("members disagree"), "heads");
  }
  for (Member& m : members) m.consortium->Stop();
  Shell(deploy + "stop.sh " + zk_dir);
  return r;
}

}  // namespace medhub::bench
