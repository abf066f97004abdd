// HttpServer on Boost.Beast, after Beast's http_server_async example.
//
// Threads: an io_context runs on `threads` I/O threads and does only non-blocking work
// (accepting, parsing, writing). Each parsed request goes to a separate pool of `threads`
// handler threads, so a handler that blocks (a durable store write) never stalls the I/O
// of other connections; its response is posted back to the connection's strand.
//
// Per connection (Session, kept alive by shared_from_this in its pending operations):
//   idle   wait up to idle_timeout for the first byte of the next request
//   read   read header (+ optional "100 Continue") and body within read_timeout
//   handle the handler runs on the pool; no timer
//   write  write the response within read_timeout; then read the next request, or
//   close  half-close, discard what the peer still sends (briefly), close.
//
// With TLS (tls_cert_file and tls_key_file set) the same Session runs on an ssl_stream: the
// handshake comes first, within read_timeout, and a closing connection sends close_notify
// before the TCP close. Plain and TLS sessions share every line of the request/response code.
//
// Shutdown runs on its own thread: close the acceptor, close idle connections, let the
// others finish their current request (answered with "Connection: close") until
// drain_timeout, force-close what remains, stop the io_context.
#include "server/http_server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <future>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>

namespace medhub::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
namespace ssl = net::ssl;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// How long a closing connection keeps reading (and discarding) what the peer still sends,
// so that our last response is not destroyed by a TCP reset.
constexpr std::chrono::milliseconds kMaxLinger{1000};
constexpr size_t kIdleReadChunk = 4096;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kHsts = "max-age=31536000";

void Log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void Log(const char* fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "medhub http: %s\n", line);
}

std::string EndpointString(const tcp::endpoint& ep) {
  std::string addr = ep.address().to_string();
  if (ep.address().is_v6()) addr = "[" + addr + "]";
  return addr + ":" + std::to_string(ep.port());
}

bool IEquals(std::string_view a, std::string_view b) { return beast::iequals(a, b); }

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != s.npos; }

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// True if the comma-separated Connection header value contains the token "close".
bool HasCloseToken(std::string_view v) {
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view tok = v.substr(0, comma);
    while (!tok.empty() && (tok.front() == ' ' || tok.front() == '\t')) tok.remove_prefix(1);
    while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\t')) tok.remove_suffix(1);
    if (IEquals(tok, "close")) return true;
    if (comma == v.npos) break;
    v.remove_prefix(comma + 1);
  }
  return false;
}

// Raises the soft RLIMIT_NOFILE to the hard limit (once per process) so that a server
// can hold thousands of connections.
void RaiseFileLimit() {
  static std::once_flag once;
  std::call_once(once, [] {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    rlim_t target = rl.rlim_max;
    if (target == RLIM_INFINITY) target = rlim_t{1} << 20;  // Linux refuses infinity
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= target) return;
    rlimit raised = rl;
    raised.rlim_cur = target;
    if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
      Log("could not raise the open-file limit from %llu to %llu",
          static_cast<unsigned long long>(rl.rlim_cur), static_cast<unsigned long long>(target));
    }
  });
}

// What the session needs to remember about a request while its handler runs.
struct RequestInfo {
  unsigned version = 11;
  bool keep_alive = false;
  bool head = false;
};

// What the server knows of a connection, whatever its stream type.
class Connection {
 public:
  virtual ~Connection() = default;
  // The server is shutting down: a connection waiting for its next request (or still in
  // its TLS handshake) is closed now; one in the middle of a request finishes it.
  virtual void NotifyShutdown() = 0;
  // Closes the connection whatever it is doing, then calls `done`.
  virtual void ForceClose(std::function<void()> done) = 0;
};

// The first OpenSSL error on this thread's queue as text (and clears the queue).
std::string OpenSslReason(const beast::error_code& ec) {
  std::string reason;
  if (unsigned long e = ERR_peek_last_error(); e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    reason = buf;
  } else {
    reason = ec.message();
  }
  ERR_clear_error();
  return reason;
}

// Checks that `path` names a readable regular file.
Status CheckReadable(const std::string& what, const std::string& path) {
  std::error_code fec;
  if (!std::filesystem::is_regular_file(path, fec)) {
    return Status::InvalidArgument("TLS " + what + " file '" + path +
                                   "' does not exist or is not a file");
  }
  if (::access(path.c_str(), R_OK) != 0) {
    return Status::InvalidArgument("TLS " + what + " file '" + path +
                                   "' is not readable: " + std::strerror(errno));
  }
  return Status::Ok();
}

// A server TLS context: TLS 1.2 or later (1.3 preferred, as OpenSSL negotiates the highest
// common version), no compression, no renegotiation, OpenSSL's default cipher list at
// security level 2 with the server's preference order.
Result<std::unique_ptr<ssl::context>> MakeTlsContext(const HttpServerOptions& o) {
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return Status::InvalidArgument(o.tls_cert_file.empty()
                                       ? "a TLS key file was given without a certificate file"
                                       : "a TLS certificate file was given without a key file");
  }
  RETURN_IF_ERROR(CheckReadable("certificate", o.tls_cert_file));
  RETURN_IF_ERROR(CheckReadable("key", o.tls_key_file));
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  ERR_clear_error();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    return Status::Internal("cannot require TLS 1.2: " + OpenSslReason({}));
  }
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::no_compression | ssl::context::single_dh_use);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Level 2: at least 112-bit security (RSA/DH >= 2048 bits, no SHA-1 signatures).
  SSL_CTX_set_security_level(native, 2);
  // An encrypted key must not make OpenSSL prompt on the terminal: it fails to load instead.
  ctx->set_password_callback(
      [](std::size_t, ssl::context::password_purpose) { return std::string(); });
  beast::error_code ec;
  ctx->use_certificate_chain_file(o.tls_cert_file, ec);
  if (ec) {
    return Status::InvalidArgument("cannot load the TLS certificate from '" + o.tls_cert_file +
                                   "' (a PEM certificate is needed): " + OpenSslReason(ec));
  }
  ctx->use_private_key_file(o.tls_key_file, ssl::context::pem, ec);
  // Asio moves OpenSSL's error code into `ec`.
  if (ec && ec.category() == net::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
    ERR_clear_error();
    return Status::InvalidArgument("the TLS private key '" + o.tls_key_file +
                                   "' does not match the certificate '" + o.tls_cert_file + "'");
  }
  if (ec) {
    return Status::InvalidArgument(
        "cannot load the TLS private key from '" + o.tls_key_file +
        "' (a PEM key without a passphrase is needed): " + OpenSslReason(ec));
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return Status::InvalidArgument("the TLS private key '" + o.tls_key_file +
                                   "' does not match the certificate '" + o.tls_cert_file +
                                   "': " + OpenSslReason({}));
  }
  ERR_clear_error();
  return ctx;
}

class ServerImpl final : public HttpServer {
 public:
  ServerImpl(const HttpServerOptions& options, HttpHandler handler, ErrorResponder error_responder,
             std::unique_ptr<ssl::context> tls)
      : options_(options),
        tls_(std::move(tls)),
        handler_(std::move(handler)),
        error_responder_(std::move(error_responder)),
        threads_(ThreadCount(options.threads)),
        ioc_(threads_),
        work_(net::make_work_guard(ioc_)),
        acceptor_(net::make_strand(ioc_)),
        accept_timer_(acceptor_.get_executor()) {}

  ~ServerImpl() override {
    if (!started_) return;
    Shutdown();
    Wait();
  }

  Status Listen();
  void Run();

  uint16_t port() const override { return port_; }
  void Shutdown() override;
  void Wait() override;

  const HttpServerOptions& options() const { return options_; }
  // Tells options().on_refused, if set, of a request the server answered itself.
  void Refused(const RefusedRequest& refused) const;
  bool shutting_down() const { return shutting_down_.load(std::memory_order_acquire); }
  net::thread_pool& pool() { return *pool_; }
  bool tls() const { return tls_ != nullptr; }

  // Calls the handler; exceptions and invalid statuses become the error responder's 500.
  HttpResponse Invoke(const HttpRequest& request);
  // The error responder's response, or a plain-text one if it fails.
  HttpResponse MakeError(int status, std::string_view message);

  void Register(const std::shared_ptr<Connection>& session);
  void Unregister(Connection* session);

 private:
  static int ThreadCount(int requested) {
    if (requested > 0) return requested;
    int hw = static_cast<int>(std::thread::hardware_concurrency());
    return std::max(4, 2 * hw);
  }
  std::vector<std::shared_ptr<Connection>> Snapshot();
  void DoAccept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  void RunShutdown();

  const HttpServerOptions options_;
  const std::unique_ptr<ssl::context> tls_;  // null: plain HTTP
  const HttpHandler handler_;
  const ErrorResponder error_responder_;
  const int threads_;

  // Guards sessions_, shutdown_requested_, force_close_pending_. Declared before the
  // io_context and the pool: destroying those destroys queued handlers, which may destroy
  // sessions, which unregister here.
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> sessions_;
  bool shutdown_requested_ = false;
  size_t force_close_pending_ = 0;
  std::atomic<bool> shutting_down_{false};
  std::thread shutdown_thread_;

  std::mutex join_mu_;  // serializes Wait()
  bool joined_ = false;

  bool started_ = false;
  uint16_t port_ = 0;

  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  tcp::acceptor acceptor_;                // used only on its strand
  net::steady_timer accept_timer_;        // backs off accept errors; on the acceptor's strand
  std::optional<net::thread_pool> pool_;  // handler threads
  std::vector<std::thread> io_threads_;
};

// One connection. Stream is beast::tcp_stream (plain HTTP) or TlsStream (HTTPS).
template <typename Stream>
class Session final : public Connection, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  Session(tcp::socket&& socket, ServerImpl* server, std::string remote) requires(!kTls)
      : server_(server),
        stream_(std::move(socket)),
        strand_(stream_.get_executor()),
        remote_(std::move(remote)) {}
  Session(tcp::socket&& socket, ssl::context& tls, ServerImpl* server,
          std::string remote) requires(kTls)
      : server_(server),
        stream_(std::move(socket), tls),
        strand_(stream_.get_executor()),
        remote_(std::move(remote)) {}

  ~Session() { server_->Unregister(this); }

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void Start() {
    net::dispatch(strand_, [self = this->shared_from_this()] {
      if constexpr (kTls) {
        self->Handshake();
      } else {
        self->ReadNext();
      }
    });
  }

  // See ReadNext and OnHandled for a connection in the middle of a request.
  void NotifyShutdown() override {
    net::post(strand_, [self = this->shared_from_this()] {
      if (self->state_ == State::kIdle || self->state_ == State::kHandshake) self->Abort();
    });
  }

  void ForceClose(std::function<void()> done) override {
    net::post(strand_, [self = this->shared_from_this(), done = std::move(done)] {
      self->Abort();
      done();
    });
  }

 private:
  enum class State { kHandshake, kIdle, kReading, kHandling, kWriting, kClosing, kClosed };

  auto shared_from_this() {
    return std::enable_shared_from_this<Session<Stream>>::shared_from_this();
  }
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  // TLS only: the handshake, within read_timeout.
  void Handshake() {
    if (server_->shutting_down()) return Abort();
    state_ = State::kHandshake;
    lowest().expires_after(server_->options().read_timeout);
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              if (ec || self->state_ == State::kClosed) {
                                ERR_clear_error();
                                return self->Abort();  // not TLS, bad client, timeout
                              }
                              self->ReadNext();
                            });
  }

  void ReadNext() {
    if (state_ == State::kClosed) return;
    if (server_->shutting_down()) return Abort();
    const HttpServerOptions& o = server_->options();
    parser_.emplace();
    parser_->body_limit(static_cast<std::uint64_t>(o.max_body_bytes));
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<size_t>(o.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    if (buffer_.size() > 0) return ReadHeader();  // a pipelined request is already here
    state_ = State::kIdle;
    lowest().expires_after(o.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kIdleReadChunk),
                            beast::bind_front_handler(&Session::OnIdleRead, shared_from_this()));
  }

  void OnIdleRead(beast::error_code ec, size_t n) {
    if (ec) return Abort();  // idle timeout, peer closed, or shutdown
    buffer_.commit(n);
    ReadHeader();
  }

  void ReadHeader() {
    state_ = State::kReading;
    // One deadline for the whole request: header, "100 Continue" and body.
    lowest().expires_after(server_->options().read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    if (parser_->is_done()) return OnRequest();
    const auto& req = parser_->get();
    if (req.version() >= 11 && IEquals(req[http::field::expect], "100-continue")) {
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = shared_from_this()](beast::error_code wec, size_t) {
                         if (wec) return self->Abort();
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnBody, shared_from_this()));
  }

  void OnBody(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    OnRequest();
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::body_limit) return SendError(413, "request body too large");
    if (ec == http::error::header_limit) return SendError(431, "request header too large");
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return Abort();
    if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
      return SendError(400, "malformed request: " + ec.message());
    }
    Abort();  // timeout, reset, shutdown
  }

  void OnRequest() {
    state_ = State::kHandling;
    http::request<http::string_body> req = parser_->release();
    parser_.reset();

    RequestInfo info;
    info.version = req.version();
    info.keep_alive = req.keep_alive();
    info.head = req.method() == http::verb::head;

    HttpRequest r;
    r.method = std::string(req.method_string());
    r.SetTarget(req.target());
    r.headers.reserve(static_cast<size_t>(std::distance(req.begin(), req.end())));
    for (const auto& field : req) {
      r.headers.emplace_back(ToLower(field.name_string()), std::string(field.value()));
    }
    r.body = std::move(req.body());
    r.remote_address = remote_;

    lowest().expires_never();  // the handler may take its time
    net::post(server_->pool(), [self = shared_from_this(), r = std::move(r), info]() {
      HttpResponse response = self->server_->Invoke(r);
      net::post(self->strand_, [self, response = std::move(response), info]() mutable {
        self->OnHandled(std::move(response), info);
      });
    });
  }

  void OnHandled(HttpResponse response, RequestInfo info) {
    if (state_ == State::kClosed) return;  // force-closed while the handler ran
    Send(std::move(response), info);
  }

  void SendError(int status, std::string_view message) {
    RequestInfo info;  // HTTP/1.1, close
    RefusedRequest refused{status, message, remote_, {}, {}};
    if (parser_ && parser_->got_some()) {
      unsigned v = parser_->get().version();
      if (v == 10) info.version = 10;
    }
    if (parser_ && parser_->got_some()) {  // the request line, once parsed (empty before)
      refused.method = parser_->get().method_string();
      refused.target = parser_->get().target();
    }
    server_->Refused(refused);
    Send(server_->MakeError(status, message), info);
  }

  static bool ValidStatus(int status) { return status >= 200 && status <= 599; }

  void Send(HttpResponse r, RequestInfo info) {
    if (!ValidStatus(r.status)) {
      Log("handler returned invalid HTTP status %d for %s", r.status, remote_.c_str());
      r = server_->MakeError(500, "internal error");
      if (!ValidStatus(r.status)) r = HttpResponse{500, {}, "internal error\n"};
    }
    bool keep_alive = info.keep_alive && !server_->shutting_down();

    http::response<http::string_body> res;
    res.version(info.version);
    res.result(static_cast<unsigned>(r.status));
    bool has_server = false;
    std::optional<std::string> handler_length;
    for (auto& [name, value] : r.headers) {
      if (name.empty() || HasLineBreak(name) || HasLineBreak(value)) {
        Log("dropping an invalid response header from the handler");
        continue;
      }
      // Framing and connection management belong to the server.
      if (IEquals(name, "content-length")) {
        handler_length = value;
        continue;
      }
      if (IEquals(name, "transfer-encoding")) continue;
      if (IEquals(name, "connection")) {
        if (HasCloseToken(value)) keep_alive = false;
        continue;
      }
      if (IEquals(name, "server")) has_server = true;
      res.insert(name, value);
    }
    if (!has_server) res.set(http::field::server, "medhub");
    if (kTls && res.find(http::field::strict_transport_security) == res.end()) {
      res.set(http::field::strict_transport_security, kHsts);
    }

    const bool no_body = r.status == 204 || r.status == 304;
    if (no_body) {
      if (r.status == 304 && handler_length && IsDigits(*handler_length)) {
        res.set(http::field::content_length, *handler_length);
      }
    } else if (info.head) {
      // HEAD: the length of what a GET would return, as the handler says if it says so.
      res.set(http::field::content_length, handler_length && IsDigits(*handler_length)
                                               ? *handler_length
                                               : std::to_string(r.body.size()));
    } else {
      res.set(http::field::content_length, std::to_string(r.body.size()));
      res.body() = std::move(r.body);
    }
    res.keep_alive(keep_alive);

    state_ = State::kWriting;
    response_.emplace(std::move(res));
    lowest().expires_after(server_->options().read_timeout);
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&Session::OnWrite, shared_from_this(), keep_alive));
  }

  void OnWrite(bool keep_alive, beast::error_code ec, size_t) {
    response_.reset();
    if (ec) return Abort();
    if (!keep_alive) return GracefulClose();
    ReadNext();
  }

  // Half-closes, then reads and discards until the peer closes (or briefly, at most), so
  // that unread request bytes do not make the kernel reset the connection before the peer
  // has read our response.
  // With TLS, close_notify goes first; OpenSSL then waits for the peer's (reading, and
  // so draining, what the peer still sends), within the same linger time.
  void GracefulClose() {
    state_ = State::kClosing;
    lowest().expires_after(
        std::min<std::chrono::milliseconds>(kMaxLinger, server_->options().read_timeout));
    buffer_.clear();
    if constexpr (kTls) {
      stream_.async_shutdown([self = shared_from_this()](beast::error_code) {
        ERR_clear_error();
        self->Abort();  // the peer closed, answered close_notify, or timed out
      });
    } else {
      beast::error_code ec;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
      if (ec) return Abort();
      Discard();
    }
  }

  void Discard() {
    lowest().async_read_some(net::buffer(discard_),
                             [self = shared_from_this()](beast::error_code ec, size_t) {
                               if (ec || self->state_ == State::kClosed) return self->Abort();
                               self->Discard();
                             });
  }

  void Abort() {
    state_ = State::kClosed;
    lowest().close();
  }

  ServerImpl* const server_;
  Stream stream_;
  const typename Stream::executor_type strand_;
  const std::string remote_;
  State state_ = State::kIdle;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;  // lives until written
  std::array<char, 4096> discard_{};
};

Status ServerImpl::Listen() {
  beast::error_code ec;
  tcp::endpoint endpoint;
  net::ip::address address = net::ip::make_address(options_.address, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, options_.port);
  } else {
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(options_.address, std::to_string(options_.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) {
      return Status::Unavailable("cannot resolve listen address '" + options_.address +
                                 "': " + (ec ? ec.message() : "no addresses"));
    }
    endpoint = results.begin()->endpoint();
  }
  const std::string where = EndpointString(endpoint);
  acceptor_.open(endpoint.protocol(), ec);
  if (ec)
    return Status::Unavailable("cannot open a socket to listen on " + where + ": " + ec.message());
  acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (ec) return Status::Unavailable("cannot set SO_REUSEADDR on " + where + ": " + ec.message());
  acceptor_.bind(endpoint, ec);
  if (ec) return Status::Unavailable("cannot bind " + where + ": " + ec.message());
  acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Status::Unavailable("cannot listen on " + where + ": " + ec.message());
  tcp::endpoint bound = acceptor_.local_endpoint(ec);
  if (ec)
    return Status::Unavailable("cannot read the bound address of " + where + ": " + ec.message());
  port_ = bound.port();
  return Status::Ok();
}

void ServerImpl::Run() {
  started_ = true;
  pool_.emplace(static_cast<size_t>(threads_));
  net::dispatch(acceptor_.get_executor(), [this] { DoAccept(); });
  io_threads_.reserve(static_cast<size_t>(threads_));
  for (int i = 0; i < threads_; ++i) {
    io_threads_.emplace_back([this] {
      for (;;) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception& e) {
          Log("unexpected exception on an I/O thread: %s", e.what());
        } catch (...) {
          Log("unexpected exception on an I/O thread");
        }
      }
    });
  }
}

void ServerImpl::DoAccept() {
  acceptor_.async_accept(net::make_strand(ioc_),
                         beast::bind_front_handler(&ServerImpl::OnAccept, this));
}

void ServerImpl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // Out of descriptors or memory: back off instead of spinning; other errors concern
    // one connection only.
    const bool resources = ec == net::error::no_descriptors || ec == net::error::no_buffer_space ||
                           ec == net::error::no_memory ||
                           ec == beast::error_code(ENFILE, beast::system_category());
    if (!resources) return DoAccept();
    Log("accept failed: %s; retrying shortly", ec.message().c_str());
    accept_timer_.expires_after(std::chrono::milliseconds(50));
    accept_timer_.async_wait([this](beast::error_code tec) {
      if (!tec && acceptor_.is_open()) DoAccept();
    });
    return;
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  tcp::endpoint remote = socket.remote_endpoint(ignored);
  // Start() closes the connection at once if the server is shutting down.
  if (tls_) {
    auto s = std::make_shared<Session<TlsStream>>(std::move(socket), *tls_, this,
                                                  EndpointString(remote));
    Register(s);
    s->Start();
  } else {
    auto s = std::make_shared<Session<beast::tcp_stream>>(std::move(socket), this,
                                                          EndpointString(remote));
    Register(s);
    s->Start();
  }
  DoAccept();
}

void ServerImpl::Register(const std::shared_ptr<Connection>& session) {
  std::lock_guard lock(mu_);
  sessions_.emplace(session.get(), session);
}

void ServerImpl::Unregister(Connection* session) {
  std::lock_guard lock(mu_);
  sessions_.erase(session);
  if (sessions_.empty()) cv_.notify_all();
}

std::vector<std::shared_ptr<Connection>> ServerImpl::Snapshot() {
  std::vector<std::shared_ptr<Connection>> out;
  std::lock_guard lock(mu_);
  out.reserve(sessions_.size());
  for (auto& [ptr, weak] : sessions_) {
    if (auto s = weak.lock()) out.push_back(std::move(s));
  }
  return out;  // released by the caller, outside mu_ (~Session takes mu_)
}

HttpResponse ServerImpl::Invoke(const HttpRequest& request) {
  try {
    HttpResponse r = handler_(request);
    if (r.status >= 200 && r.status <= 599) return r;
    Log("handler returned invalid HTTP status %d for %s %s", r.status, request.method.c_str(),
        request.target.c_str());
  } catch (const std::exception& e) {
    Log("handler threw for %s %s: %s", request.method.c_str(), request.target.c_str(), e.what());
  } catch (...) {
    Log("handler threw for %s %s (not a std::exception)", request.method.c_str(),
        request.target.c_str());
  }
  Refused({500, "internal error", request.remote_address, request.method, request.target});
  return MakeError(500, "internal error");
}

void ServerImpl::Refused(const RefusedRequest& refused) const {
  if (!options_.on_refused) return;
  try {
    options_.on_refused(refused);
  } catch (const std::exception& e) {
    Log("on_refused threw: %s", e.what());
  } catch (...) {
    Log("on_refused threw");
  }
}

HttpResponse ServerImpl::MakeError(int status, std::string_view message) {
  if (error_responder_) {
    try {
      return error_responder_(status, message);
    } catch (const std::exception& e) {
      Log("error responder threw: %s", e.what());
    } catch (...) {
      Log("error responder threw");
    }
  }
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  r.body = std::string(message) + "\n";
  return r;
}

void ServerImpl::Shutdown() {
  std::lock_guard lock(mu_);
  if (shutdown_requested_ || !started_) return;
  shutdown_requested_ = true;
  shutting_down_.store(true, std::memory_order_release);
  shutdown_thread_ = std::thread([this] { RunShutdown(); });
  cv_.notify_all();
}

void ServerImpl::RunShutdown() {
  // 1. Stop accepting; wait so that no session registers after the snapshot below.
  auto closed = std::make_shared<std::promise<void>>();
  std::future<void> closed_future = closed->get_future();
  net::post(acceptor_.get_executor(), [this, closed] {
    beast::error_code ec;
    acceptor_.close(ec);
    accept_timer_.cancel();
    closed->set_value();
  });
  if (closed_future.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    Log("shutdown: the acceptor did not close within 5 s");
  }

  // 2. Close idle connections; busy ones close after their current response.
  for (auto& s : Snapshot()) s->NotifyShutdown();

  // 3. Drain.
  std::unique_lock lock(mu_);
  bool drained = cv_.wait_for(lock, options_.drain_timeout, [this] { return sessions_.empty(); });
  lock.unlock();
  if (!drained) {
    std::vector<std::shared_ptr<Connection>> rest = Snapshot();
    Log("shutdown: closing %zu connection(s) still busy after the drain timeout", rest.size());
    lock.lock();
    force_close_pending_ = rest.size();
    lock.unlock();
    for (auto& s : rest) {
      s->ForceClose([this] {
        std::lock_guard l(mu_);
        if (--force_close_pending_ == 0) cv_.notify_all();
      });
    }
    rest.clear();
    lock.lock();
    cv_.wait_for(lock, std::chrono::seconds(1), [this] { return force_close_pending_ == 0; });
    lock.unlock();
    pool_->stop();  // requests queued but not started are dropped
  }

  // 4. Stop the I/O threads.
  work_.reset();
  ioc_.stop();
}

void ServerImpl::Wait() {
  {
    std::unique_lock lock(mu_);
    if (!started_) return;
    cv_.wait(lock, [this] { return shutdown_requested_; });
  }
  std::lock_guard join_lock(join_mu_);
  if (joined_) return;
  shutdown_thread_.join();
  for (auto& t : io_threads_) t.join();
  pool_->join();  // waits for handlers still running
  joined_ = true;
}

}  // namespace

std::string_view HttpRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (IEquals(n, name)) return v;
  }
  return {};
}

void HttpRequest::SetTarget(std::string_view request_target) {
  target = std::string(request_target);
  std::string_view t = request_target;
  if (size_t hash = t.find('#'); hash != t.npos) t = t.substr(0, hash);
  // absolute-form ("http://host/path?q"): keep the path and query only
  if (size_t scheme = t.find("://"); scheme != t.npos && t.substr(0, 1) != "/") {
    size_t slash = t.find_first_of("/?", scheme + 3);
    t = slash == t.npos ? std::string_view("/") : t.substr(slash);
  }
  const size_t q = t.find('?');
  path = PercentDecode(t.substr(0, q), false);
  query = q == t.npos ? decltype(query)() : ParseUrlEncoded(t.substr(q + 1));
}

HttpRequest HttpRequest::Get(std::string_view request_target) {
  HttpRequest r;
  r.method = "GET";
  r.SetTarget(request_target);
  return r;
}

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                      HttpHandler handler,
                                                      ErrorResponder error_responder) {
  if (!handler) return Status::InvalidArgument("HttpServer needs a handler");
  std::unique_ptr<ssl::context> tls;
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    ASSIGN_OR_RETURN(tls, MakeTlsContext(options));
  }
  RaiseFileLimit();
  auto server = std::make_unique<ServerImpl>(options, std::move(handler),
                                             std::move(error_responder), std::move(tls));
  RETURN_IF_ERROR(server->Listen());
  server->Run();
  return std::unique_ptr<HttpServer>(std::move(server));
}

std::vector<std::pair<std::string, std::string>> ParseUrlEncoded(std::string_view q) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    if (!part.empty()) {
      size_t eq = part.find('=');
      if (eq == part.npos) {
        out.emplace_back(PercentDecode(part, true), std::string());
      } else {
        out.emplace_back(PercentDecode(part.substr(0, eq), true),
                         PercentDecode(part.substr(eq + 1), true));
      }
    }
    if (amp == q.npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace medhub::server
