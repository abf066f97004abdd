// HL7 v2 → FHIR R4: ADT^A01/A04/A08 to Patient and Encounter, ORU^R01 to Patient,
// Observations and DiagnosticReports; and the ACK/NAK that answers each message.
//
// What is mapped (docs/formats/ingest.md, "HL7 v2"):
//   PID-3 identifiers, PID-5 name (family, given, middle, suffix, prefix), PID-7 birthDate,
//   PID-8 gender, PID-11 address, PID-13/14 telecom.
//   PV1-2 class, PV1-3 location (as display), PV1-19 visit number, PV1-44/45 period;
//   A01 → in-progress, A04 → arrived, A08 → in-progress (an update of the same resources).
//   OBR-4 report code, OBR-7 effective time, OBR-25 status; OBX-2 value type (NM → Quantity,
//   ST/TX/FT → string, CE/CWE → CodeableConcept, SN → Quantity with comparator, DT/TS →
//   dateTime), OBX-3 code (LN → http://loinc.org), OBX-6 unit, OBX-7 reference range,
//   OBX-8 interpretation, OBX-11 status, OBX-14 time.
// Other segments (NK1, IN1, DG1, ORC, ..., and Z-segments) are ignored.
//
// Ids are deterministic — "h" + 40 hex digits of SHA-256 over the sending facility and the
// record's business key (PID-3, PV1-19 or the control id, OBR-3/OBR-2 and OBX-1) — so
// re-sending a message updates the same resources instead of duplicating them.
// Times without a zone are taken as UTC (HL7 v2 leaves the zone to agreement).
//
// Errors carry an HL7 error code (er7.h Error()): 200 unsupported message type, 201
// unsupported event, 203 unsupported version (all answered AR), 100 missing segment, 101
// required field missing, 102 data type error (answered AE).
// Thread-safe: pure functions.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "ingest/er7.h"

namespace medhub::ingest::hl7 {

struct Mapped {
  std::vector<json::Value> resources;  // validated FHIR resources with ids, in commit order
};

// Maps a parsed message. Errors: see the header comment.
Result<Mapped> MapMessage(const Message& message);

// "AR" for errors that reject the message as a whole (unsupported type, event, version,
// unparsable), "AE" for the others.
std::string AckCodeFor(const Status& status);

// An ACK for `message` (nullptr when it could not be parsed: then MSA-1 is "AR"): MSA-1
// "AA" when `status` is OK, else AckCodeFor(status) with the reason in MSA-3 and an ERR segment
// (ERR-3 the HL7 error code from table 0357, ERR-4 "E", ERR-8 the reason). `control_id` is the
// ACK's own MSH-10; `now` its MSH-7 (micros since the epoch). Segments end in \r.
std::string BuildAck(const Message* message, const Status& status, const std::string& control_id,
                     int64_t now);

// An HL7 TS/DTM ("YYYY[MM[DD[HHMM[SS[.S+]]]]][+/-ZZZZ]") as a FHIR dateTime (or, with
// `date_only`, a FHIR date). Errors: 102.
Result<std::string> FhirDateTime(std::string_view ts, bool date_only = false);

}  // namespace medhub::ingest::hl7
