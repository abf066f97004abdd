// `medhub import` is a bulk load that adds fsynced SST files a chunk at a time. Killed with
// SIGKILL in the middle (small chunks, so that some are added and some are not), it must
// leave a store that opens cleanly and holds every Bundle either whole or not at all; a
// second and a complete third run finish the import with one version per resource, and the
// ledger that followed all three runs verifies.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "cli/importer.h"
#include "core/ids.h"
#include "core/json.h"
#include "fhir/resource.h"
#include "store/store.h"
#include "support/process.h"

namespace medhub {
namespace {

using testing::ChildProcess;
using namespace std::chrono_literals;

// SST files in the database folder (added chunks; flushes and compactions make more).
size_t SstFiles(const std::filesystem::path& dir) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".sst") ++n;
  return n;
}

struct BundleRefs {
  std::string file;
  std::vector<std::pair<std::string, std::string>> resources;  // type, id
};

// The resources of each Bundle that no other Bundle holds (a few Organizations and
// Practitioners recur in several).
std::vector<BundleRefs> ReadBundles(const std::vector<std::string>& files, size_t* distinct) {
  std::vector<BundleRefs> out;
  std::map<std::pair<std::string, std::string>, int> seen;
  for (const std::string& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const json::Value doc = json::Parse(ss.str()).value();
    BundleRefs b{f, {}};
    for (const json::Value& e : doc.find("entry")->items()) {
      const json::Value* r = e.find("resource");
      b.resources.emplace_back(fhir::ResourceType(*r), fhir::ResourceId(*r));
      ++seen[b.resources.back()];
    }
    out.push_back(std::move(b));
  }
  for (BundleRefs& b : out)
    std::erase_if(b.resources, [&](const auto& ref) { return seen[ref] > 1; });
  *distinct = seen.size();
  return out;
}

// Every Bundle is in the store whole or not at all; returns how many are whole.
size_t ExpectWholeBundles(const std::string& data, const std::vector<BundleRefs>& bundles) {
  auto store = store::OpenRocksStore({data});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return 0;
  size_t whole = 0;
  for (const BundleRefs& b : bundles) {
    size_t present = 0;
    for (const auto& [type, id] : b.resources) present += (*store)->Read(type, id).ok() ? 1 : 0;
    EXPECT_TRUE(present == 0 || present == b.resources.size())
        << b.file << ": " << present << " of " << b.resources.size() << " resources";
    whole += present == b.resources.size() ? 1 : 0;
  }
  return whole;
}

TEST(BulkImportCrashTest, SigkilledImportLeavesWholeBundlesAndReimportCompletes) {
  const auto dir = std::filesystem::temp_directory_path() / ("medhub-bulk-crash-" + NewId());
  const std::string data = (dir / "data").string();
  const std::string sample = std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea";
  const std::vector<std::string> files = cli::Importer::ListFiles({sample}).value();
  size_t distinct = 0;
  const std::vector<BundleRefs> bundles = ReadBundles(files, &distinct);
  size_t total = 0;  // what the import reports
  for (const std::string& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    total += json::Parse(ss.str()).value().find("entry")->items().size();
  }

  int killed = 0;
  for (size_t want_files : {12u, 40u}) {  // kill once this many SST files exist
    ChildProcess import(
        {MEDHUB_BINARY, "import", "--data", data, "--bulk-chunk-kb", "256", sample});
    while (SstFiles(data) < want_files && import.Wait(1ms) == -1) {
    }
    import.Signal(SIGKILL);
    const int code = import.Wait(30s);
    killed += code == 128 + SIGKILL ? 1 : 0;
    const size_t whole = ExpectWholeBundles(data, bundles);
    std::cout << "run " << killed << ": exit " << code << ", " << whole << " of " << bundles.size()
              << " Bundles in the store" << std::endl;
  }
  EXPECT_GE(killed, 1) << "no run was killed mid-way";

  ChildProcess last({MEDHUB_BINARY, "import", "--data", data, sample});
  EXPECT_NE(last.ReadLineContaining("imported", 120s), "") << last.output();
  ASSERT_EQ(last.Wait(60s), 0) << last.output();
  EXPECT_NE(last.output().find(std::to_string(total) + " ok, 0 failed"), std::string::npos)
      << last.output();
  EXPECT_EQ(ExpectWholeBundles(data, bundles), bundles.size());
  {
    auto store = store::OpenRocksStore({data}).value();
    const auto changes = store->ChangesSince(0, 1 << 20).value();
    EXPECT_EQ(changes.size(), distinct);  // one version per resource: no duplicates
    for (size_t i = 1; i < changes.size(); ++i) ASSERT_LT(changes[i - 1].seq, changes[i].seq);
    for (const store::Change& c : changes) ASSERT_EQ(c.version, 1u) << c.type << "/" << c.id;
  }
  ChildProcess verify({MEDHUB_BINARY, "ledger", "verify", "--data", data});
  EXPECT_EQ(verify.Wait(120s), 0) << verify.output();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace medhub
