#include "cli/ledger_commands.h"

#include <charconv>
#include <chrono>
#include <filesystem>
#include <iostream>

#include "cli/data_store.h"
#include "cli/flags.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/time.h"
#include "ledger/member_files.h"
#include "ledger/verify.h"
#include "server/ledger_api.h"

namespace medhub::cli {
namespace {

// A proposal is a znode: blocks stay well under ZooKeeper's default 1 MiB jute.maxbuffer.
constexpr size_t kConsortiumBlockEntries = 2048;
constexpr auto kDrainTimeout = std::chrono::seconds(10);

constexpr char kLedgerUsage[] = R"(usage: medhub ledger <command> --data DIR [--member NAME]

commands:
  verify  Recheck everything offline: every block's checksum, hash, chain link, signature,
          endorsements, entries root and log root, the signed tree head, and every stored
          record version against its commitment. Prints the first fault (a block with its
          byte offset, or a record Type/id/_history/v); exits 0 only if all is intact.
  status  Print the height, tree size, root, last change-feed sequence covered and member.
  keygen  --out FILE --member NAME
          Write a new member key (Ed25519, PEM, mode 0600; never overwrites) and print the
          member's line for the consortium's members file: {"name":..,"public_key":..}.
  proof   Type/id/_history/VERSION
          Print the $verify Parameters of one stored version (salt, commitment, entry,
          inclusion proof, signed tree head, public key).

--member defaults to the only member listed in DIR/ledger/members.json.
)";

int Fail(const Status& s) {
  std::cerr << "medhub: " << s.message() << "\n";
  return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

// --member, or else the only member of the ledger's members.json.
Result<std::string> MemberFor(const Flags& flags, const std::string& ledger_dir) {
  if (flags.Has("member")) return flags.Get("member");
  Result<std::vector<ledger::MemberInfo>> members =
      ledger::ReadMembers((std::filesystem::path(ledger_dir) / ledger::kMembersFile).string());
  if (members.status().code() == StatusCode::kNotFound) {
    return Status::NotFound("no ledger at " + ledger_dir);
  }
  if (!members.ok()) return members.status();
  if (members->size() != 1) return Status::InvalidArgument("name the member with --member");
  return members->front().name;
}

Result<ledger::LedgerOptions> ReadOnlyOptions(const Flags& flags) {
  if (!flags.Has("data")) return Status::InvalidArgument("--data DIR is required");
  ledger::LedgerOptions options;
  options.dir = LedgerDir(flags.Get("data"));
  ASSIGN_OR_RETURN(options.member, MemberFor(flags, options.dir));
  options.read_only = true;
  options.torn_tail = ledger::TornTail::kIgnore;
  return options;
}

int RunVerify(const Flags& flags) {
  Result<ledger::LedgerOptions> options = ReadOnlyOptions(flags);
  if (!options.ok()) return Fail(options.status());
  // The store first: the ledger may then be ahead of the store's view, never behind it.
  Result<std::unique_ptr<store::Store>> store = OpenStore(flags, /*read_only=*/true);
  if (!store.ok()) return Fail(store.status());
  Result<ledger::VerifyReport> report = ledger::VerifyLedger(*options, store->get());
  if (!report.ok()) {
    std::cout << "ledger verify FAILED: " << report.status().message() << std::endl;
    return 1;
  }
  const ledger::SignedTreeHead& sth = report->head;
  std::cout << "ledger intact: " << report->blocks << " blocks, " << report->entries << " entries; "
            << report->records - report->erased
            << " record versions match their commitments in the store"
            << (report->erased ? ", " + std::to_string(report->erased) +
                                     " were erased (crypto-shredded patients)"
                               : std::string())
            << "\n"
            << "head: tree_size " << sth.head.tree_size << ", root " << ToHex(sth.head.root)
            << ", signed by " << sth.head.signer << " (public key " << report->public_key_hex << ")"
            << std::endl;
  if (report->writer_active) {
    std::cout << "note: a server holds the ledger open; " << report->pending
              << " newer changes were not checked" << std::endl;
  }
  return 0;
}

int RunStatus(const Flags& flags) {
  Result<ledger::LedgerOptions> options = ReadOnlyOptions(flags);
  if (!options.ok()) return Fail(options.status());
  Result<std::unique_ptr<ledger::Ledger>> ledger = ledger::Ledger::Open(*options);
  if (!ledger.ok()) return Fail(ledger.status());
  const ledger::SignedTreeHead sth = (*ledger)->Head();
  std::cout << "member      " << (*ledger)->member() << "\n"
            << "public key  " << (*ledger)->public_key().Hex() << "\n"
            << "height      " << (*ledger)->height() << " blocks\n"
            << "tree size   " << sth.head.tree_size << " entries\n"
            << "root        " << ToHex(sth.head.root) << "\n"
            << "timestamp   " << FormatInstant(sth.head.timestamp_us) << "\n"
            << "last seq    " << (*ledger)->last_seq() << std::endl;
  return 0;
}

// "Type/id/_history/version".
struct VersionName {
  std::string type, id;
  uint64_t version = 0;
};
Result<VersionName> ParseVersionName(std::string_view text) {
  const auto bad = Status::InvalidArgument("name the version as Type/id/_history/VERSION");
  VersionName v;
  const size_t a = text.find('/');
  const size_t b = a == std::string_view::npos ? a : text.find('/', a + 1);
  const size_t c = b == std::string_view::npos ? b : text.find('/', b + 1);
  if (c == std::string_view::npos || text.substr(b + 1, c - b - 1) != "_history") return bad;
  v.type = std::string(text.substr(0, a));
  v.id = std::string(text.substr(a + 1, b - a - 1));
  const std::string_view number = text.substr(c + 1);
  auto [p, ec] = std::from_chars(number.data(), number.data() + number.size(), v.version);
  if (ec != std::errc() || p != number.data() + number.size() || v.version == 0) return bad;
  return v;
}

int RunProof(const Flags& flags) {
  if (flags.positional().size() != 2) return Fail(Status::InvalidArgument(kLedgerUsage));
  Result<VersionName> name = ParseVersionName(flags.positional()[1]);
  if (!name.ok()) return Fail(name.status());
  Result<ledger::LedgerOptions> options = ReadOnlyOptions(flags);
  if (!options.ok()) return Fail(options.status());
  Result<std::unique_ptr<store::Store>> store = OpenStore(flags, /*read_only=*/true);
  if (!store.ok()) return Fail(store.status());
  Result<std::unique_ptr<ledger::Ledger>> ledger = ledger::Ledger::Open(*options);
  if (!ledger.ok()) return Fail(ledger.status());
  Result<json::Value> params =
      server::VerifyParameters(**ledger, store->get(), name->type, name->id, name->version);
  if (!params.ok()) return Fail(params.status());
  std::cout << json::Serialize(*params) << std::endl;
  return 0;
}

}  // namespace

std::string LedgerDir(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "ledger").string();
}

Status LedgerNode::Stop() {
  // A consortium member drains what ZooKeeper will order within a bound; the rest is
  // committed from the change feed on the next start.
  if (consortium) consortium->SetDeadline(std::chrono::steady_clock::now() + kDrainTimeout);
  Status s = writer == nullptr ? Status::Ok() : writer->Stop();
  writer.reset();
  if (consortium) consortium->Stop();
  return s;
}

Result<LedgerNode> StartServeLedgerNode(store::Store* store, const Flags& flags) {
  const std::string member = flags.Get("member", "local");
  if (!flags.Has("ledger-zk")) {
    for (const char* f : kConsortiumFlags) {
      if (flags.Has(f))
        return Status::InvalidArgument(std::string("--") + f + " needs --ledger-zk");
    }
    return StartLedgerNode(store, flags.Get("data"), member);
  }
  if (!flags.Has("member") || !flags.Has("member-key") || !flags.Has("members")) {
    return Status::InvalidArgument(
        "--ledger-zk needs --member NAME --member-key FILE --members FILE");
  }
  ASSIGN_OR_RETURN(std::vector<ledger::MemberInfo> members,
                   ledger::ReadMembers(flags.Get("members")));
  ledger::LedgerOptions options;
  options.dir = LedgerDir(flags.Get("data"));
  options.member = member;
  options.key_file = flags.Get("member-key");
  options.consortium = members;
  LedgerNode node;
  ASSIGN_OR_RETURN(node.ledger, ledger::Ledger::Open(options));
  const size_t member_count = members.size();
  ledger::ConsortiumOptions c;
  c.zk_hosts = flags.Get("ledger-zk");
  c.members = std::move(members);
  c.evidence_file = (std::filesystem::path(options.dir) / ledger::kEvidenceFile).string();
  ASSIGN_OR_RETURN(node.consortium, ledger::Consortium::Start(node.ledger.get(), std::move(c)));
  ledger::LedgerWriterOptions writer_options;
  writer_options.max_block_entries = kConsortiumBlockEntries;
  writer_options.append = [c = node.consortium.get()](std::vector<ledger::Entry> entries,
                                                      uint64_t last_seq) {
    return c->Append(std::move(entries), last_seq);
  };
  node.writer =
      std::make_unique<ledger::LedgerWriter>(store, node.ledger.get(), std::move(writer_options));
  node.writer->Start();
  std::cerr << "medhub: ledger: consortium member '" << member << "' of " << member_count
            << ", ordered by ZooKeeper at " << flags.Get("ledger-zk") << std::endl;
  return node;
}

Result<LedgerNode> StartLedgerNode(store::Store* store, const std::string& data_dir,
                                   const std::string& member) {
  ledger::LedgerOptions options;
  options.dir = LedgerDir(data_dir);
  options.member = member;
  LedgerNode node;
  ASSIGN_OR_RETURN(node.ledger, ledger::Ledger::Open(options));
  node.writer = std::make_unique<ledger::LedgerWriter>(store, node.ledger.get());
  node.writer->Start();
  return node;
}

int RunKeygen(const Flags& flags) {
  if (!flags.Has("out") || !flags.Has("member")) {
    return Fail(Status::InvalidArgument("keygen needs --out FILE --member NAME"));
  }
  const std::string name = flags.Get("member");
  if (!ledger::IsValidSignerName(name)) {
    return Fail(Status::InvalidArgument("a member name is 1-255 printable ASCII characters"));
  }
  const std::string out = flags.Get("out");
  std::error_code ec;
  if (std::filesystem::exists(out, ec)) {
    return Fail(Status::AlreadyExists(out + " exists; keygen never overwrites a key"));
  }
  bool created = false;
  Result<PrivateKey> key = ledger::ReadOrCreateMemberKey(out, &created);
  if (!key.ok()) return Fail(key.status());
  json::Value line = json::Value::Object();
  line.set("name", json::Value::String(name));
  line.set("public_key", json::Value::String(key->public_key().Hex()));
  std::cout << json::Serialize(line) << std::endl;
  return 0;
}

int RunLedger(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(args, {"data", "member", "out"});
  if (!flags.ok()) return Fail(flags.status());
  const std::vector<std::string>& pos = flags->positional();
  const std::string command = pos.empty() ? "" : pos[0];
  if (command == "proof") return RunProof(*flags);
  if (pos.size() == 1 && command == "keygen") return RunKeygen(*flags);
  if (pos.size() == 1 && command == "verify") return RunVerify(*flags);
  if (pos.size() == 1 && command == "status") return RunStatus(*flags);
  if (command == "help") {
    std::cout << kLedgerUsage;
    return 0;
  }
  std::cerr << kLedgerUsage;
  return 2;
}

}  // namespace medhub::cli
