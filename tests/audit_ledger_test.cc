// AuditEvents are durable store resources, and the ledger writer commits each one twice:
// its RecordCommitted entry and an AccessLogged entry holding SHA-256 of its stored bytes;
// a Consent version is a ConsentChanged entry. In-process: a real store, ledger and writer.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "core/hash.h"
#include "fhir/resource.h"
#include "fhir/search_query.h"
#include "ledger/entry.h"
#include "ledger/ledger_writer.h"
#include "ledger/test_util.h"
#include "security/audit.h"

namespace medhub {
namespace {

using namespace std::chrono_literals;

TEST(AuditLedgerTest, EveryAuditEventIsStoredAndHashedIntoAnAccessLoggedEntry) {
  ledger::testing::TempDir dir;
  auto store = store::OpenRocksStore({dir / "data"}).value();
  ledger::LedgerOptions options;
  options.dir = dir / "data/ledger";
  auto ledger = ledger::Ledger::Open(options);
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  ledger::LedgerWriter writer(store.get(), ledger->get());
  writer.Start();
  {
    security::AuditLog audit(store.get());
    security::AuditRecord rec;
    rec.time = 1'767'225'600'000'000;
    rec.who = "dr-a";
    rec.role = "practitioner";
    rec.organization = "org-a";
    rec.remote_address = "10.1.2.3:4444";
    rec.interaction = "read";
    rec.method = "GET";
    rec.target = "/fhir/Patient/pa";
    rec.http_status = 200;
    rec.patients = {"pa"};
    ASSERT_TRUE(audit.Record(rec, /*wait=*/true).ok());
    rec.http_status = 404;
    rec.patients.clear();
    ASSERT_TRUE(audit.Record(rec, /*wait=*/false).ok());
    ASSERT_TRUE(audit.Flush().ok());
  }
  // Both are in the store, found by patient for the first.
  auto all = store->Search(fhir::ParseSearchQuery("AuditEvent", {}).value());
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  auto about =
      store->Search(fhir::ParseSearchQuery("AuditEvent", {{"patient", "Patient/pa"}}).value());
  ASSERT_EQ(about->size(), 1u);
  auto event = store->Read("AuditEvent", about->front()).value();
  EXPECT_NE(event.json.find("\"address\":\"10.1.2.3\""), std::string::npos) << event.json;
  EXPECT_NE(event.json.find("\"outcome\":\"0\""), std::string::npos);
  // A Consent version.
  store::WriteOp op;
  op.type = "Consent";
  op.id = "c1";
  op.resource = fhir::ParseResource(
                    R"({"resourceType":"Consent","id":"c1","status":"active","scope":{"text":"x"},)"
                    R"("category":[{"text":"x"}],"patient":{"reference":"Patient/pa"}})")
                    .value();
  std::vector<store::WriteOp> ops;
  ops.push_back(std::move(op));
  ASSERT_TRUE(store->Commit(std::move(ops)).ok());
  ASSERT_TRUE(writer.WaitForSequence(store->LastSequence(), 20s).ok());
  ASSERT_TRUE(writer.Stop().ok());

  std::map<std::string, int> kinds;
  std::vector<ledger::Hash> logged;
  for (uint64_t h = 0; h < (*ledger)->height(); ++h) {
    auto block = (*ledger)->ReadBlock(h);
    ASSERT_TRUE(block.ok());
    for (const std::string& bytes : block->entries) {
      auto entry = ledger::DecodeEntry(bytes);
      ASSERT_TRUE(entry.ok());
      ++kinds[std::string(ledger::EntryKindName(ledger::EntryKindOf(*entry)))];
      if (const auto* a = std::get_if<ledger::AccessLogged>(&*entry))
        logged.push_back(a->audit_event_hash);
    }
  }
  EXPECT_EQ(kinds["AccessLogged"], 2);
  EXPECT_EQ(kinds["ConsentChanged"], 1);
  EXPECT_EQ(kinds["RecordCommitted"], 2);  // the AuditEvents' own versions
  for (const std::string& id : *all) {
    const ledger::Hash h = Sha256(store->Read("AuditEvent", id)->json);
    EXPECT_NE(std::find(logged.begin(), logged.end(), h), logged.end()) << id;
  }
}

}  // namespace
}  // namespace medhub
