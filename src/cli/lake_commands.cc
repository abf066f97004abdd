#include "cli/lake_commands.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <utility>

#include "cli/data_store.h"
#include "lake/manifest.h"

namespace medhub::cli {
namespace {

constexpr char kLakeUsage[] =
    R"(usage: medhub lake <command> [options]

  sync    --data DIR [--to DIR|webhdfs://HOST:PORT/PATH] [--file-mb N]
          Bring the lake (default DIR/lake) up to the store's change feed and exit:
          every version becomes an NDJSON line, published by a manifest
          (docs/formats/lake.md). Resumes where the last manifest left off. Needs the
          store's lock, so not while `medhub serve` runs on DIR (serve keeps its lake
          current itself).
  status  --lake DIR|webhdfs://HOST:PORT/PATH
          Print the lake's commits, the change-feed sequence reached, files and lines.
)";

int Fail(const Status& s) {
  std::cerr << "medhub: " << s.message() << "\n";
  return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

Result<lake::LakeWriterOptions> WriterOptions(const Flags& f) {
  lake::LakeWriterOptions o;
  ASSIGN_OR_RETURN(uint64_t mb, f.GetUint("lake-file-mb", o.max_file_bytes >> 20));
  if (mb == 0 || mb > (1u << 20))
    return Status::InvalidArgument("--lake-file-mb must be 1-1048576");
  o.max_file_bytes = mb << 20;
  return o;
}

int RunSync(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(args, {"data", "to", "lake-file-mb"});
  if (!flags.ok()) return Fail(flags.status());
  if (!flags->positional().empty())
    return Fail(Status::InvalidArgument("unexpected argument '" + flags->positional()[0] + "'"));
  auto store = OpenStore(*flags);
  if (!store.ok()) return Fail(store.status());
  const std::string location = flags->Get("to", flags->Get("data") + "/lake");
  auto fs = lake::OpenFileSystem(location);
  if (!fs.ok()) return Fail(fs.status());
  auto options = WriterOptions(*flags);
  if (!options.ok()) return Fail(options.status());
  lake::LakeWriter writer(store->get(), fs->get(), *options);
  const auto start = std::chrono::steady_clock::now();
  if (Status s = writer.Open(); !s.ok()) return Fail(s.WithPrefix("lake " + location));
  const lake::LakeState before = writer.state();
  if (Status s = writer.CatchUp(); !s.ok()) {
    std::cerr << "medhub: the lake stays at its last manifest (commit " << writer.state().commit
              << ", change " << writer.state().seq << ")\n";
    return Fail(s);
  }
  const lake::LakeState after = writer.state();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("lake %s: commit %llu, change %llu (%llu changes written in %.2f s)\n",
              (*fs)->Describe().c_str(), static_cast<unsigned long long>(after.commit),
              static_cast<unsigned long long>(after.seq),
              static_cast<unsigned long long>(after.seq - before.seq), secs);
  return 0;
}

int RunStatus(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(args, {"lake", "data"});
  if (!flags.ok()) return Fail(flags.status());
  if (!flags->Has("lake") && !flags->Has("data"))
    return Fail(Status::InvalidArgument("--lake LOCATION (or --data DIR) is required"));
  auto fs = lake::OpenFileSystem(LakeLocation(*flags));
  if (!fs.ok()) return Fail(fs.status());
  auto manifests = lake::ReadManifests(fs->get());
  if (!manifests.ok()) return Fail(manifests.status());
  uint64_t files = 0, lines = 0, bytes = 0;
  for (const lake::Manifest& m : *manifests) {
    for (const lake::ManifestFile& f : m.output) {
      ++files;
      lines += f.count;
      bytes += f.bytes;
    }
  }
  const uint64_t seq = manifests->empty() ? 0 : manifests->back().seq;
  // The bucket count new resources get now (docs/formats/lake.md, "bucket=").
  const int buckets = manifests->empty() ? 0 : manifests->back().bucketing.back().buckets;
  std::printf(
      "lake %s: %zu commits, change %llu, %llu files, %llu lines, %llu bytes, bucket count %d\n",
      (*fs)->Describe().c_str(), manifests->size(), static_cast<unsigned long long>(seq),
      static_cast<unsigned long long>(files), static_cast<unsigned long long>(lines),
      static_cast<unsigned long long>(bytes), buckets);
  return 0;
}

}  // namespace

std::string LakeLocation(const Flags& f) { return f.Get("lake", f.Get("data") + "/lake"); }

Result<std::unique_ptr<LakeNode>> StartLakeNode(store::Store* store, const Flags& f) {
  // The lake is plaintext NDJSON (Hadoop must read it), while the store is encrypted at
  // rest: it is kept only when asked for (docs/security.md, "The lake").
  if (f.Has("no-lake") || !f.Has("lake")) return std::unique_ptr<LakeNode>();
  const std::string location = LakeLocation(f);
  auto node = std::make_unique<LakeNode>();
  ASSIGN_OR_RETURN(node->fs, lake::OpenFileSystem(location));
  ASSIGN_OR_RETURN(lake::LakeWriterOptions options, WriterOptions(f));
  node->writer = std::make_unique<lake::LakeWriter>(store, node->fs.get(), options);
  if (Status s = node->writer->Open(); !s.ok()) {
    std::cerr << "medhub: the lake at " << location << " is not reachable now (" << s.message()
              << "); the writer keeps retrying\n";
  }
  node->writer->Start();
  return node;
}

int StopLakeNode(LakeNode* node, int exit_code) {
  if (node == nullptr) return exit_code;
  const Status s = node->writer->Stop();
  const lake::LakeState st = node->writer->state();
  if (!s.ok()) {
    std::cerr << "medhub: the lake could not take every change: " << s.message()
              << "\nmedhub: the lake stays consistent at commit " << st.commit << ", change "
              << st.seq << "; the store has everything: run `medhub lake sync` later\n";
    return exit_code == 0 ? 1 : exit_code;
  }
  std::cerr << "medhub: lake " << node->fs->Describe() << " at commit " << st.commit << ", change "
            << st.seq << std::endl;
  return exit_code;
}

int RunLake(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "help" || args[0] == "--help") {
    std::cout << kLakeUsage;
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "sync") return RunSync(rest);
  if (args[0] == "status") return RunStatus(rest);
  std::cerr << "medhub lake: unknown command '" << args[0] << "'\n\n" << kLakeUsage;
  return 2;
}

}  // namespace medhub::cli
