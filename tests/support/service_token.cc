#include "support/service_token.h"

#include <chrono>

#include "support/process.h"

namespace medhub::testing {

std::string AddServiceClient(const std::string& binary, const std::string& data,
                             const std::string& client_id) {
  ChildProcess p({binary, "client", "add", "--data", data, "--client-id", client_id, "--role",
                  "service", "--scope", "system/*.read", "--org", "e2e"});
  const std::string line = p.ReadLineContaining("client_secret:", std::chrono::seconds(30));
  p.Wait(std::chrono::seconds(30));
  const size_t colon = line.find(": ");
  return colon == std::string::npos ? "" : line.substr(colon + 2);
}

std::string FetchToken(HttpClient* client, const std::string& client_id,
                       const std::string& secret) {
  auto r = client->Send(
      "POST", "/auth/token",
      "grant_type=client_credentials&client_id=" + client_id + "&client_secret=" + secret,
      {{"Content-Type", "application/x-www-form-urlencoded"}});
  const std::string key = "\"access_token\":\"";
  const size_t at = r.body.find(key);
  if (r.status != 200 || at == std::string::npos) return "";
  const size_t end = r.body.find('"', at + key.size());
  return r.body.substr(at + key.size(), end - at - key.size());
}

}  // namespace medhub::testing
