// Institution sync throughput (docs/benchmarks.md, "Sync"): a real `medhub serve` source
// on loopback, loaded with COPIES copies of the Synthea sample (every UUID changed per
// copy), pulled by `medhub sync run` into an empty center. The peer, in the same run, is
// `medhub import` of the same bundles into an empty store: both write every resource
// durably and commit it to the ledger, so the ratio shows what pulling the data over
// FHIR _history costs against reading it from local files.
//
// Usage: sync_bench [--copies N] [--page-size N] [--repeat N] [--work DIR] [--keep]
// (--keep leaves the source, peer and center data directories in the work folder)
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/process.h"

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// Rewrites the first 8 hex digits of every lower-case UUID in `text` to `prefix`.
void RekeyUuids(std::string* text, const std::string& prefix) {
  static constexpr int kGroups[] = {8, 4, 4, 4, 12};
  for (size_t i = 0; i + 36 <= text->size(); ++i) {
    if (i > 0 && IsHex((*text)[i - 1])) continue;
    size_t p = i;
    bool ok = true;
    for (int g = 0; g < 5 && ok; ++g) {
      for (int k = 0; k < kGroups[g] && ok; ++k) ok = IsHex((*text)[p++]);
      if (g < 4 && ok) ok = (*text)[p++] == '-';
    }
    if (!ok) continue;
    text->replace(i, 8, prefix);
    i += 35;
  }
}

std::vector<std::string> MakeCopies(const fs::path& out, int copies) {
  std::vector<std::string> files;
  fs::create_directories(out);
  for (const auto& e : fs::directory_iterator(std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea")) {
    if (e.path().extension() != ".json") continue;
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    for (int c = 0; c < copies; ++c) {
      std::string text = ss.str();
      char prefix[9];
      std::snprintf(prefix, sizeof(prefix), "%08x", 0xc0de0000u + static_cast<unsigned>(c));
      RekeyUuids(&text, prefix);
      const fs::path f = out / (std::to_string(c) + "-" + std::to_string(files.size()) + ".json");
      std::ofstream(f) << text;
      files.push_back(f.string());
    }
  }
  return files;
}

struct Timed {
  int code = -1;
  double seconds = 0;
  std::string output;
};

Timed Run(const std::vector<std::string>& argv) {
  const auto start = std::chrono::steady_clock::now();
  medhub::testing::ChildProcess p(argv);
  p.ReadLineContaining("\x01 never", 3600s);
  Timed t;
  t.code = p.Wait(3600s);
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  t.output = p.output();
  return t;
}

long Number(const std::string& text, const std::string& re) {
  std::smatch m;
  return std::regex_search(text, m, std::regex(re)) ? std::stol(m[1]) : -1;
}

}  // namespace

int main(int argc, char** argv) {
  int copies = 4;
  std::string page_size = "1000";
  fs::path work = fs::temp_directory_path() / "medhub-sync-bench";
  bool keep = false;
  int repeat = 3;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--keep") {
      keep = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n", argv[i]);
      return 2;
    }
    if (flag == "--copies")
      copies = std::atoi(argv[i + 1]);
    else if (flag == "--page-size")
      page_size = argv[i + 1];
    else if (flag == "--repeat")
      repeat = std::max(1, std::atoi(argv[i + 1]));
    else if (flag == "--work")
      work = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  fs::remove_all(work);
  const std::vector<std::string> files = MakeCopies(work / "bundles", copies);
  const std::string bin = MEDHUB_BINARY;
  std::vector<std::string> import{bin, "import", "--data", (work / "source").string()};
  import.insert(import.end(), files.begin(), files.end());
  Timed source = Run(import);
  if (source.code != 0) {
    std::fprintf(stderr, "import failed:\n%s", source.output.c_str());
    return 1;
  }
  // The center authenticates as a service client of the source (system/*.read).
  Timed client = Run({bin, "client", "add", "--data", (work / "source").string(),
                      "--client-id", "center", "--role", "service", "--scope", "system/*.read",
                      "--org", "center"});
  const size_t at = client.output.find("client_secret: ");
  if (client.code != 0 || at == std::string::npos) {
    std::fprintf(stderr, "client add failed:\n%s", client.output.c_str());
    return 1;
  }
  const fs::path secret_file = work / "center.secret";
  const size_t end = client.output.find('\n', at);
  std::ofstream(secret_file) << client.output.substr(at + 15, end - at - 15) << "\n";
  medhub::testing::ChildProcess serve(
      {bin, "serve", "--data", (work / "source").string(), "--port", "0"});
  const int port =
      medhub::testing::PortFromListeningLine(serve.ReadLineContaining("listening on", 60s));
  const std::string base = "http://127.0.0.1:" + std::to_string(port) + "/fhir";
  // Each round: the peer (the same bundles imported into a fresh store), then a full sync
  // into a fresh center, then an incremental sync with nothing new. The machine is shared,
  // so rounds alternate the two and the best of each is compared.
  std::vector<double> import_secs, sync_secs;
  long imported = 0, applied = 0;
  Timed sync, again;
  for (int r = 0; r < repeat; ++r) {
    const std::string peer = (work / ("peer" + std::to_string(r))).string();
    const std::string center = (work / ("center" + std::to_string(r))).string();
    import[3] = peer;
    Timed t = Run(import);
    imported = Number(t.output, R"(: (\d+) ok)");
    import_secs.push_back(t.seconds);
    Run({bin, "sync", "add-source", "--data", center, "src", "--fhir-base", base, "--client-id",
         "center", "--client-secret-file", secret_file.string()});
    sync = Run({bin, "sync", "run", "--data", center, "--no-mpi", "--page-size", page_size});
    if (sync.code != 0) {
      std::fprintf(stderr, "sync failed:\n%s", sync.output.c_str());
      return 1;
    }
    applied = Number(sync.output, R"(applied (\d+))");
    sync_secs.push_back(sync.seconds);
    again = Run({bin, "sync", "run", "--data", center, "--no-mpi"});
    std::printf("round %d: sync %.0f/s, import %.0f/s\n", r + 1, applied / sync.seconds,
                imported / t.seconds);
    if (!keep) fs::remove_all(peer), fs::remove_all(center);
  }
  const double best_sync = *std::min_element(sync_secs.begin(), sync_secs.end());
  const double best_import = *std::min_element(import_secs.begin(), import_secs.end());
  const double sync_rate = applied / best_sync, import_rate = imported / best_import;
  std::printf("copies %d, %zu bundles, page size %s, best of %d rounds\n", copies, files.size(),
              page_size.c_str(), repeat);
  std::printf("%-34s %9s %9s %12s\n", "phase", "resources", "seconds", "resources/s");
  std::printf("%-34s %9ld %9.2f %12.0f\n", "medhub sync run (loopback source)", applied, best_sync,
              sync_rate);
  std::printf("%-34s %9ld %9.2f %12.0f\n", "medhub import (peer, local files)", imported,
              best_import, import_rate);
  std::printf("%-34s %9ld %9.2f\n", "sync run again (nothing new)",
              Number(again.output, R"(applied (\d+))"), again.seconds);
  std::printf("sync / import ratio: %.2f\n", sync_rate / import_rate);
  // The last round's own timings (the pull alone, without process start, store open, ledger).
  std::printf("full run: %s", sync.output.substr(0, sync.output.find('\n') + 1).c_str());
  std::printf("second run: %s", again.output.substr(0, again.output.find('\n') + 1).c_str());
  serve.Signal(SIGTERM);
  serve.Wait(60s);
  if (!keep) fs::remove_all(work);
  return 0;
}
