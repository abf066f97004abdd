#include "ingest/readings.h"

#include <array>
#include <cstdio>
#include <set>

#include "core/hash.h"
#include "core/time.h"

namespace medhub::ingest {
namespace {

// The plausible range of one value in one unit: outside it the reading is impossible.
struct UnitRange {
  ReadingKind kind;
  std::string_view unit;
  double low;
  double high;
};

constexpr UnitRange kRanges[] = {
    {ReadingKind::kBloodPressure, "mm[Hg]", 20, 300},
    {ReadingKind::kHeartRate, "/min", 20, 300},
    {ReadingKind::kGlucose, "mg/dL", 10, 1500},
    {ReadingKind::kGlucose, "mmol/L", 0.5, 85},
    {ReadingKind::kBodyTemperature, "Cel", 25, 45},
    {ReadingKind::kBodyTemperature, "[degF]", 77, 113},
    {ReadingKind::kSpo2, "%", 30, 100},
    {ReadingKind::kEcg, "mV", -10, 10},
};

const UnitRange* FindRange(ReadingKind kind, std::string_view unit) {
  for (const UnitRange& r : kRanges)
    if (r.kind == kind && r.unit == unit) return &r;
  return nullptr;
}

std::string UnitsOf(ReadingKind kind) {
  std::string out;
  for (const UnitRange& r : kRanges) {
    if (r.kind != kind) continue;
    if (!out.empty()) out += " or ";
    out += r.unit;
  }
  return out;
}

Status Bad(std::string msg) { return Status::InvalidArgument(std::move(msg)); }

std::string Fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// Reads `value` or `values` into r->values, each a number within `range`.
Status ReadValues(const json::Value& in, const UnitRange& range, Reading* r) {
  const json::Value* one = in.find("value");
  const json::Value* many = in.find("values");
  if ((one == nullptr) == (many == nullptr)) return Bad("give exactly one of value and values");
  std::vector<const json::Value*> items;
  if (one) {
    items.push_back(one);
  } else {
    if (!many->is_array() || many->items().empty()) return Bad("values must be a non-empty array");
    for (const json::Value& v : many->items()) items.push_back(&v);
  }
  for (const json::Value* v : items) {
    const std::optional<double> d = v->as_double();
    if (!v->is_number() || !d) return Bad("values must be numbers");
    if (*d < range.low || *d > range.high)
      return Bad("impossible " + std::string(ReadingKindName(r->kind)) + " value " + v->text() +
                 " " + r->unit + " (plausible: " + Fmt(range.low) + " to " + Fmt(range.high) + ")");
    r->values.push_back(v->text());
  }
  return Status::Ok();
}

Status CheckCount(const Reading& r) {
  const size_t n = r.values.size();
  switch (r.kind) {
    case ReadingKind::kBloodPressure: {
      if (n != 2) return Bad("blood-pressure needs values [systolic, diastolic]");
      if (*json::Value::Number(r.values[0]).as_double() <=
          *json::Value::Number(r.values[1]).as_double())
        return Bad("impossible blood-pressure: systolic " + r.values[0] +
                   " is not above diastolic " + r.values[1]);
      return Status::Ok();
    }
    case ReadingKind::kEcg:
      if (n > kMaxEcgSamples) return Bad("ecg has more than 20000 samples");
      return Status::Ok();
    default:
      return n == 1 ? Status::Ok() : Bad(std::string(ReadingKindName(r.kind)) + " takes one value");
  }
}

Status ReadEcgExtras(const json::Value& in, Reading* r) {
  const json::Value* period = in.find("period");
  const std::optional<double> p = period ? period->as_double() : std::nullopt;
  if (!period || !period->is_number() || !p || *p <= 0 || *p > 1000)
    return Bad("ecg needs period: the sample interval in ms (0 < period <= 1000)");
  r->period_ms = period->text();
  const json::Value* hr = in.find("heart_rate");
  const std::optional<double> h = hr ? hr->as_double() : std::nullopt;
  if (!hr || !hr->is_number() || !h || *h < 20 || *h > 300)
    return Bad("ecg needs heart_rate in /min (20 to 300)");
  r->heart_rate = hr->text();
  r->rhythm = std::string(in.get_string("rhythm"));
  if (r->rhythm != "sinus" && r->rhythm != "atrial-fibrillation" && r->rhythm != "other")
    return Bad("ecg needs rhythm: sinus, atrial-fibrillation or other");
  return Status::Ok();
}

Status CheckTime(std::string_view time, int64_t now) {
  if (time.empty()) return Bad("time is required (a FHIR instant, e.g. 2026-11-29T10:00:00Z)");
  auto range = ParseFhirDate(time, DateKind::kInstant);
  if (!range.ok()) return Bad("time: " + range.status().message());
  if (range->low > now + kMaxFutureMicros)
    return Bad("time " + std::string(time) + " is in the future");
  return Status::Ok();
}

}  // namespace

Result<Reading> ParseReading(const json::Value& in, int64_t now) {
  if (!in.is_object()) return Bad("a reading must be a JSON object");
  Reading r;
  const json::Value* seq = in.find("seq");
  const std::optional<int64_t> s = seq && seq->is_number() ? seq->as_int() : std::nullopt;
  if (!s || *s < 0 || *s > (int64_t{1} << 53)) return Bad("seq must be an integer from 0 to 2^53");
  r.seq = static_cast<uint64_t>(*s);
  const std::string_view kind_name = in.get_string("kind");
  const std::optional<ReadingKind> kind = ReadingKindFromName(kind_name);
  if (!kind)
    return Bad("unknown kind '" + std::string(kind_name) +
               "' (blood-pressure, heart-rate, glucose, body-temperature, spo2, ecg)");
  r.kind = *kind;
  r.unit = std::string(in.get_string("unit"));
  const UnitRange* range = FindRange(r.kind, r.unit);
  if (!range)
    return Bad("wrong unit '" + r.unit + "' for " + std::string(kind_name) + " (use " +
               UnitsOf(r.kind) + ")");
  RETURN_IF_ERROR(ReadValues(in, *range, &r));
  RETURN_IF_ERROR(CheckCount(r));
  if (r.kind == ReadingKind::kEcg) RETURN_IF_ERROR(ReadEcgExtras(in, &r));
  r.time = std::string(in.get_string("time"));
  RETURN_IF_ERROR(CheckTime(r.time, now));
  return r;
}

Result<ParsedBatch> ParseReadingBatch(const json::Value& batch, int64_t now) {
  const json::Value* list = batch.is_object() ? batch.find("readings") : nullptr;
  if (!list || !list->is_array())
    return Bad("the body must be a JSON object with a \"readings\" array");
  if (list->items().size() > kMaxReadingsPerBatch)
    return Status::ResourceExhausted("a batch holds at most 10000 readings");
  ParsedBatch out;
  std::set<uint64_t> seen;
  for (size_t i = 0; i < list->items().size(); ++i) {
    const json::Value& item = list->items()[i];
    auto reading = ParseReading(item, now);
    if (!reading.ok()) {
      RejectedReading rej{i, std::nullopt, reading.status().message()};
      if (item.is_object()) {
        const json::Value* seq = item.find("seq");
        const std::optional<int64_t> s = seq ? seq->as_int() : std::nullopt;
        if (s && *s >= 0) rej.seq = static_cast<uint64_t>(*s);
      }
      out.rejected.push_back(std::move(rej));
      continue;
    }
    if (!seen.insert(reading->seq).second) {
      out.repeated.push_back(reading->seq);
      continue;
    }
    out.readings.push_back(std::move(reading).value());
  }
  return out;
}

Result<ParsedBatch> ParseReadingBatch(std::string_view body, int64_t now) {
  auto parsed = json::Parse(body);
  if (!parsed.ok()) return Bad("readings: " + parsed.status().message());
  return ParseReadingBatch(*parsed, now);
}

}  // namespace medhub::ingest
