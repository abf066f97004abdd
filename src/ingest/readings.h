// Home-device readings: the batch wire format, validation, and the mapping of each reading
// to a FHIR R4 Observation (docs/formats/ingest.md, "Reading batch").
//
// A batch is {"readings": [reading, ...]} (MQTT payloads add "token"). Each reading is
//   {"seq": N, "kind": K, "value": X | "values": [X, ...], "unit": U, "time": INSTANT,
//    ECG only: "period": MS, "heart_rate": X, "rhythm": R}
// ParseReadingBatch() checks the batch's shape (a malformed batch is one InvalidArgument
// for the whole request) and then each reading on its own: a reading with an unknown kind,
// a wrong unit, an impossible value (systolic 900 mm[Hg]), a missing or malformed sequence
// number or a time more than kMaxFutureMicros ahead is rejected with a reason, and the
// other readings of the batch go on. A sequence number repeated inside one batch is kept
// once (the first); the later ones are reported as duplicates by the ingestor.
//
// A valid reading is a fhir::Reading; fhir/device_reading.h maps it to its Observation.
// Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "fhir/device_reading.h"

namespace medhub::ingest {

using fhir::ObservationFor;
using fhir::ObservationIdFor;
using fhir::Reading;
using fhir::ReadingKind;
using fhir::ReadingKindFromName;
using fhir::ReadingKindName;

inline constexpr size_t kMaxReadingsPerBatch = 10000;
inline constexpr size_t kMaxEcgSamples = 20000;
inline constexpr int64_t kMaxFutureMicros = 5 * 60 * 1000000LL;  // clock skew allowed

struct RejectedReading {
  size_t index = 0;             // position in the batch
  std::optional<uint64_t> seq;  // when it could be read
  std::string reason;
};

struct ParsedBatch {
  std::vector<Reading> readings;   // valid, in batch order, unique seq
  std::vector<uint64_t> repeated;  // seq numbers repeated within the batch
  std::vector<RejectedReading> rejected;
};

// Parses and validates a batch; `now` (micros since the epoch) bounds future times.
// Errors: InvalidArgument when the body is not a JSON object with a "readings" array;
// ResourceExhausted when it has more than kMaxReadingsPerBatch readings.
Result<ParsedBatch> ParseReadingBatch(std::string_view body, int64_t now);
// The same for an already parsed object.
Result<ParsedBatch> ParseReadingBatch(const json::Value& batch, int64_t now);

// Validates one reading object. Errors: InvalidArgument with the reason.
Result<Reading> ParseReading(const json::Value& reading, int64_t now);

}  // namespace medhub::ingest
