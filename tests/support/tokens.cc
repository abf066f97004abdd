#include "support/tokens.h"

#include <cstdio>

#include "core/http_client.h"

namespace medhub::testing {
namespace {

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

std::string AddClient(const std::string& binary, const std::string& data_dir,
                      const std::string& client_id, const std::string& role,
                      const std::string& scope, const std::vector<std::string>& extra) {
  std::string cmd = Quote(binary) + " client add --data " + Quote(data_dir) + " --client-id " +
                    Quote(client_id) + " --role " + Quote(role) + " --scope " + Quote(scope);
  for (const std::string& e : extra) cmd += " " + Quote(e);
  cmd += " 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return "";
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  if (pclose(f) != 0) return "";
  const std::string key = "client_secret: ";
  const size_t at = out.find(key);
  if (at == std::string::npos) return "";
  const size_t start = at + key.size();
  return out.substr(start, out.find('\n', start) - start);
}

std::string ClientToken(HttpClient& client, const std::string& client_id, const std::string& secret,
                        const std::string& scope) {
  std::string body = "grant_type=client_credentials&client_id=" + UrlEncode(client_id) +
                     "&client_secret=" + UrlEncode(secret);
  if (!scope.empty()) body += "&scope=" + UrlEncode(scope);
  const std::string saved = client.bearer();
  client.SetBearer("");
  auto r = client.Send("POST", "/auth/token", body,
                       {{"Content-Type", "application/x-www-form-urlencoded"}});
  client.SetBearer(saved);
  const std::string key = "\"access_token\":\"";
  const size_t at = r.body.find(key);
  if (r.status != 200 || at == std::string::npos) return "";
  const size_t start = at + key.size();
  return r.body.substr(start, r.body.find('"', start) - start);
}

}  // namespace medhub::testing
