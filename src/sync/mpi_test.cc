#include "sync/mpi.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "core/ids.h"

namespace medhub::sync {
namespace {

// A Patient as synced from `source` (meta.source names the institution).
json::Value MakePatient(const std::string& id, const std::string& source, const std::string& given,
                        const std::string& family, const std::string& birth,
                        const std::string& ssn = "", const std::string& postal = "01821") {
  std::string text = R"({"resourceType":"Patient","id":")" + id + R"(","meta":{"source":"http://)" +
                     source + "/fhir/Patient/" + id + R"(/_history/1"},)";
  if (!ssn.empty())
    text +=
        R"("identifier":[{"system":"http://hl7.org/fhir/sid/us-ssn","value":")" + ssn + R"("}],)";
  text += R"("name":[{"use":"official","family":")" + family + R"(","given":[")" + given +
          R"("]}],"gender":"male","birthDate":")" + birth +
          R"(","address":[{"line":["1 Main St"],"city":"Billerica","postalCode":")" + postal +
          R"("}]})";
  auto v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << text;
  return std::move(v).value();
}

TEST(MpiMatchTest, JaroWinklerMatchesPublishedValues) {
  EXPECT_NEAR(JaroWinkler("martha", "marhta"), 0.961, 0.001);
  EXPECT_NEAR(JaroWinkler("dwayne", "duane"), 0.84, 0.001);
  EXPECT_DOUBLE_EQ(JaroWinkler("abc", "abc"), 1.0);
  EXPECT_DOUBLE_EQ(JaroWinkler("abc", "xyz"), 0.0);
}

TEST(MpiMatchTest, ASharedNationalIdentifierLinksDespiteDifferentNames) {
  MpiConfig c;
  auto r = ComparePatients(MakePatient("a", "x", "John", "Smith", "1950-01-01", "999-1"),
                           MakePatient("b", "y", "Jon", "Smyth", "1950-02-01", "999-1"), c);
  EXPECT_EQ(r.decision, MatchResult::Decision::kLink);
  EXPECT_TRUE(r.deterministic);
}

TEST(MpiMatchTest, AccentsAndASmallTypoStillLinkProbabilistically) {
  MpiConfig c;
  auto r = ComparePatients(MakePatient("a", "x", "Adán", "Portillo", "1937-02-13"),
                           MakePatient("b", "y", "Adam", "PORTILLO", "1937-02-13"), c);
  EXPECT_EQ(r.decision, MatchResult::Decision::kLink);
  EXPECT_FALSE(r.deterministic);
  EXPECT_GE(r.score, c.upper);
}

TEST(MpiMatchTest, ADifferentBirthDateIsUncertainAndDifferentPeopleDoNotMatch) {
  MpiConfig c;
  auto review = ComparePatients(MakePatient("a", "x", "Ann", "Lee", "1960-01-01"),
                                MakePatient("b", "y", "Ann", "Lee", "1961-07-09"), c);
  EXPECT_EQ(review.decision, MatchResult::Decision::kReview);
  auto none =
      ComparePatients(MakePatient("a", "x", "Ann", "Lee", "1960-01-01"),
                      MakePatient("b", "y", "Bob", "Kowalski", "1971-03-04", "", "99999"), c);
  EXPECT_EQ(none.decision, MatchResult::Decision::kNone);
}

TEST(MpiMatchTest, DifferentNationalIdentifiersPreventAnAutomaticLink) {
  MpiConfig c;
  auto r = ComparePatients(MakePatient("a", "x", "Ann", "Lee", "1960-01-01", "1"),
                           MakePatient("b", "y", "Ann", "Lee", "1960-01-01", "2"), c);
  EXPECT_EQ(r.decision, MatchResult::Decision::kReview);
}

TEST(MpiMatchTest, ThresholdsAreConfigurable) {
  MpiConfig strict;
  strict.upper = 100;
  strict.lower = 50;
  auto r = ComparePatients(MakePatient("a", "x", "Ann", "Lee", "1960-01-01"),
                           MakePatient("b", "y", "Ann", "Lee", "1960-01-01"), strict);
  EXPECT_EQ(r.decision, MatchResult::Decision::kNone);
}

class MpiStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("medhub-mpi-" + NewId());
    auto s = store::OpenRocksStore({dir_.string()});
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Put(json::Value p) {
    std::vector<store::WriteOp> ops(1);
    ops[0].type = "Patient";
    ops[0].id = std::string(p.get_string("id"));
    ops[0].resource = std::move(p);
    ASSERT_TRUE(store_->Commit(std::move(ops)).ok());
  }
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(MpiStoreTest, MatchingLinksAcrossSourcesIntoOnePersonAndQueuesUncertainPairs) {
  Put(MakePatient("east-1", "east", "Adán", "Portillo", "1937-02-13"));
  Put(MakePatient("west-9", "west", "Adam", "Portillo", "1937-02-13"));
  Put(MakePatient("east-2", "east", "Ann", "Lee", "1960-01-01"));
  Put(MakePatient("west-3", "west", "Ann", "Lee", "1961-07-09"));
  Put(MakePatient("east-4", "east", "Adán", "Portillo", "1937-02-13"));  // same source: never
  Mpi mpi(store_.get(), MpiConfig{});
  auto stats = mpi.MatchAll();
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  auto linked = mpi.LinkedPatients("west-9");
  ASSERT_TRUE(linked.ok());
  EXPECT_EQ(std::set<std::string>(linked->begin(), linked->end()),
            (std::set<std::string>{"west-9", "east-1", "east-4"}));
  auto person = store_->Read("Person", *mpi.PersonOf("east-1"));
  ASSERT_TRUE(person.ok());
  EXPECT_NE(person->json.find("Patient/east-4"), std::string::npos);
  auto review = mpi.Review();
  ASSERT_TRUE(review.ok());
  ASSERT_EQ(review->size(), 1u);
  EXPECT_EQ((*review)[0].a, "east-2");
  EXPECT_EQ((*review)[0].b, "west-3");
  // A second run changes nothing.
  auto again = mpi.MatchAll();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->linked, 0u);
}

TEST_F(MpiStoreTest, ManualLinkClearsTheReviewAndUnlinkIsRemembered) {
  Put(MakePatient("east-2", "east", "Ann", "Lee", "1960-01-01"));
  Put(MakePatient("west-3", "west", "Ann", "Lee", "1961-07-09"));
  Mpi mpi(store_.get(), MpiConfig{});
  ASSERT_TRUE(mpi.MatchAll().ok());
  ASSERT_EQ(mpi.Review()->size(), 1u);
  ASSERT_TRUE(mpi.Link("east-2", "west-3").ok());
  EXPECT_TRUE(mpi.Review()->empty());
  EXPECT_EQ(mpi.LinkedPatients("east-2")->size(), 2u);
  ASSERT_TRUE(mpi.Unlink("west-3").ok());
  EXPECT_EQ(mpi.LinkedPatients("east-2")->size(), 1u);
  EXPECT_EQ(mpi.PersonOf("east-2").value(), "");
  ASSERT_TRUE(mpi.MatchAll().ok());
  EXPECT_TRUE(mpi.Review()->empty());  // the decision stands
  EXPECT_EQ(mpi.Unlink("west-3").code(), StatusCode::kNotFound);
  EXPECT_EQ(mpi.Link("east-2", "nobody").code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace medhub::sync
