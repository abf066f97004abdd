// An asynchronous HTTP/1.1 server (Boost.Beast on Asio) that hands each request to one
// handler function. It knows nothing of FHIR: routing and payloads belong to the caller.
//
// Contract:
// - Keep-alive; pipelined requests are answered in order, one at a time per connection.
// - A request whose body exceeds max_body_bytes gets the error responder's 413 and the
//   connection is closed; a malformed request line or header gets 400 and is closed.
// - A connection idle longer than idle_timeout, or slower than read_timeout to send one
//   request, is closed.
// - Handlers run on the server's worker threads and may block (for example on a durable
//   store write); they must be thread-safe.
// - Shutdown() stops accepting, lets requests in flight finish (up to drain_timeout), then
//   closes every connection; Wait() returns when all threads have stopped.
//
// Only this module includes Boost.Beast; its types (and Asio's and OpenSSL's) never appear
// in this header.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace medhub::server {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as received: "/fhir/Patient?name=smith"
  std::string path;    // percent-decoded path without the query: "/fhir/Patient"
  // Query parameters in order, names and values percent-decoded ('+' is a space).
  std::vector<std::pair<std::string, std::string>> query;
  // Header names in lower case.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_address;  // "127.0.0.1:53422"

  // The first header named `name` (lower case), or "" when absent.
  std::string_view header(std::string_view name) const;

  // Sets `target`, `path` and `query` from a request-target as received, the way the server
  // parses every request: origin form ("/fhir/Patient?name=a%20b") or absolute form
  // ("http://host/fhir/Patient?..."; the path and query are kept); a fragment is dropped;
  // the path is percent-decoded; the query is split by ParseUrlEncoded.
  void SetTarget(std::string_view request_target);
  // A GET of `request_target` (SetTarget), without headers: how tests and benchmarks call
  // a handler in-process.
  static HttpRequest Get(std::string_view request_target);
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Length is added
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
// Builds the response for errors the server itself detects: 400 (malformed request), 413
// (body over max_body_bytes), 431 (header over max_header_bytes) and 500 (the handler
// threw). Called on an I/O thread: keep it quick. If it throws, a plain-text response is
// sent instead.
using ErrorResponder = std::function<HttpResponse(int status, std::string_view message)>;

// A request the server answered itself (the statuses of ErrorResponder): what is known of
// it when it was refused. method and target are empty when its header was not read whole.
struct RefusedRequest {
  int status = 0;
  std::string_view reason;
  std::string_view remote_address;
  std::string_view method;
  std::string_view target;
};

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0 picks a free port; see HttpServer::port()
  size_t max_body_bytes = 16u << 20;
  size_t max_header_bytes = 64u << 10;
  int threads = 0;  // 0: max(4, 2 * hardware threads)
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds drain_timeout{10'000};
  // HTTPS: PEM files of the certificate (chain) and its unencrypted private key. When both
  // are set the server speaks TLS only (1.2 or later; 1.3 preferred; no compression or
  // renegotiation); the handshake must finish within read_timeout, and every response
  // carries "Strict-Transport-Security: max-age=31536000" unless the handler set one.
  // When neither is set: plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Told of every request the server answers itself (400, 413, 431, 500), e.g. for the
  // audit trail. Called on an I/O thread: keep it quick; exceptions are logged and dropped.
  std::function<void(const RefusedRequest&)> on_refused;
};

class HttpServer {
 public:
  // Binds, listens and starts the worker threads. Errors: Unavailable when the address
  // cannot be bound; InvalidArgument when only one of the TLS files is set, a TLS file is
  // missing, unreadable or not valid PEM, or the key does not match the certificate.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   HttpHandler handler,
                                                   ErrorResponder error_responder);
  virtual ~HttpServer() = default;

  virtual uint16_t port() const = 0;
  // Idempotent and callable from any thread (or a signal-handling thread, not from inside
  // a signal handler), including from a handler. Does not block: it starts the shutdown,
  // which Wait() waits for.
  virtual void Shutdown() = 0;
  // Blocks until Shutdown() (called before or later, from any thread) has completed and
  // every server thread has stopped. Must not be called from a handler, nor may the
  // server be destroyed there. The destructor calls Shutdown() and Wait().
  virtual void Wait() = 0;
};

// Percent-decodes `s`; when `plus_is_space`, '+' becomes ' '. Invalid escapes are kept as
// written.
std::string PercentDecode(std::string_view s, bool plus_is_space);

// Splits an application/x-www-form-urlencoded string ("a=1&b=x+y&flag") into decoded
// (name, value) pairs in order; a name without '=' gets "", empty parts are skipped.
std::vector<std::pair<std::string, std::string>> ParseUrlEncoded(std::string_view s);

}  // namespace medhub::server
