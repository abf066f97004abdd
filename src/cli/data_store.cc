#include "cli/data_store.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/aead.h"
#include "core/hash.h"

namespace medhub::cli {
namespace {

constexpr char kFlag[] = "--master-key-file";
std::string g_master_key_file;  // set once by TakeMasterKeyFlag, before any thread starts

Result<std::string> ReadKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("cannot read the master key file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  auto key = ParseKeyText(text);
  Wipe(&text);
  if (!key.ok()) return Status::InvalidArgument(path + ": " + key.status().message());
  return key;
}

// Key errors of the store become InvalidArgument: a command without the right key exits 2.
Status KeyErrorsAreUsageErrors(const Status& s) {
  if (s.code() == StatusCode::kUnauthenticated) return Status::InvalidArgument(s.message());
  return s;
}

}  // namespace

Result<std::vector<std::string>> TakeMasterKeyFlag(std::vector<std::string> args) {
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == kFlag) {
      if (i + 1 >= args.size()) return Status::InvalidArgument("--master-key-file needs a file");
      g_master_key_file = args[++i];
    } else if (args[i].starts_with(std::string(kFlag) + "=")) {
      g_master_key_file = args[i].substr(sizeof(kFlag));
    } else {
      rest.push_back(std::move(args[i]));
    }
  }
  return rest;
}

Result<std::string> MasterKey() {
  if (!g_master_key_file.empty()) return ReadKeyFile(g_master_key_file);
  const char* env = std::getenv("MEDHUB_MASTER_KEY");
  if (env == nullptr || *env == '\0')
    return Status::InvalidArgument(
        "a master key is required: --master-key-file F or MEDHUB_MASTER_KEY (64 hex digits or "
        "base64 of 32 bytes)");
  auto key = ParseKeyText(env);
  if (!key.ok()) return Status::InvalidArgument("MEDHUB_MASTER_KEY: " + key.status().message());
  return key;
}

Result<std::unique_ptr<store::Store>> OpenStore(const Flags& f, bool read_only) {
  if (!f.Has("data")) return Status::InvalidArgument("--data DIR is required");
  store::StoreOptions options;
  options.path = f.Get("data");
  options.read_only = read_only;
  ASSIGN_OR_RETURN(options.master_key, MasterKey());
  auto store = store::OpenRocksStore(options);
  Wipe(&options.master_key);
  if (!store.ok()) return KeyErrorsAreUsageErrors(store.status());
  return store;
}

Result<std::unique_ptr<store::Store>> OpenDemoStore(const std::string& dir, std::string* where) {
  store::StoreOptions options;
  options.path = dir;
  const char* env = std::getenv("MEDHUB_MASTER_KEY");
  if (!g_master_key_file.empty() || (env != nullptr && *env != '\0')) {
    *where = g_master_key_file.empty() ? "the MEDHUB_MASTER_KEY environment variable"
                                       : g_master_key_file;
    ASSIGN_OR_RETURN(options.master_key, MasterKey());
  } else {
    std::string base = dir;
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    const std::string file = base + ".masterkey";
    *where = file;
    if (std::filesystem::exists(file)) {
      ASSIGN_OR_RETURN(options.master_key, ReadKeyFile(file));
    } else {
      options.master_key = RandomBytes(32);
      const mode_t old_mask = umask(077);
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out << ToBase64(options.master_key) << "\n";
      out.close();
      umask(old_mask);
      if (!out) return Status::Unavailable("cannot write the master key file " + file);
    }
  }
  auto store = store::OpenRocksStore(options);
  Wipe(&options.master_key);
  if (!store.ok()) return KeyErrorsAreUsageErrors(store.status());
  return store;
}

}  // namespace medhub::cli
