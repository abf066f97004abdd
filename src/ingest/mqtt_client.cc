#include "ingest/mqtt_client.h"

#include <mosquitto.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <vector>

namespace medhub::ingest {
namespace {

std::once_flag lib_once;

class MosquittoClient final : public MqttClient {
 public:
  MosquittoClient(const MqttClientOptions& options, Handler handler)
      : options_(options), handler_(std::move(handler)) {}

  ~MosquittoClient() override {
    if (mosq_) {
      mosquitto_disconnect(mosq_);
      mosquitto_loop_stop(mosq_, false);
      mosquitto_destroy(mosq_);
    }
  }

  Status Init() {
    std::call_once(lib_once, [] { mosquitto_lib_init(); });
    mosq_ = mosquitto_new(options_.client_id.empty() ? nullptr : options_.client_id.c_str(),
                          options_.clean_session, this);
    if (!mosq_) return Status::InvalidArgument("mosquitto_new failed (client id / session)");
    mosquitto_max_inflight_messages_set(mosq_, 1000);
    // Small publishes and acks go out at once: Nagle's algorithm would hold each behind the
    // previous segment's ACK (a round trip) on a link with delay.
    mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_reconnect_delay_set(mosq_, 1, 10, true);
    if (!options_.username.empty())
      mosquitto_username_pw_set(mosq_, options_.username.c_str(),
                                options_.password.empty() ? nullptr : options_.password.c_str());
    mosquitto_connect_callback_set(mosq_, &OnConnect);
    mosquitto_disconnect_callback_set(mosq_, &OnDisconnect);
    mosquitto_message_callback_set(mosq_, &OnMessage);
    mosquitto_subscribe_callback_set(mosq_, &OnSubscribe);
    int rc = mosquitto_connect_async(mosq_, options_.host.c_str(), options_.port,
                                     options_.keepalive_seconds);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_ERRNO)
      return Status::InvalidArgument(std::string("mqtt: ") + mosquitto_strerror(rc));
    rc = mosquitto_loop_start(mosq_);
    if (rc != MOSQ_ERR_SUCCESS)
      return Status::Internal(std::string("mqtt loop: ") + mosquitto_strerror(rc));
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, options_.connect_timeout, [&] { return connected_.load(); }))
      return Status::Unavailable("mqtt: no connection to " + options_.host + ":" +
                                 std::to_string(options_.port));
    return Status::Ok();
  }

  Status Subscribe(std::string_view filter, int qos) override {
    {
      std::lock_guard lock(mu_);
      subscriptions_.emplace_back(std::string(filter), qos);
    }
    int mid = 0;
    const int rc = mosquitto_subscribe(mosq_, &mid, std::string(filter).c_str(), qos);
    if (rc != MOSQ_ERR_SUCCESS)
      return Status::Unavailable(std::string("mqtt subscribe: ") + mosquitto_strerror(rc));
    // Wait for the SUBACK, so that messages published after Subscribe() returns reach us.
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, options_.connect_timeout, [&] { return subacked_.count(mid) > 0; }))
      return Status::Unavailable("mqtt: no SUBACK for " + std::string(filter));
    subacked_.erase(mid);
    return Status::Ok();
  }

  Status Publish(std::string_view topic, std::string_view payload, int qos) override {
    const int rc = mosquitto_publish(mosq_, nullptr, std::string(topic).c_str(),
                                     static_cast<int>(payload.size()), payload.data(), qos, false);
    if (rc != MOSQ_ERR_SUCCESS)
      return Status::Unavailable(std::string("mqtt publish: ") + mosquitto_strerror(rc));
    return Status::Ok();
  }

  bool connected() const override { return connected_.load(); }

 private:
  static void OnConnect(mosquitto* m, void* obj, int rc) {
    auto* self = static_cast<MosquittoClient*>(obj);
    if (rc != 0) return;
    std::vector<std::pair<std::string, int>> subs;
    {
      std::lock_guard lock(self->mu_);
      subs = self->subscriptions_;
      self->connected_ = true;
    }
    self->cv_.notify_all();
    for (const auto& [filter, qos] : subs) mosquitto_subscribe(m, nullptr, filter.c_str(), qos);
  }
  static void OnSubscribe(mosquitto*, void* obj, int mid, int, const int*) {
    auto* self = static_cast<MosquittoClient*>(obj);
    {
      std::lock_guard lock(self->mu_);
      self->subacked_.insert(mid);
    }
    self->cv_.notify_all();
  }
  static void OnDisconnect(mosquitto*, void* obj, int) {
    static_cast<MosquittoClient*>(obj)->connected_ = false;
  }
  static void OnMessage(mosquitto*, void* obj, const mosquitto_message* msg) {
    auto* self = static_cast<MosquittoClient*>(obj);
    self->handler_(msg->topic ? msg->topic : "",
                   std::string_view(static_cast<const char*>(msg->payload),
                                    msg->payload ? static_cast<size_t>(msg->payloadlen) : 0));
  }

  MqttClientOptions options_;
  Handler handler_;
  mosquitto* mosq_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> connected_{false};
  std::vector<std::pair<std::string, int>> subscriptions_;  // GUARDED_BY(mu_)
  std::set<int> subacked_;                                  // GUARDED_BY(mu_)
};

}  // namespace

Result<std::unique_ptr<MqttClient>> MqttClient::Start(const MqttClientOptions& options,
                                                      Handler on_message) {
  if (options.port <= 0 || options.port > 65535)
    return Status::InvalidArgument("mqtt: port must be 1-65535");
  auto client = std::make_unique<MosquittoClient>(options, std::move(on_message));
  RETURN_IF_ERROR(client->Init());
  return std::unique_ptr<MqttClient>(std::move(client));
}

}  // namespace medhub::ingest
