// Time for FHIR: the clock, and FHIR date/dateTime/instant parsing into ranges.
//
// A FHIR date is a range, not a point: "2019" means all of 2019. ParseFhirDate returns
// [low, high) in microseconds since the Unix epoch (UTC). Values without a time zone are
// taken as UTC. Thread-safe: all functions are pure except NowMicros().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace medhub {

// Microseconds since the Unix epoch, from the system clock.
int64_t NowMicros();

// "2026-11-25T10:55:58.123456Z" (always UTC, always six fractional digits).
std::string FormatInstant(int64_t micros);

struct DateRange {
  int64_t low = 0;   // inclusive, microseconds since the epoch
  int64_t high = 0;  // exclusive
  friend bool operator==(const DateRange&, const DateRange&) = default;
};

enum class DateKind {
  kDate,      // YYYY, YYYY-MM or YYYY-MM-DD
  kDateTime,  // a date, or a full date-time with seconds and a zone
  kInstant,   // a full date-time with seconds and a zone
};

// Parses a FHIR date, dateTime or instant (per `kind`, or the most permissive form when
// `kind` is kDateTime). Errors: InvalidArgument naming what is wrong.
Result<DateRange> ParseFhirDate(std::string_view text, DateKind kind = DateKind::kDateTime);

// Days since 1970-01-01 of a civil date (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

}  // namespace medhub
