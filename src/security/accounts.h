// User accounts: who may log in, with which role and attributes, and login lock-out.
//
// An account is a JSON record "security/account/<username>" in the store's record space
// (store::Store::PutRecords; docs/security.md, "Records"). Usernames are 3-64 characters of
// [a-z0-9._-]. Passwords are hashed with argon2id (password.h).
//
// Authenticate() answers "invalid credentials" alike for an unknown user, a wrong password,
// a disabled account and a locked account, and verifies a password hash in every case (a
// dummy one for unknown users), so neither the answer nor its timing tells whether a
// username exists. Lock-out: after `max_failures` consecutive failures the account is
// locked for `first_lock`, and each further failure after a lock doubles it up to
// `max_lock`; attempts while locked are refused without counting; a success resets the
// count. Hashes made with other parameters are re-hashed on a successful login.
//
// Thread-safe: updates of one Accounts object are serialized (mu_); the store serializes
// writes across objects. Another process sharing the data directory is excluded by the
// store's directory lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "security/password.h"
#include "security/role.h"
#include "store/store.h"

namespace medhub::security {

struct Account {
  std::string username;
  Role role = Role::kPatient;
  std::string organization;   // Organization id
  std::string patient;        // Patient id
  std::string device;         // Device id
  std::string password_hash;  // argon2id hash string
  bool disabled = false;
  uint32_t failed_attempts = 0;  // consecutive failed logins
  int64_t locked_until = 0;      // micros since the epoch; 0 when not locked
  int64_t created = 0;           // micros since the epoch
};

struct LockoutPolicy {
  uint32_t max_failures = 5;
  int64_t first_lock_micros = 30'000'000;  // 30 s
  int64_t max_lock_micros = 900'000'000;   // 15 min
};

struct AccountsOptions {
  PasswordParams password_params = PasswordParams::Interactive();
  LockoutPolicy lockout;
  size_t min_password_length = 8;
};

// OK when `name` is 3-64 characters of [a-z0-9._-]; InvalidArgument otherwise.
Status CheckUsername(std::string_view name);

// The message of every failed Authenticate().
inline constexpr char kInvalidCredentials[] = "invalid credentials";

class Accounts {
 public:
  Accounts(store::Store* store, AccountsOptions options);

  // Creates an account from `account` (whose password_hash, failure count and lock are
  // ignored) with `password`. Errors: InvalidArgument (username, role attributes, password
  // shorter than min_password_length or longer than kMaxPasswordBytes), AlreadyExists.
  Status Add(Account account, std::string_view password, int64_t now);
  // Errors: NotFound, InvalidArgument for a malformed username, DataLoss.
  Result<Account> Get(std::string_view username);
  // Every account, in username order.
  Result<std::vector<Account>> List();
  // Marks the account disabled: it can no longer log in or refresh tokens. Errors: NotFound.
  Status Disable(std::string_view username);

  // The account when `password` is right and the account is enabled and not locked.
  // Errors: Unauthenticated(kInvalidCredentials) for every refusal; Unavailable/DataLoss
  // from the store.
  Result<Account> Authenticate(std::string_view username, std::string_view password, int64_t now);

  // How long a lock lasts after `failed_attempts` consecutive failures (0: no lock).
  int64_t LockMicros(uint32_t failed_attempts) const;

  // How many argon2id verifications Authenticate() has run, real or dummy: every attempt
  // runs exactly one, whether or not the user exists, so timing reveals nothing.
  uint64_t password_verifications() const { return verifications_.load(); }

 private:
  Status Put(const Account& account);
  // Verifies a password against a hash no account has, to spend the same time as a real
  // verification.
  void DummyVerify(std::string_view password);
  Status RecordFailure(std::string_view username, int64_t now);
  Status RecordSuccess(std::string_view username, std::string_view password);

  store::Store* store_;
  AccountsOptions options_;
  std::mutex mu_;  // serializes read-modify-write of account records
  std::once_flag dummy_once_;
  std::string dummy_hash_;  // set once under dummy_once_
  std::atomic<uint64_t> verifications_{0};
};

}  // namespace medhub::security
