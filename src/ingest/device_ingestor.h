// Stores batches of device readings exactly once per (device, seq), in the store's device
// time-series key space (Store::CommitReadings; docs/formats/ingest.md, "Storage of readings").
//
// Idempotence: the store keeps a dedupe key per (device, seq), written in the same atomic
// durable write as the reading itself, so after a crash either both exist or neither does.
// A reading already stored is a duplicate and is not written again (even if its values
// differ: the first stored reading wins); readings stored before the time-series key space
// (full Observations with hash ids, fhir::ObservationIdFor) count as stored too.
//
// Acknowledgement: Ingest() returns only after the write is durable; its reply is what the
// device may forget. When the write fails, Ingest() returns the error and nothing of the
// batch is stored: the device retries the whole batch.
//
// Devices: a Device resource whose "patient" references Patient/<id>. Unknown devices are
// NotFound, deleted ones Gone, a Device without a patient FailedPrecondition ("unbound").
//
// Thread-safe: the store serializes the batches of one device (lookup then write); other
// devices go in parallel and their writes are grouped into one WAL sync by the store.
#pragma once

#include <cstdint>
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

// The Observation id of reading (device, seq), found by its identifier
// urn:medhub:device-reading|<device>/<seq> (new readings have store-assigned "rd..." ids,
// older ones fhir::ObservationIdFor). NotFound when no such reading is stored.
Result<std::string> FindReadingObservationId(store::Store* store, std::string_view device_id,
                                             uint64_t seq);

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
  store::Store* store_;
};

}  // namespace medhub::ingest
