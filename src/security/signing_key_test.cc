#include "security/signing_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/ids.h"

namespace medhub::security {
namespace {

namespace fs = std::filesystem;

class SigningKeyTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(dir_); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path key_path() const { return dir_ / kSigningKeyPath; }
  mode_t Mode(const fs::path& p) const {
    struct stat st {};
    EXPECT_EQ(stat(p.c_str(), &st), 0);
    return st.st_mode & 0777;
  }

  fs::path dir_ = fs::temp_directory_path() / ("medhub-key-" + NewId());
};

TEST_F(SigningKeyTest, TheFirstUseCreatesAPrivatePemKeyFile) {
  auto key = LoadOrCreateSigningKey(dir_.string());
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  ASSERT_TRUE(fs::exists(key_path()));
  EXPECT_EQ(Mode(key_path()), 0600u);
  EXPECT_EQ(Mode(key_path().parent_path()), 0700u);
  std::ifstream in(key_path());
  const std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(pem.starts_with("-----BEGIN PRIVATE KEY-----")) << pem;
  // No temporary files are left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(key_path().parent_path()), {}), 1);
}

TEST_F(SigningKeyTest, LaterUsesLoadTheSameKey) {
  auto a = LoadOrCreateSigningKey(dir_.string());
  auto b = LoadOrCreateSigningKey(dir_.string());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->public_key(), b->public_key());
}

TEST_F(SigningKeyTest, AKeyFileOthersCanReadIsRefused) {
  ASSERT_TRUE(LoadOrCreateSigningKey(dir_.string()).ok());
  fs::permissions(key_path(), fs::perms::group_read, fs::perm_options::add);
  auto key = LoadOrCreateSigningKey(dir_.string());
  EXPECT_EQ(key.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(key.status().message().find("chmod 600"), std::string::npos);
}

TEST_F(SigningKeyTest, AKeyFileWithoutAKeyIsDataLoss) {
  fs::create_directories(key_path().parent_path());
  {
    std::ofstream out(key_path());
    out << "not a key\n";
  }
  fs::permissions(key_path(), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(LoadOrCreateSigningKey(dir_.string()).status().code(), StatusCode::kDataLoss);
}

TEST_F(SigningKeyTest, ASymbolicLinkInPlaceOfTheKeyIsRefused) {
  ASSERT_TRUE(LoadOrCreateSigningKey(dir_.string()).ok());
  const fs::path real = dir_ / "elsewhere.key";
  fs::rename(key_path(), real);
  fs::create_symlink(real, key_path());
  EXPECT_EQ(LoadOrCreateSigningKey(dir_.string()).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace medhub::security
