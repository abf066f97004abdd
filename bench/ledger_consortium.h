// The consortium phase of ledger_bench: three in-process members, each with its own ledger
// directory, ordered by a real ZooKeeper on loopback (deploy/zookeeper/start.sh).
#pragma once

#include <cstdint>
#include <string>

namespace medhub::bench {

struct ConsortiumBenchResult {
  double entries_per_second = 0;  // committed on all three members / wall time
  double p50_ms = 0, p99_ms = 0;  // Consortium::Append: proposal to the proposer's commit
  uint64_t entries = 0;
  uint64_t blocks = 0;
};

// Each member appends `per_member` synthetic entries in blocks of `batch` from its own
// thread. Work files go under `dir`. Exits the process on failure.
ConsortiumBenchResult RunConsortiumBench(const std::string& dir, uint64_t per_member,
                                         uint64_t batch);

}  // namespace medhub::bench
