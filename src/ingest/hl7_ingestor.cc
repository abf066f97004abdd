#include "ingest/hl7_ingestor.h"

#include <utility>

#include "core/ids.h"
#include "ingest/hl7_mapper.h"

namespace medhub::ingest {

Hl7Ingestor::Hl7Ingestor(store::Store* store, RelationsChanged on_relations)
    : store_(store), on_relations_(std::move(on_relations)) {}

std::string Hl7Ingestor::Handle(std::string_view text, int64_t now) {
  const std::string ack_id = "MEDHUB" + std::to_string(now) + "-" + std::to_string(next_ack_++);
  auto message = hl7::Parse(text);
  if (!message.ok()) {
    ++refused_;
    return hl7::BuildAck(nullptr, message.status(), ack_id, now);  // AR: unparsable
  }
  auto mapped = hl7::MapMessage(*message);
  if (!mapped.ok()) {
    ++refused_;
    return hl7::BuildAck(&*message, mapped.status(), ack_id, now);
  }
  std::vector<store::WriteOp> ops;
  std::vector<std::string> relation_patients;
  for (json::Value& r : mapped->resources) {
    if (r.get_string("resourceType") == "Encounter") {
      const json::Value* subject = r.find("subject");
      const std::string_view ref = subject ? subject->get_string("reference") : "";
      if (ref.starts_with("Patient/")) relation_patients.emplace_back(ref.substr(8));
    }
    store::WriteOp op;
    op.type = std::string(r.get_string("resourceType"));
    op.id = std::string(r.get_string("id"));
    op.resource = std::move(r);
    ops.push_back(std::move(op));
  }
  auto committed = store_->Commit(std::move(ops));
  if (!committed.ok()) {
    ++refused_;
    return hl7::BuildAck(
        &*message, hl7::Error(207, "could not store the message: " + committed.status().message()),
        ack_id, now);
  }
  for (const store::WriteOutcome& o : *committed) resources_ += o.unchanged ? 0 : 1;
  if (on_relations_ && !relation_patients.empty()) on_relations_(relation_patients);
  ++accepted_;
  return hl7::BuildAck(&*message, Status::Ok(), ack_id, now);
}

Hl7Stats Hl7Ingestor::stats() const {
  return {accepted_.load(), refused_.load(), resources_.load()};
}

}  // namespace medhub::ingest
