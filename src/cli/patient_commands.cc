#include "cli/patient_commands.h"

#include <iostream>

#include "cli/data_store.h"
#include "cli/flags.h"
#include "cli/ledger_commands.h"
#include "core/ids.h"

namespace medhub::cli {

const char kPatientUsage[] =
    R"(  patient erase --data DIR [--member NAME] ID
          Crypto-shredding: destroy the data key of Patient/ID, remove its search entries
          and compact the store. Its resources then read as 410 Gone; the ledger keeps only
          their commitments (`medhub ledger verify` reports them as erased). Irreversible.
)";

namespace {

int Fail(const Status& s) {
  std::cerr << "medhub: " << s.message() << "\n";
  return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

int Erase(const Flags& flags) {
  if (flags.positional().size() != 2 || !IsValidFhirId(flags.positional()[1]))
    return Fail(Status::InvalidArgument(std::string("usage:\n") + kPatientUsage));
  const std::string id = flags.positional()[1];
  auto store = OpenStore(flags);
  if (!store.ok()) return Fail(store.status());
  // The ledger first commits every change the store has, so that it never has to read a
  // version after its key is gone.
  auto node = StartLedgerNode(store->get(), flags.Get("data"), flags.Get("member", "local"));
  if (!node.ok()) return Fail(node.status());
  if (Status s = node->Stop(); !s.ok()) return Fail(s);
  auto report = (*store)->ErasePatient(id);
  if (!report.ok()) return Fail(report.status());
  std::cout << "erased Patient/" << id << ": its data key is destroyed; " << report->resources
            << " resources are unreadable, " << report->index_keys
            << " index entries removed, store compacted" << std::endl;
  return 0;
}

}  // namespace

int RunPatient(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(args, {"data", "member"});
  if (!flags.ok()) return Fail(flags.status());
  if (flags->positional().empty() || flags->positional()[0] != "erase")
    return Fail(Status::InvalidArgument(std::string("usage:\n") + kPatientUsage));
  return Erase(*flags);
}

}  // namespace medhub::cli
