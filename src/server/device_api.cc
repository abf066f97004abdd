#include "server/device_api.h"

#include <utility>

#include "server/auth_api.h"
#include "server/http_util.h"

namespace medhub::server {

DeviceApi::DeviceApi(ingest::DeviceIngestor* ingestor, Authenticator authenticate,
                     std::function<int64_t()> clock)
    : ingestor_(ingestor), authenticate_(std::move(authenticate)), clock_(std::move(clock)) {}

HttpResponse DeviceApi::Handle(const HttpRequest& req) { return Handle(req, authenticate_(req)); }

HttpResponse DeviceApi::Handle(const HttpRequest& req, const Result<security::Principal>& who) {
  constexpr std::string_view kPrefix = "/api/devices/";
  constexpr std::string_view kSuffix = "/readings";
  std::string_view path = req.path;
  if (!path.starts_with(kPrefix) || !path.ends_with(kSuffix) ||
      path.size() <= kPrefix.size() + kSuffix.size())
    return ErrorResponse(Status::NotFound("no such path: " + req.path));
  const std::string device(
      path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size()));
  if (req.method != "POST") {
    HttpResponse r = ErrorResponse(Status::Unsupported("use POST for readings"));
    r.status = 405;
    r.headers.emplace_back("Allow", "POST");
    return r;
  }
  const Result<security::Principal>& principal = who;
  if (!principal.ok()) {
    HttpResponse r = ErrorResponse(principal.status());
    r.headers.emplace_back("WWW-Authenticate", BearerChallenge(principal.status()));
    return r;
  }
  if (principal->role != security::Role::kDevice || principal->device != device)
    return ErrorResponse(Status::PermissionDenied("a device may post readings only for itself"));
  const int64_t now = clock_();
  auto batch = ingest::ParseReadingBatch(req.body, now);
  if (!batch.ok()) return ErrorResponse(batch.status());
  auto binding = ingestor_->Binding(device);
  if (!binding.ok()) {
    HttpResponse r = ErrorResponse(binding.status());
    if (binding.status().code() == StatusCode::kFailedPrecondition) r.status = 409;  // unbound
    return r;
  }
  if (Status s = ingest::CheckDevicePrincipal(*principal, *binding); !s.ok())
    return ErrorResponse(s);
  auto reply = ingestor_->Ingest(*binding, std::move(batch).value());
  if (!reply.ok()) return ErrorResponse(reply.status());
  return JsonResponse(200, reply->ToJson(device), "application/json");
}

}  // namespace medhub::server
