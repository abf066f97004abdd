#include "security/password.h"

#include <sodium.h>

#include <mutex>

namespace medhub::security {

PasswordParams PasswordParams::Interactive() {
  return {crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE, crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE};
}

PasswordParams PasswordParams::Minimum() {
  return {crypto_pwhash_argon2id_OPSLIMIT_MIN, crypto_pwhash_argon2id_MEMLIMIT_MIN};
}

Status InitSodium() {
  static std::once_flag once;
  static int result = -1;
  std::call_once(once, [] { result = sodium_init(); });
  // sodium_init returns 0 on first initialization and 1 when already initialized.
  if (result < 0) return Status::Internal("libsodium could not be initialized");
  return Status::Ok();
}

Result<std::string> HashPassword(std::string_view password, const PasswordParams& params) {
  RETURN_IF_ERROR(InitSodium());
  if (password.empty()) return Status::InvalidArgument("the password is empty");
  if (password.size() > kMaxPasswordBytes)
    return Status::InvalidArgument("the password is longer than " +
                                   std::to_string(kMaxPasswordBytes) + " bytes");
  char out[crypto_pwhash_argon2id_STRBYTES];
  if (crypto_pwhash_argon2id_str(out, password.data(), password.size(), params.ops_limit,
                                 params.mem_limit_bytes) != 0) {
    return Status::ResourceExhausted("argon2id could not allocate " +
                                     std::to_string(params.mem_limit_bytes) + " bytes");
  }
  return std::string(out);
}

Status VerifyPassword(std::string_view password, std::string_view hash) {
  RETURN_IF_ERROR(InitSodium());
  if (!hash.starts_with("$argon2id$") || hash.size() >= crypto_pwhash_argon2id_STRBYTES)
    return Status::DataLoss("stored password hash is not an argon2id hash string");
  if (password.size() > kMaxPasswordBytes) return Status::Unauthenticated("password mismatch");
  char str[crypto_pwhash_argon2id_STRBYTES] = {};  // libsodium wants it NUL-terminated
  hash.copy(str, hash.size());
  if (crypto_pwhash_argon2id_str_verify(str, password.data(), password.size()) != 0)
    return Status::Unauthenticated("password mismatch");
  return Status::Ok();
}

bool PasswordNeedsRehash(std::string_view hash, const PasswordParams& params) {
  if (!InitSodium().ok() || hash.size() >= crypto_pwhash_argon2id_STRBYTES) return true;
  char str[crypto_pwhash_argon2id_STRBYTES] = {};
  hash.copy(str, hash.size());
  // 0: current, 1: other parameters, -1: not an argon2id string.
  return crypto_pwhash_argon2id_str_needs_rehash(str, params.ops_limit, params.mem_limit_bytes) !=
         0;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void Wipe(std::string* secret) {
  if (!secret->empty()) sodium_memzero(secret->data(), secret->size());
  secret->clear();
}

}  // namespace medhub::security
