// `medhub user ...` and `medhub client ...` with injected streams and environment, against
// a real data directory.
#include "cli/user_commands.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/ids.h"
#include "security/accounts.h"
#include "store/store.h"

namespace medhub::cli {
namespace {

namespace fs = std::filesystem;

class UserCommandsTest : public ::testing::Test {
 protected:
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `medhub user <args>` (or `client` with `client`); returns the exit code.
  int Run(std::vector<std::string> args, bool client = false) {
    out_.str("");
    err_.str("");
    CommandIo io{&in_, &out_, &err_, [this](const char* name) -> const char* {
                   auto it = env_.find(name);
                   return it == env_.end() ? nullptr : it->second.c_str();
                 }};
    io.in_is_terminal = false;
    io.password_params = security::PasswordParams::Minimum();
    return client ? RunClient(args, io) : RunUser(args, io);
  }
  std::vector<std::string> Add(std::string username, std::string role) {
    return {"add",    "--data",       dir_.string(), "--username", std::move(username),
            "--role", std::move(role)};
  }
  // Authenticates against the data directory with the store closed again afterwards.
  Status Login(std::string_view user, std::string_view password) {
    auto store = store::OpenRocksStore({dir_.string()});
    if (!store.ok()) return store.status();
    security::Accounts accounts(store->get(), {});
    return accounts.Authenticate(user, password, 1).status();
  }

  fs::path dir_ = fs::temp_directory_path() / ("medhub-cli-user-" + NewId());
  std::istringstream in_;
  std::ostringstream out_;
  std::ostringstream err_;
  std::map<std::string, std::string> env_;
};

TEST_F(UserCommandsTest, AddTakesThePasswordFromAFile) {
  fs::create_directories(dir_);
  const fs::path file = dir_.string() + "-password";
  std::ofstream(file) << "file-password-1\n";
  auto args = Add("dr.who", "practitioner");
  args.insert(args.end(), {"--org", "org-1", "--password-file", file.string()});
  EXPECT_EQ(Run(args), 0) << err_.str();
  EXPECT_EQ(out_.str(), "added user dr.who (practitioner)\n");
  fs::remove(file);
  EXPECT_TRUE(Login("dr.who", "file-password-1").ok());
  EXPECT_FALSE(Login("dr.who", "file-password-1\n").ok());
}

TEST_F(UserCommandsTest, AddTakesThePasswordFromTheEnvironmentOrStandardInput) {
  env_["MEDHUB_PASSWORD"] = "env-password-1";
  auto args = Add("rose", "patient");
  args.insert(args.end(), {"--patient", "p-1"});
  ASSERT_EQ(Run(args), 0) << err_.str();
  EXPECT_TRUE(Login("rose", "env-password-1").ok());
  in_.str("stdin-password-1\n");
  auto piped = Add("martha", "patient");
  piped.insert(piped.end(), {"--patient", "p-2", "--password-file", "-"});
  ASSERT_EQ(Run(piped), 0) << err_.str();
  EXPECT_TRUE(Login("martha", "stdin-password-1").ok());
}

TEST_F(UserCommandsTest, AddWithoutAnyPasswordSourceFailsClearly) {
  auto args = Add("dr.who", "practitioner");
  args.insert(args.end(), {"--org", "org-1"});
  EXPECT_EQ(Run(args), 2);
  EXPECT_NE(err_.str().find("no password given"), std::string::npos) << err_.str();
}

TEST_F(UserCommandsTest, BadInputIsRefusedWithExitCode2) {
  env_["MEDHUB_PASSWORD"] = "env-password-1";
  const std::vector<std::vector<std::string>> bad = {
      Add("dr.who", "surgeon"),                               // unknown role
      Add("Dr Who", "auditor"),                               // malformed username
      Add("dr.who", "practitioner"),                          // no --org
      Add("rose", "patient"),                                 // no --patient
      {"add", "--username", "x.y.z", "--role", "auditor"},    // no --data
      {"add", "--data", dir_.string(), "--role", "auditor"},  // no --username
      {"add", "--data", dir_.string(), "--bogus", "1"},       // unknown flag
      {"list", "--data", dir_.string(), "extra"},             // stray argument
  };
  for (const auto& args : bad) {
    EXPECT_EQ(Run(args), 2) << args[0] << " " << (args.size() > 4 ? args[4] : "");
    EXPECT_FALSE(err_.str().empty());
  }
  env_["MEDHUB_PASSWORD"] = "short";
  EXPECT_EQ(Run(Add("auditor.one", "auditor")), 2);
  EXPECT_NE(err_.str().find("shorter than 8"), std::string::npos) << err_.str();
}

TEST_F(UserCommandsTest, AddingAnExistingUserFailsWithExitCode1) {
  env_["MEDHUB_PASSWORD"] = "env-password-1";
  ASSERT_EQ(Run(Add("auditor.one", "auditor")), 0);
  EXPECT_EQ(Run(Add("auditor.one", "auditor")), 1);
  EXPECT_NE(err_.str().find("exists"), std::string::npos);
}

TEST_F(UserCommandsTest, ListShowsEveryUserAndDisableDisablesOne) {
  env_["MEDHUB_PASSWORD"] = "env-password-1";
  ASSERT_EQ(Run(Add("auditor.one", "auditor")), 0);
  auto rose = Add("rose", "patient");
  rose.insert(rose.end(), {"--patient", "p-1"});
  ASSERT_EQ(Run(rose), 0);
  ASSERT_EQ(Run({"disable", "--data", dir_.string(), "--username", "rose"}), 0);
  EXPECT_EQ(out_.str(), "disabled user rose\n");
  ASSERT_EQ(Run({"list", "--data", dir_.string()}), 0);
  EXPECT_EQ(out_.str(),
            "username\trole\torg\tpatient\tdevice\tstatus\n"
            "auditor.one\tauditor\t-\t-\t-\tactive\n"
            "rose\tpatient\t-\tp-1\t-\tdisabled\n");
  EXPECT_EQ(out_.str().find("argon2"), std::string::npos);
  EXPECT_EQ(Run({"disable", "--data", dir_.string(), "--username", "nobody"}), 1);
  EXPECT_FALSE(Login("rose", "env-password-1").ok());
}

TEST_F(UserCommandsTest, UnknownOrMissingSubcommandsPrintUsage) {
  EXPECT_EQ(Run({}), 2);
  EXPECT_NE(err_.str().find("usage"), std::string::npos);
  EXPECT_EQ(Run({"remove"}), 2);
  EXPECT_NE(err_.str().find("unknown subcommand 'remove'"), std::string::npos);
}

TEST_F(UserCommandsTest, ClientAddPrintsTheSecretOnceAndListShowsTheClient) {
  ASSERT_EQ(Run({"add", "--data", dir_.string(), "--client-id", "cuff-1", "--role", "device",
                 "--patient", "p-1", "--device", "d-1", "--scope", "patient/Observation.write"},
                true),
            0)
      << err_.str();
  EXPECT_NE(out_.str().find("client_secret: "), std::string::npos);
  ASSERT_EQ(Run({"list", "--data", dir_.string()}, true), 0);
  EXPECT_EQ(out_.str(),
            "client_id\trole\torg\tpatient\tdevice\tscope\tstatus\n"
            "cuff-1\tdevice\t-\tp-1\td-1\tpatient/Observation.write\tactive\n");
  EXPECT_EQ(Run({"add", "--data", dir_.string(), "--client-id", "cuff-2", "--role", "device",
                 "--patient", "p-1", "--device", "d-2", "--scope", "user/*.read"},
                true),
            2);
  ASSERT_EQ(Run({"disable", "--data", dir_.string(), "--client-id", "cuff-1"}, true), 0);
}

}  // namespace
}  // namespace medhub::cli
