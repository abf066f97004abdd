#include "ingest/device_ingestor.h"

#include <utility>

#include "core/ids.h"
#include "fhir/resource.h"

namespace medhub::ingest {

Status CheckDevicePrincipal(const security::Principal& principal,
                            const ingest::DeviceBinding& binding) {
  if (principal.role != security::Role::kDevice)
    return Status::PermissionDenied("only a device may post readings");
  if (principal.device != binding.device_id)
    return Status::PermissionDenied("a device may post readings only for itself");
  if (!principal.patient.empty() && principal.patient != binding.patient_id)
    return Status::PermissionDenied("the device's credential is bound to another patient");
  return Status::Ok();
}

DeviceIngestor::DeviceIngestor(store::Store* store) : store_(store) {}

Result<DeviceBinding> DeviceIngestor::Binding(std::string_view device_id) {
  if (!IsValidFhirId(device_id))
    return Status::InvalidArgument("'" + std::string(device_id) + "' is not a valid device id");
  ASSIGN_OR_RETURN(store::StoredResource stored, store_->Read("Device", device_id));
  if (stored.deleted) return Status::Gone("Device/" + std::string(device_id) + " was deleted");
  ASSIGN_OR_RETURN(json::Value device, json::Parse(stored.json));
  const json::Value* patient = device.find("patient");
  const std::string_view ref = patient ? patient->get_string("reference") : "";
  auto parsed = fhir::ParseReference(ref);
  if (ref.empty() || !parsed.ok() || parsed->type != "Patient" || parsed->id.empty())
    return Status::FailedPrecondition("Device/" + std::string(device_id) +
                                      " is not bound to a patient (Device.patient)");
  return DeviceBinding{std::string(device_id), parsed->id};
}

Result<IngestReply> DeviceIngestor::Ingest(std::string_view device_id, std::string_view body,
                                           int64_t now) {
  ASSIGN_OR_RETURN(ParsedBatch batch, ParseReadingBatch(body, now));
  ASSIGN_OR_RETURN(DeviceBinding binding, Binding(device_id));
  return Ingest(binding, std::move(batch));
}

Result<IngestReply> DeviceIngestor::Ingest(const DeviceBinding& binding, ParsedBatch batch) {
  IngestReply reply;
  reply.rejected = std::move(batch.rejected);
  reply.duplicates = std::move(batch.repeated);
  store::ReadingBatch write{binding.device_id, binding.patient_id, std::move(batch.readings)};
  ASSIGN_OR_RETURN(store::ReadingsOutcome outcome, store_->CommitReadings(write));
  reply.stored = std::move(outcome.stored);
  reply.duplicates.insert(reply.duplicates.end(), outcome.duplicates.begin(),
                          outcome.duplicates.end());
  return reply;
}

Result<std::string> FindReadingObservationId(store::Store* store, std::string_view device_id,
                                             uint64_t seq) {
  const std::string value = std::string(device_id) + "/" + std::to_string(seq);
  ASSIGN_OR_RETURN(fhir::SearchQuery q,
                   fhir::ParseSearchQuery("Observation",
                                          {{"identifier", "urn:medhub:device-reading|" + value}}));
  ASSIGN_OR_RETURN(std::vector<std::string> ids, store->Search(q));
  if (!ids.empty()) return ids.front();
  // Stored as a full Observation before the identifier was a search parameter.
  const std::string legacy = ObservationIdFor(device_id, seq);
  auto r = store->Read("Observation", legacy);
  if (r.ok() && !r->deleted) return legacy;
  return Status::NotFound("no Observation of reading " + value);
}

namespace {
void AppendSeqs(const std::vector<uint64_t>& seqs, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (i) out->push_back(',');
    *out += std::to_string(seqs[i]);
  }
  out->push_back(']');
}
}  // namespace

std::string IngestReply::ToJson(std::string_view device_id) const {
  std::string out = "{\"device\":";
  json::AppendQuoted(device_id, &out);
  out += ",\"stored\":";
  AppendSeqs(stored, &out);
  out += ",\"duplicates\":";
  AppendSeqs(duplicates, &out);
  out += ",\"rejected\":[";
  for (size_t i = 0; i < rejected.size(); ++i) {
    if (i) out.push_back(',');
    out += "{\"index\":" + std::to_string(rejected[i].index);
    if (rejected[i].seq) out += ",\"seq\":" + std::to_string(*rejected[i].seq);
    out += ",\"reason\":";
    json::AppendQuoted(rejected[i].reason, &out);
    out.push_back('}');
  }
  out += "]}";
  return out;
}

}  // namespace medhub::ingest
