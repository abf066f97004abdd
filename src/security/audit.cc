#include "security/audit.h"

#include "core/ids.h"
#include "core/time.h"
#include "fhir/resource.h"

namespace medhub::security {
namespace {

using fhir::MakeCoding;
using fhir::MakeConcept;
using json::Value;

Value Str(std::string s) { return Value::String(std::move(s)); }

// HL7 v2 messages come over MLLP, not the REST API.
bool IsMllp(const AuditRecord& r) { return r.method == "MLLP"; }

// DICOM/FHIR audit action: C(reate) R(ead) U(pdate) D(elete) E(xecute).
std::string ActionCode(const AuditRecord& r) {
  if (IsMllp(r)) return "C";  // an import: its resources are created or updated
  if (r.interaction == "create") return "C";
  if (r.interaction == "update") return "U";
  if (r.interaction == "delete") return "D";
  if (r.interaction == "batch" || r.interaction == "transaction" || r.interaction == "operation")
    return "E";
  return "R";
}

// FHIR AuditEvent.outcome: 0 success, 4 minor failure (refused or bad request), 8 serious.
std::string OutcomeCode(int status) {
  if (status < 400) return "0";
  if (status < 500) return "4";
  return "8";
}

Value Agent(const AuditRecord& r) {
  Value agent = Value::Object();
  const bool system = r.role == "service" || r.role == "device";
  agent.set("type", MakeConcept(MakeCoding(
                        "http://terminology.hl7.org/CodeSystem/extra-security-role-type",
                        system ? "dataprocessor" : "humanuser")));
  Value roles = Value::Array();
  Value role = Value::Object();
  role.set("text", Str(r.role.empty() ? "unauthenticated" : r.role));
  roles.push_back(std::move(role));
  agent.set("role", std::move(roles));
  Value who = Value::Object();
  Value identifier = Value::Object();
  identifier.set("system", Str("urn:medhub:subject"));
  identifier.set("value", Str(r.who.empty() ? "anonymous" : r.who));
  who.set("identifier", std::move(identifier));
  if (!r.organization.empty()) who.set("display", Str("Organization/" + r.organization));
  agent.set("who", std::move(who));
  if (!r.client_id.empty()) agent.set("altId", Str(r.client_id));
  agent.set("requestor", Value::Bool(true));
  if (!r.organization.empty()) {
    Value loc = Value::Object();
    loc.set("reference", Str("Organization/" + r.organization));
    agent.set("location", std::move(loc));
  }
  Value network = Value::Object();
  std::string address = r.remote_address;
  if (size_t colon = address.rfind(':'); colon != std::string::npos) address.resize(colon);
  network.set("address", Str(address.empty() ? "unknown" : address));
  network.set("type", Str("2"));  // IP address
  agent.set("network", std::move(network));
  Value purpose = Value::Array();
  purpose.push_back(MakeConcept(MakeCoding("http://terminology.hl7.org/CodeSystem/v3-ActReason",
                                           r.break_glass ? "BTG" : "TREAT",
                                           r.break_glass ? "break the glass" : "treatment")));
  agent.set("purposeOfUse", std::move(purpose));
  return agent;
}

Value Entity(std::string reference) {
  Value e = Value::Object();
  Value what = Value::Object();
  what.set("reference", Str(std::move(reference)));
  e.set("what", std::move(what));
  return e;
}

}  // namespace

AuditRecord AuditRecordFor(const Principal* who, int64_t time, std::string_view remote_address,
                           std::string_view interaction, std::string_view method,
                           std::string_view target, int http_status, std::string_view body) {
  AuditRecord rec;
  if (who != nullptr) {
    rec.who = who->subject;
    rec.role = std::string(RoleName(who->role));
    rec.organization = who->organization;
    rec.client_id = who->client_id;
  }
  rec.time = time;
  rec.remote_address = std::string(remote_address);
  rec.interaction = std::string(interaction);
  rec.method = std::string(method);
  rec.target = std::string(target.substr(0, 1024));
  rec.http_status = http_status;
  if (http_status >= 400) rec.outcome_detail = std::string(body.substr(0, 512));
  return rec;
}

json::Value BuildAuditEvent(const AuditRecord& r, const std::string& id) {
  Value ev = Value::Object();
  ev.set("resourceType", Str("AuditEvent"));
  ev.set("id", Str(id));
  Value subtype = Value::Array();
  if (IsMllp(r)) {
    ev.set("type", MakeCoding("http://dicom.nema.org/resources/ontology/DCM", "110107", "Import"));
    const size_t caret = r.hl7_message_type.find('^');
    const std::string event =
        caret == std::string::npos ? "" : r.hl7_message_type.substr(caret + 1);
    subtype.push_back(MakeCoding("http://terminology.hl7.org/CodeSystem/v2-0003",
                                 event.empty() ? "unknown" : event));
  } else {
    ev.set("type", MakeCoding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest",
                              "RESTful Operation"));
    subtype.push_back(MakeCoding("http://hl7.org/fhir/restful-interaction",
                                 r.interaction.empty() ? "unknown" : r.interaction));
  }
  ev.set("subtype", std::move(subtype));
  ev.set("action", Str(ActionCode(r)));
  ev.set("recorded", Str(FormatInstant(r.time)));
  ev.set("outcome", Str(OutcomeCode(r.http_status)));
  std::string desc = std::to_string(r.http_status);
  if (!r.outcome_detail.empty()) desc += " " + r.outcome_detail.substr(0, 512);
  ev.set("outcomeDesc", Str(desc));
  Value purpose = Value::Array();
  purpose.push_back(MakeConcept(MakeCoding("http://terminology.hl7.org/CodeSystem/v3-ActReason",
                                           r.break_glass ? "BTG" : "TREAT")));
  ev.set("purposeOfEvent", std::move(purpose));
  Value agents = Value::Array();
  agents.push_back(Agent(r));
  ev.set("agent", std::move(agents));
  Value source = Value::Object();
  source.set("site", Str("medhub"));
  Value observer = Value::Object();
  observer.set("display", Str(IsMllp(r) ? "medhub MLLP listener" : "medhub FHIR API"));
  source.set("observer", std::move(observer));
  ev.set("source", std::move(source));
  Value entities = Value::Array();
  Value query = Value::Object();
  query.set("type", MakeCoding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2",
                               "System Object"));
  query.set("name", Str(r.method));
  query.set("description", Str(r.target.substr(0, 1024)));
  if (r.break_glass) {
    Value detail = Value::Array();
    Value d = Value::Object();
    d.set("type", Str("break-glass-reason"));
    d.set("valueString", Str(r.break_glass_reason.substr(0, 1024)));
    detail.push_back(std::move(d));
    query.set("detail", std::move(detail));
  }
  entities.push_back(std::move(query));
  for (const std::string& p : r.patients) entities.push_back(Entity("Patient/" + p));
  size_t kept = 0;
  for (const std::string& res : r.resources) {
    if (++kept > 100) break;
    if (!res.starts_with("Patient/")) entities.push_back(Entity(res));
  }
  ev.set("entity", std::move(entities));
  return ev;
}

AuditLog::AuditLog(store::Store* store) : store_(store) {
  thread_ = std::thread([this] { Run(); });
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_.notify_all();
  thread_.join();
}

Status AuditLog::Record(const AuditRecord& record, bool wait) {
  store::WriteOp op;
  op.type = "AuditEvent";
  op.id = NewId();
  op.resource = BuildAuditEvent(record, op.id);
  op.create_only = true;
  std::unique_lock lock(mu_);
  queue_.push_back(std::move(op));
  const uint64_t ticket = ++queued_;
  work_.notify_one();
  if (!wait) return Status::Ok();
  return WaitFor(lock, ticket);
}

Status AuditLog::Flush() {
  std::unique_lock lock(mu_);
  return WaitFor(lock, queued_);
}

Status AuditLog::WaitFor(std::unique_lock<std::mutex>& lock, uint64_t ticket) {
  done_.wait(lock, [&] { return written_ >= ticket; });
  if (ticket <= failed_upto_) return last_error_;
  return Status::Ok();
}

void AuditLog::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, drained
    std::vector<store::WriteOp> batch;
    if (queue_.size() <= kMaxBatch) {
      batch.swap(queue_);
    } else {
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + kMaxBatch));
      queue_.erase(queue_.begin(), queue_.begin() + kMaxBatch);
    }
    const uint64_t upto = written_ + batch.size();
    lock.unlock();
    const Status s = store_->Commit(std::move(batch)).status();
    lock.lock();
    written_ = upto;
    if (!s.ok()) {
      last_error_ = s;
      failed_upto_ = upto;
    }
    done_.notify_all();
  }
}

}  // namespace medhub::security
