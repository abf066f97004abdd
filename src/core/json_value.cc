// json::Value: construction, access and structural equality.
#include <cassert>
#include <charconv>
#include <optional>
#include <string>
#include <system_error>

#include "core/json.h"
#include "core/json_scan.h"

namespace medhub::json {

using internal::IsValidNumber;

// ---------------------------------------------------------------------------------
// Value.

Value Value::Bool(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.bool_ = b;
  return v;
}

Value Value::Number(std::string_view raw) {
  assert(IsValidNumber(raw) && "Value::Number needs a valid JSON number literal");
  Value v;
  v.kind_ = Kind::kNumber;
  v.text_.assign(raw);
  return v;
}

Value Value::Int(int64_t i) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, i);
  return Number(std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
}

Value Value::String(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.text_ = std::move(s);
  return v;
}

Value Value::Array() {
  Value v;
  v.kind_ = Kind::kArray;
  return v;
}

Value Value::Object() {
  Value v;
  v.kind_ = Kind::kObject;
  return v;
}

std::optional<double> Value::as_double() const {
  if (kind_ != Kind::kNumber) return std::nullopt;
  double d = 0;
  const char* end = text_.data() + text_.size();
  const auto r = std::from_chars(text_.data(), end, d);
  if (r.ec != std::errc() || r.ptr != end) return std::nullopt;
  return d;
}

std::optional<int64_t> Value::as_int() const {
  if (kind_ != Kind::kNumber) return std::nullopt;
  int64_t i = 0;
  const char* end = text_.data() + text_.size();
  const auto r = std::from_chars(text_.data(), end, i);
  if (r.ec != std::errc() || r.ptr != end) return std::nullopt;  // "1.5", "1e3", overflow
  return i;
}

const Value* Value::find(std::string_view key) const {
  for (const Member& m : members_) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

Value* Value::find(std::string_view key) {
  for (Member& m : members_) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

std::string_view Value::get_string(std::string_view key) const {
  const Value* v = find(key);
  return (v != nullptr && v->is_string()) ? std::string_view(v->text_) : std::string_view();
}

// set() and insert_at() turn a null Value into an object (so `Value v; v.set(...)` does
// not silently serialize as "null"); on other non-object kinds they are a caller bug.
Value& Value::set(std::string_view key, Value v) {
  if (kind_ == Kind::kNull) kind_ = Kind::kObject;
  assert(kind_ == Kind::kObject);
  if (Value* existing = find(key)) {
    *existing = std::move(v);
    return *existing;
  }
  members_.emplace_back(std::string(key), std::move(v));
  return members_.back().second;
}

Value& Value::insert_at(size_t pos, std::string_view key, Value v) {
  if (kind_ == Kind::kNull) kind_ = Kind::kObject;
  assert(kind_ == Kind::kObject);
  if (Value* existing = find(key)) {
    *existing = std::move(v);
    return *existing;
  }
  if (pos > members_.size()) pos = members_.size();
  auto it = members_.emplace(members_.begin() + static_cast<std::ptrdiff_t>(pos), std::string(key),
                             std::move(v));
  return it->second;
}

bool Value::erase(std::string_view key) {
  for (auto it = members_.begin(); it != members_.end(); ++it) {
    if (it->first == key) {
      members_.erase(it);
      return true;
    }
  }
  return false;
}

bool operator==(const Value& a, const Value& b) {
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return a.bool_ == b.bool_;
    case Kind::kNumber:
    case Kind::kString:
      return a.text_ == b.text_;
    case Kind::kArray:
      return a.items_ == b.items_;
    case Kind::kObject:
      return a.members_ == b.members_;
  }
  return false;
}

// ---------------------------------------------------------------------------------

}  // namespace medhub::json
