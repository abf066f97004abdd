// `medhub gen`: a synthetic population scaled from the shared Synthea bundles, written as a
// lake (lake_layout.h). Patient i is a copy of template bundle i mod T (T = the number of
// bundles, sorted by file name) with fresh ids, every date shifted by a per-patient number
// of days, measured values jittered by a few percent, references rewritten to Type/id,
// meta.versionId "1"; hypertensive patients also get a home blood-pressure monitor (Device)
// and daily readings (Observation 85354-9 with a device reference) over 30-90 days, with
// some days missing. Deterministic: the same bundles, N and seed give the same bytes.
//
// Thread-safety: none needed; single-threaded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace medhub::analytics {

struct GenOptions {
  std::string bundles_dir;  // folder of Synthea transaction Bundles (*.json)
  std::string out_dir;      // the lake root to write (created)
  uint64_t patients = 0;
  uint64_t seed = 1;
  std::vector<std::string> types;  // only these resource types (all when empty)
  bool as_is = false;              // copy the bundles unchanged (ids, dates), N ignored
};

struct GenStats {
  uint64_t patients = 0;
  uint64_t resources = 0;
  uint64_t devices = 0;
  uint64_t bytes = 0;
};

Result<GenStats> GeneratePopulation(const GenOptions& options);

}  // namespace medhub::analytics
