// Where a resource's lines go in the lake (docs/formats/lake.md, "Layout"): the folder
// <Type>/date=YYYY/bucket=NN, decided from the resource's FIRST version so that every
// version of a resource lands in the same folder, and the tombstone line of a delete.
// `date` is the year the resource was first recorded (version 1's lastUpdated), not its
// clinical date: a history spanning decades arrives in one year, so a commit writes about
// one file per type and bucket instead of one per type, bucket and year of history.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/json_lazy.h"

namespace medhub::lake {

// The most bucket folders a lake uses (a lake's count grows 1, 2, 4, 8, 16: see
// docs/formats/lake.md and Manifest::bucketing).
inline constexpr int kBuckets = 16;

// FNV-1a, 64 bit.
uint64_t Fnv1a64(std::string_view data);

// "YYYY" (UTC) of `last_updated_micros`, version 1's lastUpdated as the store keeps it;
// when that is 0 (a resource that never went through a store, e.g. `medhub gen`'s), the
// first four digits of the resource's meta.lastUpdated; else "1970".
std::string PartitionYear(const json::Value& resource, int64_t last_updated_micros);
std::string PartitionYear(const json::LazyNode& resource, int64_t last_updated_micros);

// The patient a resource belongs to: its own id for a Patient, the id in subject/patient
// when it references Patient/<id>, else "" (no patient).
std::string PatientOf(const json::Value& resource, std::string_view type, std::string_view id);
// The same, on a resource read in place (no tree: the lake writer reads every version 1).
std::string PatientOf(const json::LazyNode& resource, std::string_view type,
                      std::string_view id);

// 0..buckets-1: hash of the patient id, or of "<type>/<id>" without a patient, modulo
// `buckets` (a power of two <= kBuckets, so bucket k of a smaller count holds the buckets of
// kBuckets that are k modulo it).
int BucketOf(std::string_view patient_id, std::string_view type, std::string_view id,
             int buckets = kBuckets);

// "Observation/date=2024/bucket=07".
std::string PartitionDir(std::string_view type, std::string_view year, int bucket);

// The line for a delete marker: resourceType, id and meta (versionId, lastUpdated, and the
// tag urn:medhub:lake|deleted). No trailing newline.
std::string TombstoneLine(std::string_view type, std::string_view id, uint64_t version,
                          int64_t last_updated_micros);

}  // namespace medhub::lake
