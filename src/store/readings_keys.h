// Byte layout of the device time-series key space: the `readings` column family and the
// change-feed record of a batch of device readings. docs/formats/store.md ("Device
// readings") is the reference; change both together. Integers are big-endian; times are
// order-preserving i64 micros (core/ids.h).
//
// Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace medhub::store::readings {

inline constexpr char kReadings[] = "readings";  // the column family

// Tags of the time keys: the reading under its Observation.code, or under the code of one
// of its components (the `component-code` search parameter).
inline constexpr char kCodeTag = 'c';
inline constexpr char kComponentTag = 'k';

std::string DeviceKey(std::string_view device_id);           // 'o' device -> DeviceRecord
std::string OrdinalKey(uint32_t ordinal);                    // 'n' ordinal -> device id
std::string BatchKey(uint32_t ordinal, uint64_t first_seq);  // 'b' ordinal first_seq -> batch
std::string DedupeKey(uint32_t ordinal, uint64_t seq);       // 'd' ordinal seq -> position
// 't' patient \0 tag code \0 time ordinal seq -> "".
std::string TimeKey(std::string_view patient, char tag, std::string_view code, int64_t time,
                    uint32_t ordinal, uint64_t seq);
std::string TimePrefix(std::string_view patient);  // every time key of a patient
std::string TimeTagPrefix(std::string_view patient, char tag);
std::string TimeCodePrefix(std::string_view patient, char tag, std::string_view code);
inline constexpr char kTimeSpace[] = "t";
inline constexpr char kOrdinalSpace[] = "n";

struct TimeKeyView {
  std::string_view patient;
  char tag = 0;
  std::string_view code;
  int64_t time = 0;
  uint32_t ordinal = 0;
  uint64_t seq = 0;
};
std::optional<TimeKeyView> DecodeTimeKey(std::string_view key);

// The Observation id of a reading: "rd" + 8 hex digits of the ordinal + 16 of the seq.
std::string ReadingId(uint32_t ordinal, uint64_t seq);
struct ReadingRef {
  uint32_t ordinal = 0;
  uint64_t seq = 0;
};
std::optional<ReadingRef> ParseReadingId(std::string_view id);

// Value of DeviceKey: ordinal:u32 legacy:u8 (1: Observations of this device were stored
// before the time-series key space existed, so dedupe also checks their hash ids).
struct DeviceRecord {
  uint32_t ordinal = 0;
  bool legacy = false;
};
std::string EncodeDeviceRecord(const DeviceRecord& d);
std::optional<DeviceRecord> DecodeDeviceRecord(std::string_view v);

// Value of DedupeKey: first_seq:u64 (the batch) index:u32 (the reading's place in it).
std::string EncodeDedupe(uint64_t first_seq, uint32_t index);
std::optional<std::pair<uint64_t, uint32_t>> DecodeDedupe(std::string_view v);

// Value of BatchKey: flags:u8 (bit 1 plaintext) committed_at:i64 change_seq:u64
// key_name_len:u8 key_name patient_len:u8 patient, then the payload: the AEAD envelope
// (data key `key_name`, AAD = the batch key) of batch_salt:32 || fhir::EncodeReadings, or
// that plaintext itself in a plaintext store.
inline constexpr uint8_t kBatchPlaintext = 2;
struct BatchHeader {
  bool plaintext = false;
  int64_t committed_at = 0;
  uint64_t change_seq = 0;  // the change-feed sequence of the batch's first reading
  std::string_view key_name;
  std::string_view patient;
  std::string_view payload;
};
std::string EncodeBatchHeader(bool plaintext, int64_t committed_at, uint64_t change_seq,
                              std::string_view key_name, std::string_view patient);
std::optional<BatchHeader> DecodeBatchRecord(std::string_view v);

// The change-feed record of a batch (value of `changes` and `type_history` at the batch's
// first sequence number; reading i has sequence first + i):
// 0x00 'R' ordinal:u32 last_updated:i64 count:u32 seq:u64 x count. The leading 0x00 (an
// empty resource type) tells it from a resource's change record.
std::string EncodeBatchChange(uint32_t ordinal, int64_t last_updated,
                              const std::vector<uint64_t>& seqs);
bool IsBatchChange(std::string_view v);
struct BatchChangeView {
  uint32_t ordinal = 0;
  int64_t last_updated = 0;
  uint32_t count = 0;
  std::string_view seqs;  // count x u64
  uint64_t seq(uint32_t i) const;
};
std::optional<BatchChangeView> DecodeBatchChange(std::string_view v);

}  // namespace medhub::store::readings
