// ledger_bench: the embedded ledger's throughput and proof latencies, with the machine's
// raw SHA-256 rate printed alongside as the bound (issue 4's targets).
//
//   ledger_bench [--entries N] [--batch B] [--proofs P] [--dir DIR]
//                [--consortium N] [--consortium-batch B]
//
// Phases (one thread each, as the ledger runs them):
//   sha256      raw SHA-256 of 100-byte messages (about one entry's leaf hash)
//   append      Ledger::Append of N synthetic RecordCommitted entries in blocks of B:
//               encode, hash, sign, write and fdatasync each block (durable)
//   reopen      Ledger::Open of the same N entries: every block checksummed, decoded,
//               re-hashed, signature-checked and replayed into the Merkle log
//   proof       P inclusion proofs for random leaves against the head (p50/p99)
//   verify      VerifyInclusion of those P proofs
//   sth-verify  Ed25519 verification of the signed tree head
//   consortium  (with --consortium N > 0) three members ordered by a real ZooKeeper on
//               loopback, each appending N entries in blocks of B from its own thread;
//               entries/s once all three hold them, Append latency p50/p99, and the ratio
//               to the embedded append above
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/hash.h"
#include "core/ids.h"
#include "ledger/ledger.h"
#include "ledger_consortium.h"

namespace {

using Clock = std::chrono::steady_clock;
using medhub::ledger::Entry;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct Args {
  uint64_t entries = 1'000'000;
  uint64_t batch = 4096;
  uint64_t proofs = 100'000;
  std::string dir;
  uint64_t consortium = 0;  // entries per member; 0: no consortium phase
  uint64_t consortium_batch = 2048;
};

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--entries") a.entries = std::stoull(value);
    if (flag == "--batch") a.batch = std::stoull(value);
    if (flag == "--proofs") a.proofs = std::stoull(value);
    if (flag == "--dir") a.dir = value;
    if (flag == "--consortium") a.consortium = std::stoull(value);
    if (flag == "--consortium-batch") a.consortium_batch = std::stoull(value);
  }
  if (a.dir.empty()) {
    a.dir = (std::filesystem::temp_directory_path() / ("medhub-ledger-bench-" + medhub::NewId()))
                .string();
  }
  return a;
}

Entry SyntheticEntry(uint64_t seq) {
  medhub::ledger::RecordFields r;
  r.seq = seq;
  r.type = "Observation";
  r.id = medhub::NewId();
  r.version = 1;
  r.institution = "local";
  r.commitment = medhub::Sha256(std::to_string(seq));
  return medhub::ledger::RecordCommitted{r};
}

double Sha256Rate() {
  const std::string message(100, 'x');
  const uint64_t n = 2'000'000;
  uint8_t sink = 0;
  const auto start = Clock::now();
  for (uint64_t i = 0; i < n; ++i) sink ^= medhub::Sha256(message)[i % 32];
  const double rate = n / Seconds(Clock::now() - start);
  if (sink == 0xFF) std::puts("");  // keep the loop
  return rate;
}

// Appends args.entries entries; returns the time spent in Append only.
double AppendAll(medhub::ledger::Ledger* ledger, const Args& args) {
  uint64_t seq = 0;
  double seconds = 0;
  while (seq < args.entries) {
    std::vector<Entry> batch;
    const uint64_t n = std::min(args.batch, args.entries - seq);
    for (uint64_t i = 0; i < n; ++i) batch.push_back(SyntheticEntry(++seq));
    const auto start = Clock::now();
    auto height = ledger->Append(std::move(batch), seq);
    seconds += Seconds(Clock::now() - start);
    if (!height.ok()) {
      std::fprintf(stderr, "append failed: %s\n", height.status().ToString().c_str());
      std::exit(1);
    }
  }
  return seconds;
}

void ProofPhase(const medhub::ledger::Ledger& ledger, uint64_t proofs) {
  const medhub::ledger::SignedTreeHead sth = ledger.Head();
  const uint64_t size = sth.head.tree_size;
  std::mt19937_64 rng(4);
  std::vector<uint64_t> leaves(proofs);
  for (uint64_t& l : leaves) l = rng() % size;
  std::vector<double> micros;
  std::vector<medhub::ledger::Proof> made;
  micros.reserve(proofs);
  made.reserve(proofs);
  for (uint64_t leaf : leaves) {
    const auto start = Clock::now();
    auto proof = ledger.InclusionProof(leaf, size);
    micros.push_back(Seconds(Clock::now() - start) * 1e6);
    made.push_back(std::move(proof).value());
  }
  std::sort(micros.begin(), micros.end());
  std::printf("proof       %10.2f us p50 %10.2f us p99 (%llu leaves, %llu proofs)\n",
              micros[micros.size() / 2], micros[micros.size() * 99 / 100],
              static_cast<unsigned long long>(size), static_cast<unsigned long long>(proofs));
  std::vector<medhub::ledger::Hash> hashes;
  for (uint64_t leaf : leaves) hashes.push_back(ledger.LeafHash(leaf).value());
  const auto start = Clock::now();
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (!medhub::ledger::VerifyInclusion(leaves[i], size, hashes[i], made[i], sth.head.root).ok()) {
      std::fprintf(stderr, "a proof did not verify\n");
      std::exit(1);
    }
  }
  std::printf("verify      %10.0f proofs/s (one core)\n", proofs / Seconds(Clock::now() - start));
  const int heads = 5000;
  const auto sth_start = Clock::now();
  for (int i = 0; i < heads; ++i) {
    if (!medhub::ledger::VerifyTreeHead(sth, ledger.public_key()).ok()) std::exit(1);
  }
  std::printf("sth-verify  %10.0f signed heads/s (one core)\n",
              heads / Seconds(Clock::now() - sth_start));
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = ParseArgs(argc, argv);
  const double sha = Sha256Rate();
  std::printf("sha256      %10.0f hashes/s of 100 bytes (the bound)\n", sha);
  medhub::ledger::LedgerOptions options;
  options.dir = args.dir + "/ledger";
  double embedded_rate = 0;
  {
    auto ledger = medhub::ledger::Ledger::Open(options);
    if (!ledger.ok()) {
      std::fprintf(stderr, "%s\n", ledger.status().ToString().c_str());
      return 1;
    }
    const double seconds = AppendAll(ledger->get(), args);
    const double rate = args.entries / seconds;
    embedded_rate = rate;
    std::printf("append      %10.0f entries/s durable, blocks of %llu (%.2f s; %.3f of sha256)\n",
                rate, static_cast<unsigned long long>(args.batch), seconds, rate / sha);
  }
  const auto start = Clock::now();
  auto ledger = medhub::ledger::Ledger::Open(options);
  if (!ledger.ok()) return 1;
  const double reopen = Seconds(Clock::now() - start);
  std::printf("reopen      %10.0f entries/s validated (%.2f s)\n", args.entries / reopen, reopen);
  ProofPhase(**ledger, args.proofs);
  std::printf("blocks.log  %10.1f MB\n",
              std::filesystem::file_size(options.dir + "/blocks.log") / 1e6);
  if (args.consortium > 0) {
    const auto r = medhub::bench::RunConsortiumBench(args.dir + "/consortium", args.consortium,
                                                     args.consortium_batch);
    std::printf(
        "consortium  %10.0f entries/s on 3 members + ZooKeeper (%llu entries, %llu blocks, "
        "blocks of %llu); commit latency p50 %.1f ms p99 %.1f ms; %.3f of embedded append\n",
        r.entries_per_second, static_cast<unsigned long long>(r.entries),
        static_cast<unsigned long long>(r.blocks),
        static_cast<unsigned long long>(args.consortium_batch), r.p50_ms, r.p99_ms,
        r.entries_per_second / embedded_rate);
  }
  std::error_code ec;
  std::filesystem::remove_all(args.dir, ec);
  return 0;
}
