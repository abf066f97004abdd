// Small HTTP helpers shared by the API handlers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "server/http_server.h"

namespace medhub::server {

inline constexpr char kFhirJson[] = "application/fhir+json; charset=utf-8";

// The HTTP status for a non-OK Status.
int HttpStatusFor(const Status& status);
// A FHIR error response: the mapped status and an OperationOutcome body.
HttpResponse ErrorResponse(const Status& status);
// A response with a JSON body of the given content type.
HttpResponse JsonResponse(int status, std::string body, std::string_view content_type = kFhirJson);

// RFC 7231 IMF-fixdate: "Wed, 25 Nov 2026 10:55:58 GMT".
std::string HttpDate(int64_t micros);
// "W/\"3\"" -> 3; nullopt-like 0 when malformed.
Result<uint64_t> ParseETag(std::string_view etag);
// True when a Content-Type names JSON (application/fhir+json or application/json).
bool IsJsonMediaType(std::string_view content_type);
// "200 OK" style status line text for Bundle.entry.response.status.
std::string StatusLine(int status);

}  // namespace medhub::server
