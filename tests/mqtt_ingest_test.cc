// MQTT ingest against a real Mosquitto broker (deploy/mosquitto/start.sh on a free port):
// a device publishes readings with its token, medhub stores them and acknowledges on the
// acks topic only after the commit; retries are duplicates; bad tokens store nothing; a
// message published while medhub is away is delivered to its persistent session later.
#include "ingest/mqtt_ingest.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>

#include "core/ids.h"
#include "core/json.h"
#include "core/time.h"
#include "server/auth_api.h"
#include "support/mosquitto.h"

namespace medhub::ingest {
namespace {

// Reading (device, seq) as the store returns it, found by its identifier.
Result<store::StoredResource> ReadReading(store::Store* store, std::string_view device,
                                          uint64_t seq) {
  ASSIGN_OR_RETURN(std::string id, ingest::FindReadingObservationId(store, device, seq));
  return store->Read("Observation", id);
}

// Collects the messages a client receives.
struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> messages;
  void Push(std::string_view m) {
    std::lock_guard l(mu);
    messages.emplace_back(m);
    cv.notify_all();
  }
  std::string Pop() {  // "" after a generous timeout (a failure, not a timing assertion)
    std::unique_lock l(mu);
    if (!cv.wait_for(l, std::chrono::seconds(20), [&] { return !messages.empty(); })) return "";
    std::string m = std::move(messages.front());
    messages.pop_front();
    return m;
  }
};

class MqttIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.ok()) << "mosquitto did not start";
    dir_ = std::filesystem::temp_directory_path() / ("medhub-mqtt-" + NewId().substr(0, 12));
    store_ = store::OpenRocksStore({dir_.string()}).value();
    for (const char* json :
         {R"({"resourceType":"Patient","id":"p1"})",
          R"({"resourceType":"Device","id":"cuff","patient":{"reference":"Patient/p1"}})"}) {
      store::WriteOp op;
      op.resource = json::Parse(json).value();
      op.type = std::string(op.resource.get_string("resourceType"));
      op.id = std::string(op.resource.get_string("id"));
      ASSERT_TRUE(store_->Commit({std::move(op)}).ok());
    }
    ingestor_ = std::make_unique<DeviceIngestor>(store_.get());
    server::AuthApiOptions options;
    options.data_dir = dir_.string();
    auth_ = server::AuthApi::Open(store_.get(), options).value();
    security::Grant grant;
    grant.subject = grant.client_id = "cuff-client";
    grant.role = security::Role::kDevice;
    grant.device = "cuff";
    grant.patient = "p1";
    grant.scopes = security::RoleScopes(security::Role::kDevice);
    auto issued = auth_->tokens().Issue(grant, false, NowMicros());
    ASSERT_TRUE(issued.ok()) << issued.status().ToString();
    token_ = issued->access_token;
    MqttClientOptions device;
    device.port = broker_.port();
    auto client =
        MqttClient::Start(device, [this](std::string_view, std::string_view m) { inbox_.Push(m); });
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    device_ = std::move(client).value();
    ASSERT_TRUE(device_->Subscribe(AcksTopic("cuff"), 1).ok());
  }
  void TearDown() override {
    device_.reset();
    ingest_.reset();
    auth_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void StartIngest(MqttIngest::Recorder record = {}) {
    MqttClientOptions options;
    options.port = broker_.port();
    auto started = MqttIngest::Start(
        options, ingestor_.get(),
        [this](std::string_view t) { return auth_->tokens().Verify(t, NowMicros()); }, NowMicros,
        std::move(record));
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    ingest_ = std::move(started).value();
  }
  std::string Payload(std::string token, std::initializer_list<int> seqs) {
    std::string p = R"({"token":")" + token + R"(","readings":[)";
    bool first = true;
    for (int s : seqs) {
      p += first ? "" : ",";
      first = false;
      p += R"({"seq":)" + std::to_string(s) +
           R"(,"kind":"spo2","value":97,"unit":"%","time":"2026-01-01T00:00:00Z"})";
    }
    return p + "]}";
  }

  testing::MosquittoBroker broker_{MEDHUB_MOSQUITTO_SCRIPT};
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<DeviceIngestor> ingestor_;
  std::unique_ptr<server::AuthApi> auth_;
  std::string token_;
  Inbox inbox_;
  std::unique_ptr<MqttClient> device_;
  std::unique_ptr<MqttIngest> ingest_;
};

TEST_F(MqttIngestTest, PublishedReadingsAreStoredAndAcknowledgedAndARetryIsADuplicate) {
  StartIngest();
  ASSERT_TRUE(device_->Publish(ReadingsTopic("cuff"), Payload(token_, {1, 2}), 1).ok());
  EXPECT_EQ(inbox_.Pop(), R"({"device":"cuff","stored":[1,2],"duplicates":[],"rejected":[]})");
  EXPECT_TRUE(ReadReading(store_.get(), "cuff", 2).ok());
  ASSERT_TRUE(device_->Publish(ReadingsTopic("cuff"), Payload(token_, {2, 3}), 1).ok());
  EXPECT_EQ(inbox_.Pop(), R"({"device":"cuff","stored":[3],"duplicates":[2],"rejected":[]})");
}

TEST_F(MqttIngestTest, AMessageWithoutAValidTokenStoresNothingAndTheAckSaysWhy) {
  StartIngest();
  ASSERT_TRUE(device_->Publish(ReadingsTopic("cuff"), Payload("forged", {1}), 1).ok());
  const std::string ack = inbox_.Pop();
  EXPECT_NE(ack.find(R"("error":"Unauthenticated")"), std::string::npos) << ack;
  EXPECT_FALSE(ReadReading(store_.get(), "cuff", 1).ok());
  ASSERT_TRUE(device_->Publish(ReadingsTopic("cuff"), "not json", 1).ok());
  EXPECT_NE(inbox_.Pop().find(R"("error":"InvalidArgument")"), std::string::npos);
}

TEST_F(MqttIngestTest, ReadingsPublishedWhileMedhubIsAwayAreDeliveredToItsPersistentSession) {
  StartIngest();  // creates the persistent session and its subscription
  ingest_.reset();
  ASSERT_TRUE(device_->Publish(ReadingsTopic("cuff"), Payload(token_, {7}), 1).ok());
  StartIngest();
  EXPECT_EQ(inbox_.Pop(), R"({"device":"cuff","stored":[7],"duplicates":[],"rejected":[]})");
}

TEST_F(MqttIngestTest, EveryMessageIsRecordedAndReadingsWhoseRecordFailedAreNotAcknowledged) {
  struct Recorded {
    std::mutex mu;
    std::vector<std::string> lines;
    bool fail = true;
  };
  auto recorded = std::make_shared<Recorded>();
  StartIngest([recorded](const MqttMessageOutcome& o) {
    std::lock_guard lock(recorded->mu);
    recorded->lines.push_back(std::string(o.device) + " " + (o.who ? o.who->subject : "-") +
                              " " + o.patient + " " + std::to_string(o.stored) + "/" +
                              std::to_string(o.duplicates) + " " +
                              std::string(StatusCodeName(o.status.code())));
    if (recorded->fail && o.stored > 0) {
      recorded->fail = false;
      return Status::Unavailable("disk full");
    }
    return Status::Ok();
  });
  ASSERT_TRUE(device_->Publish(ReadingsTopic("cuff"), Payload(token_, {1, 2}), 1).ok());
  const std::string refused = inbox_.Pop();
  EXPECT_NE(refused.find(R"("error":"Unavailable")"), std::string::npos) << refused;
  ASSERT_TRUE(device_->Publish(ReadingsTopic("cuff"), Payload(token_, {1, 2}), 1).ok());
  EXPECT_EQ(inbox_.Pop(), R"({"device":"cuff","stored":[],"duplicates":[1,2],"rejected":[]})");
  ASSERT_TRUE(device_->Publish(ReadingsTopic("cuff"), Payload("forged", {3}), 1).ok());
  EXPECT_NE(inbox_.Pop().find("Unauthenticated"), std::string::npos);
  std::lock_guard lock(recorded->mu);
  EXPECT_EQ(recorded->lines,
            (std::vector<std::string>{"cuff cuff-client p1 2/0 OK", "cuff cuff-client p1 0/2 OK",
                                      "cuff -  0/0 Unauthenticated"}));
}

}  // namespace
}  // namespace medhub::ingest
