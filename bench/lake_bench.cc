// lake_bench: does the lake writer keep up with the fastest import?
//
// 1. A fresh store (sync_writes, like `medhub import`) with the lake writer running in the
//    background, as in `medhub import`/`serve`. N copies of the Synthea sample Bundles are
//    imported with fresh ids by `--threads` workers (FhirApi::ProcessBundle, one durable
//    transaction per Bundle): the arrival rate. When the import ends, the lag (changes not yet
//    published by a manifest) and the time to drain it are measured: the drain rate.
// 2. A second, empty lake on the same store: one catch-up (`medhub lake sync`): the writer's
//    own rate over the whole feed.
// Every figure is measured in this run. Usage:
//   lake_bench [--copies N] [--threads T] [--lake LOCATION] [--work DIR]
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

#include "fhir/resource.h"
#include "lake/filesystem.h"
#include "lake/lake_writer.h"
#include "lake/manifest.h"
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

}  // namespace

int main(int argc, char** argv) {
  int copies = 4, threads = 2;
  std::string lake_location, work;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--copies") copies = std::max(1, std::atoi(argv[i + 1]));
    if (a == "--threads") threads = std::max(1, std::atoi(argv[i + 1]));
    if (a == "--lake") lake_location = argv[i + 1];
    if (a == "--work") work = argv[i + 1];
  }
  if (work.empty()) work = (std::filesystem::temp_directory_path() / "medhub-lake-bench").string();
  std::filesystem::remove_all(work);
  std::filesystem::create_directories(work);
  if (lake_location.empty()) lake_location = work + "/lake";

  std::vector<std::string> bundles;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea")) {
    if (e.path().extension() != ".json") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    bundles.push_back(text.str());
  }
  std::sort(bundles.begin(), bundles.end());
  auto store = store::OpenRocksStore({work + "/data"});
  if (!store.ok()) return Die(store.status());
  auto fs = lake::OpenFileSystem(lake_location);
  if (!fs.ok()) return Die(fs.status());
  lake::LakeWriter writer(store->get(), fs->get());
  if (Status s = writer.Open(); !s.ok()) return Die(s);
  writer.Start();

  server::FhirApi api(store->get(), server::FhirApiOptions{});
  const size_t items = bundles.size() * static_cast<size_t>(copies);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (size_t k; (k = next.fetch_add(1)) < items && !failed;) {
        auto bundle = fhir::ParseResource(bundles[k % bundles.size()]);
        auto out = bundle.ok() ? api.ProcessBundle(std::move(bundle).value(), false)
                               : Result<server::BundleOutcome>(bundle.status());
        if (!out.ok() || out->failed != 0) failed = true;
      }
    });
  }
  for (auto& w : workers) w.join();
  if (failed) return Die(Status::Internal("the import failed"));
  const double import_s = Seconds(start);
  const uint64_t last = (*store)->LastSequence();
  const uint64_t lag = last - writer.state().seq;
  const auto drain_start = Clock::now();
  if (Status s = writer.WaitForSequence(last, std::chrono::minutes(30)); !s.ok()) return Die(s);
  const double drain_s = Seconds(drain_start);
  if (Status s = writer.Stop(); !s.ok()) return Die(s);
  const Totals live = Count(fs->get());

  // The writer alone over the whole feed, into an empty lake.
  auto fs2 = lake::OpenFileSystem(lake_location + "-sync");
  if (!fs2.ok()) return Die(fs2.status());
  lake::LakeWriter sync(store->get(), fs2->get());
  const auto sync_start = Clock::now();
  if (Status s = sync.Open(); !s.ok()) return Die(s);
  if (Status s = sync.CatchUp(); !s.ok()) return Die(s);
  const double sync_s = Seconds(sync_start);
  const Totals all = Count(fs2->get());

  std::printf("lake_bench: %d copies of %zu Synthea Bundles, %d import threads, lake %s\n", copies,
              bundles.size(), threads, (*fs)->Describe().c_str());
  std::printf("import (arrival):      %llu changes in %.2f s = %.0f changes/s\n",
              static_cast<unsigned long long>(last), import_s, last / import_s);
  std::printf("lag at import end:     %llu changes; drained in %.2f s = %.0f changes/s\n",
              static_cast<unsigned long long>(lag), drain_s, drain_s > 0 ? lag / drain_s : 0.0);
  std::printf("writer during import:  %llu commits, %zu files, %zu lines, %.1f MB\n",
              static_cast<unsigned long long>(live.commits), live.files, live.lines,
              live.bytes / 1e6);
  std::printf(
      "lake sync (catch-up):  %zu lines in %.2f s = %.0f changes/s (%zu files, %llu commits)\n",
      all.lines, sync_s, all.lines / sync_s, all.files,
      static_cast<unsigned long long>(all.commits));
  std::printf("keeps up: %s (catch-up rate / arrival rate = %.2f)\n",
              all.lines / sync_s >= last / import_s ? "yes" : "NO",
              (all.lines / sync_s) / (last / import_s));
  std::filesystem::remove_all(work);
  return 0;
}
