#include "lake/local_filesystem.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "lake/test_util.h"
#include "lake/webhdfs_filesystem.h"

namespace medhub::lake {
namespace {

using testing::TempDir;

class LocalFileSystemTest : public ::testing::Test {
 protected:
  TempDir dir_;
  LocalFileSystem fs_{dir_ / "lake"};
};

TEST_F(LocalFileSystemTest, CreateMakesParentsAndReadReturnsTheBytesOrASlice) {
  ASSERT_TRUE(fs_.Create("a/b/c.ndjson", "0123456789", false).ok());
  EXPECT_EQ(fs_.Read("a/b/c.ndjson").value(), "0123456789");
  EXPECT_EQ(fs_.Read("a/b/c.ndjson", 3, 4).value(), "3456");
  EXPECT_EQ(fs_.Read("a/b/c.ndjson", 8).value(), "89");
  EXPECT_EQ(fs_.Read("a/b/c.ndjson", 20).value(), "");
  EXPECT_EQ(fs_.Read("a/missing").status().code(), StatusCode::kNotFound);
}

TEST_F(LocalFileSystemTest, CreateWithoutOverwriteRefusesAnExistingFileAndOverwriteReplaces) {
  ASSERT_TRUE(fs_.Create("f", "one", false).ok());
  EXPECT_EQ(fs_.Create("f", "two", false).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(fs_.Create("f", "three", true).ok());
  EXPECT_EQ(fs_.Read("f").value(), "three");
}

TEST_F(LocalFileSystemTest, AppendAddsAtTheEndAndAMissingFileIsNotFound) {
  ASSERT_TRUE(fs_.Create("f", "ab", false).ok());
  ASSERT_TRUE(fs_.Append("f", "cd").ok());
  EXPECT_EQ(fs_.Read("f").value(), "abcd");
  EXPECT_EQ(fs_.Append("g", "x").code(), StatusCode::kNotFound);
}

TEST_F(LocalFileSystemTest, StatAndListReportSizesKindsAndSortedNames) {
  ASSERT_TRUE(fs_.Create("d/b", "12345", false).ok());
  ASSERT_TRUE(fs_.Create("d/a", "1", false).ok());
  ASSERT_TRUE(fs_.MakeDirs("d/c/e").ok());
  std::vector<FileInfo> list = fs_.List("d").value();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].name, "a");
  EXPECT_EQ(list[1].name, "b");
  EXPECT_EQ(list[1].size, 5u);
  EXPECT_TRUE(list[2].is_directory);
  EXPECT_EQ(fs_.Stat("d/b").value().size, 5u);
  EXPECT_TRUE(fs_.Stat("d").value().is_directory);
  EXPECT_EQ(fs_.List("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_.Stat("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(LocalFileSystemTest, RenameReplacesTheDestinationAndTruncateCutsAFile) {
  ASSERT_TRUE(fs_.Create("x/new", "new", false).ok());
  ASSERT_TRUE(fs_.Create("y/old", "old", false).ok());
  ASSERT_TRUE(fs_.Rename("x/new", "y/old").ok());
  EXPECT_EQ(fs_.Read("y/old").value(), "new");
  EXPECT_EQ(fs_.Stat("x/new").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_.Rename("x/new", "y/z").code(), StatusCode::kNotFound);
  ASSERT_TRUE(fs_.Truncate("y/old", 1).ok());
  EXPECT_EQ(fs_.Read("y/old").value(), "n");
}

TEST_F(LocalFileSystemTest, DeleteRemovesFilesAndTreesAndAMissingPathIsOk) {
  ASSERT_TRUE(fs_.Create("t/u/v", "1", false).ok());
  ASSERT_TRUE(fs_.Create("t/w", "1", false).ok());
  ASSERT_TRUE(fs_.Delete("t/w", false).ok());
  EXPECT_EQ(fs_.Stat("t/w").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs_.Delete("t", false).ok());  // not empty
  ASSERT_TRUE(fs_.Delete("t", true).ok());
  EXPECT_EQ(fs_.Stat("t").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(fs_.Delete("never/was", true).ok());
}

TEST_F(LocalFileSystemTest, PathsWithDotSegmentsOrSlashesAtTheEndsAreRejected) {
  for (const char* bad : {"../x", "a/../b", "a/./b", "/abs", "a//b", "a/"}) {
    EXPECT_EQ(fs_.Create(bad, "x", true).code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(fs_.Read(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x"));
}

TEST(OpenFileSystemTest, NamesWebHdfsFileAndPlainDirectoriesAndRejectsOtherSchemes) {
  auto hdfs = OpenFileSystem("webhdfs://127.0.0.1:9870/medhub/lake");
  ASSERT_TRUE(hdfs.ok());
  EXPECT_EQ((*hdfs)->Describe(), "webhdfs://127.0.0.1:9870/medhub/lake");
  auto local = OpenFileSystem("file:///tmp/lake");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ((*local)->Describe(), "file:///tmp/lake");
  EXPECT_TRUE(OpenFileSystem("relative/dir").ok());
  EXPECT_EQ(OpenFileSystem("s3://bucket/x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenFileSystem("webhdfs:///nohost").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenFileSystem("").status().code(), StatusCode::kInvalidArgument);
}

TEST(WebHdfsErrorTest, RemoteExceptionsMapToStatusCodesWithTheServersMessage) {
  const Status nf = WebHdfsError(
      404,
      R"({"RemoteException":{"exception":"FileNotFoundException","javaClassName":"java.io.FileNotFoundException","message":"File does not exist: /a"}})",
      "webhdfs OPEN /a");
  EXPECT_EQ(nf.code(), StatusCode::kNotFound);
  EXPECT_EQ(nf.message(),
            "webhdfs OPEN /a: HTTP 404 FileNotFoundException: File does not exist: /a");
  EXPECT_EQ(
      WebHdfsError(
          403, R"({"RemoteException":{"exception":"FileAlreadyExistsException","message":"x"}})",
          "c")
          .code(),
      StatusCode::kAlreadyExists);
  EXPECT_EQ(WebHdfsError(
                403, R"({"RemoteException":{"exception":"SafeModeException","message":"x"}})", "c")
                .code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(
      WebHdfsError(
          403, R"({"RemoteException":{"exception":"AccessControlException","message":"x"}})", "c")
          .code(),
      StatusCode::kPermissionDenied);
  EXPECT_EQ(
      WebHdfsError(
          400, R"({"RemoteException":{"exception":"IllegalArgumentException","message":"x"}})", "c")
          .code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(WebHdfsError(503, "<html>busy</html>", "c").code(), StatusCode::kUnavailable);
}

TEST(WebHdfsFileSystemTest, AnUnreachableNameNodeIsUnavailableWithTheAddressInTheMessage) {
  WebHdfsOptions options;
  options.base_url = "http://127.0.0.1:1";  // nothing listens on port 1
  options.root = "/lake";
  options.retries = 1;
  options.backoff = std::chrono::milliseconds(1);
  WebHdfsFileSystem fs(options);
  const Status s = fs.Create("a", "x", true);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("webhdfs CREATE /lake/a"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("127.0.0.1:1"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace medhub::lake
