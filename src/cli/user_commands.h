// `medhub user ...` and `medhub client ...`: manage accounts and OAuth clients of a data
// directory (security/accounts.h, security/clients.h). They open the store, so they run
// while no `medhub serve` holds the same directory.
//
//   medhub user add --data DIR --username U --role R [--org ID] [--patient ID] [--device ID]
//                   [--password-file F]
//     The password comes from --password-file F (its first line; "-" reads standard
//     input), else from the environment variable MEDHUB_PASSWORD, else from a prompt (twice,
//     not echoed) when standard input is a terminal; otherwise the command fails.
//   medhub user list --data DIR
//   medhub user disable --data DIR --username U
//   medhub client add --data DIR --client-id ID --role R --scope "S..." [--org ID]
//                     [--patient ID] [--device ID]     prints the client secret, once
//   medhub client list --data DIR
//   medhub client disable --data DIR --client-id ID
//
// Exit codes: 0 success, 2 bad usage or input, 1 anything else (e.g. the user exists).
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "security/password.h"

namespace medhub::cli {

// Where a command reads and writes; tests substitute their own.
struct CommandIo {
  std::istream* in;
  std::ostream* out;
  std::ostream* err;
  // Reads an environment variable; nullptr when unset.
  std::function<const char*(const char*)> getenv;
  bool in_is_terminal = false;
  security::PasswordParams password_params = security::PasswordParams::Interactive();
};

// The process's standard streams and environment.
CommandIo StandardIo();

extern const char kUserUsage[];

// `medhub user <add|list|disable> ...` (args exclude "user"); returns the exit code.
int RunUser(const std::vector<std::string>& args, const CommandIo& io = StandardIo());
// `medhub client <add|list|disable> ...` (args exclude "client"); returns the exit code.
int RunClient(const std::vector<std::string>& args, const CommandIo& io = StandardIo());

}  // namespace medhub::cli
