// A home-device reading and the FHIR Observation it stands for (docs/formats/ingest.md,
// "Observation of a reading"). The store renders stored readings into Observations with
// these functions, so they live below both the store and ingest (which validates readings).
//
// Contract: RenderReadingObservation is a pure function; the ledger commits to its bytes,
// so a change of the rendering must come with a new reading codec version
// (fhir/reading_codec.h). Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace medhub::fhir {

enum class ReadingKind { kBloodPressure, kHeartRate, kGlucose, kBodyTemperature, kSpo2, kEcg };

// "blood-pressure", "heart-rate", "glucose", "body-temperature", "spo2", "ecg".
std::string_view ReadingKindName(ReadingKind kind);
std::optional<ReadingKind> ReadingKindFromName(std::string_view name);

struct Reading {
  uint64_t seq = 0;
  ReadingKind kind = ReadingKind::kHeartRate;
  // The values as written (JSON number text, so decimals keep their precision): one for
  // most kinds, [systolic, diastolic] for blood pressure, the samples for ECG.
  std::vector<std::string> values;
  std::string unit;  // UCUM code
  std::string time;  // FHIR instant as sent
  // ECG only.
  std::string period_ms;
  std::string heart_rate;
  std::string rhythm;  // "sinus" | "atrial-fibrillation" | "other"
};

// The LOINC code of the Observation (Observation.code) of a reading of `kind`.
std::string_view ReadingCode(ReadingKind kind);
// The codes of its components that `component-code` finds (blood pressure: 8480-6 and
// 8462-4; ECG: 131329, 8867-4, 8884-9; none for the others).
std::vector<std::string_view> ReadingComponentCodes(ReadingKind kind);

// "r" + 40 hex digits of SHA-256(device 0x00 seq as decimal): the Observation id of a
// reading stored as a full Observation (the layout before the device time-series key space).
std::string ObservationIdFor(std::string_view device_id, uint64_t seq);

// The Observation of a validated reading with id `id` (category vital-signs, LOINC code,
// subject Patient/<patient_id>, device Device/<device_id>, identifier
// urn:medhub:device-reading "<device>/<seq>").
json::Value ObservationFor(const Reading& reading, std::string_view device_id,
                           std::string_view patient_id, std::string_view id);
// The same with the id ObservationIdFor(device_id, reading.seq).
json::Value ObservationFor(const Reading& reading, std::string_view device_id,
                           std::string_view patient_id);

// ObservationFor(reading, device, patient, id) as version 1 at `last_updated` (micros):
// meta {versionId "1", lastUpdated} follows resourceType and id, exactly as the store
// writes a committed Observation.
json::Value ReadingObservationValue(const Reading& reading, std::string_view device_id,
                                    std::string_view patient_id, std::string_view id,
                                    int64_t last_updated);
// Its canonical bytes (docs/formats/store.md): json::Serialize(ReadingObservationValue(...)),
// written directly as text (the store renders every stored reading with it).
std::string RenderReadingObservation(const Reading& reading, std::string_view device_id,
                                     std::string_view patient_id, std::string_view id,
                                     int64_t last_updated);

}  // namespace medhub::fhir
