#include "ingest/hl7_ingestor.h"

#include <algorithm>
#include <utility>

#include "core/ids.h"
#include "ingest/hl7_mapper.h"

namespace medhub::ingest {

Hl7Ingestor::Hl7Ingestor(store::Store* store, RelationsChanged on_relations)
    : store_(store), on_relations_(std::move(on_relations)) {}

namespace {

// The patient a resource belongs to: itself, or its subject.
std::string PatientOf(const json::Value& r) {
  if (r.get_string("resourceType") == "Patient") return std::string(r.get_string("id"));
  const json::Value* subject = r.find("subject");
  const std::string_view ref = subject ? subject->get_string("reference") : "";
  return ref.starts_with("Patient/") ? std::string(ref.substr(8)) : "";
}

void AddOnce(std::vector<std::string>* list, std::string item) {
  if (!item.empty() && std::find(list->begin(), list->end(), item) == list->end())
    list->push_back(std::move(item));
}

}  // namespace

Hl7Outcome Hl7Ingestor::Process(std::string_view text, int64_t now, const Recorder& record) {
  const std::string ack_id = "MEDHUB" + std::to_string(now) + "-" + std::to_string(next_ack_++);
  Hl7Outcome out = StoreMessage(text, now, ack_id);
  if (!record) return out;
  const Status recorded = record(out);
  if (recorded.ok() || out.code != "AA") return out;
  --accepted_;
  ++refused_;
  const Status why = hl7::Error(207, "could not record the message: " + recorded.message());
  auto message = hl7::Parse(text);  // parsed before, since it was stored
  out.ack = hl7::BuildAck(message.ok() ? &*message : nullptr, why, ack_id, now);
  out.code = hl7::AckCodeFor(why);
  out.reason = hl7::ErrorText(why);
  out.error = hl7::ErrorCode(why);
  return out;
}

Hl7Outcome Hl7Ingestor::StoreMessage(std::string_view text, int64_t now,
                                      const std::string& ack_id) {
  Hl7Outcome out;
  auto message = hl7::Parse(text);
  auto refuse = [&](const Status& why) {
    ++refused_;
    out.ack = hl7::BuildAck(message.ok() ? &*message : nullptr, why, ack_id, now);
    out.code = message.ok() ? hl7::AckCodeFor(why) : "AR";  // unparsable: rejected whole
    out.reason = hl7::ErrorText(why);
    out.error = hl7::ErrorCode(why);
    out.patients.clear();
    out.resources.clear();
    return out;
  };
  if (!message.ok()) return refuse(message.status());
  out.message_type = message->type() + "^" + message->trigger();
  out.control_id = message->control_id();
  out.sending_facility = message->sending_facility();
  auto mapped = hl7::MapMessage(*message);
  if (!mapped.ok()) return refuse(mapped.status());
  std::vector<store::WriteOp> ops;
  std::vector<std::string> relation_patients;
  for (json::Value& r : mapped->resources) {
    store::WriteOp op;
    op.type = std::string(r.get_string("resourceType"));
    op.id = std::string(r.get_string("id"));
    if (op.type == "Encounter") AddOnce(&relation_patients, PatientOf(r));
    AddOnce(&out.patients, PatientOf(r));
    out.resources.push_back(op.type + "/" + op.id);
    op.resource = std::move(r);
    ops.push_back(std::move(op));
  }
  auto committed = store_->Commit(std::move(ops));
  if (!committed.ok())
    return refuse(hl7::Error(207, "could not store the message: " + committed.status().message()));
  for (const store::WriteOutcome& o : *committed) resources_ += o.unchanged ? 0 : 1;
  if (on_relations_ && !relation_patients.empty()) on_relations_(relation_patients);
  ++accepted_;
  out.ack = hl7::BuildAck(&*message, Status::Ok(), ack_id, now);
  out.code = "AA";
  return out;
}

Hl7Stats Hl7Ingestor::stats() const {
  return {accepted_.load(), refused_.load(), resources_.load()};
}

}  // namespace medhub::ingest
