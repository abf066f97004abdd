// Every message of the shared HL7 v2 corpus (../shared/data/hl7v2), through the real
// Hl7Ingestor into a real store: the ACK code and HL7 error code of each must be the one
// listed in testdata/hl7v2_expected.tsv (file#message, ack, code, resources); an accepted
// message stores each of its resources, a refused one changes nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/ids.h"
#include "ingest/er7.h"
#include "ingest/hl7_ingestor.h"
#include "ingest/hl7_mapper.h"

namespace medhub::ingest {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Expected {
  std::string ack;
  int code = 0;
  size_t resources = 0;
};

std::map<std::string, Expected> LoadExpected() {
  std::map<std::string, Expected> out;
  std::istringstream in(ReadFile(fs::path(MEDHUB_INGEST_TESTDATA) / "hl7v2_expected.tsv"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream f(line);
    std::string key;
    Expected e;
    f >> key >> e.ack >> e.code >> e.resources;
    out[key] = e;
  }
  return out;
}

TEST(Hl7Corpus, EverySharedMessageGetsItsExpectedAckAndRefusedOnesChangeNothing) {
  const fs::path dir = fs::temp_directory_path() / ("medhub-hl7-" + NewId().substr(0, 12));
  auto store = store::OpenRocksStore({dir.string()}).value();
  std::vector<std::string> told;  // patients reported as having new care relations
  Hl7Ingestor ingestor(store.get(), [&told](const std::vector<std::string>& patients) {
    told.insert(told.end(), patients.begin(), patients.end());
  });
  const auto expected = LoadExpected();
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(std::string(MEDHUB_SHARED_DATA) + "/hl7v2"))
    if (e.is_regular_file() && e.path().extension() != ".csv") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  size_t seen = 0, accepted = 0, with_encounters = 0;
  for (const fs::path& file : files) {
    const std::vector<std::string> messages = hl7::SplitMessages(ReadFile(file));
    for (size_t i = 0; i < messages.size(); ++i) {
      const std::string key = file.parent_path().filename().string() + "/" +
                              file.filename().string() + "#" + std::to_string(i);
      SCOPED_TRACE(key);
      auto it = expected.find(key);
      ASSERT_NE(it, expected.end()) << "not in hl7v2_expected.tsv";
      const uint64_t before = store->LastSequence();
      told.clear();
      std::vector<Hl7Outcome> recorded;
      const Hl7Outcome out = ingestor.Process(messages[i], 0, [&](const Hl7Outcome& o) {
        recorded.push_back(o);
        return Status::Ok();
      });
      ASSERT_EQ(recorded.size(), 1u) << "every message, stored or refused, is recorded once";
      EXPECT_EQ(recorded[0].ack, out.ack);
      EXPECT_EQ(out.code, it->second.ack);
      const std::string& ack_text = out.ack;
      auto ack = hl7::Parse(ack_text);
      ASSERT_TRUE(ack.ok()) << ack_text;
      const hl7::Segment& msa = *ack->Find("MSA");
      EXPECT_EQ(ack->Get(msa, 1), it->second.ack) << ack_text;
      if (it->second.ack == "AA") {
        ++accepted;
        auto parsed = hl7::Parse(messages[i]);
        auto mapped = hl7::MapMessage(*parsed);
        ASSERT_TRUE(mapped.ok());
        EXPECT_EQ(mapped->resources.size(), it->second.resources);
        std::vector<std::string> encounter_patients;
        for (const json::Value& r : mapped->resources) {
          EXPECT_TRUE(store->Read(r.get_string("resourceType"), r.get_string("id")).ok());
          if (r.get_string("resourceType") == "Encounter")
            encounter_patients.emplace_back(r.find("subject")->get_string("reference").substr(8));
        }
        EXPECT_EQ(told, encounter_patients) << "the policy must hear of every new Encounter";
        EXPECT_EQ(out.resources.size(), mapped->resources.size());
        EXPECT_FALSE(out.patients.empty()) << "the trail names whose records were written";
        EXPECT_EQ(out.message_type.substr(0, 4), parsed->type() + "^");
        with_encounters += encounter_patients.empty() ? 0 : 1;
      } else {
        EXPECT_EQ(ack->Get(*ack->Find("ERR"), 3, 0, 1), std::to_string(it->second.code));
        EXPECT_EQ(out.error, it->second.code);
        EXPECT_FALSE(out.reason.empty());
        EXPECT_TRUE(out.resources.empty());
        EXPECT_EQ(store->LastSequence(), before) << "a refused message changed the store";
        EXPECT_TRUE(told.empty());
      }
      ++seen;
    }
  }
  EXPECT_EQ(seen, expected.size());
  EXPECT_GT(accepted, 60u);
  EXPECT_GT(with_encounters, 0u);
  store.reset();
  fs::remove_all(dir);
}

TEST(Hl7Ingestor, AStoredMessageWhoseRecordFailsIsNotAcknowledgedAndItsResendIsHarmless) {
  const fs::path dir = fs::temp_directory_path() / ("medhub-hl7-" + NewId().substr(0, 12));
  auto store = store::OpenRocksStore({dir.string()}).value();
  Hl7Ingestor ingestor(store.get());
  const std::string message =
      "MSH|^~\\&|LAB|GENERAL|MEDHUB|MEDHUB|20240101120000||ADT^A01|MSG1|P|2.5\r"
      "PID|1||4711^^^GENERAL||Doe^Jane||19600101|F\r";
  const Hl7Outcome refused = ingestor.Process(
      message, 0, [](const Hl7Outcome&) { return Status::Unavailable("trail down"); });
  EXPECT_EQ(refused.code, "AE");
  EXPECT_EQ(refused.error, 207);
  EXPECT_NE(refused.ack.find("trail down"), std::string::npos) << refused.ack;
  const uint64_t after_first = store->LastSequence();
  EXPECT_GT(after_first, 0u) << "the data was stored; only the answer is a NAK";
  const Hl7Outcome resent = ingestor.Process(message, 1, [](const Hl7Outcome&) {
    return Status::Ok();
  });
  EXPECT_EQ(resent.code, "AA");
  EXPECT_EQ(resent.patients.size(), 1u);
  EXPECT_EQ(store->LastSequence(), after_first) << "the resend stores no new version";
  EXPECT_EQ(ingestor.stats().accepted, 1u);
  EXPECT_EQ(ingestor.stats().refused, 1u);
  store.reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace medhub::ingest
