#include "server/audited.h"

#include <iostream>

#include "core/time.h"
#include "server/http_util.h"

namespace medhub::server {
namespace {

// The HTTP status an HL7 v2 answer stands for in the audit trail: stored, refused as
// malformed (AR), or not stored because of its content or the store (AE).
int Hl7AuditStatus(const ingest::Hl7Outcome& out) {
  if (out.code == "AA") return 200;
  if (out.code == "AR") return 400;
  return out.error == 207 ? 503 : 422;
}

}  // namespace

HttpResponse Audited(const HttpRequest& req, const AuthApi& auth, security::AuditLog* audit,
                     std::string_view interaction,
                     const std::function<HttpResponse(const Who&)>& handle) {
  const Who who = auth.Authenticate(req);
  HttpResponse resp = handle(who);
  const security::AuditRecord rec =
      security::AuditRecordFor(who.ok() ? &*who : nullptr, NowMicros(), req.remote_address,
                               interaction, req.method, req.target, resp.status, resp.body);
  const bool wait = req.method != "GET" && req.method != "HEAD" && resp.status < 400;
  if (Status s = audit->Record(rec, wait); !s.ok()) {
    std::cerr << "medhub: audit of " << req.method << " " << req.path << ": " << s.message()
              << "\n";
    if (wait) return ErrorResponse(Status::Unavailable("the audit trail is unavailable"));
  }
  return resp;
}

ingest::MqttIngest::Recorder MqttAuditRecorder(security::AuditLog* audit) {
  if (audit == nullptr) return {};
  return [audit](const ingest::MqttMessageOutcome& o) {
    const std::string target = std::string(o.topic) + " stored " + std::to_string(o.stored) +
                               " duplicates " + std::to_string(o.duplicates) + " rejected " +
                               std::to_string(o.rejected);
    security::AuditRecord rec = security::AuditRecordFor(
        o.who ? &*o.who : nullptr, NowMicros(), "", "device-readings", "MQTT", target,
        o.status.ok() ? 200 : HttpStatusFor(o.status), o.status.message());
    if (!o.patient.empty()) rec.patients = {o.patient};
    return audit->Record(rec, /*wait=*/o.stored > 0);
  };
}

std::string AuditedHl7(ingest::Hl7Ingestor* hl7, security::AuditLog* audit,
                       std::string_view message, std::string_view peer) {
  const int64_t now = NowMicros();
  if (audit == nullptr) return hl7->Process(message, now).ack;
  auto record = [&](const ingest::Hl7Outcome& out) {
    security::AuditRecord rec = security::AuditRecordFor(
        nullptr, now, peer, "hl7v2-message", "MLLP",
        out.message_type + " " + out.control_id + " from " + out.sending_facility,
        Hl7AuditStatus(out), out.code + " " + out.reason);
    rec.hl7_message_type = out.message_type;
    rec.patients = out.patients;
    rec.resources = out.resources;
    return audit->Record(rec, /*wait=*/out.code == "AA");
  };
  return hl7->Process(message, now, record).ack;
}

}  // namespace medhub::server
