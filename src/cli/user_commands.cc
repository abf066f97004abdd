#include "cli/user_commands.h"

#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/data_store.h"
#include "cli/flags.h"
#include "core/time.h"
#include "security/accounts.h"
#include "security/clients.h"
#include "store/store.h"

namespace medhub::cli {

const char kUserUsage[] =
    R"(  user    add --data DIR --username U --role R [--org ID] [--patient ID] [--device ID]
              [--password-file F]   (else $MEDHUB_PASSWORD, else a prompt on a terminal)
          list --data DIR
          disable --data DIR --username U
          Manage accounts; roles: patient, practitioner, admin, auditor, device, service.
  client  add --data DIR --client-id ID --role R --scope "S..." [--org ID] [--patient ID]
              [--device ID]   (prints the client secret once)
          list --data DIR
          disable --data DIR --client-id ID
          Manage OAuth clients of the client-credentials grant (devices, services).
)";

namespace {

int Fail(const CommandIo& io, const Status& s) {
  *io.err << "medhub: " << s.message() << "\n";
  return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

int Usage(const CommandIo& io, std::string_view what) {
  *io.err << "medhub: " << what << "\n\nusage:\n" << kUserUsage;
  return 2;
}

Status NoPositional(const Flags& f) {
  if (f.positional().empty()) return Status::Ok();
  return Status::InvalidArgument("unexpected argument '" + f.positional()[0] + "'");
}

Result<std::string> Required(const Flags& f, const std::string& name) {
  std::string v = f.Get(name);
  if (v.empty()) return Status::InvalidArgument("--" + name + " is required");
  return v;
}

void StripNewline(std::string* s) {
  if (!s->empty() && s->back() == '\n') s->pop_back();
  if (!s->empty() && s->back() == '\r') s->pop_back();
}

// Reads one line from the terminal without echoing it.
std::string ReadHidden(const CommandIo& io, const char* prompt) {
  *io.err << prompt << std::flush;
  termios old{};
  const bool restore = tcgetattr(STDIN_FILENO, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  std::getline(*io.in, line);
  if (restore) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  *io.err << "\n";
  StripNewline(&line);
  return line;
}

// The new account's password, from the first source that has one.
Result<std::string> ReadPassword(const Flags& f, const CommandIo& io) {
  std::string password;
  if (f.Has("password-file")) {
    const std::string path = f.Get("password-file");
    if (path == "-") {
      std::getline(*io.in, password);
    } else {
      std::ifstream in(path);
      if (!in) return Status::NotFound("cannot read password file " + path);
      std::getline(in, password);
    }
    StripNewline(&password);
    if (password.empty()) return Status::InvalidArgument("the password file is empty");
    return password;
  }
  if (const char* env = io.getenv("MEDHUB_PASSWORD"); env != nullptr && *env != '\0')
    return std::string(env);
  if (!io.in_is_terminal)
    return Status::InvalidArgument(
        "no password given: use --password-file F, set MEDHUB_PASSWORD, or run on a terminal");
  password = ReadHidden(io, "password: ");
  std::string again = ReadHidden(io, "password again: ");
  const bool same = security::ConstantTimeEquals(password, again);
  security::Wipe(&again);
  if (!same) {
    security::Wipe(&password);
    return Status::InvalidArgument("the passwords differ");
  }
  return password;
}

Status UserAdd(const std::vector<std::string>& args, const CommandIo& io) {
  ASSIGN_OR_RETURN(Flags f, Flags::Parse(args, {"data", "username", "role", "org", "patient",
                                                "device", "password-file"}));
  RETURN_IF_ERROR(NoPositional(f));
  security::Account account;
  ASSIGN_OR_RETURN(account.username, Required(f, "username"));
  RETURN_IF_ERROR(security::CheckUsername(account.username));
  ASSIGN_OR_RETURN(std::string role, Required(f, "role"));
  ASSIGN_OR_RETURN(account.role, security::ParseRole(role));
  account.organization = f.Get("org");
  account.patient = f.Get("patient");
  account.device = f.Get("device");
  RETURN_IF_ERROR(security::CheckRoleAttributes(
      account.role, {account.organization, account.patient, account.device}));
  ASSIGN_OR_RETURN(std::string password, ReadPassword(f, io));
  auto store = OpenStore(f);
  if (!store.ok()) {
    security::Wipe(&password);
    return store.status();
  }
  security::AccountsOptions options;
  options.password_params = io.password_params;
  security::Accounts accounts(store->get(), options);
  const Status s = accounts.Add(account, password, NowMicros());
  security::Wipe(&password);
  RETURN_IF_ERROR(s);
  *io.out << "added user " << account.username << " (" << role << ")\n";
  return Status::Ok();
}

std::string Column(std::string_view s) { return s.empty() ? "-" : std::string(s); }

Status UserList(const std::vector<std::string>& args, const CommandIo& io) {
  ASSIGN_OR_RETURN(Flags f, Flags::Parse(args, {"data"}));
  RETURN_IF_ERROR(NoPositional(f));
  ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, OpenStore(f));
  security::Accounts accounts(store.get(), {});
  ASSIGN_OR_RETURN(std::vector<security::Account> list, accounts.List());
  const int64_t now = NowMicros();
  *io.out << "username\trole\torg\tpatient\tdevice\tstatus\n";
  for (const security::Account& a : list) {
    std::string status = a.disabled ? "disabled" : "active";
    if (!a.disabled && a.locked_until > now)
      status = "locked until " + FormatInstant(a.locked_until);
    *io.out << a.username << "\t" << security::RoleName(a.role) << "\t" << Column(a.organization)
            << "\t" << Column(a.patient) << "\t" << Column(a.device) << "\t" << status << "\n";
  }
  return Status::Ok();
}

Status UserDisable(const std::vector<std::string>& args, const CommandIo& io) {
  ASSIGN_OR_RETURN(Flags f, Flags::Parse(args, {"data", "username"}));
  RETURN_IF_ERROR(NoPositional(f));
  ASSIGN_OR_RETURN(std::string username, Required(f, "username"));
  ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, OpenStore(f));
  security::Accounts accounts(store.get(), {});
  RETURN_IF_ERROR(accounts.Disable(username));
  *io.out << "disabled user " << username << "\n";
  return Status::Ok();
}

Status ClientAdd(const std::vector<std::string>& args, const CommandIo& io) {
  ASSIGN_OR_RETURN(Flags f, Flags::Parse(args, {"data", "client-id", "role", "scope", "org",
                                                "patient", "device"}));
  RETURN_IF_ERROR(NoPositional(f));
  security::Client client;
  ASSIGN_OR_RETURN(client.client_id, Required(f, "client-id"));
  ASSIGN_OR_RETURN(std::string role, Required(f, "role"));
  ASSIGN_OR_RETURN(client.role, security::ParseRole(role));
  ASSIGN_OR_RETURN(std::string scope, Required(f, "scope"));
  ASSIGN_OR_RETURN(client.scopes, security::ParseScopes(scope));
  client.organization = f.Get("org");
  client.patient = f.Get("patient");
  client.device = f.Get("device");
  ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, OpenStore(f));
  security::Clients clients(store.get());
  ASSIGN_OR_RETURN(std::string secret, clients.Add(client, NowMicros()));
  *io.out << "client_id: " << client.client_id << "\nclient_secret: " << secret
          << "\n(the secret is shown only now; store it safely)\n";
  security::Wipe(&secret);
  return Status::Ok();
}

Status ClientList(const std::vector<std::string>& args, const CommandIo& io) {
  ASSIGN_OR_RETURN(Flags f, Flags::Parse(args, {"data"}));
  RETURN_IF_ERROR(NoPositional(f));
  ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, OpenStore(f));
  security::Clients clients(store.get());
  ASSIGN_OR_RETURN(std::vector<security::Client> list, clients.List());
  *io.out << "client_id\trole\torg\tpatient\tdevice\tscope\tstatus\n";
  for (const security::Client& c : list) {
    *io.out << c.client_id << "\t" << security::RoleName(c.role) << "\t" << Column(c.organization)
            << "\t" << Column(c.patient) << "\t" << Column(c.device) << "\t"
            << security::FormatScopes(c.scopes) << "\t" << (c.disabled ? "disabled" : "active")
            << "\n";
  }
  return Status::Ok();
}

Status ClientDisable(const std::vector<std::string>& args, const CommandIo& io) {
  ASSIGN_OR_RETURN(Flags f, Flags::Parse(args, {"data", "client-id"}));
  RETURN_IF_ERROR(NoPositional(f));
  ASSIGN_OR_RETURN(std::string id, Required(f, "client-id"));
  ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, OpenStore(f));
  security::Clients clients(store.get());
  RETURN_IF_ERROR(clients.Disable(id));
  *io.out << "disabled client " << id << "\n";
  return Status::Ok();
}

using Subcommand = Status (*)(const std::vector<std::string>&, const CommandIo&);

int Dispatch(std::string_view command, const std::vector<std::string>& args, const CommandIo& io,
             Subcommand add, Subcommand list, Subcommand disable) {
  if (args.empty()) return Usage(io, std::string(command) + ": name a subcommand");
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  Subcommand run = args[0] == "add"       ? add
                   : args[0] == "list"    ? list
                   : args[0] == "disable" ? disable
                                          : nullptr;
  if (run == nullptr)
    return Usage(io, std::string(command) + ": unknown subcommand '" + args[0] + "'");
  const Status s = run(rest, io);
  return s.ok() ? 0 : Fail(io, s);
}

}  // namespace

CommandIo StandardIo() {
  CommandIo io{&std::cin, &std::cout, &std::cerr,
               [](const char* name) { return std::getenv(name); }};
  io.in_is_terminal = isatty(STDIN_FILENO) != 0;
  return io;
}

int RunUser(const std::vector<std::string>& args, const CommandIo& io) {
  return Dispatch("user", args, io, UserAdd, UserList, UserDisable);
}

int RunClient(const std::vector<std::string>& args, const CommandIo& io) {
  return Dispatch("client", args, io, ClientAdd, ClientList, ClientDisable);
}

}  // namespace medhub::cli
