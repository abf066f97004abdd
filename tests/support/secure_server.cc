#include "support/secure_server.h"

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <vector>

#include "support/tokens.h"

namespace medhub::testing {
namespace {

using namespace std::chrono_literals;

struct ClientSpec {
  const char* id;
  const char* role;
  const char* scope;
  std::vector<std::string> attributes;
};

const std::vector<ClientSpec>& Specs() {
  static const std::vector<ClientSpec> kSpecs = {
      {"patient-a",
       "patient",
       "patient/*.read patient/Consent.write patient/Observation.write",
       {"--patient", "pa"}},
      {"patient-b",
       "patient",
       "patient/*.read patient/Consent.write patient/Observation.write",
       {"--patient", "pb"}},
      {"patient-c", "patient", "patient/*.read", {"--patient", "pc"}},
      {"dr-a", "practitioner", "user/*.*", {"--org", "org-a"}},
      {"dr-b", "practitioner", "user/*.*", {"--org", "org-b"}},
      {"dr-c", "practitioner", "user/*.*", {"--org", "org-c"}},
      {"dr-a-narrow", "practitioner", "user/Observation.read", {"--org", "org-a"}},
      {"admin-a",
       "admin",
       "user/Organization.* user/Practitioner.* user/PractitionerRole.* user/Location.* "
       "user/Device.* user/Endpoint.* user/HealthcareService.*",
       {"--org", "org-a"}},
      {"auditor", "auditor", "user/AuditEvent.read", {}},
      {"device-1",
       "device",
       "patient/Observation.write patient/Device.read",
       {"--device", "dev-1", "--patient", "pa"}},
      {"service", "service", "system/*.read", {"--org", "org-s"}},
  };
  return kSpecs;
}

}  // namespace

SecureServer::SecureServer(std::string binary, std::string fixture)
    : binary_(std::move(binary)), fixture_(std::move(fixture)) {
  std::random_device rd;
  dir_ = std::filesystem::temp_directory_path() / ("medhub-access-" + std::to_string(rd()));
}

SecureServer::~SecureServer() {
  if (server_) {
    server_->Signal(SIGTERM);
    server_->Wait(30s);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string SecureServer::Start() {
  std::filesystem::create_directories(dir_);
  const std::string import =
      "'" + binary_ + "' import --data '" + data_dir() + "' '" + fixture_ + "' >/dev/null 2>&1";
  if (std::system(import.c_str()) != 0) return "import failed: " + import;
  for (const ClientSpec& c : Specs()) {
    const std::string secret = AddClient(binary_, data_dir(), c.id, c.role, c.scope, c.attributes);
    if (secret.empty()) return std::string("client add failed for ") + c.id;
    secrets_[c.id] = secret;
  }
  server_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{binary_, "serve", "--data", data_dir(), "--port", "0"});
  const std::string line = server_->ReadLineContaining("listening on", 30s);
  port_ = static_cast<uint16_t>(PortFromListeningLine(line));
  if (port_ == 0) return "serve did not start: " + server_->output();
  HttpClient c("127.0.0.1", port_);
  for (const auto& [id, secret] : secrets_) {
    tokens_[id] = ClientToken(c, id, secret);
    if (tokens_[id].empty()) return "no token for " + id;
  }
  return "";
}

std::string SecureServer::Token(const std::string& principal) const {
  auto it = tokens_.find(principal);
  return it == tokens_.end() ? "" : it->second;
}

std::string SecureServer::Secret(const std::string& principal) const {
  auto it = secrets_.find(principal);
  return it == secrets_.end() ? "" : it->second;
}

std::unique_ptr<HttpClient> SecureServer::Client(const std::string& principal) const {
  auto c = std::make_unique<HttpClient>("127.0.0.1", port_);
  c->SetBearer(Token(principal));
  return c;
}

}  // namespace medhub::testing
