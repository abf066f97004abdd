#include "cli/data_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "core/aead.h"
#include "core/hash.h"
#include "core/ids.h"

namespace medhub::cli {
namespace {

class DemoKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* k = getenv("MEDHUB_MASTER_KEY")) saved_ = k;
    unsetenv("MEDHUB_MASTER_KEY");
    root_ = std::filesystem::temp_directory_path() / ("medhub-demo-key-" + NewId());
    std::filesystem::create_directories(root_);
  }
  void TearDown() override {
    if (saved_) setenv("MEDHUB_MASTER_KEY", saved_->c_str(), 1);
    std::filesystem::remove_all(root_);
  }
  std::optional<std::string> saved_;
  std::filesystem::path root_;
};

TEST_F(DemoKeyTest, TheDemoKeepsAGeneratedKeyBesideTheDataDirectoryNotInIt) {
  const std::string data = (root_ / "data").string();
  std::string where;
  {
    auto store = OpenDemoStore(data + "/", &where);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
  }
  EXPECT_EQ(where, data + ".masterkey");
  struct stat st {};
  ASSERT_EQ(stat(where.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(where);
  std::stringstream text;
  text << in.rdbuf();
  auto key = ParseKeyText(text.str());
  ASSERT_TRUE(key.ok());
  // The key opens the directory again (reused, not regenerated), and opening without any
  // key fails with a usage error.
  {
    auto again = OpenDemoStore(data, &where);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
  }
  auto flags = Flags::Parse({"--data", data}, {"data"});
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ(OpenStore(*flags).status().code(), StatusCode::kInvalidArgument);
  setenv("MEDHUB_MASTER_KEY", ToHex(*key).c_str(), 1);
  EXPECT_TRUE(OpenStore(*flags).ok());
}

TEST(MasterKeyFlagTest, TheFlagIsTakenOutOfTheArgumentsInBothForms) {
  auto rest = TakeMasterKeyFlag({"serve", "--master-key-file", "/k", "--data", "d"});
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(*rest, (std::vector<std::string>{"serve", "--data", "d"}));
  rest = TakeMasterKeyFlag({"import", "--master-key-file=/k2", "x"});
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(*rest, (std::vector<std::string>{"import", "x"}));
  EXPECT_EQ(MasterKey().status().code(), StatusCode::kInvalidArgument);  // /k2 does not exist
  EXPECT_FALSE(TakeMasterKeyFlag({"serve", "--master-key-file"}).ok());
  ASSERT_TRUE(TakeMasterKeyFlag({"--master-key-file="}).ok());  // forget /k2 for other tests
}

}  // namespace
}  // namespace medhub::cli
