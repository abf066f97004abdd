// Base64 encodings: base64url without padding (RFC 4648 §5, as JOSE uses it: RFC 7515 §2)
// for tokens, and standard padded base64 (RFC 4648 §4) for HTTP Basic credentials.
//
// Decoding is strict: only the 64 URL-safe characters, no '=' padding, no whitespace, no
// length that cannot come from whole bytes, and the unused low bits of the last character
// must be zero, so every byte string has exactly one accepted encoding (a token cannot be
// altered without changing what it decodes to). Thread-safe: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace medhub::security {

std::string Base64UrlEncode(std::string_view bytes);

// Errors: InvalidArgument naming the first problem.
Result<std::string> Base64UrlDecode(std::string_view text);

// Standard base64 with '=' padding (RFC 4648 §4).
std::string Base64Encode(std::string_view bytes);

// Standard base64 with '=' padding to a multiple of four characters, equally strict
// (canonical trailing bits, no whitespace). Errors: InvalidArgument.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace medhub::security
