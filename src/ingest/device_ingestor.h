// Stores batches of device readings as FHIR Observations, exactly once per (device, seq).
//
// Idempotence: the Observation of reading (device, seq) has the deterministic id
// ObservationIdFor(device, seq) (readings.h). Ingest() reads those ids first; a reading
// whose Observation exists is a duplicate and is not written again (even if its values
// differ: the first stored reading wins). The new Observations are written in one
// Store::Commit with create_only, so the dedupe key and the Observation are the same
// record and are made durable in the same atomic commit: after a crash either both exist
// or neither does (docs/formats/ingest.md, "Dedupe").
//
// Acknowledgement: Ingest() returns only after the commit is durable; its reply is what
// the device may forget. When the commit fails, Ingest() returns the error and nothing of
// the batch is stored: the device retries the whole batch.
//
// Devices: a Device resource whose "patient" references Patient/<id>. Unknown devices are
// NotFound, deleted ones Gone, a Device without a patient FailedPrecondition ("unbound").
//
// Thread-safe: concurrent Ingest() calls for the same device are serialized by a striped
// lock so that read-then-write cannot store one reading twice; other devices go in
// parallel (and their commits are grouped by the store).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ingest/readings.h"
#include "security/token.h"
#include "store/store.h"

namespace medhub::ingest {

struct DeviceBinding {
  std::string device_id;
  std::string patient_id;
};

struct IngestReply {
  std::vector<uint64_t> stored;      // newly stored, durable
  std::vector<uint64_t> duplicates;  // already stored before (or repeated in the batch)
  std::vector<RejectedReading> rejected;
  // {"device":ID,"stored":[...],"duplicates":[...],"rejected":[{"index","seq","reason"}]}
  std::string ToJson(std::string_view device_id) const;
};

// Whether `principal` may post readings for `binding`: a device principal of that very
// device (and, when the credential names one, of the same patient). Errors:
// PermissionDenied with the reason.
Status CheckDevicePrincipal(const security::Principal& principal, const DeviceBinding& binding);

class DeviceIngestor {
 public:
  // `store` is not owned and must outlive the ingestor. `clock` gives micros since epoch.
  explicit DeviceIngestor(store::Store* store);

  // The patient the device is bound to. Errors: InvalidArgument (malformed id), NotFound,
  // Gone, FailedPrecondition (no Device.patient Patient reference), store errors.
  Result<DeviceBinding> Binding(std::string_view device_id);

  // Validates, maps, dedupes and durably stores a batch (body: readings.h's format).
  // Errors: those of ParseReadingBatch and Binding; Unavailable/Internal from the store
  // (then nothing of the batch was stored).
  Result<IngestReply> Ingest(std::string_view device_id, std::string_view body, int64_t now);
  Result<IngestReply> Ingest(const DeviceBinding& binding, ParsedBatch batch);

 private:
  std::mutex& LockFor(std::string_view device_id);

  store::Store* store_;
  std::array<std::mutex, 64> stripes_;
};

}  // namespace medhub::ingest
