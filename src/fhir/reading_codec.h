// The compact binary form of a batch of validated readings: the payload of a batch record
// of the store's device time-series key space (docs/formats/store.md, "Device readings"),
// from which each reading's Observation is rendered on read (device_reading.h) instead of
// being stored as JSON.
//
// Contract:
// - DecodeReadings(EncodeReadings(b)) gives back every field of every reading exactly
//   (texts as written, so ObservationFor renders the same bytes from the decoded readings
//   as from the originals); a record that is truncated, has trailing bytes or an unknown
//   kind or version is DataLoss, never a crash or a partial result.
// - ReadingSalt derives the ledger salt of one reading from the batch's one random salt,
//   so a batch draws 32 random bytes instead of 32 per reading; the salt stays secret as
//   long as the batch salt does (it is kept inside the sealed record).
//
// Layout (all integers big-endian): version:u8 (kReadingCodecVersion) count:u32, then per
// reading seq:u64 kind:u8 time:i64 (micros, order-preserving as in ids.h) str(time text)
// str(unit) n:u32 str(value)×n str(period) str(heart_rate) str(rhythm), with str = len:u32
// bytes. The last three are empty except for ECG.
//
// Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "fhir/device_reading.h"

namespace medhub::fhir {

inline constexpr uint8_t kReadingCodecVersion = 1;

// Encodes `readings` (validated by ParseReading: their times parse). Errors:
// InvalidArgument when a reading's time is not a FHIR instant.
Result<std::string> EncodeReadings(const std::vector<Reading>& readings);

// Decodes a record made by EncodeReadings. Errors: DataLoss on any malformation.
Result<std::vector<Reading>> DecodeReadings(std::string_view record);

// The 32-byte ledger salt of reading `seq` of a batch whose random salt is `batch_salt`
// (32 bytes): HMAC-SHA-256(batch_salt, "medhub/reading-salt/v1" 0x00 seq:u64).
std::string ReadingSalt(std::string_view batch_salt, uint64_t seq);

}  // namespace medhub::fhir
