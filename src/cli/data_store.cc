#include "cli/data_store.h"

namespace medhub::cli {

Result<std::unique_ptr<store::Store>> OpenStore(const Flags& f, bool read_only) {
  if (!f.Has("data")) return Status::InvalidArgument("--data DIR is required");
  store::StoreOptions options;
  options.path = f.Get("data");
  options.read_only = read_only;
  return store::OpenRocksStore(options);
}

}  // namespace medhub::cli
