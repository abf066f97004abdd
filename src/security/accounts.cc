#include "security/accounts.h"

#include <algorithm>
#include <utility>

#include "core/hash.h"
#include "core/json.h"
#include "security/base64.h"

namespace medhub::security {
namespace {

constexpr char kAccountPrefix[] = "security/account/";

std::string Key(std::string_view username) { return kAccountPrefix + std::string(username); }

std::string Serialize(const Account& a) {
  json::Value v = json::Value::Object();
  v.set("username", json::Value::String(a.username));
  v.set("role", json::Value::String(std::string(RoleName(a.role))));
  v.set("organization", json::Value::String(a.organization));
  v.set("patient", json::Value::String(a.patient));
  v.set("device", json::Value::String(a.device));
  v.set("password_hash", json::Value::String(a.password_hash));
  v.set("disabled", json::Value::Bool(a.disabled));
  v.set("failed_attempts", json::Value::Int(a.failed_attempts));
  v.set("locked_until", json::Value::Int(a.locked_until));
  v.set("created", json::Value::Int(a.created));
  return json::Serialize(v);
}

Result<Account> Parse(std::string_view key, std::string_view text) {
  const Status corrupt = Status::DataLoss("account record " + std::string(key) + " is corrupt");
  auto v = json::Parse(text);
  if (!v.ok() || !v->is_object()) return corrupt;
  Account a;
  a.username = std::string(v->get_string("username"));
  auto role = ParseRole(v->get_string("role"));
  if (!role.ok() || a.username.empty()) return corrupt;
  a.role = *role;
  a.organization = std::string(v->get_string("organization"));
  a.patient = std::string(v->get_string("patient"));
  a.device = std::string(v->get_string("device"));
  a.password_hash = std::string(v->get_string("password_hash"));
  const json::Value* disabled = v->find("disabled");
  a.disabled = disabled == nullptr || !disabled->is_bool() || disabled->as_bool();  // fail closed
  const json::Value* failed = v->find("failed_attempts");
  const json::Value* locked = v->find("locked_until");
  const json::Value* created = v->find("created");
  if (failed == nullptr || locked == nullptr || created == nullptr || !failed->as_int() ||
      !locked->as_int() || !created->as_int())
    return corrupt;
  a.failed_attempts = static_cast<uint32_t>(std::clamp<int64_t>(*failed->as_int(), 0, 1 << 20));
  a.locked_until = *locked->as_int();
  a.created = *created->as_int();
  return a;
}

}  // namespace

Status CheckUsername(std::string_view name) {
  if (name.size() < 3 || name.size() > 64)
    return Status::InvalidArgument("a username has 3 to 64 characters");
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return Status::InvalidArgument("a username has only the characters a-z 0-9 . _ -");
  }
  return Status::Ok();
}

Accounts::Accounts(store::Store* store, AccountsOptions options)
    : store_(store), options_(std::move(options)) {}

Status Accounts::Put(const Account& account) {
  return store_->PutRecords({{Key(account.username), Serialize(account)}});
}

Status Accounts::Add(Account account, std::string_view password, int64_t now) {
  RETURN_IF_ERROR(CheckUsername(account.username));
  RETURN_IF_ERROR(
      CheckRoleAttributes(account.role, {account.organization, account.patient, account.device}));
  if (password.size() < options_.min_password_length)
    return Status::InvalidArgument("the password is shorter than " +
                                   std::to_string(options_.min_password_length) + " characters");
  ASSIGN_OR_RETURN(account.password_hash, HashPassword(password, options_.password_params));
  account.disabled = false;
  account.failed_attempts = 0;
  account.locked_until = 0;
  account.created = now;
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(std::optional<std::string> existing, store_->GetRecord(Key(account.username)));
  if (existing) return Status::AlreadyExists("user '" + account.username + "' exists");
  return Put(account);
}

Result<Account> Accounts::Get(std::string_view username) {
  RETURN_IF_ERROR(CheckUsername(username));
  const std::string key = Key(username);
  ASSIGN_OR_RETURN(std::optional<std::string> text, store_->GetRecord(key));
  if (!text) return Status::NotFound("no user '" + std::string(username) + "'");
  return Parse(key, *text);
}

Result<std::vector<Account>> Accounts::List() {
  ASSIGN_OR_RETURN(auto records, store_->ScanRecords(kAccountPrefix));
  std::vector<Account> out;
  for (const auto& [key, value] : records) {
    ASSIGN_OR_RETURN(Account a, Parse(key, value));
    out.push_back(std::move(a));
  }
  return out;
}

Status Accounts::Disable(std::string_view username) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Account a, Get(username));
  if (a.disabled) return Status::Ok();
  a.disabled = true;
  return Put(a);
}

int64_t Accounts::LockMicros(uint32_t failed_attempts) const {
  const LockoutPolicy& p = options_.lockout;
  if (p.max_failures == 0 || failed_attempts < p.max_failures) return 0;
  int64_t lock = p.first_lock_micros;
  for (uint32_t i = p.max_failures; i < failed_attempts && lock < p.max_lock_micros; ++i) lock *= 2;
  return std::min(lock, p.max_lock_micros);
}

void Accounts::DummyVerify(std::string_view password) {
  std::call_once(dummy_once_, [this] {
    auto h = HashPassword(Base64UrlEncode(RandomBytes(24)), options_.password_params);
    if (h.ok()) dummy_hash_ = std::move(h).value();
  });
  ++verifications_;
  if (!dummy_hash_.empty()) (void)VerifyPassword(password, dummy_hash_);
}

Status Accounts::RecordFailure(std::string_view username, int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Account a, Get(username));
  if (a.locked_until > now) return Status::Ok();  // a concurrent failure locked it already
  a.failed_attempts = std::min<uint32_t>(a.failed_attempts + 1, 1 << 20);
  const int64_t lock_for = LockMicros(a.failed_attempts);
  a.locked_until = lock_for > 0 ? now + lock_for : 0;
  return Put(a);
}

Status Accounts::RecordSuccess(std::string_view username, std::string_view password) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Account a, Get(username));
  a.failed_attempts = 0;
  a.locked_until = 0;
  if (PasswordNeedsRehash(a.password_hash, options_.password_params)) {
    ASSIGN_OR_RETURN(a.password_hash, HashPassword(password, options_.password_params));
  }
  return Put(a);
}

Result<Account> Accounts::Authenticate(std::string_view username, std::string_view password,
                                       int64_t now) {
  const Status refused = Status::Unauthenticated(kInvalidCredentials);
  if (!CheckUsername(username).ok()) {
    DummyVerify(password);
    return refused;
  }
  auto account = Get(username);
  if (!account.ok()) {
    if (account.status().code() != StatusCode::kNotFound) return account.status();
    DummyVerify(password);
    return refused;
  }
  if (account->locked_until > now) {  // refused without a guess counting
    DummyVerify(password);
    return refused;
  }
  ++verifications_;
  const Status verified = VerifyPassword(password, account->password_hash);
  if (verified.code() == StatusCode::kDataLoss) return verified;
  if (account->disabled) return refused;
  if (!verified.ok()) {
    RETURN_IF_ERROR(RecordFailure(username, now));
    return refused;
  }
  if (account->failed_attempts > 0 ||
      PasswordNeedsRehash(account->password_hash, options_.password_params)) {
    RETURN_IF_ERROR(RecordSuccess(username, password));
  }
  account->failed_attempts = 0;
  account->locked_until = 0;
  return account;
}

}  // namespace medhub::security
