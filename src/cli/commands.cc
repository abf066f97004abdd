#include "cli/commands.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "cli/analytics_commands.h"
#include "cli/data_store.h"
#include "cli/demo_accounts.h"
#include "cli/device_commands.h"
#include "cli/flags.h"
#include "cli/importer.h"
#include "cli/lake_commands.h"
#include "cli/ledger_commands.h"
#include "cli/patient_commands.h"
#include "cli/sync_commands.h"
#include "cli/serve.h"
#include "cli/user_commands.h"
#include "core/ids.h"
#include "core/time.h"
#include "server/fhir_api.h"
#include "server/self_signed.h"
#include "store/store.h"

#ifndef MEDHUB_SHARED_DATA
#define MEDHUB_SHARED_DATA "../shared/data"
#endif

namespace medhub::cli {
namespace {

constexpr char kUsage[] =
    R"(medhub — a secure medical data platform (FHIR R4 personal health data center)

usage: medhub <command> [options]

commands:
  serve   --data DIR [--port N] [--address A] [--max-body BYTES] [--threads N] [--member NAME]
          [--tls-cert PEM --tls-key PEM] [--sync-every SECONDS] [--mqtt HOST:PORT]
          [--mllp-port N]
          Serve the FHIR REST API at http://ADDRESS:PORT/fhir (default port 8080;
          --port 0 picks a free port) and the ledger at /ledger. Prints "listening on URL"
          when ready. Every stored version is committed to the ledger in DIR/ledger,
          kept by member NAME (default "local"). With --tls-cert and --tls-key (PEM
          certificate chain and unencrypted private key) it serves HTTPS only.
          [--ledger-zk HOST:PORT --member NAME --member-key FILE --members FILE]
          Join a ledger consortium ordered by ZooKeeper (docs/formats/ledger.md).
          Devices post readings to /api/devices/ID/readings; with --mqtt it also takes
          them from medhub/devices/+/readings on that broker; with --mllp-port it takes
          HL7 v2 messages over MLLP (0 picks a free port; prints "mllp listening on N").
  import  --data DIR [--member NAME] [--bulk-chunk-kb N] PATH...
          Import FHIR Bundles (.json) and NDJSON (.ndjson) files or folders, and commit
          them to the ledger. Idempotent. A bulk load: the store adds the data as fsynced
          SST files, N KiB at a time (default 16384); a crash loses whole Bundles only.
  demo    [--data DIR] [--port N] [--sample DIR] [--member NAME] [--no-tls]
          Import the shipped Synthea patients into a fresh data directory and serve it
          over HTTPS with a self-signed certificate for localhost (DIR/tls/cert.pem,
          generated when missing), or over plain HTTP with --no-tls.
  lake    sync|status ...    (`medhub lake help`)
          serve and import keep the lake (FHIR Bulk Data NDJSON, plaintext) current when
          given --lake DIR|webhdfs://HOST:PORT/PATH (off by default; `lake sync` default
          DATA/lake),
          --lake-file-mb N (data files roll at N MiB, default 64).
  ledger  verify|status|proof|keygen ...
          Check the ledger offline, show its head, or print a version's proof
          (`medhub ledger help` for details).
  analytics list | run JOB (--data DIR | --lake PATH|URL) [--engine local|hadoop] ...
          Population jobs over the lake (`medhub analytics help`).
  mr      map|combine|reduce JOB [--stage N]
          One stage of a job as a Hadoop Streaming mapper, combiner or reducer.
  gen     --patients N --seed S --out DIR
          A synthetic population scaled from the Synthea sample, written as a lake.
  version Print the version.
)";

constexpr char kMasterKeyUsage[] = R"(
Every command that opens --data DIR needs the directory's master key (encryption at rest):
  --master-key-file F, or the MEDHUB_MASTER_KEY environment variable (64 hex digits or
  base64 of 32 bytes). Keep it outside DIR. `medhub demo` makes one in DIR.masterkey.
)";

int Fail(const Status& s) {
  std::cerr << "medhub: " << s.message() << "\n";
  return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

void PrintProgress(size_t done, size_t total, const ImportStats& stats, double seconds) {
  constexpr int kWidth = 30;
  const int filled = total ? static_cast<int>(kWidth * done / total) : kWidth;
  std::fprintf(stderr, "\r[%.*s%*s] %zu/%zu files  %zu resources  %.0f resources/s ", filled,
               "==============================", kWidth - filled, "", done, total,
               stats.resources_ok, seconds > 0 ? stats.resources_ok / seconds : 0.0);
  std::fflush(stderr);
}

// Imports `paths` into the store with a progress bar; fills `stats`.
Status ImportPaths(store::Store* store, const std::vector<std::string>& paths, ImportStats* stats,
                   size_t chunk_bytes = 16u << 20) {
  ASSIGN_OR_RETURN(std::vector<std::string> files, Importer::ListFiles(paths));
  server::FhirApi api(store, server::FhirApiOptions{});
  Importer importer(&api);
  const bool tty = isatty(STDERR_FILENO);
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  // Files are independent: one worker per core; the store groups their commits.
  const int threads = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  // A bulk load: commits are staged and added as fsynced SST files a chunk at a time
  // (Store::BeginBulkLoad); nothing counts as imported before EndBulkLoad returns.
  RETURN_IF_ERROR(store->BeginBulkLoad(chunk_bytes));
  Status imported =
      importer.ImportFiles(files, threads, stats, [&](size_t done, const ImportStats& s) {
        if (tty) PrintProgress(done, files.size(), s, elapsed());
      });
  if (Status ended = store->EndBulkLoad(); !ended.ok()) {
    if (tty) std::fprintf(stderr, "\n");
    return ended.WithPrefix("the import was not completed (run it again: it is idempotent)");
  }
  RETURN_IF_ERROR(imported);
  if (tty) std::fprintf(stderr, "\n");
  const double secs = elapsed();
  std::cout << "imported " << stats->files << " files: " << stats->resources_ok << " ok, "
            << stats->resources_failed << " failed (" << (stats->bytes >> 10) << " KiB in "
            << static_cast<int>(secs * 1000) << " ms)" << std::endl;
  for (const auto& e : stats->errors) std::cerr << "  " << e << "\n";
  return Status::Ok();
}

// Stops the node's ledger writer after committing what the store holds; prints the head.
int StopLedger(LedgerNode* node, int exit_code) {
  const Status s = node->Stop();
  if (!s.ok()) {
    std::cerr << "medhub: the ledger could not commit every change: " << s.message() << "\n";
    return exit_code == 0 ? 1 : exit_code;
  }
  std::cerr << "medhub: ledger at " << node->ledger->height() << " blocks, "
            << node->ledger->tree_size() << " entries, change " << node->ledger->last_seq()
            << std::endl;
  return exit_code;
}

}  // namespace

int Run(const std::vector<std::string>& all_args) {
  auto taken = TakeMasterKeyFlag(all_args);  // --master-key-file F, for every subcommand
  if (!taken.ok()) return Fail(taken.status());
  const std::vector<std::string>& args = *taken;
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage << kUserUsage << kPatientUsage << kSyncUsage << kDevicesUsage
              << kMasterKeyUsage;
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "serve") return RunServe(rest);
  if (args[0] == "import") return RunImport(rest);
  if (args[0] == "demo") return RunDemo(rest);
  if (args[0] == "ledger") return RunLedger(rest);
  if (args[0] == "lake") return RunLake(rest);
  if (args[0] == "user") return RunUser(rest);
  if (args[0] == "client") return RunClient(rest);
  if (args[0] == "patient") return RunPatient(rest);
  if (args[0] == "sync") return RunSync(rest);
  if (args[0] == "devices") return RunDevices(rest);
  if (args[0] == "analytics") return RunAnalytics(rest);
  if (args[0] == "mr") return RunMr(rest);
  if (args[0] == "gen") return RunGen(rest);
  if (args[0] == "version" || args[0] == "--version") {
    std::cout << "medhub 0.1.0\n";
    return 0;
  }
  std::cerr << "medhub: unknown command '" << args[0] << "'\n\n" << kUsage << kUserUsage;
  return 2;
}

int RunServe(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(args,
                            {"data", "port", "address", "max-body", "threads", "member",
                             "tls-cert", "tls-key", "sync-every", "ledger-zk", "member-key",
                             "members", "mqtt", "mllp-port", "lake", "lake-file-mb"},
                            {"no-lake"});
  if (!flags.ok()) return Fail(flags.status());
  if (!flags->positional().empty())
    return Fail(Status::InvalidArgument("unexpected argument '" + flags->positional()[0] + "'"));
  auto config = ServeConfigFrom(*flags);
  if (!config.ok()) return Fail(config.status());
  config->data = flags->Get("data");
  // Before any thread starts (RocksDB's, the ledger writer's): every thread inherits the
  // blocked stop signals, so a SIGTERM that arrives before the main thread reaches sigwait
  // waits for it instead of killing the process through another thread.
  BlockStopSignals();
  config->ingest.mqtt = flags->Get("mqtt");
  if (flags->Has("mllp-port")) {
    auto mllp = flags->GetUint("mllp-port", 0);
    if (!mllp.ok() || *mllp > 65535)
      return Fail(Status::InvalidArgument("--mllp-port must be 0-65535"));
    config->ingest.mllp_port = static_cast<int>(*mllp);
  }
  auto store = OpenStore(*flags);
  if (!store.ok()) return Fail(store.status());
  auto node = StartServeLedgerNode(store->get(), *flags);
  if (!node.ok()) return Fail(node.status());
  if (node->consortium) config->evidence = &node->consortium->evidence();
  auto sync_every = flags->GetUint("sync-every", 0);
  if (!sync_every.ok()) return StopLedger(&*node, Fail(sync_every.status()));
  auto lake = StartLakeNode(store->get(), *flags);
  if (!lake.ok()) return StopLedger(&*node, Fail(lake.status()));
  security::RelationCache relations(store->get());  // outlives the sync loop
  std::unique_ptr<SyncLoop> sync_loop;
  if (*sync_every > 0)
    sync_loop = StartSyncLoop(store->get(), *sync_every,
                              [&relations](const std::vector<std::string>& patients) {
                                for (const std::string& p : patients) relations.Invalidate(p);
                              });
  const Status served = ServeUntilStopped(store->get(), node->ledger.get(), *config,
                                          [](const std::string&) {}, &relations);
  const int code = served.ok() ? 0 : Fail(served);
  sync_loop.reset();
  return StopLedger(&*node, StopLakeNode(lake->get(), code));
}

int RunImport(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(args, {"data", "member", "lake", "lake-file-mb", "bulk-chunk-kb"},
                            {"no-lake"});
  if (!flags.ok()) return Fail(flags.status());
  if (flags->positional().empty())
    return Fail(Status::InvalidArgument("name at least one file or folder to import"));
  auto chunk_kb = flags->GetUint("bulk-chunk-kb", 16384);
  if (!chunk_kb.ok() || *chunk_kb == 0 || *chunk_kb > (1u << 22))
    return Fail(Status::InvalidArgument("--bulk-chunk-kb must be 1-4194304"));
  auto store = OpenStore(*flags);
  if (!store.ok()) return Fail(store.status());
  auto node = StartLedgerNode(store->get(), flags->Get("data"), flags->Get("member", "local"));
  if (!node.ok()) return Fail(node.status());
  auto lake = StartLakeNode(store->get(), *flags);
  if (!lake.ok()) return StopLedger(&*node, Fail(lake.status()));
  ImportStats stats;
  if (Status s = ImportPaths(store->get(), flags->positional(), &stats, *chunk_kb << 10); !s.ok()) {
    return StopLedger(&*node, StopLakeNode(lake->get(), Fail(s)));
  }
  return StopLedger(&*node, StopLakeNode(lake->get(), stats.resources_failed == 0 ? 0 : 1));
}

int RunDemo(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(
      args, {"data", "port", "address", "sample", "max-body", "threads", "member"}, {"no-tls"});
  if (!flags.ok()) return Fail(flags.status());
  std::string data = flags->Get("data");
  if (data.empty())
    data =
        (std::filesystem::temp_directory_path() / ("medhub-demo-" + NewId().substr(0, 8))).string();
  std::string sample = flags->Get("sample", std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea");
  if (!std::filesystem::is_directory(sample))
    return Fail(Status::NotFound("sample data not found at " + sample + " (use --sample DIR)"));
  auto config = ServeConfigFrom(*flags);
  if (!config.ok()) return Fail(config.status());
  config->data = data;
  if (!flags->Has("no-tls")) {
    // A self-signed certificate for localhost, kept with the data (made once).
    const std::filesystem::path tls_dir = std::filesystem::path(data) / "tls";
    config->tls_cert = (tls_dir / "cert.pem").string();
    config->tls_key = (tls_dir / "key.pem").string();
    if (!std::filesystem::exists(config->tls_cert) || !std::filesystem::exists(config->tls_key)) {
      if (Status s = server::WriteSelfSigned(config->tls_cert, config->tls_key); !s.ok())
        return Fail(s);
      std::cout << "medhub demo: generated a self-signed certificate for localhost in "
                << tls_dir.string() << std::endl;
    }
  }
  std::string key_source;
  auto store = OpenDemoStore(data, &key_source);
  if (!store.ok()) return Fail(store.status());
  std::cout << "medhub demo: the data is encrypted at rest; its master key is in " << key_source
            << " (outside the data directory: keep it to reopen " << data << ")" << std::endl;
  auto node = StartLedgerNode(store->get(), data, flags->Get("member", "local"));
  if (!node.ok()) return Fail(node.status());
  std::cout << "medhub demo: importing " << sample << " into " << data << std::endl;
  ImportStats stats;
  if (Status s = ImportPaths(store->get(), {sample}, &stats); !s.ok()) {
    return StopLedger(&*node, Fail(s));
  }
  if (stats.resources_failed) return StopLedger(&*node, 1);
  // The demo accounts need a patient with encounters at two institutions (the shipped
  // sample has them); another sample is served without them.
  std::vector<DemoAccount> accounts;
  if (stats.largest_patient_id.empty()) {
    std::cerr << "medhub demo: no patient Bundle in the sample, so no demo accounts\n";
  } else if (auto made = EnsureDemoAccounts(store->get(), data, stats.largest_patient_id);
             made.ok()) {
    accounts = std::move(made).value();
  } else if (made.status().code() == StatusCode::kNotFound) {
    std::cerr << "medhub demo: no demo accounts: " << made.status().message() << "\n";
  } else {
    return StopLedger(&*node, Fail(made.status()));
  }
  const Status served =
      ServeUntilStopped(store->get(), node->ledger.get(), *config, [&](const std::string& url) {
        DemoGuide guide;
        guide.url = url;
        guide.curl = config->tls_cert.empty() ? "curl" : "curl --cacert " + config->tls_cert;
        guide.data_dir = data;
        guide.resources = stats.resources_ok;
        guide.patients = stats.files;
        guide.patient = stats.largest_patient_id;
        guide.accounts = accounts;
        PrintDemoGuide(guide, std::cout);
      });
  return StopLedger(&*node, served.ok() ? 0 : Fail(served));
}

}  // namespace medhub::cli
