// Stores HL7 v2 messages: parse (er7.h) → map (hl7_mapper.h) → one atomic Store::Commit
// of every resource the message maps to → ACK. Invalid or unsupported messages get a NAK
// (AE/AR with the reason) and change nothing; a commit failure is a NAK (AE, 207) too, so
// the sender resends. Messages are idempotent: the resources have deterministic ids, so a
// resent message stores no new version (content unchanged) and is acknowledged again.
//
// Thread-safe: Handle() may be called concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace medhub::ingest {

// What one message did: the reply and what the audit trail records of it.
struct Hl7Outcome {
  std::string ack;                     // the ACK or NAK to send (segments end in \r)
  std::string code;                    // its MSA-1: AA, AE or AR
  std::string message_type;            // MSH-9.1^MSH-9.2, e.g. "ADT^A01" ("" if unparsable)
  std::string control_id;              // MSH-10
  std::string sending_facility;        // MSH-4
  std::string reason;                  // why it was refused ("" for AA)
  int error = 0;                       // ERR-3, HL7 table 0357 (207: could not store)
  std::vector<std::string> patients;   // patients whose records it wrote
  std::vector<std::string> resources;  // "Type/id" of what it wrote
};

struct Hl7Stats {
  uint64_t accepted = 0;   // AA
  uint64_t refused = 0;    // AE or AR
  uint64_t resources = 0;  // resources written (new versions)
};

class Hl7Ingestor {
 public:
  // Called after a durable commit with the patients whose Encounters the message wrote
  // (care relations the access policy caches; security/relations.h). Must be thread-safe.
  using RelationsChanged = std::function<void(const std::vector<std::string>& patients)>;

  // `store` is not owned.
  explicit Hl7Ingestor(store::Store* store, RelationsChanged on_relations = {});

  // Handles one message (without MLLP framing) and returns the ACK (segments end in \r).
  std::string Handle(std::string_view message, int64_t now) { return Process(message, now).ack; }
  // The same, with what the message did. `record` (optional) is called with every outcome
  // before it is returned, e.g. to keep an audit trail; if it fails for a stored message,
  // the answer becomes a NAK (AE, 207) so the sender resends (harmless: messages are
  // idempotent). Durable before acknowledged holds for the trail as for the data.
  using Recorder = std::function<Status(const Hl7Outcome&)>;
  Hl7Outcome Process(std::string_view message, int64_t now, const Recorder& record = {});
  Hl7Stats stats() const;

 private:
  Hl7Outcome StoreMessage(std::string_view message, int64_t now, const std::string& ack_id);

  store::Store* store_;
  RelationsChanged on_relations_;
  std::atomic<uint64_t> accepted_{0}, refused_{0}, resources_{0}, next_ack_{1};
};

}  // namespace medhub::ingest
