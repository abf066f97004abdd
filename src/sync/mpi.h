// The master patient index: one person seen at several institutions becomes one medhub
// person (docs/formats/sync.md, "Master patient index").
//
// Matching (Fellegi–Sunter). A pair of Patients from different sources (meta.source) is
// - a deterministic match when they share a value of a configured national identifier
//   system (default the US SSN, http://hl7.org/fhir/sid/us-ssn); a different value in
//   that system instead rules an automatic link out (the pair can only be reviewed);
// - otherwise scored: each field (family name, first given name, birth date, sex,
//   address) adds log2(m/u) when it agrees, log2((1-m)/(1-u)) when it disagrees and 0
//   when either side lacks it. Names agree when their Jaro–Winkler similarity after
//   case and accent folding is >= 0.92 and half-agree (half the weight) from 0.85;
//   addresses agree on the postal code, or on the city with similar lines.
//   score >= upper: linked; lower <= score < upper: a review item; below: nothing.
//
// Links are a FHIR Person resource "Person/mpi-<16 hex>" whose link[] lists every
// Patient of the person (assurance level4 for identifier and manual links, level3 for
// probabilistic ones), plus an index record per Patient. Manual unlinks are remembered so
// the matcher never links that pair again by itself.
//
// Thread-safe: one mutex serializes the index's writes.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "store/store.h"

namespace medhub::sync {

struct FieldWeight {
  double m = 0.9;   // P(agree | same person)
  double u = 0.01;  // P(agree | different persons)
};

struct MpiConfig {
  std::vector<std::string> identifier_systems = {"http://hl7.org/fhir/sid/us-ssn"};
  FieldWeight family{0.95, 0.02};
  FieldWeight given{0.92, 0.03};
  FieldWeight birth_date{0.97, 0.003};
  FieldWeight gender{0.98, 0.5};
  FieldWeight address{0.85, 0.02};
  double upper = 15.0;
  double lower = 6.0;
};

struct MatchResult {
  enum class Decision { kNone, kReview, kLink };
  Decision decision = Decision::kNone;
  bool deterministic = false;  // decided by a national identifier
  double score = 0;
  std::vector<std::pair<std::string, double>> fields;  // field → weight added
};

// Compares two Patient resources. Pure.
MatchResult ComparePatients(const json::Value& a, const json::Value& b, const MpiConfig& config);

// Jaro–Winkler similarity of two strings in [0, 1]. Pure.
double JaroWinkler(std::string_view a, std::string_view b);

struct ReviewItem {
  std::string a, b;  // Patient ids, a < b
  double score = 0;
  std::string fields_json;  // {"family":5.57,...}
};

struct MatchStats {
  size_t compared = 0;
  size_t linked = 0;
  size_t review = 0;
};

class Mpi {
 public:
  Mpi(store::Store* store, MpiConfig config) : store_(store), config_(std::move(config)) {}

  // Matches each of `patient_ids` against every live Patient of another source: links
  // matches, queues uncertain pairs. Idempotent.
  Result<MatchStats> MatchPatients(const std::vector<std::string>& patient_ids);
  // Every live Patient against every other (after a change of thresholds).
  Result<MatchStats> MatchAll();

  Result<std::vector<ReviewItem>> Review();
  // Links two Patients into one person (merging their persons); clears a review item or an
  // earlier unlink. Errors: NotFound (no such Patient), InvalidArgument (a == b).
  Status Link(std::string_view a, std::string_view b);
  // Takes `patient` out of its person and remembers not to relink it to the others.
  // Errors: NotFound when the Patient is not linked.
  Status Unlink(std::string_view patient);
  // The Patient ids of `patient`'s person, itself included (just itself when unlinked).
  Result<std::vector<std::string>> LinkedPatients(std::string_view patient);
  // The person id of `patient`, or "" when unlinked.
  Result<std::string> PersonOf(std::string_view patient);

 private:
  Result<MatchStats> MatchAgainst(const std::vector<std::string>& ids, bool all_pairs);
  Status LinkLocked(std::string_view a, std::string_view b, const char* assurance);
  Status WritePerson(const std::string& person_id,
                     const std::vector<std::pair<std::string, std::string>>& members);

  store::Store* store_;
  MpiConfig config_;
  std::mutex mu_;  // serializes index writes
};

}  // namespace medhub::sync
