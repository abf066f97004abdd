#include "cli/sync_commands.h"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/data_store.h"
#include "cli/flags.h"
#include "cli/ledger_commands.h"
#include "core/time.h"
#include "sync/mpi.h"
#include "sync/source.h"
#include "sync/syncer.h"

namespace medhub::cli {

const char kSyncUsage[] =
    R"(  sync    add-source --data DIR NAME --fhir-base URL
                     [--token T | --client-id ID --client-secret-file F] [--ca-file PEM]
          run --data DIR [NAME] [--page-size N] [--timeout-ms N] [--attempts N]
              [--mpi-upper W] [--mpi-lower W] [--no-mpi] [--log-pages]
          status --data DIR
          match --data DIR [--mpi-upper W] [--mpi-lower W]
          Pull what changed at institution FHIR servers (GET [base]/_history?_since=)
          into DIR, ids prefixed "NAME-", provenance in meta.source; then link the
          Patients seen at several institutions (master patient index; uncertain pairs
          go to GET /api/mpi/review). `match` re-matches every Patient.
)";

namespace {

int Fail(const Status& s) {
  std::cerr << "medhub: " << s.message() << "\n";
  return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

Result<double> GetDouble(const Flags& f, const std::string& name, double fallback) {
  if (!f.Has(name)) return fallback;
  const std::string v = f.Get(name);
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0')
    return Status::InvalidArgument("--" + name + ": expected a number");
  return d;
}

Result<sync::MpiConfig> MpiConfigFrom(const Flags& f) {
  sync::MpiConfig c;
  ASSIGN_OR_RETURN(c.upper, GetDouble(f, "mpi-upper", c.upper));
  ASSIGN_OR_RETURN(c.lower, GetDouble(f, "mpi-lower", c.lower));
  if (c.lower > c.upper) return Status::InvalidArgument("--mpi-lower must not exceed --mpi-upper");
  return c;
}

void DrawProgress(const std::string& name, const sync::SyncStats& s, double secs) {
  constexpr int kWidth = 30;
  const size_t total = std::max(s.total, s.fetched);
  const int filled = total ? static_cast<int>(kWidth * s.fetched / total) : kWidth;
  std::fprintf(stderr, "\r%s [%.*s%*s] %zu/%zu  %.0f resources/s ", name.c_str(), filled,
               "==============================", kWidth - filled, "", s.fetched, total,
               secs > 0 ? s.fetched / secs : 0.0);
  std::fflush(stderr);
}

int AddSource(const std::vector<std::string>& args) {
  auto f = Flags::Parse(
      args, {"data", "fhir-base", "token", "client-id", "client-secret-file", "ca-file"});
  if (!f.ok()) return Fail(f.status());
  if (f->positional().size() != 1)
    return Fail(
        Status::InvalidArgument("name exactly one source: sync add-source --data DIR NAME"));
  auto store = OpenStore(*f);
  if (!store.ok()) return Fail(store.status());
  sync::SourceConfig s{f->positional()[0],  f->Get("fhir-base"),          f->Get("token"),
                       f->Get("client-id"), f->Get("client-secret-file"), f->Get("ca-file")};
  if (Status st = sync::PutSource(store->get(), s); !st.ok()) return Fail(st);
  std::cout << "source " << s.name << " → " << s.fhir_base << " (ids become " << s.name
            << "-<id>)\n";
  return 0;
}

// Runs `sources` then the MPI over the Patients they wrote. Prints one line per source.
Status RunSources(store::Store* store, const std::vector<sync::SourceConfig>& sources,
                  const sync::SyncOptions& base, const sync::MpiConfig* mpi_config,
                  bool log_pages = false, std::vector<std::string>* relation_patients = nullptr) {
  std::vector<std::string> patients;
  Status first_error;
  for (const sync::SourceConfig& src : sources) {
    sync::SyncOptions options = base;
    const auto start = std::chrono::steady_clock::now();
    auto secs = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    if (log_pages) {
      options.progress = [&](const sync::SyncStats& s) {
        std::printf("sync %s: page %zu committed, fetched %zu, applied %zu\n", src.name.c_str(),
                    s.pages, s.fetched, s.applied);
        std::fflush(stdout);
      };
    } else if (isatty(STDERR_FILENO)) {
      options.progress = [&](const sync::SyncStats& s) { DrawProgress(src.name, s, secs()); };
    }
    sync::Syncer syncer(store, options);
    auto stats = syncer.Run(src);
    if (options.progress && !log_pages) std::fprintf(stderr, "\n");
    if (!stats.ok()) {
      std::cerr << "medhub: sync " << src.name
                << " failed (checkpoint unchanged): " << stats.status().message() << "\n";
      if (first_error.ok()) first_error = stats.status();
      continue;
    }
    const double s = secs();
    std::printf(
        "sync %s: fetched %zu, applied %zu, deleted %zu, unchanged %zu, skipped %zu "
        "(boundary %zu, older %zu, audit %zu), retries %zu, %zu pages in %.0f ms "
        "(%.0f resources/s)\n",
        src.name.c_str(), stats->fetched, stats->applied, stats->deleted, stats->unchanged,
        stats->skipped_boundary + stats->skipped_older + stats->skipped_audit,
        stats->skipped_boundary, stats->skipped_older, stats->skipped_audit, stats->retries,
        stats->pages, s * 1000, s > 0 ? stats->fetched / s : 0.0);
    std::fflush(stdout);
    patients.insert(patients.end(), stats->patients.begin(), stats->patients.end());
    if (relation_patients != nullptr)
      relation_patients->insert(relation_patients->end(), stats->relation_patients.begin(),
                                stats->relation_patients.end());
  }
  if (mpi_config != nullptr && !patients.empty()) {
    sync::Mpi mpi(store, *mpi_config);
    ASSIGN_OR_RETURN(sync::MatchStats m, mpi.MatchPatients(patients));
    std::printf("mpi: compared %zu pairs, linked %zu, queued %zu for review\n", m.compared,
                m.linked, m.review);
  }
  return first_error;
}

int Run(const std::vector<std::string>& args) {
  auto f = Flags::Parse(
      args, {"data", "page-size", "timeout-ms", "attempts", "mpi-upper", "mpi-lower", "member"},
      {"no-mpi", "log-pages"});
  if (!f.ok()) return Fail(f.status());
  auto mpi_config = MpiConfigFrom(*f);
  if (!mpi_config.ok()) return Fail(mpi_config.status());
  sync::SyncOptions options;
  auto page = f->GetUint("page-size", 1000);
  auto timeout = f->GetUint("timeout-ms", 30000);
  auto attempts = f->GetUint("attempts", 5);
  for (const auto* r : {&page, &timeout, &attempts})
    if (!r->ok()) return Fail(r->status());
  if (*page == 0 || *attempts == 0)
    return Fail(Status::InvalidArgument("--page-size and --attempts must be positive"));
  options.page_size = *page;
  options.timeout = std::chrono::milliseconds(*timeout);
  options.max_attempts = static_cast<int>(*attempts);
  auto store = OpenStore(*f);
  if (!store.ok()) return Fail(store.status());
  std::vector<sync::SourceConfig> sources;
  for (const std::string& name : f->positional()) {
    auto s = sync::GetSource(store->get(), name);
    if (!s.ok()) return Fail(s.status());
    sources.push_back(std::move(s).value());
  }
  if (f->positional().empty()) {
    auto all = sync::ListSources(store->get());
    if (!all.ok()) return Fail(all.status());
    if (all->empty()) return Fail(Status::FailedPrecondition("no sources: sync add-source first"));
    sources = std::move(all).value();
  }
  auto node = StartLedgerNode(store->get(), f->Get("data"), f->Get("member", "local"));
  if (!node.ok()) return Fail(node.status());
  Status s = RunSources(store->get(), sources, options,
                        f->Has("no-mpi") ? nullptr : &mpi_config.value(), f->Has("log-pages"));
  const Status stopped = node->Stop();
  if (!s.ok()) return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
  if (!stopped.ok()) return Fail(stopped);
  return 0;
}

int Status_(const std::vector<std::string>& args) {
  auto f = Flags::Parse(args, {"data"});
  if (!f.ok()) return Fail(f.status());
  auto store = OpenStore(*f, /*read_only=*/true);
  if (!store.ok()) return Fail(store.status());
  auto sources = sync::ListSources(store->get());
  if (!sources.ok()) return Fail(sources.status());
  for (const sync::SourceConfig& s : *sources) {
    auto cp = sync::GetCheckpoint(store->get(), s.name);
    if (!cp.ok()) return Fail(cp.status());
    std::cout << s.name << "  " << s.fhir_base << "  auth "
              << (s.client_id.empty() ? (s.token.empty() ? "none" : "token")
                                      : "client " + s.client_id)
              << "\n  runs " << cp->runs << ", resources " << cp->resources << ", since "
              << (cp->since_text.empty() ? "(never pulled)" : cp->since_text) << ", last run "
              << (cp->last_run ? FormatInstant(cp->last_run) : "-") << "\n";
  }
  sync::Mpi mpi(store->get(), sync::MpiConfig{});
  auto review = mpi.Review();
  if (!review.ok()) return Fail(review.status());
  std::cout << sources->size() << " sources; " << review->size()
            << " patient pairs waiting for review\n";
  return 0;
}

int Match(const std::vector<std::string>& args) {
  auto f = Flags::Parse(args, {"data", "mpi-upper", "mpi-lower"});
  if (!f.ok()) return Fail(f.status());
  auto config = MpiConfigFrom(*f);
  if (!config.ok()) return Fail(config.status());
  auto store = OpenStore(*f);
  if (!store.ok()) return Fail(store.status());
  sync::Mpi mpi(store->get(), *config);
  auto m = mpi.MatchAll();
  if (!m.ok()) return Fail(m.status());
  std::printf("mpi: compared %zu pairs, linked %zu, queued %zu for review\n", m->compared,
              m->linked, m->review);
  return 0;
}

class ThreadSyncLoop : public SyncLoop {
 public:
  ThreadSyncLoop(store::Store* store, uint64_t seconds, RelationsChanged on_relations)
      : on_relations_(std::move(on_relations)),
        thread_([this, store, seconds] { Loop(store, seconds); }) {}
  ~ThreadSyncLoop() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void Loop(store::Store* store, uint64_t seconds) {
    const sync::MpiConfig mpi_config;
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(seconds), [&] { return stop_; })) {
      lock.unlock();
      auto sources = sync::ListSources(store);
      if (sources.ok() && !sources->empty()) {
        std::vector<std::string> touched;
        Status s = RunSources(store, *sources, sync::SyncOptions{}, &mpi_config, false, &touched);
        // Even after a failed source: the sources before it committed their pages.
        if (on_relations_ && !touched.empty()) on_relations_(touched);
        if (!s.ok()) std::cerr << "medhub: periodic sync: " << s.message() << "\n";
      }
      lock.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  RelationsChanged on_relations_;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<SyncLoop> StartSyncLoop(store::Store* store, uint64_t seconds,
                                        RelationsChanged on_relations) {
  return std::make_unique<ThreadSyncLoop>(store, seconds, std::move(on_relations));
}

int RunSync(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "help") {
    std::cout << "usage:\n" << kSyncUsage;
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "add-source") return AddSource(rest);
  if (args[0] == "run") return Run(rest);
  if (args[0] == "status") return Status_(rest);
  if (args[0] == "match") return Match(rest);
  std::cerr << "medhub: unknown sync command '" << args[0] << "'\n" << kSyncUsage;
  return 2;
}

}  // namespace medhub::cli
