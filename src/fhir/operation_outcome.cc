#include "fhir/operation_outcome.h"

#include "fhir/resource.h"

namespace medhub::fhir {
namespace {

std::string_view IssueCode(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return "invalid";
    case StatusCode::kUnprocessable:
      return "processing";
    case StatusCode::kNotFound:
      return "not-found";
    case StatusCode::kGone:
      return "deleted";
    case StatusCode::kAlreadyExists:
      return "duplicate";
    case StatusCode::kFailedPrecondition:
      return "conflict";
    case StatusCode::kPermissionDenied:
      return "forbidden";
    case StatusCode::kUnauthenticated:
      return "login";
    case StatusCode::kResourceExhausted:
      return "too-costly";
    case StatusCode::kUnsupported:
      return "not-supported";
    case StatusCode::kUnavailable:
      return "transient";
    default:
      return "exception";
  }
}

json::Value Outcome(std::string_view severity, std::string_view code, std::string_view text,
                    std::string_view expression) {
  json::Value issue = json::Value::Object();
  issue.set("severity", json::Value::String(std::string(severity)));
  issue.set("code", json::Value::String(std::string(code)));
  issue.set("diagnostics", json::Value::String(std::string(text)));
  if (!expression.empty()) {
    json::Value expr = json::Value::Array();
    expr.push_back(json::Value::String(std::string(expression)));
    issue.set("expression", std::move(expr));
  }
  json::Value issues = json::Value::Array();
  issues.push_back(std::move(issue));
  json::Value oo = json::Value::Object();
  oo.set("resourceType", json::Value::String("OperationOutcome"));
  oo.set("issue", std::move(issues));
  return oo;
}

}  // namespace

json::Value OperationOutcomeFromStatus(const Status& status) {
  std::string text =
      status.message().empty() ? std::string(StatusCodeName(status.code())) : status.message();
  return Outcome("error", IssueCode(status.code()), text, ErrorPath(status));
}

json::Value InformationOutcome(std::string_view text) {
  return Outcome("information", "informational", text, "");
}

}  // namespace medhub::fhir
