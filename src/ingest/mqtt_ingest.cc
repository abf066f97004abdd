#include "ingest/mqtt_ingest.h"

#include <utility>

#include "core/json.h"

namespace medhub::ingest {
namespace {

constexpr std::string_view kTopicPrefix = "medhub/devices/";
constexpr std::string_view kReadingsSuffix = "/readings";

// The device id of "medhub/devices/<id>/readings", or "".
std::string_view DeviceOfTopic(std::string_view topic) {
  if (!topic.starts_with(kTopicPrefix) || !topic.ends_with(kReadingsSuffix)) return {};
  topic.remove_prefix(kTopicPrefix.size());
  topic.remove_suffix(kReadingsSuffix.size());
  return topic.find('/') == std::string_view::npos ? topic : std::string_view();
}

std::string ErrorAck(std::string_view device, const Status& s) {
  std::string out = "{\"device\":";
  json::AppendQuoted(device, &out);
  out += ",\"error\":";
  json::AppendQuoted(StatusCodeName(s.code()), &out);
  out += ",\"reason\":";
  json::AppendQuoted(s.message(), &out);
  out += "}";
  return out;
}

}  // namespace

std::string ReadingsTopic(std::string_view device_id) {
  return std::string(kTopicPrefix) + std::string(device_id) + std::string(kReadingsSuffix);
}
std::string AcksTopic(std::string_view device_id) {
  return std::string(kTopicPrefix) + std::string(device_id) + "/acks";
}

MqttIngest::MqttIngest(DeviceIngestor* ingestor, Verifier verify, std::function<int64_t()> clock,
                       Recorder record)
    : ingestor_(ingestor),
      verify_(std::move(verify)),
      clock_(std::move(clock)),
      record_(std::move(record)) {}

MqttIngest::~MqttIngest() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;  // Enqueue() drops from now on
  }
  cv_.notify_all();
  for (std::thread& w : workers_) w.join();  // the messages in hand are stored and acked first
  client_.reset();
}

void MqttIngest::Enqueue(std::string_view topic, std::string_view payload) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return stopping_ || queue_.size() < kMaxQueuedMessages; });
  if (stopping_) return;
  queue_.emplace_back(std::string(topic), std::string(payload));
  cv_.notify_all();
}

void MqttIngest::Work() {
  while (true) {
    std::pair<std::string, std::string> message;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      message = std::move(queue_.front());
      queue_.pop_front();
    }
    cv_.notify_all();
    HandleMessage(message.first, message.second);
  }
}

Result<std::unique_ptr<MqttIngest>> MqttIngest::Start(MqttClientOptions options,
                                                      DeviceIngestor* ingestor, Verifier verify,
                                                      std::function<int64_t()> clock,
                                                      Recorder record) {
  if (options.client_id.empty()) options.client_id = "medhub-ingest";
  options.clean_session = false;
  std::unique_ptr<MqttIngest> self(
      new MqttIngest(ingestor, std::move(verify), std::move(clock), std::move(record)));
  MqttIngest* raw = self.get();
  ASSIGN_OR_RETURN(self->client_,
                   MqttClient::Start(options, [raw](std::string_view topic, std::string_view body) {
                     raw->Enqueue(topic, body);
                   }));
  for (size_t i = 0; i < kWorkers; ++i)
    self->workers_.emplace_back([raw] { raw->Work(); });  // after client_ is set
  RETURN_IF_ERROR(self->client_->Subscribe(kReadingsTopicFilter, 1));
  return self;
}

Result<std::string> MqttIngest::Process(std::string_view device, std::string_view payload,
                                        MqttMessageOutcome* outcome) {
  auto parsed = json::Parse(payload);
  if (!parsed.ok()) return Status::InvalidArgument("readings: " + parsed.status().message());
  if (!parsed->is_object()) return Status::InvalidArgument("the payload must be a JSON object");
  const std::string_view token = parsed->get_string("token");
  if (token.empty()) return Status::Unauthenticated("the payload carries no \"token\"");
  ASSIGN_OR_RETURN(security::Principal principal, verify_(token));
  outcome->who = principal;
  ASSIGN_OR_RETURN(ParsedBatch batch, ParseReadingBatch(*parsed, clock_()));
  ASSIGN_OR_RETURN(DeviceBinding binding, ingestor_->Binding(device));
  outcome->patient = binding.patient_id;
  RETURN_IF_ERROR(CheckDevicePrincipal(principal, binding));
  ASSIGN_OR_RETURN(IngestReply reply, ingestor_->Ingest(binding, std::move(batch)));
  outcome->stored = reply.stored.size();
  outcome->duplicates = reply.duplicates.size();
  outcome->rejected = reply.rejected.size();
  stored_ += reply.stored.size();
  duplicates_ += reply.duplicates.size();
  rejected_ += reply.rejected.size();
  return reply.ToJson(device);
}

std::string MqttIngest::HandleMessage(std::string_view topic, std::string_view payload) {
  ++messages_;
  const std::string_view device = DeviceOfTopic(topic);
  if (device.empty()) {
    ++errors_;
    return {};  // not a readings topic: nobody to answer
  }
  MqttMessageOutcome outcome{topic, device};
  auto ack = Process(device, payload, &outcome);
  outcome.status = ack.status();
  if (record_) {
    const Status recorded = record_(outcome);
    // Durable before acknowledged: stored readings whose trail could not be kept are not
    // confirmed; the device resends them and hears "duplicates".
    if (!recorded.ok() && outcome.stored > 0)
      ack = Status::Unavailable("the audit trail is unavailable: " + recorded.message());
  }
  std::string out = ack.ok() ? std::move(ack).value() : ErrorAck(device, ack.status());
  if (!ack.ok()) ++errors_;
  if (client_) (void)client_->Publish(AcksTopic(device), out, 1);
  return out;
}

MqttIngestStats MqttIngest::stats() const {
  return {messages_.load(), stored_.load(), duplicates_.load(), rejected_.load(), errors_.load()};
}

}  // namespace medhub::ingest
