// The audit trail of what reaches medhub outside FhirApi (docs/security.md, "Audit"): the
// /api routes and $export, MQTT device messages and HL7 v2 messages over MLLP. Each records
// one AuditEvent in the AuditLog, allowed or refused; whatever stored data is answered
// only once its event is durable (a write whose trail could not be kept is not confirmed).
// Thread-safe as the AuditLog is.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "ingest/hl7_ingestor.h"
#include "ingest/mqtt_ingest.h"
#include "security/audit.h"
#include "server/auth_api.h"
#include "server/http_server.h"

namespace medhub::server {

using Who = Result<security::Principal>;

// Runs `handle(who)` for a request outside FhirApi and records its AuditEvent: who (when
// the bearer token is valid), from where, `interaction`, and the status. Successful writes
// wait until their event is durable; if it cannot be written the answer is 503.
HttpResponse Audited(const HttpRequest& req, const AuthApi& auth, security::AuditLog* audit,
                     std::string_view interaction,
                     const std::function<HttpResponse(const Who&)>& handle);

// Records each MQTT message like an HTTP device batch (interaction device-readings): the
// device token's subject, the topic with the counts, the patient; stored readings wait for
// their event. Empty (no recording) when `audit` is null.
ingest::MqttIngest::Recorder MqttAuditRecorder(security::AuditLog* audit);

// Stores one HL7 v2 message and, with an `audit` log, records its AuditEvent: the sending
// peer (MLLP has no login), message type, control id and facility, what it wrote, and the
// answer (AA 200, AR 400, AE 422, AE 207 503). Returns the ACK or NAK to send.
std::string AuditedHl7(ingest::Hl7Ingestor* hl7, security::AuditLog* audit,
                       std::string_view message, std::string_view peer);

}  // namespace medhub::server
