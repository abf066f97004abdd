// The bulk-load path of `medhub import` (Store::BeginBulkLoad) against the normal write path
// of `medhub serve`: the 39 shared Synthea patients are imported into two stores under the
// same master key, one commit at a time and as a bulk load in small chunks, each with a
// LedgerWriter following its change feed. Both stores must then hold the same keys in
// every column family (the time of the write aside: the server's _lastUpdated index
// entries and the compartment time of resources without a clinical time), the same change
// feed, the same versions, history, search results and $everything, and ledgers whose
// entries follow the feed and commit to the stored bytes.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli/importer.h"
#include "core/hash.h"
#include "core/json.h"
#include "fhir/search_query.h"
#include "ledger/ledger_writer.h"
#include "ledger/test_util.h"
#include "server/fhir_api.h"
#include "store/keys.h"
#include "store/raw_db_test_util.h"

namespace medhub {
namespace {

using namespace std::chrono_literals;
using ledger::testing::TempDir;

struct Side {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<ledger::Ledger> ledger;
  std::unique_ptr<ledger::LedgerWriter> writer;
  std::unique_ptr<server::FhirApi> api;
};

std::vector<std::string> SyntheaFiles() {
  auto files = cli::Importer::ListFiles({std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea"});
  EXPECT_TRUE(files.ok());
  return files.ok() ? *files : std::vector<std::string>{};
}

// Opens store and ledger in `dir` and imports every file on one thread (so that both sides
// commit in the same order), as a bulk load in chunks of `chunk_bytes` when > 0.
void OpenAndImport(const std::string& dir, size_t chunk_bytes, Side* side) {
  side->store = store::OpenRocksStore({dir + "/data"}).value();
  ledger::LedgerOptions options;
  options.dir = dir + "/data/ledger";
  side->ledger = ledger::Ledger::Open(options).value();
  side->writer = std::make_unique<ledger::LedgerWriter>(side->store.get(), side->ledger.get());
  side->writer->Start();
  side->api = std::make_unique<server::FhirApi>(side->store.get(),
                                                server::FhirApiOptions{"http://test/fhir"});
  cli::Importer importer(side->api.get());
  cli::ImportStats stats;
  if (chunk_bytes > 0) {
    ASSERT_TRUE(side->store->BeginBulkLoad(chunk_bytes).ok());
  }
  ASSERT_TRUE(importer.ImportFiles(SyntheaFiles(), 1, &stats, {}).ok());
  if (chunk_bytes > 0) {
    ASSERT_TRUE(side->store->EndBulkLoad().ok());
  }
  ASSERT_EQ(stats.resources_failed, 0u);
  ASSERT_EQ(stats.resources_ok, 11953u);
  ASSERT_TRUE(side->writer->WaitForSequence(side->store->LastSequence(), 60s).ok());
}

// Stored bytes without the server's lastUpdated (the time of the write differs).
std::string WithoutLastUpdated(std::string json) {
  const size_t at = json.find("\"lastUpdated\":\"");
  if (at == std::string::npos) return json;
  const size_t end = json.find('"', at + 15);
  return json.erase(at, end + 1 - at);
}

// The fullUrls of a Bundle's entries, sorted.
std::vector<std::string> EntryUrls(const std::string& body) {
  std::vector<std::string> out;
  auto doc = json::Parse(body);
  EXPECT_TRUE(doc.ok());
  if (const json::Value* entries = doc.ok() ? doc->find("entry") : nullptr)
    for (const json::Value& e : entries->items()) out.emplace_back(e.get_string("fullUrl"));
  std::sort(out.begin(), out.end());
  return out;
}

// Every key of every column family, the _lastUpdated index entries left out.
std::map<std::string, std::set<std::string>> AllKeys(const std::string& path) {
  testing::RawStoreDb raw(path, /*read_only=*/true);
  std::map<std::string, std::set<std::string>> out;
  for (rocksdb::ColumnFamilyHandle* h : raw.handles()) {
    std::unique_ptr<rocksdb::Iterator> it(raw.db()->NewIterator(rocksdb::ReadOptions(), h));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string key = it->key().ToString();
      if (h->GetName() == store::keys::kIndex && store::keys::IndexKeyParam(key) == "_lastUpdated")
        continue;
      // patient \0 time type \0 id: a resource without a clinical time is filed at the time
      // of the write, so the time is left out.
      if (h->GetName() == store::keys::kCompartment) key.erase(key.find('\0') + 1, 8);
      out[h->GetName()].insert(key);
    }
  }
  return out;
}

// The ledger has one entry per change, in feed order, committing to the stored bytes.
void ExpectLedgerFollowsFeed(const Side& s, const std::vector<store::Change>& changes) {
  ASSERT_EQ(s.ledger->tree_size(), 1 + changes.size());  // MemberAdded + one per version
  for (size_t i = 0; i < changes.size(); ++i) {
    const store::Change& c = changes[i];
    const uint64_t leaf = s.ledger->LookupLeaf(c.type, c.id, c.version).value();
    ASSERT_EQ(leaf, i + 1);
    const ledger::Entry entry = ledger::DecodeEntry(s.ledger->EntryBytes(leaf).value()).value();
    const store::StoredResource v = s.store->ReadVersion(c.type, c.id, c.version).value();
    ASSERT_EQ(ledger::AsRecord(entry)->commitment, Sha256(v.salt + v.json));
    ASSERT_EQ(ledger::AsRecord(entry)->seq, c.seq);
  }
}

TEST(BulkImportTest, BulkLoadWritesWhatTheNormalPathWrites) {
  TempDir normal_dir, bulk_dir;
  Side normal, bulk;
  OpenAndImport(normal_dir.path().string(), 0, &normal);
  OpenAndImport(bulk_dir.path().string(), 256u << 10, &bulk);  // many chunks

  // The same change feed and versions.
  const auto changes = normal.store->ChangesSince(0, 1 << 20).value();
  const auto bulk_changes = bulk.store->ChangesSince(0, 1 << 20).value();
  ASSERT_GT(changes.size(), 11000u);  // a few resources recur in several Bundles
  ASSERT_EQ(bulk_changes.size(), changes.size());
  std::set<std::string> patients;
  for (size_t i = 0; i < changes.size(); ++i) {
    const store::Change& a = changes[i];
    const store::Change& b = bulk_changes[i];
    ASSERT_EQ(std::tie(a.seq, a.type, a.id, a.version, a.deleted),
              std::tie(b.seq, b.type, b.id, b.version, b.deleted));
    const auto va = normal.store->ReadVersion(a.type, a.id, a.version).value();
    const auto vb = bulk.store->ReadVersion(b.type, b.id, b.version).value();
    ASSERT_EQ(WithoutLastUpdated(va.json), WithoutLastUpdated(vb.json)) << a.type << "/" << a.id;
    ASSERT_EQ(vb.seq, b.seq);
    if (a.type == "Patient") patients.insert(a.id);
  }
  ASSERT_EQ(patients.size(), 39u);

  // History, search and $everything answer alike.
  for (const char* type : {"Patient", "Observation", "Encounter", "Condition", "Claim"}) {
    store::HistoryQuery q;
    q.type = type;
    q.limit = 5;
    EXPECT_EQ(normal.store->History(q).value().total, bulk.store->History(q).value().total)
        << type;
  }
  for (const std::string& p : patients) {
    const auto query =
        fhir::ParseSearchQuery("Observation", {{"patient", p}, {"code", "http://loinc.org|8302-2"}})
            .value();
    EXPECT_EQ(normal.store->Search(query).value(), bulk.store->Search(query).value()) << p;
    const auto everything = server::HttpRequest::Get("/fhir/Patient/" + p + "/$everything");
    const auto a = normal.api->Handle(everything);
    const auto b = bulk.api->Handle(everything);
    ASSERT_EQ(a.status, 200);
    ASSERT_EQ(b.status, 200);
    EXPECT_EQ(EntryUrls(a.body), EntryUrls(b.body)) << p;
    store::HistoryQuery h;
    h.type = "Patient";
    h.id = p;
    EXPECT_EQ(bulk.store->History(h).value().total, 1u);
  }
  const auto by_name = fhir::ParseSearchQuery("Patient", {{"family", "Sch"}}).value();
  EXPECT_EQ(normal.store->Search(by_name).value(), bulk.store->Search(by_name).value());

  // Both ledgers follow their feed and commit to the bytes each store holds.
  ExpectLedgerFollowsFeed(normal, changes);
  ExpectLedgerFollowsFeed(bulk, bulk_changes);

  // An update and a delete, written by each path: new versions, index keys replaced and
  // removed alike (compared with the other keys below).
  const std::string patient = *patients.begin();
  std::string observation;
  for (const store::Change& c : changes)
    if (c.type == "Observation") observation = c.id;
  for (Side* s : {&normal, &bulk}) {
    json::Value resource = json::Parse(s->store->Read("Patient", patient).value().json).value();
    json::Value* names = resource.find("name");
    ASSERT_NE(names, nullptr);
    names->items()[0].set("family", json::Value::String("Bulkupdated"));
    const std::string bundle =
        R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":)" +
        json::Serialize(resource) + R"(,"request":{"method":"PUT","url":"Patient/)" + patient +
        R"("}},{"request":{"method":"DELETE","url":"Observation/)" + observation + R"("}}]})";
    if (s == &bulk) {
      ASSERT_TRUE(s->store->BeginBulkLoad(1).ok());
    }
    ASSERT_TRUE(s->api->ProcessBundle(json::Parse(bundle).value(), true).ok());
    if (s == &bulk) {
      EXPECT_EQ(s->store->Read("Patient", patient).value().version, 2u);  // staged
      ASSERT_TRUE(s->store->EndBulkLoad().ok());
    }
    EXPECT_EQ(s->store->Read("Patient", patient).value().version, 2u);
    EXPECT_TRUE(s->store->Read("Observation", observation).value().deleted);
    const auto by_new = fhir::ParseSearchQuery("Patient", {{"family", "Bulkupdated"}}).value();
    EXPECT_EQ(s->store->Search(by_new).value(), std::vector<std::string>{patient});
    const auto obs = fhir::ParseSearchQuery("Observation", {{"_id", observation}}).value();
    EXPECT_TRUE(s->store->Search(obs).value().empty());
    ASSERT_TRUE(s->writer->WaitForSequence(s->store->LastSequence(), 60s).ok());
  }

  // A second bulk import of the same files restores the Patient and the Observation.
  const uint64_t before_reimport = bulk.store->LastSequence();
  {
    cli::Importer importer(bulk.api.get());
    cli::ImportStats stats;
    ASSERT_TRUE(bulk.store->BeginBulkLoad(256u << 10).ok());
    ASSERT_TRUE(importer.ImportFiles(SyntheaFiles(), 2, &stats, {}).ok());
    ASSERT_TRUE(bulk.store->EndBulkLoad().ok());
    EXPECT_EQ(bulk.store->LastSequence(), before_reimport + 2);
    EXPECT_EQ(bulk.store->Read("Patient", patient).value().version, 3u);
    EXPECT_EQ(bulk.store->Read("Observation", observation).value().version, 3u);
  }
  {
    cli::Importer importer(normal.api.get());
    cli::ImportStats stats;
    ASSERT_TRUE(importer.ImportFiles(SyntheaFiles(), 2, &stats, {}).ok());
  }
  ASSERT_TRUE(bulk.writer->WaitForSequence(bulk.store->LastSequence(), 60s).ok());
  ExpectLedgerFollowsFeed(bulk, bulk.store->ChangesSince(0, 1 << 20).value());

  // A third bulk import of the same files changes nothing.
  const uint64_t seq = bulk.store->LastSequence();
  cli::Importer importer(bulk.api.get());
  cli::ImportStats stats;
  ASSERT_TRUE(bulk.store->BeginBulkLoad(256u << 10).ok());
  ASSERT_TRUE(importer.ImportFiles(SyntheaFiles(), 2, &stats, {}).ok());
  ASSERT_TRUE(bulk.store->EndBulkLoad().ok());
  EXPECT_EQ(stats.resources_ok, 11953u);
  EXPECT_EQ(bulk.store->LastSequence(), seq);

  for (Side* s : {&normal, &bulk}) {
    ASSERT_TRUE(s->writer->Stop().ok());
    s->api.reset();
    s->writer.reset();
    s->ledger.reset();
    s->store.reset();
  }
  // Every column family holds the same keys (the data keys' records hold random keys, so
  // only their names are compared; the ledger's own files are not in the store).
  const auto keys_normal = AllKeys(normal_dir / "data");
  const auto keys_bulk = AllKeys(bulk_dir / "data");
  ASSERT_EQ(keys_normal.size(), keys_bulk.size());
  for (const auto& [cf, keys] : keys_normal) {
    EXPECT_EQ(keys.size(), keys_bulk.at(cf).size()) << cf;
    EXPECT_TRUE(keys == keys_bulk.at(cf)) << cf << ": the key sets differ";
  }
}

}  // namespace
}  // namespace medhub
