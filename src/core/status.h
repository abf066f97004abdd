// Status and Result<T>: the one error type of medhub.
//
// Every fallible call returns a Status (or a Result<T> holding either a value or a
// non-OK Status) made by a named factory, and callers check it:
//
//   Status s = store.Commit(ops);
//   if (!s.ok()) return s;
//
// No exceptions cross a module boundary. Only the server module maps codes to HTTP
// statuses. Thread-safety: values; copy freely.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace medhub {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is malformed (HTTP 400)
  kUnprocessable,       // well-formed but violates FHIR rules (HTTP 422)
  kNotFound,            // no such thing (HTTP 404)
  kGone,                // it existed and was deleted (HTTP 410)
  kAlreadyExists,       // conflict with an existing thing (HTTP 409)
  kFailedPrecondition,  // a stated precondition (If-Match, ...) does not hold (HTTP 412)
  kPermissionDenied,    // authenticated but not allowed (HTTP 403)
  kUnauthenticated,     // who are you? (HTTP 401)
  kResourceExhausted,   // too big, too many (HTTP 413 / 429)
  kUnsupported,         // a feature or media type we do not support (HTTP 415 / 501)
  kUnavailable,         // try again later (HTTP 503)
  kDataLoss,            // checksum, signature or decoding failure of stored data
  kInternal,            // a bug or an unexpected library failure
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return {StatusCode::kInvalidArgument, std::move(msg)};
  }
  static Status Unprocessable(std::string msg) {
    return {StatusCode::kUnprocessable, std::move(msg)};
  }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status Gone(std::string msg) { return {StatusCode::kGone, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) {
    return {StatusCode::kAlreadyExists, std::move(msg)};
  }
  static Status FailedPrecondition(std::string msg) {
    return {StatusCode::kFailedPrecondition, std::move(msg)};
  }
  static Status PermissionDenied(std::string msg) {
    return {StatusCode::kPermissionDenied, std::move(msg)};
  }
  static Status Unauthenticated(std::string msg) {
    return {StatusCode::kUnauthenticated, std::move(msg)};
  }
  static Status ResourceExhausted(std::string msg) {
    return {StatusCode::kResourceExhausted, std::move(msg)};
  }
  static Status Unsupported(std::string msg) { return {StatusCode::kUnsupported, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status DataLoss(std::string msg) { return {StatusCode::kDataLoss, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NotFound: Patient/123 is not known"
  std::string ToString() const;

  // Returns a copy whose message is "prefix: message" (keeps the code).
  Status WithPrefix(std::string_view prefix) const;

 private:
  Status(StatusCode code, std::string msg) : code_(code), message_(std::move(msg)) {}
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: must not be OK

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace medhub

#define MEDHUB_CONCAT_INNER(a, b) a##b
#define MEDHUB_CONCAT(a, b) MEDHUB_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define RETURN_IF_ERROR(expr)      \
  do {                             \
    ::medhub::Status _st = (expr); \
    if (!_st.ok()) return _st;     \
  } while (0)

// ASSIGN_OR_RETURN(auto x, Foo()): declares x from a Result or returns its Status.
#define ASSIGN_OR_RETURN(lhs, expr) ASSIGN_OR_RETURN_IMPL(MEDHUB_CONCAT(_res_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
