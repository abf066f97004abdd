// lake_bench: does the lake writer keep up with the fastest import?
//
// 1. A fresh store (sync_writes, like `medhub import`) with the lake writer running in the
//    background, as in `medhub import`/`serve`. The import is either N copies of the Synthea
//    sample Bundles with fresh ids (FhirApi::ProcessBundle, one durable transaction per
//    Bundle), or with --generated P a population of P patients made by `medhub gen`'s
//    generator (seed --seed) and imported as `medhub import` imports NDJSON (transactions of
//    1000 lines); `--threads` workers. Changes per second of import: the arrival rate. When
//    the import ends, the lag (changes not yet published by a manifest) and the time to
//    drain it are measured: the drain rate.
// 2. A second, empty lake on the same store: one catch-up (`medhub lake sync`): the writer's
//    own rate over the whole feed.
// Every figure is measured in this run; the load average before and after is printed (the
// machine may be shared). Usage:
// 3. The peer: the same data bulk-loaded (`medhub import`: Store::BeginBulkLoad) into a
//    third, fresh store without a lake — the fastest import, measured in the same run.
// With --hdfs-dir (the folder given to deploy/hadoop/start-hdfs.sh) the CPU seconds the
// NameNode and DataNode JVMs spent during the catch-up are printed, and for a webhdfs://
// lake the requests by kind with their mean latency. Usage:
//   lake_bench [--copies N | --generated P [--seed S]] [--threads T] [--io-threads K]
//              [--buffer-mb M] [--max-buckets B]
//              [--changes-per-bucket N] [--lake LOCATION] [--work DIR] [--hdfs-dir DIR]
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "analytics/generator.h"
#include "cli/importer.h"
#include "fhir/resource.h"
#include "lake/filesystem.h"
#include "lake/lake_writer.h"
#include "lake/manifest.h"
#include "lake/webhdfs_filesystem.h"
#include "server/fhir_api.h"
#include "store/store.h"

namespace {

using namespace medhub;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

int Die(const Status& s) {
  std::fprintf(stderr, "lake_bench: %s\n", s.ToString().c_str());
  return 1;
}

struct Totals {
  size_t files = 0, lines = 0;
  uint64_t bytes = 0, commits = 0;
};

Totals Count(lake::FileSystem* fs) {
  Totals t;
  auto manifests = lake::ReadManifests(fs);
  if (!manifests.ok()) return t;
  t.commits = manifests->size();
  for (const auto& m : *manifests) {
    for (const auto& f : m.output) {
      ++t.files;
      t.lines += f.count;
      t.bytes += f.bytes;
    }
  }
  return t;
}

std::string LoadAverage() {
  double l[3] = {0, 0, 0};
  if (getloadavg(l, 3) < 0) return "?";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f %.2f %.2f", l[0], l[1], l[2]);
  return buf;
}

struct Args {
  int copies = 4, threads = 2, generated = 0;
  uint64_t seed = 1;
  size_t io_threads = lake::LakeWriterOptions{}.io_threads;
  uint64_t buffer_bytes = lake::LakeWriterOptions{}.buffer_bytes;
  int max_buckets = lake::LakeWriterOptions{}.max_buckets;
  uint64_t changes_per_bucket = lake::LakeWriterOptions{}.changes_per_bucket;
  std::string lake, work, hdfs_dir;
};

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--copies") a.copies = std::max(1, std::atoi(v));
    if (k == "--generated") a.generated = std::max(0, std::atoi(v));
    if (k == "--seed") a.seed = std::strtoull(v, nullptr, 10);
    if (k == "--threads") a.threads = std::max(1, std::atoi(v));
    if (k == "--io-threads") a.io_threads = static_cast<size_t>(std::max(1, std::atoi(v)));
    if (k == "--buffer-mb") a.buffer_bytes = std::strtoull(v, nullptr, 10) << 20;
    if (k == "--lake") a.lake = v;
    if (k == "--work") a.work = v;
    if (k == "--hdfs-dir") a.hdfs_dir = v;
    if (k == "--max-buckets") a.max_buckets = std::max(1, std::atoi(v));
    if (k == "--changes-per-bucket") a.changes_per_bucket = std::strtoull(v, nullptr, 10);
  }
  if (a.work.empty())
    a.work = (std::filesystem::temp_directory_path() / "medhub-lake-bench").string();
  if (a.lake.empty()) a.lake = a.work + "/lake";
  return a;
}

std::string SyntheaDir() { return std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea"; }

// N copies of the Synthea Bundles with fresh ids, as the server's transaction endpoint does.
Status ImportCopies(server::FhirApi* api, int copies, int threads) {
  std::vector<std::string> bundles;
  for (const auto& e : std::filesystem::directory_iterator(SyntheaDir())) {
    if (e.path().extension() != ".json") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    bundles.push_back(text.str());
  }
  std::sort(bundles.begin(), bundles.end());
  const size_t items = bundles.size() * static_cast<size_t>(copies);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (size_t k; (k = next.fetch_add(1)) < items && !failed;) {
        auto bundle = fhir::ParseResource(bundles[k % bundles.size()]);
        auto out = bundle.ok() ? api->ProcessBundle(std::move(bundle).value(), false)
                               : Result<server::BundleOutcome>(bundle.status());
        if (!out.ok() || out->failed != 0) failed = true;
      }
    });
  }
  for (auto& w : workers) w.join();
  return failed ? Status::Internal("the import failed") : Status::Ok();
}

// `medhub import` of the NDJSON files `medhub gen` wrote.
Status ImportFiles(server::FhirApi* api, const std::vector<std::string>& files, int threads) {
  cli::Importer importer(api);
  cli::ImportStats stats;
  RETURN_IF_ERROR(importer.ImportFiles(files, threads, &stats, [](size_t, const auto&) {}));
  if (stats.resources_failed != 0) {
    return Status::Internal("the import failed: " +
                            (stats.errors.empty() ? std::string() : stats.errors.front()));
  }
  return Status::Ok();
}

// CPU seconds (user + system) of the process whose pid is in `pid_file`; -1 if unknown.
double ProcessCpuSeconds(const std::string& pid_file) {
  std::ifstream pf(pid_file);
  long pid = 0;
  if (!(pf >> pid) || pid <= 0) return -1;
  std::ifstream st("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(st)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(text.substr(paren + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {  // fields 14 and 15: utime, stime
    if (i == 14) utime = std::strtoull(f.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(f.c_str(), nullptr, 10);
  }
  return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

double SelfCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = ParseArgs(argc, argv);
  std::filesystem::remove_all(args.work);
  std::filesystem::create_directories(args.work);
  std::string what;
  std::vector<std::string> gen_files;
  if (args.generated > 0) {
    analytics::GenOptions g;
    g.bundles_dir = SyntheaDir();
    g.out_dir = args.work + "/gen";
    g.patients = static_cast<uint64_t>(args.generated);
    g.seed = args.seed;
    auto gen = analytics::GeneratePopulation(g);
    if (!gen.ok()) return Die(gen.status());
    auto files = cli::Importer::ListFiles({g.out_dir});
    if (!files.ok()) return Die(files.status());
    gen_files = std::move(files).value();
    what = "a generated population of " + std::to_string(gen->patients) + " patients (seed " +
           std::to_string(args.seed) + ", " + std::to_string(gen->resources) + " resources)";
  } else {
    what = std::to_string(args.copies) + " copies of the Synthea sample Bundles";
  }
  auto store = store::OpenRocksStore({args.work + "/data"});
  if (!store.ok()) return Die(store.status());
  auto fs = lake::OpenFileSystem(args.lake);
  if (!fs.ok()) return Die(fs.status());
  for (const std::string& where : {args.lake, args.lake + "-sync"}) {
    auto probe = lake::OpenFileSystem(where);
    if (probe.ok() && Count(probe->get()).commits != 0) {
      return Die(Status::AlreadyExists("lake " + where + " is not empty: give a fresh --lake"));
    }
  }
  lake::LakeWriterOptions wo;
  wo.io_threads = args.io_threads;
  wo.buffer_bytes = std::max<uint64_t>(args.buffer_bytes, 1);
  wo.max_buckets = args.max_buckets;
  wo.changes_per_bucket = args.changes_per_bucket;
  lake::LakeWriter writer(store->get(), fs->get(), wo);
  if (Status s = writer.Open(); !s.ok()) return Die(s);
  const std::string load_before = LoadAverage();
  writer.Start();

  server::FhirApi api(store->get(), server::FhirApiOptions{});
  // The lag (changes in the store not yet in a manifest), sampled every 100 ms.
  std::atomic<bool> importing{true};
  uint64_t max_lag = 0;
  std::thread sampler([&] {
    while (importing) {
      max_lag = std::max(max_lag, (*store)->LastSequence() - writer.state().seq);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  const auto start = Clock::now();
  const Status imported = args.generated > 0 ? ImportFiles(&api, gen_files, args.threads)
                                             : ImportCopies(&api, args.copies, args.threads);
  const double import_s = Seconds(start);
  importing = false;
  sampler.join();
  if (!imported.ok()) return Die(imported);
  const uint64_t last = (*store)->LastSequence();
  const uint64_t lag = last - writer.state().seq;
  const auto drain_start = Clock::now();
  if (Status s = writer.WaitForSequence(last, std::chrono::minutes(60)); !s.ok()) return Die(s);
  const double drain_s = Seconds(drain_start);
  if (Status s = writer.Stop(); !s.ok()) return Die(s);
  const Totals live = Count(fs->get());

  // The writer alone over the whole feed, into an empty lake.
  auto fs2 = lake::OpenFileSystem(args.lake + "-sync");
  if (!fs2.ok()) return Die(fs2.status());
  lake::LakeWriter sync(store->get(), fs2->get(), wo);
  const std::string nn_pid = args.hdfs_dir + "/namenode.pid";
  const std::string dn_pid = args.hdfs_dir + "/datanode.pid";
  const double nn_cpu0 = ProcessCpuSeconds(nn_pid), dn_cpu0 = ProcessCpuSeconds(dn_pid);
  const double self_cpu0 = SelfCpuSeconds();
  const auto sync_start = Clock::now();
  if (Status s = sync.Open(); !s.ok()) return Die(s);
  if (Status s = sync.CatchUp(); !s.ok()) return Die(s);
  const double sync_s = Seconds(sync_start);
  const double self_cpu = SelfCpuSeconds() - self_cpu0;
  const double nn_cpu = ProcessCpuSeconds(nn_pid) - nn_cpu0;
  const double dn_cpu = ProcessCpuSeconds(dn_pid) - dn_cpu0;
  const Totals all = Count(fs2->get());
  std::string requests, by_kind;
  if (auto* web = dynamic_cast<lake::WebHdfsFileSystem*>(fs2->get()); web != nullptr) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "; %llu WebHDFS requests = %.2f per file",
                  static_cast<unsigned long long>(web->requests()),
                  all.files ? double(web->requests()) / all.files : 0.0);
    requests = buf;
    for (const auto& k : web->request_stats()) {
      std::snprintf(buf, sizeof buf, "  %s %llu x %.1f ms;", k.kind.c_str(),
                    static_cast<unsigned long long>(k.count), 1e3 * k.seconds / k.count);
      by_kind += buf;
    }
  }

  // The peer: the same import as a bulk load (`medhub import`) into a fresh store.
  double bulk_rate = 0;
  {
    auto bulk = store::OpenRocksStore({args.work + "/bulk"});
    if (!bulk.ok()) return Die(bulk.status());
    server::FhirApi bulk_api(bulk->get(), server::FhirApiOptions{});
    const auto bulk_start = Clock::now();
    if (Status s = (*bulk)->BeginBulkLoad(); !s.ok()) return Die(s);
    const Status loaded = args.generated > 0 ? ImportFiles(&bulk_api, gen_files, args.threads)
                                             : ImportCopies(&bulk_api, args.copies, args.threads);
    if (Status s = (*bulk)->EndBulkLoad(); !s.ok()) return Die(s);
    if (!loaded.ok()) return Die(loaded);
    bulk_rate = (*bulk)->LastSequence() / Seconds(bulk_start);
  }
  const std::string load_after = LoadAverage();

  const double arrival = last / import_s, catchup = all.lines / sync_s;
  const double drain = drain_s > 0 ? lag / drain_s : 0.0;
  std::printf(
      "lake_bench: %s, %d import threads, writer io_threads %zu buffer %llu MiB, buckets <= %d "
      "(one per %llu changes), lake %s\n",
      what.c_str(), args.threads, args.io_threads,
      static_cast<unsigned long long>(wo.buffer_bytes >> 20), wo.max_buckets,
      static_cast<unsigned long long>(wo.changes_per_bucket), (*fs)->Describe().c_str());
  std::printf("load average:          %s before, %s after (%u cores)\n", load_before.c_str(),
              load_after.c_str(), std::thread::hardware_concurrency());
  std::printf("import (arrival):      %llu changes in %.2f s = %.0f changes/s\n",
              static_cast<unsigned long long>(last), import_s, arrival);
  std::printf("lag during import:     at most %llu changes (%.1f s of arrivals)\n",
              static_cast<unsigned long long>(max_lag), max_lag / arrival);
  std::printf(
      "lag at import end:     %llu changes; drained in %.2f s = %.0f changes/s (the "
      "writer commits 5 s after the feed drains: a small lag drains slowly by design)\n",
      static_cast<unsigned long long>(lag), drain_s, drain);
  std::printf("writer during import:  %llu commits, %zu files, %zu lines, %.1f MB\n",
              static_cast<unsigned long long>(live.commits), live.files, live.lines,
              live.bytes / 1e6);
  std::printf(
      "lake sync (catch-up):  %zu lines in %.2f s = %.0f changes/s (%zu files, %.0f lines/file, "
      "%llu commits%s)\n",
      all.lines, sync_s, catchup, all.files, all.files ? double(all.lines) / all.files : 0.0,
      static_cast<unsigned long long>(all.commits), requests.c_str());
  if (!by_kind.empty()) std::printf("requests (mean latency):%s\n", by_kind.c_str());
  std::printf("CPU during catch-up:   lake_bench %.2f s", self_cpu);
  if (nn_cpu >= 0 && dn_cpu >= 0) std::printf(", NameNode %.2f s, DataNode %.2f s", nn_cpu, dn_cpu);
  std::printf(" (wall %.2f s)\n", sync_s);
  std::printf("bulk import (peer):    %.0f changes/s (same data, fresh store, no lake)\n",
              bulk_rate);
  std::printf(
      "keeps up: %s (catch-up / arrival = %.2f; lag drained after the import at %.2f x "
      "arrival); catch-up / bulk import = %.2f\n",
      catchup >= arrival ? "yes" : "NO", catchup / arrival, drain / arrival, catchup / bulk_rate);
  std::filesystem::remove_all(args.work);
  return 0;
}
