// Authenticated encryption (AES-256-GCM through OpenSSL EVP, AES-NI where the CPU has it),
// HMAC-SHA-256, and the parsing of key text. docs/formats/store.md describes the envelope.
//
// Envelope: version:u8 (kAeadVersion) nonce:12 ciphertext tag:16. Every Seal draws a fresh
// random 96-bit nonce; a key should seal fewer than 2^32 messages (the GCM bound for random
// nonces). The associated data is authenticated, not stored: the caller passes the same
// bytes to Open. Thread-safe: each thread reuses its own cipher context.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

#include "core/status.h"

namespace medhub {

inline constexpr size_t kAeadKeySize = 32;
inline constexpr size_t kAeadNonceSize = 12;
inline constexpr size_t kAeadTagSize = 16;
inline constexpr unsigned char kAeadVersion = 1;
inline constexpr size_t kAeadOverhead = 1 + kAeadNonceSize + kAeadTagSize;

// Encrypts `plaintext` under `key` (kAeadKeySize bytes; anything else aborts: a bug) and
// authenticates `aad`; returns the envelope.
std::string AeadSeal(std::string_view key, std::string_view plaintext, std::string_view aad);
// Appends the envelope to *out instead of returning it.
void AeadSealTo(std::string_view key, std::string_view plaintext, std::string_view aad,
                std::string* out);
// Appends the envelope of the concatenation of `plaintext` (not built) to *out, under a
// nonce the caller drew: kAeadNonceSize bytes of RandomBytes, used for this one message
// only (a nonce sealed twice under one key breaks GCM). For callers that draw the nonces
// of many messages at once; the envelope is the one AeadSealTo writes.
void AeadSealPartsTo(std::string_view key, std::string_view nonce,
                     std::initializer_list<std::string_view> plaintext, std::string_view aad,
                     std::string* out);
// Decrypts an envelope. DataLoss when it is malformed, of another version, or fails
// authentication (a changed ciphertext, nonce, tag or aad, or the wrong key).
Result<std::string> AeadOpen(std::string_view key, std::string_view envelope, std::string_view aad);

// HMAC-SHA-256 of `data` under `key` (32 bytes).
std::string HmacSha256(std::string_view key, std::string_view data);
// HMAC-SHA-256 of the concatenation of `parts`, without building it.
std::string HmacSha256Of(std::string_view key, std::initializer_list<std::string_view> parts);

// A 32-byte key from its text form: 64 hex digits, or standard base64 (with or without
// padding) of 32 bytes; surrounding whitespace is ignored. InvalidArgument otherwise.
Result<std::string> ParseKeyText(std::string_view text);
// Standard base64 (with padding) of `bytes`.
std::string ToBase64(std::string_view bytes);

// Overwrites `s`'s bytes with zeros (not optimised away), then clears it.
void Wipe(std::string* s);

}  // namespace medhub
