#include "ledger/block_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "ledger/test_util.h"

namespace medhub::ledger {
namespace {

using testing::ReadFileBytes;
using testing::TempDir;
using testing::WriteFileBytes;

struct Scanned {
  std::vector<std::string> payloads;
  std::vector<uint64_t> offsets;
  std::vector<std::string> notes;
};

Result<std::unique_ptr<BlockFile>> OpenAndScan(const std::string& path, Scanned* out,
                                               TornTail torn = TornTail::kTruncate,
                                               bool read_only = false) {
  BlockFileOptions options;
  options.read_only = read_only;
  options.torn_tail = torn;
  options.log = [out](std::string_view m) { out->notes.emplace_back(m); };
  return BlockFile::Open(path, options, [out](uint64_t index, uint64_t offset, std::string_view p) {
    EXPECT_EQ(index, out->payloads.size());
    out->payloads.emplace_back(p);
    out->offsets.push_back(offset);
    return Status::Ok();
  });
}

// Writes three records and returns the path.
std::string ThreeRecords(const TempDir& dir) {
  const std::string path = dir / "blocks.log";
  Scanned s;
  auto file = OpenAndScan(path, &s);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  for (const char* p : {"first", "second block", "third"}) EXPECT_TRUE((*file)->Append(p).ok());
  return path;
}

TEST(LedgerBlockFileTest, AppendedRecordsAreReadBackInOrderAfterReopening) {
  TempDir dir;
  const std::string path = ThreeRecords(dir);
  Scanned s;
  auto file = OpenAndScan(path, &s);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(s.payloads, (std::vector<std::string>{"first", "second block", "third"}));
  EXPECT_EQ(s.offsets, (std::vector<uint64_t>{0, 41, 41 + 48}));
  EXPECT_EQ((*file)->size(), std::filesystem::file_size(path));
  EXPECT_EQ((*file)->Read(41).value(), "second block");
  EXPECT_TRUE(s.notes.empty());
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::others_all,
            std::filesystem::perms::none);
}

TEST(LedgerBlockFileTest, ATornFinalRecordIsTruncatedLoggedAndAppendsContinue) {
  TempDir dir;
  const std::string path = ThreeRecords(dir);
  const std::string whole = ReadFileBytes(path);
  const size_t third = 41 + 48;
  for (size_t cut = third + 1; cut < whole.size(); ++cut) {
    WriteFileBytes(path, whole.substr(0, cut));
    Scanned s;
    auto file = OpenAndScan(path, &s);
    ASSERT_TRUE(file.ok()) << cut << ": " << file.status().ToString();
    EXPECT_EQ(s.payloads.size(), 2u);
    ASSERT_EQ(s.notes.size(), 1u);
    EXPECT_NE(s.notes[0].find("block 2 at byte offset 89"), std::string::npos) << s.notes[0];
    EXPECT_EQ(std::filesystem::file_size(path), third);
    EXPECT_TRUE((*file)->Append("again").ok());
  }
  Scanned s;
  ASSERT_TRUE(OpenAndScan(path, &s).ok());
  EXPECT_EQ(s.payloads.back(), "again");
}

TEST(LedgerBlockFileTest, ATornTailIsDataLossForAStrictReaderAndTheFileIsLeftAlone) {
  TempDir dir;
  const std::string path = ThreeRecords(dir);
  const std::string whole = ReadFileBytes(path);
  WriteFileBytes(path, whole.substr(0, whole.size() - 1));
  Scanned s;
  auto file = OpenAndScan(path, &s, TornTail::kFail, /*read_only=*/true);
  EXPECT_EQ(file.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(file.status().message().find("block 2 at byte offset 89"), std::string::npos);
  EXPECT_EQ(ReadFileBytes(path).size(), whole.size() - 1);
}

TEST(LedgerBlockFileTest, AChangedByteAnywhereIsDataLossNamingTheBlockNeverRepaired) {
  TempDir dir;
  const std::string path = ThreeRecords(dir);
  const std::string whole = ReadFileBytes(path);
  for (size_t pos = 0; pos < whole.size(); ++pos) {
    std::string changed = whole;
    changed[pos] = static_cast<char>(changed[pos] ^ 0x40);
    WriteFileBytes(path, changed);
    Scanned s;
    auto file = OpenAndScan(path, &s, TornTail::kFail, /*read_only=*/true);
    ASSERT_FALSE(file.ok()) << pos;
    EXPECT_EQ(file.status().code(), StatusCode::kDataLoss) << pos;
    const std::string block = pos < 41 ? "block 0" : pos < 89 ? "block 1" : "block 2";
    EXPECT_NE(file.status().message().find(block), std::string::npos)
        << pos << ": " << file.status().message();
    EXPECT_EQ(ReadFileBytes(path), changed);
  }
}

TEST(LedgerBlockFileTest, AnImpossibleLengthIsDataLossEvenAtTheEnd) {
  TempDir dir;
  const std::string path = ThreeRecords(dir);
  std::string changed = ReadFileBytes(path);
  changed[89] = '\x7F';  // the third record's length: over kMaxRecordBytes
  WriteFileBytes(path, changed);
  Scanned s;
  auto file = OpenAndScan(path, &s);
  EXPECT_EQ(file.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ReadFileBytes(path), changed);  // not truncated
}

TEST(LedgerBlockFileTest, AVisitorErrorStopsTheScanAsDataLossNamingTheBlock) {
  TempDir dir;
  const std::string path = ThreeRecords(dir);
  auto file = BlockFile::Open(path, {}, [](uint64_t index, uint64_t, std::string_view) {
    return index == 1 ? Status::DataLoss("bad signature") : Status::Ok();
  });
  EXPECT_EQ(file.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(file.status().message(), "block 1 at byte offset 41: bad signature");
}

TEST(LedgerBlockFileTest, OneWriterAtATimeAndReadersSeeIt) {
  TempDir dir;
  const std::string path = ThreeRecords(dir);
  Scanned s1;
  auto writer = OpenAndScan(path, &s1);
  ASSERT_TRUE(writer.ok());
  Scanned s2;
  EXPECT_EQ(OpenAndScan(path, &s2).status().code(), StatusCode::kUnavailable);
  Scanned s3;
  auto reader = OpenAndScan(path, &s3, TornTail::kFail, /*read_only=*/true);
  ASSERT_TRUE(reader.ok());
  EXPECT_TRUE((*reader)->writer_active());
  EXPECT_EQ((*reader)->Append("x").status().code(), StatusCode::kFailedPrecondition);
  Scanned s4;
  EXPECT_EQ(OpenAndScan(dir / "missing.log", &s4, TornTail::kFail, true).status().code(),
            StatusCode::kNotFound);
}

TEST(LedgerBlockFileTest, ReadDetectsARecordChangedAfterOpening) {
  TempDir dir;
  const std::string path = ThreeRecords(dir);
  Scanned s;
  auto file = OpenAndScan(path, &s);
  ASSERT_TRUE(file.ok());
  std::string changed = ReadFileBytes(path);
  changed[41 + 36] = 'S';
  WriteFileBytes(path, changed);
  EXPECT_EQ((*file)->Read(41).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace medhub::ledger
